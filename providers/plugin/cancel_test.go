package plugin_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/drover-dr/drover/providers"
)

// TestCancelEndsOnlyItsCall ends the context of one of two batched calls
// in flight: that call ends on the provider side, and the other one runs
// on to its end (Stop would have ended both).
func TestCancelEndsOnlyItsCall(t *testing.T) {
	marks := t.TempDir()
	p, err := factory(t, "until-released", "DROVER_TEST_MARKS="+marks)()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	reqA, reqB := valueCreateOf(t, p, "a"), valueCreateOf(t, p, "b")
	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	answerA, answerB := make(chan providers.ApplyResponse, 1), make(chan providers.ApplyResponse, 1)
	go func() { answerA <- p.Apply(ctxA, reqA) }()
	go func() { answerB <- p.Apply(context.Background(), reqB) }()
	waitMark(t, marks, "running-a")
	waitMark(t, marks, "running-b")

	cancelA()
	waitMark(t, marks, "ended-a")
	if r := <-answerA; !r.Diagnostics.HasErrors() {
		t.Error("the cancelled Apply succeeded")
	}
	if err := os.WriteFile(filepath.Join(marks, "release-b"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-answerB:
		if r.Diagnostics.HasErrors() {
			t.Fatalf("the other Apply ended with the cancelled one: %v", r.Diagnostics)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the other Apply never answered")
	}
}
