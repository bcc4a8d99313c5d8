//go:build ignore

// identity_failover measures examples/identity-failover's runbook: from
// the start of the identity step (the run's record) to the first TCP
// connect from a client namespace to 192.0.2.10 that fs2 answers, the
// client trying every 2 ms from before `drover failover` starts. fs1, fs2
// and the client are namespaces on a bridge; knotd and smbd run on
// 127.0.0.1 high ports, as the example's test has them. Each round fs1
// holds the address again and the client's neighbour cache points at fs1
// (a connect it refuses) before the failover; failback follows, untimed. Run it as root
// in a UTS namespace of its own (the failover sets the host name), from
// bench/failover.sh:
//
//	unshare --uts go run bench/identity_failover.go DROVER EXAMPLE_DIR ROUNDS
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/drover-dr/drover/providers/builtin/network/dnstest"
	"github.com/drover-dr/drover/providers/builtin/network/sambatest"
)

const service = "192.0.2.10:8445"

func main() {
	switch {
	case len(os.Args) == 2 && os.Args[1] == "listen":
		listen()
	case len(os.Args) == 2 && os.Args[1] == "connect":
		connect()
	case len(os.Args) == 2 && os.Args[1] == "probe":
		// One connect to fs1 (refused: nothing listens there), so that the
		// client's neighbour cache points at fs1, as a client's of fs1 does.
		if c, err := net.DialTimeout("tcp", service, time.Second); err == nil {
			c.Close()
		}
	case len(os.Args) == 4:
		rounds, err := strconv.Atoi(os.Args[3])
		check(err)
		bench(os.Args[1], os.Args[2], rounds)
		cleanUp()
	default:
		fmt.Fprintln(os.Stderr, "usage: identity_failover DROVER EXAMPLE_DIR ROUNDS")
		os.Exit(2)
	}
}

// listen serves the service port in fs2's namespace, on every address it
// has or will take.
func listen() {
	l, err := net.Listen("tcp", "0.0.0.0:8445")
	check(err)
	for {
		c, err := l.Accept()
		if err == nil {
			c.Close()
		}
	}
}

// connect tries to connect every 2 ms until fs2 answers, and prints when.
func connect() {
	for {
		c, err := net.DialTimeout("tcp", service, 20*time.Millisecond)
		if err == nil {
			fmt.Println(time.Now().UnixNano())
			c.Close()
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func bench(drover, ex string, rounds int) {
	self, err := os.Executable()
	check(err)
	ns := map[string]string{}
	sw := fmt.Sprintf("drover-b-sw-%d", os.Getpid())
	ip("netns", "add", sw)
	atExit(func() { exec.Command("ip", "netns", "del", sw).Run() })
	ip("-n", sw, "link", "add", "br0", "type", "bridge")
	ip("-n", sw, "link", "set", "br0", "up")
	for i, m := range []string{"fs1", "fs2", "client"} {
		ns[m] = fmt.Sprintf("drover-b-%s-%d", m, os.Getpid())
		ip("netns", "add", ns[m])
		atExit(func() { exec.Command("ip", "netns", "del", ns[m]).Run() })
		port := "p" + strconv.Itoa(i)
		ip("-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns[m])
		ip("-n", sw, "link", "set", port, "master", "br0", "up")
		ip("-n", ns[m], "link", "set", "lo", "up")
		ip("-n", ns[m], "addr", "add", "192.0.2."+strconv.Itoa(i+1)+"/24", "dev", "eth0")
		ip("-n", ns[m], "link", "set", "eth0", "up")
	}
	ctx := context.Background()
	knotd, err := exec.LookPath("knotd")
	check(err)
	dns, err := dnstest.Start(ctx, knotd, filepath.Join(ex, ".bench", "dns"))
	check(err)
	atExit(func() { dns.Stop() })
	check(dns.Set(ctx, "fs1", "A", 300, "192.0.2.10"))
	smbd, err := exec.LookPath("smbd")
	check(err)
	smb, err := sambatest.Start(ctx, smbd, filepath.Join(ex, ".bench", "smbd"))
	check(err)
	atExit(func() { smb.Stop() })
	data := filepath.Join(ex, "sim", "fs2", "srv", "data")
	check(os.MkdirAll(data, 0o755))
	env := append(os.Environ(), "DROVER_VAR_fs1_netns="+ns["fs1"], "DROVER_VAR_fs2_netns="+ns["fs2"],
		"DROVER_VAR_dns_server="+dns.Addr, "DROVER_VAR_tsig_name="+dns.Key.Name, "DROVER_VAR_tsig_secret="+dns.Key.Secret,
		"DROVER_VAR_smb_conf="+smb.Conf, "DROVER_VAR_data_path="+data)
	server := exec.Command("ip", "netns", "exec", ns["fs2"], self, "listen")
	check(server.Start())
	atExit(func() { server.Process.Kill() })

	for round := 1; round <= rounds; round++ {
		ip("-n", ns["fs1"], "addr", "add", "192.0.2.10/24", "dev", "eth0")
		ip("-n", ns["client"], "neigh", "flush", "all")
		run(exec.Command("ip", "netns", "exec", ns["client"], self, "probe"), nil, "")
		var when strings.Builder
		client := exec.Command("ip", "netns", "exec", ns["client"], self, "connect")
		client.Stdout = &when
		check(client.Start())
		start := time.Now()
		run(exec.Command(drover, "failover", "--auto-approve", "--approve", "confirm"), env, ex)
		check(client.Wait())
		nanos, err := strconv.ParseInt(strings.TrimSpace(when.String()), 10, 64)
		check(err)
		connected := time.Unix(0, nanos)
		step := identityStep(ex)
		fmt.Printf("round %d: identity step start to the client's connect %.3f s (the step took %.3f s); failover command start to connect %.3f s\n",
			round, connected.Sub(step.StartedAt).Seconds(), step.FinishedAt.Sub(step.StartedAt).Seconds(), connected.Sub(start).Seconds())
		run(exec.Command(drover, "failback", "--auto-approve"), env, ex)
	}
}

// runRecord and recordStep are what the benchmark reads of a run's record.
type runRecord struct {
	Kind      string       `json:"kind"`
	StartedAt time.Time    `json:"started_at"`
	Steps     []recordStep `json:"steps"`
}

type recordStep struct {
	Name       string    `json:"name"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
}

// identityStep reads the identity step of the record of the latest
// failover run: run IDs of one second sort by their random part.
func identityStep(ex string) recordStep {
	runs, err := filepath.Glob(filepath.Join(ex, ".drover", "runs", "*", "record.json"))
	check(err)
	var latest runRecord
	for _, run := range runs {
		b, err := os.ReadFile(run)
		check(err)
		var rec runRecord
		check(json.Unmarshal(b, &rec))
		if rec.Kind == "failover" && rec.StartedAt.After(latest.StartedAt) {
			latest = rec
		}
	}
	for _, s := range latest.Steps {
		if s.Name == "identity" {
			return s
		}
	}
	check(fmt.Errorf("no failover run with an identity step under %s", filepath.Join(ex, ".drover", "runs")))
	return recordStep{}
}

func ip(args ...string) { run(exec.Command("ip", args...), nil, "") }

func run(cmd *exec.Cmd, env []string, dir string) {
	cmd.Env, cmd.Dir = env, dir
	if out, err := cmd.CombinedOutput(); err != nil {
		check(fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out))
	}
}

// cleanups undo what bench set up, in reverse, also when it fails.
var cleanups []func()

func atExit(f func()) { cleanups = append(cleanups, f) }

func cleanUp() {
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "identity_failover:", err)
		cleanUp()
		os.Exit(1)
	}
}
