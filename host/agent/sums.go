package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drover-dr/drover/internal/atomicfile"
)

// Reading the whole executable (some 57 MB) for its sha256 costs 50 to 60
// ms of CPU, on the path of every SSH host's start at both ends. So the sum
// is recorded with the file's identity, and a process whose executable
// still has that identity takes the recorded sum instead of reading it.
// The identity includes the change time, which no one can set back: any
// write to the file, a rename over it or a chmod, changes it, and with it
// the file is read again. A record that cannot be read, or is malformed,
// is no record.

// identity is what tells that a file has not changed since it was read.
type identity struct {
	Dev, Ino           uint64
	Size, MTime, CTime int64
}

// knownSum is a file's sha256 as it was when the file had the identity id.
type knownSum struct {
	id  identity
	sum string
}

const sumsHeader = "drover executable sums v1"

// Where each end records its sum: the controller in the user's cache
// folder, for the last few executables it ran as (builds side by side, a
// test binary); the agent beside its own executable, in the folder its
// upload made, which goes with it.
const (
	controllerSums = "drover/executables"
	controllerKeep = 8
	agentSumsExt   = ".sum"
)

// selfSum is this program's executable and its sha256, found once per
// process.
type selfSum struct {
	once sync.Once
	path string
	sum  string
	err  error
}

var (
	// self is the controller's: the executable it uploads as the agent.
	self selfSum
	// served is the agent's: the executable it reports in its handshake.
	served selfSum
)

// get finds the executable and its sum, recorded in the file record
// names for it ("" for none), keeping at most keep sums there.
func (s *selfSum) get(record func(exe string) string, keep int) (string, string, error) {
	s.once.Do(func() {
		s.path, s.err = os.Executable()
		if s.err != nil {
			s.err = fmt.Errorf("finding this program's executable: %w", s.err)
			return
		}
		s.sum, s.err = sumOf(s.path, record(s.path), keep)
	})
	return s.path, s.sum, s.err
}

// executable is the controller's executable and its sum.
func executable() (string, string, error) {
	return self.get(func(string) string {
		dir, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(dir, controllerSums)
	}, controllerKeep)
}

// servedExecutable is the agent's executable and its sum.
func servedExecutable() (string, string, error) {
	return served.get(func(exe string) string { return exe + agentSumsExt }, 1)
}

// sumOf returns the sha256 of the file at path: the one record holds for
// the file's identity, or else read from the file and then recorded there
// (best effort: a record that cannot be written costs a read next time),
// with at most keep sums in the record.
func sumOf(path, record string, keep int) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading this program's executable: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("reading this program's executable: %w", err)
	}
	read := time.Now()
	id, known := identityOf(fi)
	known = known && record != ""
	var sums []knownSum
	if known {
		sums = readSums(record)
		for _, k := range sums {
			if k.id == id {
				return k.sum, nil
			}
		}
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading this program's executable %s: %w", path, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if !known {
		return sum, nil
	}
	// A file written while it was read has no identity its sum is sure
	// to belong to.
	if fi, err := f.Stat(); err != nil {
		return sum, nil
	} else if now, _ := identityOf(fi); now != id || !settled(id, read) {
		return sum, nil
	}
	sums = slices.DeleteFunc(sums, func(k knownSum) bool { return k.id.Dev == id.Dev && k.id.Ino == id.Ino })
	sums = append([]knownSum{{id, sum}}, sums[:min(len(sums), keep-1)]...)
	writeSums(record, sums)
	return sum, nil
}

// readSums reads a record; one that cannot be read is empty.
func readSums(path string) []knownSum {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if lines[0] != sumsHeader {
		return nil
	}
	var sums []knownSum
	for _, line := range lines[1:] {
		var k knownSum
		n, err := fmt.Sscanf(line, "%d %d %d %d %d %s", &k.id.Dev, &k.id.Ino, &k.id.Size, &k.id.MTime, &k.id.CTime, &k.sum)
		if err != nil || n != 6 || !isSum(k.sum) {
			return nil
		}
		sums = append(sums, k)
	}
	return sums
}

// writeSums replaces the record at path, 0600 in a folder only the user
// can enter if it makes the folder.
func writeSums(path string, sums []knownSum) error {
	var b strings.Builder
	b.WriteString(sumsHeader + "\n")
	for _, k := range sums {
		fmt.Fprintf(&b, "%d %d %d %d %d %s\n", k.id.Dev, k.id.Ino, k.id.Size, k.id.MTime, k.id.CTime, k.sum)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, []byte(b.String()))
}

func isSum(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size && s == strings.ToLower(s)
}

// settled says whether a write after the time read would change the
// identity id: always where the file system keeps times in nanoseconds;
// where it keeps whole seconds (id's change time has no fraction), only
// once the second of the last change has passed, as a write within it
// leaves the times as they were.
func settled(id identity, read time.Time) bool {
	if id.CTime%int64(time.Second) != 0 {
		return true
	}
	return !read.Before(time.Unix(0, id.CTime).Add(time.Second))
}
