package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/internal/sshtest"
	"github.com/rogpeppe/go-internal/testscript"
	xssh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// TestRemoteScripts runs testdata/remote/*.txtar against two real sshd on
// 127.0.0.1 playing fs1 and fs2 (the machine itself, reached as root, its
// roots in the script's folder). Each script gets:
//
//   - DROVER_VAR_fs1_address, _fs1_identity, _fs1_host_key, _fs1_root
//     ($WORK/fs1), and fs2's:
//     what a host block needs to reach each server (a configuration
//     declares the variables it uses);
//   - $HOME/.ssh/known_hosts knowing both servers' keys, $FS1_KNOWN and
//     $FS2_KNOWN being each line ($FS1_CHANGED_KNOWN gives fs1's address
//     fs2's key), $FS1_ADDR and $FS2_ADDR the addresses;
//   - quickstart/: examples/quickstart with its hosts pointed at the two
//     servers (roots $WORK/fs1 and $WORK/fs2), and local/: the example as
//     it is, to compare with;
//   - remote-standby/: examples/remote-standby.
func TestRemoteScripts(t *testing.T) {
	servers := map[string]*sshtest.Server{"fs1": sshtest.Start(t), "fs2": sshtest.Start(t)}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/remote",
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("NO_COLOR", "1")
			var known []string
			for name, s := range servers {
				line := knownhosts.Line([]string{s.Addr}, s.HostKey)
				known = append(known, line)
				env.Setenv(strings.ToUpper(name)+"_KNOWN", line)
				env.Setenv(strings.ToUpper(name)+"_ADDR", s.Addr)
				env.Setenv("DROVER_VAR_"+name+"_address", s.Addr)
				env.Setenv("DROVER_VAR_"+name+"_identity", s.Identity)
				env.Setenv("DROVER_VAR_"+name+"_host_key", strings.TrimSpace(string(xssh.MarshalAuthorizedKey(s.HostKey))))
				env.Setenv("DROVER_VAR_"+name+"_root", filepath.Join(env.WorkDir, name))
			}
			// A known_hosts line with fs2's key for fs1's address: a
			// changed key.
			env.Setenv("FS1_CHANGED_KNOWN", knownhosts.Line([]string{servers["fs1"].Addr}, servers["fs2"].HostKey))
			if err := os.MkdirAll(filepath.Join(env.WorkDir, ".ssh"), 0o700); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(env.WorkDir, ".ssh", "known_hosts"), []byte(strings.Join(known, "\n")+"\n"), 0o600); err != nil {
				return err
			}
			for _, ex := range []struct{ from, to string }{{"quickstart", "quickstart"}, {"quickstart", "local"}, {"remote-standby", "remote-standby"}} {
				if err := os.CopyFS(filepath.Join(env.WorkDir, ex.to), os.DirFS(filepath.Join("..", "..", "examples", ex.from))); err != nil {
					return err
				}
			}
			return remoteQuickstart(filepath.Join(env.WorkDir, "quickstart", "main.dr.hcl"), env.WorkDir)
		},
		Cmds:      scriptCmds(),
		Condition: driveCondition,
	})
}

// remoteQuickstart points the quickstart's hosts at the two servers.
func remoteQuickstart(file, work string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	src := string(b)
	for _, name := range []string{"fs1", "fs2"} {
		local := "host \"" + name + "\" {\n  root = \"sim/" + name + "\"\n}\n"
		remote := "host \"" + name + "\" {\n  address       = var." + name + "_address\n  identity_file = var." + name + "_identity\n" +
			"  root          = \"" + filepath.Join(work, name) + "\"\n}\n\nvariable \"" + name + "_address\" { type = string }\nvariable \"" + name + "_identity\" { type = string }\n"
		if !strings.Contains(src, local) {
			return os.ErrNotExist
		}
		src = strings.Replace(src, local, remote, 1)
	}
	return os.WriteFile(file, []byte(src), 0o644)
}
