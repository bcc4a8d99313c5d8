package main

import (
	"context"

	"github.com/drover-dr/drover/state"
	"github.com/drover-dr/drover/state/local"
	"github.com/rogpeppe/go-internal/testscript"
)

// lockCmds are the script commands that hold a state lock the way a
// running drover does, for the scripts' drover processes to meet.
var lockCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// holdlock STATEFILE ID: this test process takes the state's lock
	// with that ID for an apply, until the script ends.
	"holdlock": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: holdlock STATEFILE ID")
		}
		b := local.New(ts.MkAbs(args[0]))
		info := state.NewLockInfo("apply")
		info.ID = args[1]
		id, err := b.Lock(context.Background(), info)
		ts.Check(err)
		ts.Defer(func() { b.Unlock(id) })
	},
}
