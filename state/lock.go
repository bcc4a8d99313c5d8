package state

import (
	"os"
	"os/user"
	"time"
)

// NewLockInfo describes a lock about to be taken by this process for
// operation ("apply", "state push"): a fresh ID, user@host, the pid and
// the time.
func NewLockInfo(operation string) LockInfo {
	return LockInfo{
		ID:        NewLineage(),
		Operation: operation,
		Who:       whoAmI(),
		PID:       os.Getpid(),
		Created:   time.Now().UTC(),
	}
}

func whoAmI() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	return name + "@" + host
}
