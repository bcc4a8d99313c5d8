package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// checkWithin bounds one connect or request of a check when the step sets
// no timeout: a check answers whether something holds now, and a peer
// that does not answer within it does not.
const checkWithin = 10 * time.Second

func checkAction(roots *hostRoots) *sdk.Action {
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Checks one thing from a host and says whether it holds: a TCP connect (tcp), an HTTP status (http, status), a command's exit code (command, exit_code) or a file's presence or content (file, contains). A check that does not hold is a result (passed false, with what was found in detail), not an error.",
			Args: &schema.Block{Attributes: map[string]*schema.Attribute{
				"host":      {Type: host.Type, Required: true, Description: "The host the check is made from."},
				"tcp":       {Type: cty.String, Optional: true, Description: "host:port to connect to."},
				"http":      {Type: cty.String, Optional: true, Description: "The URL to GET."},
				"status":    {Type: cty.Number, Optional: true, Description: "The HTTP status wanted (200 by default)."},
				"command":   {Type: cty.List(cty.String), Optional: true, Description: "A program and its arguments to run on the host, never through a shell."},
				"exit_code": {Type: cty.Number, Optional: true, Description: "The exit code wanted of command (0 by default)."},
				"file":      {Type: cty.String, Optional: true, Description: "A file that must exist on the host."},
				"contains":  {Type: cty.String, Optional: true, Description: "Text the file must hold."},
			}},
			Result: cty.Object(map[string]cty.Type{"passed": cty.Bool, "detail": cty.String}),
		},
		Invoke: func(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
			return invokeCheck(ctx, roots, req)
		},
	}
}

func invokeCheck(ctx context.Context, roots *hostRoots, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
	args := req.Args
	set := func(name string) bool { return !args.GetAttr(name).IsNull() }
	str := func(name string) string { return args.GetAttr(name).AsString() }
	number := func(name string, def int) int {
		if !set(name) {
			return def
		}
		n, _ := args.GetAttr(name).AsBigFloat().Int64()
		return int(n)
	}
	h, err := roots.open(ctx, args.GetAttr("host"))
	if err != nil {
		return cty.NilVal, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("host"), "Invalid host", "%s", err)}
	}
	defer h.Close()
	var passed bool
	var detail string
	switch {
	case set("tcp"):
		// Dialled by this process, which runs on the host: the host
		// transports reach only this machine yet (host.FromValue refuses
		// others), and a remote one will dial through its transport.
		addr := str("tcp")
		d := net.Dialer{Timeout: checkWithin}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			detail = err.Error()
			break
		}
		conn.Close()
		passed, detail = true, "connected to "+conn.RemoteAddr().String()
	case set("http"):
		want := number("status", 200)
		cctx, cancel := context.WithTimeout(ctx, checkWithin)
		defer cancel()
		r, err := http.NewRequestWithContext(cctx, http.MethodGet, str("http"), nil)
		if err != nil {
			return cty.NilVal, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("http"), "Invalid URL", "%s", err)}
		}
		// The status of the URL itself, not of where it redirects.
		client := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(r)
		if err != nil {
			detail = err.Error()
			break
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		passed, detail = resp.StatusCode == want, "status "+strconv.Itoa(resp.StatusCode)
	case set("command"):
		var argv []string
		for _, a := range args.GetAttr("command").AsValueSlice() {
			argv = append(argv, a.AsString())
		}
		want := number("exit_code", 0)
		res, err := h.Run(ctx, argv, host.RunOptions{})
		if err != nil {
			detail = err.Error()
			break
		}
		passed, detail = res.ExitCode == want, "exit code "+strconv.Itoa(res.ExitCode)
	case set("file"):
		b, err := h.ReadFile(ctx, str("file"))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			detail = "no such file"
		case err != nil:
			detail = err.Error()
		case !set("contains"):
			passed, detail = true, fmt.Sprintf("present, %d bytes", len(b))
		case bytes.Contains(b, []byte(str("contains"))):
			passed, detail = true, "present and holds the text"
		default:
			detail = fmt.Sprintf("present (%d bytes) without the text", len(b))
		}
	default:
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Nothing to check", "Set one of tcp, http, command or file.")}
	}
	return cty.ObjectVal(map[string]cty.Value{"passed": cty.BoolVal(passed), "detail": cty.StringVal(detail)}), nil
}
