package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/internal/atomicfile"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/state"
	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

var cmpState = cmp.Options{
	cmp.Comparer(func(a, b cty.Value) bool { return a.RawEquals(b) }),
	cmp.Comparer(func(a, b cty.Path) bool { return a.Equals(b) }),
}

func newBackend(t *testing.T) (*Backend, string) {
	path := filepath.Join(t.TempDir(), DefaultPath)
	return New(path), path
}

func stateWith(lineage string, serial uint64, n ...int) *state.State {
	s := &state.State{Lineage: lineage, Serial: serial, Instances: map[addrs.Instance]*state.Instance{}, Outputs: map[string]state.Output{}}
	for _, i := range n {
		s.Set(counterInstance(i, state.Ready))
	}
	return s
}

// folder lists the files beside the state, by name.
func folder(t *testing.T, path string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestPersistAndRead(t *testing.T) {
	ctx := context.Background()
	b, path := newBackend(t)
	if s, err := b.Read(ctx); s != nil || err != nil {
		t.Fatalf("Read of nothing = %v, %v", s, err)
	}
	s := stateWith("L", 0, 1)
	if err := b.Persist(ctx, s, state.PersistOptions{}); err != nil {
		t.Fatal(err)
	}
	if s.Serial != 1 {
		t.Errorf("serial after first write = %d, want 1", s.Serial)
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{DefaultPath}, folder(t, path)); diff != "" {
		t.Errorf("files after the first write (-want +got):\n%s", diff)
	}

	s.Set(counterInstance(2, state.Ready))
	if err := b.Persist(ctx, s, state.PersistOptions{}); err != nil {
		t.Fatal(err)
	}
	backup, err := os.ReadFile(path + ".backup")
	if err != nil {
		t.Fatal(err)
	}
	if string(backup) != string(first) {
		t.Errorf("backup is not the previous state file")
	}
	for _, name := range []string{path, path + ".backup"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(name), fi.Mode().Perm())
		}
	}
	got, err := New(path).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stateWith("L", 2, 1, 2), got, cmpState); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{DefaultPath, DefaultPath + ".backup"}, folder(t, path)); diff != "" {
		t.Errorf("files after writing (-want +got):\n%s", diff)
	}
}

func TestPersistRules(t *testing.T) {
	tests := []struct {
		name       string
		stored     *state.State // persisted first (serial becomes stored.Serial+1)
		storedRaw  string       // or this, as the state file
		write      *state.State
		force      bool
		wantErr    string
		wantSerial uint64
	}{
		{name: "next serial", stored: stateWith("L", 4), write: stateWith("L", 5), wantSerial: 6},
		{name: "other lineage", stored: stateWith("L", 4), write: stateWith("M", 5),
			wantErr: "the state to write is lineage M but the stored state"},
		{name: "other lineage forced", stored: stateWith("L", 4), write: stateWith("M", 1), force: true, wantSerial: 5},
		{name: "older serial", stored: stateWith("L", 4), write: stateWith("L", 3),
			wantErr: "continues serial 3 but the stored state"},
		{name: "older serial forced", stored: stateWith("L", 4), write: stateWith("L", 3), force: true, wantSerial: 5},
		{name: "newer serial pushed", stored: stateWith("L", 4), write: stateWith("L", 9), wantSerial: 10},
		{name: "damaged state file", storedRaw: "{not json", write: stateWith("L", 0),
			wantErr: "not a Drover state document"},
		{name: "damaged state file forced", storedRaw: "{not json", write: stateWith("L", 0), force: true, wantSerial: 1},
		{name: "unknown value", write: &state.State{Lineage: "L", Instances: map[addrs.Instance]*state.Instance{
			counterRes.Instance(addrs.IntK(0)): {Addr: counterRes.Instance(addrs.IntK(0)), Status: state.Ready, Attrs: cty.UnknownVal(cty.EmptyObject)}}},
			wantErr: "value.n[0]: value is not known"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			b, path := newBackend(t)
			if tt.stored != nil {
				tt.stored.Serial--
				if err := b.Persist(ctx, tt.stored, state.PersistOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if tt.storedRaw != "" {
				if err := os.WriteFile(path, []byte(tt.storedRaw), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := os.ReadFile(path)
			err := b.Persist(ctx, tt.write, state.PersistOptions{Force: tt.force})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				after, _ := os.ReadFile(path)
				if string(after) != string(before) {
					t.Errorf("a refused write changed the state file")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.write.Serial != tt.wantSerial {
				t.Errorf("serial = %d, want %d", tt.write.Serial, tt.wantSerial)
			}
			got, err := b.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got.Serial != tt.wantSerial || got.Lineage != tt.write.Lineage {
				t.Errorf("stored lineage %s serial %d", got.Lineage, got.Serial)
			}
		})
	}
}

func TestPersistLineageMessage(t *testing.T) {
	ctx := context.Background()
	b, _ := newBackend(t)
	if err := b.Persist(ctx, stateWith("aaaa-1111", 0), state.PersistOptions{}); err != nil {
		t.Fatal(err)
	}
	err := b.Persist(ctx, stateWith("bbbb-2222", 1), state.PersistOptions{})
	if err == nil || !strings.Contains(err.Error(), "aaaa-1111") || !strings.Contains(err.Error(), "bbbb-2222") {
		t.Errorf("error = %v, want both lineages named", err)
	}
}

func TestPersistRemovesLeftoverTemps(t *testing.T) {
	ctx := context.Background()
	b, path := newBackend(t)
	left := filepath.Join(filepath.Dir(path), atomicfile.TempPrefix(DefaultPath)+"123")
	if err := os.WriteFile(left, []byte("{half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := b.Persist(ctx, stateWith("L", 0), state.PersistOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left by a killed writer is still there: %v", err)
	}
}

// TestUnreadableStateNamesBackup: the error of a damaged state file says
// whether its backup can restore it, and how.
func TestUnreadableStateNamesBackup(t *testing.T) {
	tests := []struct {
		name   string
		backup string // "" for none
		want   string
	}{
		{"no backup", "", "There is no backup (%[1]s.backup) to restore"},
		{"backup", `{"format_version": 1, "lineage": "L", "serial": 7}`,
			"Its previous version, serial 7, is in %[1]s.backup; to restore it, run `drover state push --force %[1]s.backup`"},
		{"damaged backup", "{not json", "Its backup %[1]s.backup cannot be read either"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, path := newBackend(t)
			if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
				t.Fatal(err)
			}
			if tt.backup != "" {
				if err := os.WriteFile(path+".backup", []byte(tt.backup), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := b.Read(context.Background())
			want := fmt.Sprintf("the state file %s cannot be read: not a Drover state document", path)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprintf(tt.want, path)) {
				t.Errorf("err = %v, want it to say %q and %q", err, want, fmt.Sprintf(tt.want, path))
			}
		})
	}
}
