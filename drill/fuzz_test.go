package drill

import (
	"testing"
)

// FuzzReadInventory replays arbitrary bytes as a drill's inventory
// journal, which a teardown reads after a crash: it either refuses the
// journal with an error or lists what it names, without panicking, and
// an object found void is also counted gone (teardown skips both).
func FuzzReadInventory(f *testing.F) {
	header := `{"format":"` + journalFormat + `","version":1,"drill":"0a1b2c"}` + "\n"
	f.Add([]byte(header))
	f.Add([]byte(header + `{"create":{"seq":1,"kind":"file","host":"fs2","id":"/var/lib/drover/drills/0a1b2c/hive"}}` + "\n" + `{"removed":1}` + "\n"))
	f.Add([]byte(header + `{"create":{"seq":1,"kind":"loop","host":"fs2","id":"/srv/dpsr.img"}}` + "\n" + `{"crea`))
	f.Add([]byte(`{"format":"other"}` + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		inv := &Inventory{file: "inventory.jsonl", gone: map[int]bool{}, void: map[int]bool{}}
		if err := inv.read(b); err != nil {
			return
		}
		for n := range inv.void {
			if !inv.gone[n] {
				t.Fatalf("object %d is void but not gone", n)
			}
		}
	})
}
