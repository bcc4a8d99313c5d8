package guestdisk

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/digitalocean/go-qemu/qmp"
)

// qmpTimeout bounds connecting to a guest's QMP socket.
const qmpTimeout = 5 * time.Second

// monitor is one QMP connection to a guest's QEMU.
type monitor struct {
	mon    *qmp.SocketMonitor
	socket string
}

func dialQMP(socket string) (*monitor, error) {
	mon, err := qmp.NewSocketMonitor("unix", socket, qmpTimeout)
	if err != nil {
		return nil, fmt.Errorf("QMP socket %s: %w", socket, err)
	}
	if err := mon.Connect(); err != nil {
		return nil, fmt.Errorf("QMP socket %s: %w", socket, err)
	}
	return &monitor{mon: mon, socket: socket}, nil
}

func (m *monitor) Close() error { return m.mon.Disconnect() }

// run executes command with args (nil for none) and decodes what it
// returns into out (unless nil).
func (m *monitor) run(command string, args map[string]any, out any) error {
	req := map[string]any{"execute": command}
	if args != nil {
		req["arguments"] = args
	}
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	raw, err := m.mon.Run(b)
	if err != nil {
		return fmt.Errorf("QMP %s: %w", command, err)
	}
	if out == nil {
		return nil
	}
	var resp struct {
		Return json.RawMessage `json:"return"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return fmt.Errorf("QMP %s: %w", command, err)
	}
	if err := json.Unmarshal(resp.Return, out); err != nil {
		return fmt.Errorf("QMP %s: %w", command, err)
	}
	return nil
}

// blockDevice is a guest disk as query-block tells: the device name and
// the image QEMU writes to (File) over the one below it (Backing).
type blockDevice struct {
	Device   string `json:"device"`
	Inserted *struct {
		File    string `json:"file"`
		Backing string `json:"backing_file"`
	} `json:"inserted"`
}

func (m *monitor) blockDevices() ([]blockDevice, error) {
	var out []blockDevice
	err := m.run("query-block", nil, &out)
	return out, err
}

// blockJob is a running block job as query-block-jobs tells.
type blockJob struct {
	Device string `json:"device"`
	Type   string `json:"type"`
	Status string `json:"status"`
	Ready  bool   `json:"ready"`
	Len    int64  `json:"len"`
	Offset int64  `json:"offset"`
}

func (m *monitor) job(id string) (*blockJob, error) {
	var jobs []blockJob
	if err := m.run("query-block-jobs", nil, &jobs); err != nil {
		return nil, err
	}
	for i := range jobs {
		if jobs[i].Device == id {
			return &jobs[i], nil
		}
	}
	return nil, nil
}

// runState is the guest's run state: "running", "paused", "shutdown", ...
func (m *monitor) runState() (string, error) {
	var st struct {
		Status string `json:"status"`
	}
	err := m.run("query-status", nil, &st)
	return st.Status, err
}
