package agent

import (
	"fmt"
	"os"
	"runtime"
	"sync"
)

// enabled holds the arguments that make this program serve the agent; nil
// while Enable was not called.
var enabled struct {
	sync.Mutex
	args []string
}

// Enable says that this program serves the agent on stdio when run with
// args (drover: "internal-agent"), so that its SSH hosts may upload it to
// their machines and start it there. A program that does not call Enable (a
// third-party provider) keeps to SFTP, and CanCall says so.
func Enable(args ...string) {
	enabled.Lock()
	defer enabled.Unlock()
	enabled.args = append([]string(nil), args...)
}

// Self is this program as an agent: its executable, the sha256 of that
// file, and the arguments that make it serve. ok is false when the program
// did not Enable the agent.
type Self struct {
	Path   string
	SHA256 string
	Args   []string
	// GOOS and GOARCH are what the executable runs on.
	GOOS, GOARCH string
}

// Program returns this program as an agent, or an error saying why it
// cannot be one. The checksum is found once per process, and read from
// the executable only when the user's cache has no record of it as it is
// (see sums.go).
func Program() (Self, error) {
	enabled.Lock()
	args := enabled.args
	enabled.Unlock()
	if args == nil {
		return Self{}, fmt.Errorf("this program (%s) does not serve the agent", os.Args[0])
	}
	path, sum, err := executable()
	if err != nil {
		return Self{}, err
	}
	return Self{Path: path, SHA256: sum, Args: args, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}, nil
}

// Prepare starts finding this program's checksum in the background when
// it serves the agent, for a transport about to connect, or a plugin
// that may make one: where it has to be read, hashing a 57 MB executable
// takes about as long as an SSH handshake, which it then overlaps
// instead of following.
func Prepare() {
	enabled.Lock()
	on := enabled.args != nil
	enabled.Unlock()
	if on {
		go executable()
	}
}
