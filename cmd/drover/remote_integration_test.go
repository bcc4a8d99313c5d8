package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/drover-dr/drover/internal/sshtest"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/rogpeppe/go-internal/testscript"
	xssh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// TestRemoteScripts runs testdata/remote/*.txtar against two real sshd on
// 127.0.0.1 playing fs1 and fs2 (the machine itself, reached as root, its
// roots in the script's folder). Each script gets:
//
//   - DROVER_VAR_fs1_address, _fs1_identity, _fs1_host_key, _fs1_root
//     ($WORK/fs1), and fs2's: what a host block needs to reach each
//     server (a configuration declares the variables it uses);
//   - $HOME/.ssh/known_hosts knowing both servers' keys, $FS1_KNOWN and
//     $FS2_KNOWN being each line ($FS1_CHANGED_KNOWN gives fs1's address
//     fs2's key), $FS1_ADDR and $FS2_ADDR the addresses;
//   - quickstart/: examples/quickstart with its hosts pointed at the two
//     servers (roots $WORK/fs1 and $WORK/fs2), and local/: the example as
//     it is, to compare with;
//   - dual-boot-standby/: that example pointed at the servers, its roots
//     its own sim/fs1 and sim/fs2;
//   - remote-standby/: examples/remote-standby.
func TestRemoteScripts(t *testing.T) {
	t.Parallel()
	servers := startServers(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/remote",
		Setup: func(env *testscript.Env) error {
			if err := remoteEnv(env, servers); err != nil {
				return err
			}
			for _, ex := range []struct{ from, to string }{{"quickstart", "quickstart"}, {"quickstart", "local"},
				{"dual-boot-standby", "dual-boot-standby"}, {"remote-standby", "remote-standby"}} {
				if err := os.CopyFS(filepath.Join(env.WorkDir, ex.to), os.DirFS(filepath.Join("..", "..", "examples", ex.from))); err != nil {
					return err
				}
			}
			err := pointAtServers(filepath.Join(env.WorkDir, "quickstart", "main.dr.hcl"), func(name string) string { return filepath.Join(env.WorkDir, name) })
			if err != nil {
				return err
			}
			dual := filepath.Join(env.WorkDir, "dual-boot-standby")
			return pointAtServers(filepath.Join(dual, "main.dr.hcl"), func(name string) string { return filepath.Join(dual, "sim", name) })
		},
		Cmds:      scriptCmds(),
		Condition: driveCondition,
	})
}

// TestRemoteExamples runs example scripts of testdata/examples unchanged,
// with the example's hosts pointed at two real sshd (roots: the example's
// own sim/fs1 and sim/fs2): the providers work the same over SSH. Scripts
// that run programs on a host are left out: over SSH a program is the
// machine's own (/bin/reboot), not one below the root.
func TestRemoteExamples(t *testing.T) {
	t.Parallel()
	git := testenv.Command(t, "git", "git")
	servers := startServers(t)
	testscript.Run(t, testscript.Params{
		Files: []string{"testdata/examples/registry-failover.txtar", "testdata/examples/replication.txtar"},
		Setup: func(env *testscript.Env) error {
			if err := remoteEnv(env, servers); err != nil {
				return err
			}
			name, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(env.WorkDir), "script-"), ".")
			if err := os.CopyFS(env.WorkDir, os.DirFS(filepath.Join("..", "..", "examples", name))); err != nil {
				return err
			}
			if err := pointAtServers(filepath.Join(env.WorkDir, "main.dr.hcl"), func(name string) string { return filepath.Join(env.WorkDir, "sim", name) }); err != nil {
				return err
			}
			// As TestExamples does: the scripts end checking git status.
			return gitSnapshot(git, env.WorkDir)
		},
		Cmds: scriptCmds(),
	})
}

func startServers(t *testing.T) map[string]*sshtest.Server {
	return map[string]*sshtest.Server{"fs1": sshtest.Start(t), "fs2": sshtest.Start(t)}
}

// remoteEnv gives a script what it needs to reach the servers.
func remoteEnv(env *testscript.Env, servers map[string]*sshtest.Server) error {
	env.Setenv("HOME", env.WorkDir)
	// Drover records its executable's checksum in the user's cache
	// folder, which is not the example's checkout a script checks with
	// git status.
	cache, err := os.MkdirTemp("", "drover-cache-")
	if err != nil {
		return err
	}
	env.Defer(func() { os.RemoveAll(cache) })
	env.Setenv("XDG_CACHE_HOME", cache)
	env.Setenv("NO_COLOR", "1")
	var known []string
	for _, name := range []string{"fs1", "fs2"} {
		s := servers[name]
		line := knownhosts.Line([]string{s.Addr}, s.HostKey)
		known = append(known, line)
		env.Setenv(strings.ToUpper(name)+"_KNOWN", line)
		env.Setenv(strings.ToUpper(name)+"_ADDR", s.Addr)
		env.Setenv("DROVER_VAR_"+name+"_address", s.Addr)
		env.Setenv("DROVER_VAR_"+name+"_identity", s.Identity)
		env.Setenv("DROVER_VAR_"+name+"_host_key", strings.TrimSpace(string(xssh.MarshalAuthorizedKey(s.HostKey))))
		env.Setenv("DROVER_VAR_"+name+"_root", filepath.Join(env.WorkDir, name))
	}
	// A known_hosts line with fs2's key for fs1's address: a changed key.
	env.Setenv("FS1_CHANGED_KNOWN", knownhosts.Line([]string{servers["fs1"].Addr}, servers["fs2"].HostKey))
	if err := os.MkdirAll(filepath.Join(env.WorkDir, ".ssh"), 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(env.WorkDir, ".ssh", "known_hosts"), []byte(strings.Join(known, "\n")+"\n"), 0o600)
}

// localHost is an example's host played by a folder.
var localHost = regexp.MustCompile(`host "(fs[12])" \{\s*root\s*=\s*"sim/fs[12]"\s*\}`)

// pointAtServers rewrites the folder-played hosts of a configuration file
// into hosts reached over SSH, rooted at root(name) on the server.
func pointAtServers(file string, root func(name string) string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	n := 0
	src := localHost.ReplaceAllStringFunc(string(b), func(m string) string {
		n++
		name := localHost.FindStringSubmatch(m)[1]
		return fmt.Sprintf("host %q {\n  address       = var.%s_address\n  identity_file = var.%s_identity\n  root          = %q\n}\n\n"+
			"variable \"%s_address\" { type = string }\nvariable \"%s_identity\" { type = string }\n", name, name, name, root(name), name, name)
	})
	if n == 0 {
		return fmt.Errorf("%s has no host played by a folder", file)
	}
	return os.WriteFile(file, []byte(src), 0o644)
}
