package local

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/state"
	"github.com/google/go-cmp/cmp"
)

// startApply persists a state holding instances 0..n-1 and opens a
// journal on it, as apply does.
func startApply(t *testing.T, n int) (*Backend, string, *state.State, state.Journal) {
	t.Helper()
	ctx := context.Background()
	b, path := newBackend(t)
	s := stateWith("L", 0)
	for i := range n {
		s.Set(counterInstance(i, state.Ready))
	}
	if err := b.Persist(ctx, s, state.PersistOptions{}); err != nil {
		t.Fatal(err)
	}
	j, err := b.Journal(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	return b, path, s, j
}

func record(t *testing.T, j state.Journal, s *state.State, entries ...state.JournalEntry) {
	t.Helper()
	if err := j.Record(entries...); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := s.Replay(e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestJournalReplayedByRead(t *testing.T) {
	ctx := context.Background()
	b, path, s, j := startApply(t, 2)
	gone := counterRes.Instance(addrs.IntK(0))
	record(t, j, s,
		state.JournalEntry{Set: counterInstance(5, state.Pending)},
		state.JournalEntry{Set: counterInstance(5, state.Ready)},
		state.JournalEntry{Remove: &gone},
	)
	record(t, j, s, state.JournalEntry{Set: counterInstance(6, state.Pending)})

	// While the journal is open, a Read by the same process sees the
	// changes, and leaves the files alone.
	during, err := b.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, during, cmpState); diff != "" {
		t.Errorf("Read during the apply (-want +got):\n%s", diff)
	}
	// The process stops without committing.
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Record(state.JournalEntry{Remove: &gone}); err == nil {
		t.Error("recorded after Close")
	}

	got, err := New(path).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := s.DeepCopy()
	want.Serial = 2
	if diff := cmp.Diff(want, got, cmpState); diff != "" {
		t.Errorf("state after replay (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{DefaultPath, DefaultPath + ".backup"}, folder(t, path)); diff != "" {
		t.Errorf("files after replay (-want +got):\n%s", diff)
	}
	again, err := New(path).Read(ctx)
	if err != nil || again.Serial != 2 {
		t.Errorf("second Read: serial %v, %v", again, err)
	}
}

func TestJournalCommit(t *testing.T) {
	ctx := context.Background()
	b, path, s, j := startApply(t, 1)
	record(t, j, s, state.JournalEntry{Set: counterInstance(3, state.Ready)})
	s.SetOutput("count", state.Output{Value: counterInstance(3, state.Ready).Attrs})
	if err := j.Commit(ctx, s); err != nil {
		t.Fatal(err)
	}
	if s.Serial != 2 {
		t.Errorf("serial after Commit = %d, want 2", s.Serial)
	}
	if diff := cmp.Diff([]string{DefaultPath, DefaultPath + ".backup"}, folder(t, path)); diff != "" {
		t.Errorf("files after Commit (-want +got):\n%s", diff)
	}
	got, err := New(path).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, got, cmpState); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := j.Commit(ctx, s); err == nil {
		t.Error("committed twice")
	}
	// The journal took the lock for itself, and gave it back.
	if _, err := b.Lock(ctx, state.NewLockInfo("plan")); err != nil {
		t.Errorf("Lock after Commit: %v", err)
	}
}

func TestJournalMisuse(t *testing.T) {
	ctx := context.Background()
	b, _, s, j := startApply(t, 0)
	if err := b.Persist(ctx, s, state.PersistOptions{}); err == nil || !strings.Contains(err.Error(), "its Commit writes") {
		t.Errorf("Persist with a journal open: %v", err)
	}
	if _, err := b.Journal(ctx, s); err == nil {
		t.Error("opened two journals")
	}
	if err := j.Record(state.JournalEntry{}); err == nil {
		t.Error("recorded an empty entry")
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	stale := s.DeepCopy()
	stale.Serial = 0
	if _, err := b.Journal(ctx, stale); err == nil || !strings.Contains(err.Error(), "is not the stored state") {
		t.Errorf("journal on an old state: %v", err)
	}
	if _, err := b.Journal(ctx, s); err == nil || !strings.Contains(err.Error(), "has not been replayed") {
		t.Errorf("journal over an unreplayed one: %v", err)
	}
	if err := b.Persist(ctx, s, state.PersistOptions{}); err == nil || !strings.Contains(err.Error(), "read the state first") {
		t.Errorf("Persist over an unreplayed journal: %v", err)
	}
}

// journalLines writes a journal file by hand: a header then lines.
func journalLines(t *testing.T, path, lineage string, serial uint64, tail string, entries ...state.JournalEntry) {
	t.Helper()
	text := fmt.Sprintf(`{"journal_version":1,"lineage":%q,"serial":%d}`+"\n", lineage, serial)
	for _, e := range entries {
		b, err := state.MarshalEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		text += string(b) + "\n"
	}
	if err := os.WriteFile(path+".journal", []byte(text+tail), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestReadJournalCases(t *testing.T) {
	set := func(i int) state.JournalEntry { return state.JournalEntry{Set: counterInstance(i, state.Ready)} }
	tests := []struct {
		name      string
		noState   bool
		journal   string // raw journal, instead of header and entries
		lineage   string
		serial    uint64
		tail      string
		entries   []state.JournalEntry
		want      []int // instances after Read
		wantSer   uint64
		wantErr   string
		wantStays bool // the journal is still there
	}{
		{name: "replayed", lineage: "L", serial: 1, entries: []state.JournalEntry{set(1), set(2)}, want: []int{0, 1, 2}, wantSer: 2},
		{name: "torn last line ignored", lineage: "L", serial: 1, entries: []state.JournalEntry{set(1)}, tail: `{"set":{"addr`, want: []int{0, 1}, wantSer: 2},
		{name: "damaged tail ignored", lineage: "L", serial: 1, entries: []state.JournalEntry{set(1)}, tail: "\x00\x00\x00\n{\"remove\":\"value.n[0]\"}\n", want: []int{0, 1}, wantSer: 2},
		{name: "header only", lineage: "L", serial: 1, want: []int{0}, wantSer: 2},
		{name: "torn header", journal: `{"journal_version":1,"lin`, want: []int{0}, wantSer: 1},
		{name: "stale: the state was written after it", lineage: "L", serial: 0, entries: []state.JournalEntry{set(7)}, want: []int{0}, wantSer: 1},
		{name: "first apply, no state file", noState: true, lineage: "N", serial: 0, entries: []state.JournalEntry{set(4)}, want: []int{4}, wantSer: 1},
		{name: "other lineage", lineage: "M", serial: 1, entries: []state.JournalEntry{set(1)},
			wantErr: "belongs to lineage M but the state file", wantStays: true},
		{name: "ahead of the state", lineage: "L", serial: 5, entries: []state.JournalEntry{set(1)},
			wantErr: "continues serial 5 but the state file", wantStays: true},
		{name: "state file missing", noState: true, lineage: "L", serial: 3,
			wantErr: "there is no state file", wantStays: true},
		{name: "not a journal", journal: "hello\n", wantErr: "is not a Drover state journal", wantStays: true},
		{name: "future journal", journal: `{"journal_version":2,"lineage":"L","serial":1}` + "\n", wantErr: "has version 2", wantStays: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			b, path := newBackend(t)
			if !tt.noState {
				if err := b.Persist(ctx, stateWith("L", 0, 0), state.PersistOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if tt.journal != "" {
				if err := os.WriteFile(path+".journal", []byte(tt.journal), 0o600); err != nil {
					t.Fatal(err)
				}
			} else {
				journalLines(t, path, tt.lineage, tt.serial, tt.tail, tt.entries...)
			}
			got, err := b.Read(ctx)
			_, statErr := os.Stat(path + ".journal")
			if stays := statErr == nil; stays != tt.wantStays {
				t.Errorf("journal still there: %v, want %v", stays, tt.wantStays)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var have []int
			for _, a := range got.SortedAddrs() {
				have = append(have, a.Key.Int)
			}
			if diff := cmp.Diff(tt.want, have); diff != "" || got.Serial != tt.wantSer {
				t.Errorf("instances (-want +got):\n%s\nserial %d, want %d", diff, got.Serial, tt.wantSer)
			}
			stored, err := New(path).Read(ctx)
			if err != nil || stored.Serial != tt.wantSer {
				t.Errorf("stored serial: %v, %v; want %d", stored, err, tt.wantSer)
			}
		})
	}
}

// TestReadDuringAnotherApply: a journal whose writer holds the lock is
// read in memory and left alone.
func TestReadDuringAnotherApply(t *testing.T) {
	ctx := context.Background()
	b, path := newBackend(t)
	if err := b.Persist(ctx, stateWith("L", 0, 0), state.PersistOptions{}); err != nil {
		t.Fatal(err)
	}
	journalLines(t, path, "L", 1, "", state.JournalEntry{Set: counterInstance(1, state.Pending)})
	h := startHelper(t, "hold", path, "")
	h.next(t)
	got, err := b.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Instance(counterRes.Instance(addrs.IntK(1))) == nil || got.Serial != 1 {
		t.Errorf("Read during another's apply: serial %d, %d instances", got.Serial, len(got.Instances))
	}
	if _, err := os.Stat(path + ".journal"); err != nil {
		t.Errorf("journal of a running apply was removed: %v", err)
	}
}

// TestCrashSafety kills an applying process at random moments, several
// times over, and checks after each that Read gives a valid state holding
// every instance whose ready record had returned, and leaves no journal,
// lock or temporary file behind.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	ctx := context.Background()
	b, path := newBackend(t)
	if err := b.Persist(ctx, stateWith(state.NewLineage(), 0), state.PersistOptions{}); err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	reported := map[int]bool{}
	for round := range 8 {
		h := startHelper(t, "journal", path, strconv.Itoa(round*1_000_000))
		target := 1 + rng.IntN(1500)
		lines := make([]string, 0, target)
		for len(lines) < target {
			lines = append(lines, h.next(t))
		}
		lines = append(lines, h.kill(t)...)
		for _, line := range lines {
			i, err := strconv.Atoi(line)
			if err != nil {
				t.Fatalf("helper said %q; stderr: %s", line, h.stderr.String())
			}
			reported[i] = true
		}

		s, err := New(path).Read(ctx)
		if err != nil {
			t.Fatalf("round %d: Read after the kill: %v", round, err)
		}
		for i := range reported {
			inst := s.Instance(counterRes.Instance(addrs.IntK(i)))
			if inst == nil || inst.Status != state.Ready || !inst.Attrs.RawEquals(counterInstance(i, state.Ready).Attrs) {
				t.Fatalf("round %d: instance %d, whose record returned, is %+v", round, i, inst)
			}
		}
		if diff := cmp.Diff([]string{DefaultPath, DefaultPath + ".backup"}, folder(t, path)); diff != "" {
			t.Fatalf("round %d: files after Read (-want +got):\n%s", round, diff)
		}
		t.Logf("round %d: killed after %d reported, state serial %d holds %d instances", round, len(lines), s.Serial, len(s.Instances))
	}
}

// BenchmarkJournalRecord records 10,000 entries from 10 goroutines per
// iteration and reports the syncs this took.
func BenchmarkJournalRecord(b *testing.B) {
	const goroutines, perGoroutine = 10, 1000
	ctx := context.Background()
	be := New(b.TempDir() + "/" + DefaultPath)
	s := stateWith("L", 0)
	if err := be.Persist(ctx, s, state.PersistOptions{}); err != nil {
		b.Fatal(err)
	}
	syncs := 0
	for b.Loop() {
		sj, err := be.Journal(ctx, s)
		if err != nil {
			b.Fatal(err)
		}
		j := sj.(*journal)
		var wg sync.WaitGroup
		errs := make(chan error, goroutines)
		for g := range goroutines {
			wg.Go(func() {
				for k := range perGoroutine {
					if err := j.Record(state.JournalEntry{Set: counterInstance(g*perGoroutine+k, state.Ready)}); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		syncs += j.syncs
		if err := j.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.Remove(be.journalPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(syncs)/float64(b.N), "syncs/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*goroutines*perGoroutine), "ns/record")
}

// BenchmarkJournalRecordSerial is the same 10,000 records from one
// goroutine: one sync each, the cost group commit saves.
func BenchmarkJournalRecordSerial(b *testing.B) {
	const records = 10_000
	ctx := context.Background()
	be := New(b.TempDir() + "/" + DefaultPath)
	s := stateWith("L", 0)
	if err := be.Persist(ctx, s, state.PersistOptions{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		j, err := be.Journal(ctx, s)
		if err != nil {
			b.Fatal(err)
		}
		for k := range records {
			if err := j.Record(state.JournalEntry{Set: counterInstance(k, state.Ready)}); err != nil {
				b.Fatal(err)
			}
		}
		if err := j.Close(); err != nil {
			b.Fatal(err)
		}
		os.Remove(be.journalPath())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*records), "ns/record")
}

// TestJournalRunsAheadWithZeros: the journal's file is filled with zeros
// ahead of its entries, so that a batch's sync needs no change of its
// length; Records and Appends, in any order and past the zeros, leave
// every entry in place, and a reader stops at the zeros.
func TestJournalRunsAheadWithZeros(t *testing.T) {
	ctx := context.Background()
	_, path, s, j := startApply(t, 0)
	for i := range 1500 { // about 200 KB of entries: the zeros run out three times
		e := state.JournalEntry{Set: counterInstance(i, state.Ready)}
		write := j.Record
		if i%3 == 0 {
			write = j.Append
		}
		if err := write(e); err != nil {
			t.Fatal(err)
		}
		if err := s.Replay(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path + ".journal")
	if err != nil {
		t.Fatal(err)
	}
	end := strings.LastIndexByte(string(data), '\n') + 1
	if end == len(data) || strings.Trim(string(data[end:]), "\x00") != "" {
		t.Errorf("the journal's %d bytes after its last entry are not zeros", len(data)-end)
	}
	jf, err := readJournal(path + ".journal")
	if err != nil {
		t.Fatal(err)
	}
	if len(jf.entries) != 1500 {
		t.Errorf("read %d entries, want 1500", len(jf.entries))
	}
	got, err := New(path).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := s.DeepCopy()
	want.Serial = 2
	if diff := cmp.Diff(want, got, cmpState); diff != "" {
		t.Errorf("state after replay (-want +got):\n%s", diff)
	}
}
