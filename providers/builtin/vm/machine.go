package vm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/digitalocean/go-qemu/qmp"
	"github.com/drover-dr/drover/host"
)

// The qemu hypervisor's work on the guest's machine runs there as host
// ops: reading QEMU's pidfile and /proc, QMP over its unix socket, SIGKILL,
// the KVM probe, a shared folder's image. For a local host Call runs them
// in this process, for an SSH host the agent runs them on the machine: one
// path for both. Paths in requests are the machine's (RealPath), as QEMU
// names them; a folder image's are the host's, for the op's own host
// (rooted on the machine as the SSH host is).

type qemuPidRequest struct{ Pidfile string }

type qemuPidResponse struct{ Pid int }

type qemuAliveRequest struct {
	Pidfile string
	Pid     int
}

type qemuAliveResponse struct{ Alive bool }

type qmpRequest struct {
	Socket   string
	Commands []string
}

type qmpResponse struct{ Returns []json.RawMessage }

type qemuKillRequest struct {
	Pidfile string
	Pid     int
}

type qemuKillResponse struct{ Killed bool }

type kvmRequest struct{ Probe bool }

// kvmResponse says why KVM does not run guests on the machine; "" when
// it does.
type kvmResponse struct{ Unusable string }

type folderImageRequest struct{ Path, Image string }

type folderImageResponse struct{ Image string }

func init() {
	host.RegisterOp("vm.qemu_pid", func(ctx context.Context, _ host.Host, req qemuPidRequest) (qemuPidResponse, error) {
		return qemuPidResponse{Pid: readPidfile(req.Pidfile)}, nil
	})
	host.RegisterOp("vm.qemu_alive", func(ctx context.Context, _ host.Host, req qemuAliveRequest) (qemuAliveResponse, error) {
		return qemuAliveResponse{Alive: qemuAlive(req.Pidfile, req.Pid)}, nil
	})
	host.RegisterOp("vm.qmp", func(ctx context.Context, _ host.Host, req qmpRequest) (qmpResponse, error) {
		out, err := runQMP(req.Socket, req.Commands)
		return qmpResponse{Returns: out}, err
	})
	host.RegisterOp("vm.qemu_kill", func(ctx context.Context, _ host.Host, req qemuKillRequest) (qemuKillResponse, error) {
		// Checked on the machine just before the signal: a pid the
		// system gave to another process since is not killed.
		if !qemuAlive(req.Pidfile, req.Pid) {
			return qemuKillResponse{}, nil
		}
		if err := syscall.Kill(req.Pid, syscall.SIGKILL); err != nil {
			return qemuKillResponse{}, fmt.Errorf("killing QEMU (pid %d): %w", req.Pid, err)
		}
		return qemuKillResponse{Killed: true}, nil
	})
	host.RegisterOp("vm.kvm", func(ctx context.Context, _ host.Host, req kvmRequest) (kvmResponse, error) {
		if err := kvmUsable(); err != nil {
			return kvmResponse{Unusable: err.Error()}, nil
		}
		return kvmResponse{}, nil
	})
	host.RegisterOp("vm.folder_image", func(ctx context.Context, h host.Host, req folderImageRequest) (folderImageResponse, error) {
		return folderImageResponse{Image: req.Image}, buildFolderImage(ctx, h, sharedFolder{path: req.Path, image: req.Image})
	})
}

// readPidfile returns the QEMU process pidfile names, 0 when none runs. A
// pidfile left by a QEMU that died, or naming a pid the system gave to
// another process since, does not count.
func readPidfile(pidfile string) int {
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || !qemuAlive(pidfile, pid) {
		return 0
	}
	return pid
}

// qemuAlive says whether pid is still the QEMU of pidfile: its command
// line names the pidfile (which QEMU removes as it begins to exit, so the
// pidfile itself cannot tell). A zombie has no command line.
func qemuAlive(pidfile string, pid int) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(cmdline, []byte("\x00"+pidfile+"\x00"))
}

// runQMP runs commands through the QMP socket, one connection for all, and
// returns what each returned.
func runQMP(socket string, commands []string) ([]json.RawMessage, error) {
	mon, err := qmp.NewSocketMonitor("unix", socket, qmpTimeout)
	if err != nil {
		return nil, fmt.Errorf("QMP socket %s: %w", socket, err)
	}
	if err := mon.Connect(); err != nil {
		return nil, fmt.Errorf("QMP socket %s: %w", socket, err)
	}
	defer mon.Disconnect()
	var out []json.RawMessage
	for _, c := range commands {
		raw, err := mon.Run([]byte(`{"execute":"` + c + `"}`))
		if err != nil {
			return out, fmt.Errorf("QMP %s: %w", c, err)
		}
		var resp struct {
			Return json.RawMessage `json:"return"`
		}
		if err := json.Unmarshal(raw, &resp); err != nil {
			return out, fmt.Errorf("QMP %s: %w", c, err)
		}
		out = append(out, resp.Return)
	}
	return out, nil
}
