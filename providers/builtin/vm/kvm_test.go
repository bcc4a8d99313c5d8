package vm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestKVMVerdictKept: a decided probe verdict is kept for the machine's
// later runs, which then start without probing; one kept for another
// boot, /dev/kvm or QEMU is not used. Without /dev/kvm there is nothing
// to probe, and nothing is kept.
func TestKVMVerdictKept(t *testing.T) {
	saved := verdictFile
	t.Cleanup(func() { verdictFile = saved })
	verdictFile = filepath.Join(t.TempDir(), "run", "kvm-probe.json")
	if _, err := os.Stat(kvmDevice); err != nil {
		if err := kvmVerdict(t.Context()); err == nil {
			t.Errorf("KVM usable without %s", kvmDevice)
		}
		if _, err := os.Stat(verdictFile); err == nil {
			t.Errorf("a verdict was kept without %s", kvmDevice)
		}
		return
	}

	stale := probeVerdict{Key: "boot of another day", Unusable: "stale verdict", Probed: time.Now()}
	b, err := json.Marshal(stale)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(verdictFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(verdictFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	first := kvmVerdict(t.Context())
	if first != nil && first.Error() == stale.Unusable {
		t.Fatalf("a verdict kept for another key was used: %v", first)
	}
	b, err = os.ReadFile(verdictFile)
	if err != nil {
		t.Fatalf("the decided verdict (%v) was not kept: %v", first, err)
	}
	var kept probeVerdict
	if err := json.Unmarshal(b, &kept); err != nil {
		t.Fatal(err)
	}
	if key, err := probeKey(); err != nil || kept.Key != key {
		t.Errorf("kept for %q, want %q (%v)", kept.Key, key, err)
	}

	start := time.Now()
	second := kvmVerdict(t.Context())
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("the second run took %s: it probed again", took)
	}
	if (first == nil) != (second == nil) {
		t.Errorf("first run: %v, second run: %v", first, second)
	}
	t.Logf("verdict: %v, then %v", first, second)
}
