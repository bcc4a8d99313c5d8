package guestdisk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"
)

// Timeouts of the guest agent: an agent that does not answer a sync soon
// is not running; a freeze flushes the guest's file systems first.
const (
	agentSyncTimeout   = 3 * time.Second
	agentFreezeTimeout = 60 * time.Second
	agentThawTimeout   = 30 * time.Second
)

// agent is a connection to the guest agent through the channel QEMU
// exposes as a unix socket. QEMU accepts the connection whether or not an
// agent runs in the guest: only an answer tells.
type agent struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialAgent(socket string) (*agent, error) {
	c, err := net.DialTimeout("unix", socket, agentSyncTimeout)
	if err != nil {
		return nil, fmt.Errorf("guest agent socket %s: %w", socket, err)
	}
	a := &agent{conn: c, r: bufio.NewReader(c)}
	if err := a.sync(); err != nil {
		c.Close()
		return nil, err
	}
	return a, nil
}

func (a *agent) Close() error { return a.conn.Close() }

// sync makes sure the next line read answers the next command: the agent
// puts a 0xFF byte before its answer to guest-sync-delimited, so whatever
// an earlier client left unread is skipped.
func (a *agent) sync() error {
	id := rand.Int64N(1 << 50)
	a.conn.SetDeadline(time.Now().Add(agentSyncTimeout))
	if err := a.send("guest-sync-delimited", map[string]any{"id": id}); err != nil {
		return err
	}
	for {
		b, err := a.r.ReadByte()
		if err != nil {
			return fmt.Errorf("the guest agent did not answer within %s (%w): is it running in the guest?", agentSyncTimeout, err)
		}
		if b == 0xFF {
			break
		}
	}
	var got int64
	if err := a.answer("guest-sync-delimited", &got); err != nil {
		return err
	}
	if got != id {
		return fmt.Errorf("the guest agent answered sync %d to sync %d", got, id)
	}
	return nil
}

func (a *agent) send(command string, args map[string]any) error {
	req := map[string]any{"execute": command}
	if args != nil {
		req["arguments"] = args
	}
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := a.conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("guest agent %s: %w", command, err)
	}
	return nil
}

// answer reads the answer to command into out.
func (a *agent) answer(command string, out any) error {
	line, err := a.r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("guest agent %s: no answer: %w", command, err)
	}
	var resp struct {
		Return json.RawMessage `json:"return"`
		Error  *struct {
			Class string `json:"class"`
			Desc  string `json:"desc"`
		} `json:"error"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(line), &resp); err != nil {
		return fmt.Errorf("guest agent %s: %w", command, err)
	}
	if resp.Error != nil {
		return fmt.Errorf("guest agent %s: %s (%s)", command, resp.Error.Desc, resp.Error.Class)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(resp.Return, out)
}

func (a *agent) call(command string, timeout time.Duration, out any) error {
	a.conn.SetDeadline(time.Now().Add(timeout))
	if err := a.send(command, nil); err != nil {
		return err
	}
	return a.answer(command, out)
}

// freeze freezes the guest's file systems and returns how many it froze.
// A freeze that fails or times out is followed by a thaw: the agent may
// still freeze after Drover stopped waiting, and a frozen guest blocks
// every write.
func (a *agent) freeze() (int, error) {
	var n int
	err := a.call("guest-fsfreeze-freeze", agentFreezeTimeout, &n)
	if err != nil {
		// A late answer to the freeze must not pass for the thaw's.
		a.sync()
		return 0, errors.Join(err, a.thaw())
	}
	return n, nil
}

func (a *agent) thaw() error {
	err := a.call("guest-fsfreeze-thaw", agentThawTimeout, nil)
	if err != nil {
		return fmt.Errorf("thawing the guest's file systems: %w; thaw them in the guest (fsfreeze --unfreeze) or restart its agent", err)
	}
	return nil
}
