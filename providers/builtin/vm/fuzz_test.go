package vm

import (
	"encoding/json"
	"testing"
)

// FuzzParseStatus reads arbitrary bytes as QEMU's answers to query-status
// and query-kvm, as a refresh of a guest does over its QMP socket: a
// status is only ever reported when QEMU named one.
func FuzzParseStatus(f *testing.F) {
	f.Add([]byte(`{"status": "running", "singlestep": false, "running": true}`), []byte(`{"enabled": false, "present": true}`))
	f.Add([]byte(`{"status": "paused", "running": false}`), []byte(`{"enabled": true, "present": true}`))
	f.Add([]byte(`{}`), []byte(`null`))
	f.Fuzz(func(t *testing.T, status, kvm []byte) {
		state, _, err := parseStatus(json.RawMessage(status), json.RawMessage(kvm))
		if err == nil && state == "" {
			t.Fatalf("parseStatus(%q, %q) reported no state and no error", status, kvm)
		}
	})
}
