package network

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"

	"github.com/drover-dr/drover/host"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/sys/unix"
)

// The host name of a local host with a network namespace is that of the
// UTS namespace pinned for it (host.Config.UTSPin), when one is: a drill
// pins one beside its network namespace, so that a step taking a host
// name never renames production. A host op enters it: sethostname acts
// on the UTS namespace of the thread that calls it.
const opHostName = "network.host_name"

// hostNameReq reads the host name of the UTS namespace pinned for the
// network namespace Netns, and sets it first when Set is not "". Without
// a pin it is the machine's own, as long as the network namespace is
// there: a namespace gone (a drill's, torn down) takes the host name
// that stood for it along, and the machine's is never taken instead.
type hostNameReq struct {
	Netns string
	Set   string
}

type hostNameResp struct{ Name string }

func init() {
	host.RegisterOp(opHostName, func(ctx context.Context, _ host.Host, req hostNameReq) (hostNameResp, error) {
		pin := host.Config{Netns: req.Netns}.UTSPin()
		if _, err := os.Lstat(pin); errors.Is(err, fs.ErrNotExist) {
			if _, err := os.Lstat(path.Join(netnsDir, req.Netns)); err != nil {
				return hostNameResp{}, fmt.Errorf("the network namespace %s is not there (%w), nor a UTS namespace pinned for it at %s: the host name is not the machine's own", req.Netns, err, pin)
			}
			return doHostName(req)
		} else if err != nil {
			return hostNameResp{}, err
		}
		fd, err := unix.Open(pin, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return hostNameResp{}, fmt.Errorf("opening the UTS namespace pinned at %s: %w", pin, err)
		}
		defer unix.Close(fd)
		return inUTS(fd, pin, req)
	})
}

// inUTS does req in the UTS namespace fd on a locked thread, moved back
// before it is released; a thread that cannot be moved back is never
// released: the runtime ends it with its goroutine.
func inUTS(fd int, pin string, req hostNameReq) (hostNameResp, error) {
	type result struct {
		resp hostNameResp
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/uts", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(fd, unix.CLONE_NEWUTS); err != nil {
			ch <- result{err: fmt.Errorf("entering the UTS namespace pinned at %s: %w", pin, err)}
			return
		}
		resp, rerr := doHostName(req)
		if err := unix.Setns(orig, unix.CLONE_NEWUTS); err != nil {
			ch <- result{resp, fmt.Errorf("leaving the UTS namespace pinned at %s: %w", pin, err)}
			return
		}
		runtime.UnlockOSThread()
		ch <- result{resp, rerr}
	}()
	r := <-ch
	return r.resp, r.err
}

// doHostName does req in the calling thread's UTS namespace.
func doHostName(req hostNameReq) (hostNameResp, error) {
	if req.Set != "" {
		if err := unix.Sethostname([]byte(req.Set)); err != nil {
			return hostNameResp{}, fmt.Errorf("setting the host name %s: %w", req.Set, err)
		}
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return hostNameResp{}, err
	}
	return hostNameResp{Name: unix.ByteSliceToString(u.Nodename[:])}, nil
}

// netnsDir is where ip netns pins network namespaces by name.
const netnsDir = "/run/netns"

// netnsOf is the network namespace of v's host (a host_name value), ""
// for the machine's own.
func netnsOf(v cty.Value) string {
	c, err := host.ConfigFromValue(v.GetAttr("host"))
	if err != nil {
		return ""
	}
	return c.Netns
}
