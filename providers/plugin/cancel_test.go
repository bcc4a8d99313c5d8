package plugin_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/drover-dr/drover/providers"
	"github.com/zclconf/go-cty/cty"
)

// TestCancelEndsOnlyItsCall ends the context of one of two calls in
// flight: that call ends on the provider side, and the other one runs on
// to its end (Stop would have ended both). Apply goes in batches, Invoke
// on the stream of invocations.
func TestCancelEndsOnlyItsCall(t *testing.T) {
	tests := []struct {
		name string
		call func(t *testing.T, p providers.Provider, ctx context.Context, name string) providers.Diagnostics
	}{
		{"apply", func(t *testing.T, p providers.Provider, ctx context.Context, name string) providers.Diagnostics {
			return p.Apply(ctx, valueCreateOf(t, p, name)).Diagnostics
		}},
		{"invoke", func(t *testing.T, p providers.Provider, ctx context.Context, name string) providers.Diagnostics {
			args := cty.ObjectVal(map[string]cty.Value{"duration": cty.StringVal(name)})
			return p.Invoke(ctx, providers.InvokeRequest{Action: "wait", Args: args}).Diagnostics
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marks := t.TempDir()
			p, err := factory(t, "until-released", "DROVER_TEST_MARKS="+marks)()
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			ctxA, cancelA := context.WithCancel(context.Background())
			defer cancelA()
			answerA, answerB := make(chan providers.Diagnostics, 1), make(chan providers.Diagnostics, 1)
			// The names are durations for Invoke's wait.
			go func() { answerA <- tt.call(t, p, ctxA, "1s") }()
			go func() { answerB <- tt.call(t, p, context.Background(), "0s") }()
			waitMark(t, marks, "running-1s")
			waitMark(t, marks, "running-0s")

			cancelA()
			waitMark(t, marks, "ended-1s")
			if d := <-answerA; !d.HasErrors() {
				t.Error("the cancelled call succeeded")
			}
			if err := os.WriteFile(filepath.Join(marks, "release-0s"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			select {
			case d := <-answerB:
				if d.HasErrors() {
					t.Fatalf("the other call ended with the cancelled one: %v", d)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the other call never answered")
			}
		})
	}
}

// TestCloseLetsCancelledCallsEnd closes the provider while an Invoke runs
// whose context has just ended: the plugin process lets the call end its
// work (a command's process group killed) before it exits, rather than
// exiting in its midst and leaving the work running.
func TestCloseLetsCancelledCallsEnd(t *testing.T) {
	marks := t.TempDir()
	p, err := factory(t, "slow-to-end", "DROVER_TEST_MARKS="+marks)()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	answered := make(chan struct{})
	go func() {
		args := cty.ObjectVal(map[string]cty.Value{"duration": cty.StringVal("1s")})
		p.Invoke(ctx, providers.InvokeRequest{Action: "wait", Args: args})
		close(answered)
	}()
	waitMark(t, marks, "running-1s")
	cancel()
	<-answered
	p.Close() // returns once the plugin process has exited
	if _, err := os.Stat(filepath.Join(marks, "ended-1s")); err != nil {
		t.Errorf("the cancelled call had not ended when the plugin process exited: %v", err)
	}
}
