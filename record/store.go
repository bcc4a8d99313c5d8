package record

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drover-dr/drover/internal/atomicfile"
)

// Store is the folder holding the records of a configuration's runs, one
// folder per run: RUN_ID/record.json, RUN_ID/STEP.log (or .log.gz) and
// RUN_ID/report.html.
type Store struct {
	dir string
}

// DefaultDir is where a configuration folder keeps its runs.
const DefaultDir = ".drover/runs"

// NewStore returns the store in dir; the folder is created with the first
// record.
func NewStore(dir string) *Store { return &Store{dir: dir} }

// Dir is the store's folder.
func (s *Store) Dir() string { return s.dir }

// RunDir is the folder of the run id.
func (s *Store) RunDir(id string) string { return filepath.Join(s.dir, id) }

// Save writes r atomically as RUN_ID/record.json, creating its folder.
func (s *Store) Save(r *Record) error {
	return s.SaveWith(&Encoder{}, r)
}

// SaveWith is Save encoding with e, which keeps what it encoded for the
// next version of the same record (see Encoder).
func (s *Store) SaveWith(e *Encoder, r *Record) error {
	dir := s.RunDir(r.RunID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("run records: %w", err)
	}
	return atomicfile.WriteWith(filepath.Join(dir, "record.json"), func(w io.Writer) error {
		return e.Encode(w, r)
	})
}

// ReportName is the file of a run's folder holding its HTML report.
const ReportName = "report.html"

// SaveReport writes page, the rendered report of run id, atomically into
// the run's folder as ReportName and returns its path.
func (s *Store) SaveReport(id string, page []byte) (string, error) {
	path := filepath.Join(s.RunDir(id), ReportName)
	if err := atomicfile.Write(path, page); err != nil {
		return "", fmt.Errorf("writing the report of run %s: %w", id, err)
	}
	return path, nil
}

// Load reads the record of run id, which may be given by a unique prefix.
func (s *Store) Load(id string) (*Record, error) {
	full, err := s.resolve(id)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(s.RunDir(full), "record.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", full, err)
	}
	r, err := Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// List reads every record of the store, oldest first. A folder that holds
// no readable record is reported in the error, with the records read.
func (s *Store) List() ([]*Record, error) {
	return s.list(Unmarshal)
}

// ListOutlines reads every record of the store as List does, leaving out
// of each step what planning never asks of past runs: its after list,
// output log, checks and answer; nor does it refuse fields it does not
// know. A record of a thousand steps, each after a hundred, reads in a
// quarter of the time.
func (s *Store) ListOutlines() ([]*Record, error) {
	return s.list(unmarshalOutline)
}

func (s *Store) list(decode func([]byte) (*Record, error)) ([]*Record, error) {
	ids, err := s.ids()
	if err != nil {
		return nil, err
	}
	var out []*Record
	var errs []error
	for _, id := range ids {
		path := filepath.Join(s.RunDir(id), "record.json")
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("run %s: %w", id, err))
			continue
		}
		r, err := decode(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

func (s *Store) ids() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("run records: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() {
			ids = append(ids, e.Name())
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func (s *Store) resolve(id string) (string, error) {
	ids, err := s.ids()
	if err != nil {
		return "", err
	}
	var found []string
	for _, have := range ids {
		if have == id {
			return id, nil
		}
		if strings.HasPrefix(have, id) {
			found = append(found, have)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("no run %q in %s; `drover report list` lists the runs", id, s.dir)
	default:
		return "", fmt.Errorf("%q names %d runs (%s); give more of the run ID", id, len(found), strings.Join(found, ", "))
	}
}

// compressAbove is the size of an output log above which it is kept
// compressed once its step ends.
const compressAbove = 1 << 20

// Output is the log of one step's output: each line stamped with the time
// it ended and the stream it came from, in the order lines ended.
type Output struct {
	path string
	name string

	mu      sync.Mutex
	f       *os.File
	w       *bufio.Writer
	err     error
	streams []*streamWriter
}

// CreateOutput opens the output log of step in run id, appending to what
// an earlier attempt of the step wrote. Name is what Step.Output records.
func (s *Store) CreateOutput(id, step string) (*Output, error) {
	dir := s.RunDir(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("run records: %w", err)
	}
	name := logName(step)
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|noFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("run records: %w", err)
	}
	return &Output{path: path, name: name, f: f, w: bufio.NewWriter(f)}, nil
}

// logName is the log file of a step; step names are HCL identifiers, so
// they make safe file names.
func logName(step string) string { return step + ".log" }

// Name is the log's file name in the run's folder.
func (o *Output) Name() string { return o.name }

// Stream returns a writer for one stream (stdout, stderr) of the step: a
// line is logged once it ends, a partial line when Close flushes it.
func (o *Output) Stream(name string) io.Writer {
	w := &streamWriter{o: o, stream: name}
	o.mu.Lock()
	o.streams = append(o.streams, w)
	o.mu.Unlock()
	return w
}

func (o *Output) line(stream string, text []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writeLine(stream, text)
}

func (o *Output) writeLine(stream string, text []byte) {
	if o.err != nil {
		return
	}
	_, err := fmt.Fprintf(o.w, "%s %s | %s\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), stream, text)
	if err != nil {
		o.err = err
	}
}

// Close flushes the log and makes it durable; a log larger than 1 MiB is
// then replaced by its gzip-compressed form (NAME.gz).
func (o *Output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.streams {
		if len(s.partial) > 0 {
			o.writeLine(s.stream, s.partial)
		}
	}
	err := o.err
	if ferr := o.w.Flush(); err == nil {
		err = ferr
	}
	if serr := o.f.Sync(); err == nil {
		err = serr
	}
	fi, statErr := o.f.Stat()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err != nil || statErr != nil || fi.Size() <= compressAbove {
		return err
	}
	if err := compress(o.path); err != nil {
		return err
	}
	o.name += ".gz"
	return nil
}

// streamWriter cuts what one stream writes into lines.
type streamWriter struct {
	o       *Output
	stream  string
	partial []byte
}

func (s *streamWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := slices.Index(p, '\n')
		if i < 0 {
			s.partial = append(s.partial, p...)
			break
		}
		s.o.line(s.stream, append(s.partial, p[:i]...))
		s.partial = s.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

// OpenOutput opens a step's log by the name Step.Output records, reading
// a compressed one as plain text.
func (s *Store) OpenOutput(id, name string) (io.ReadCloser, error) {
	if name != filepath.Base(name) {
		return nil, fmt.Errorf("run %s: %q is not an output log name", id, name)
	}
	f, err := os.Open(filepath.Join(s.RunDir(id), name))
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(name, ".gz") {
		return f, nil
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("run %s: %s: %w", id, name, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{z, f}, nil
}

func compress(path string) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".gz.tmp-*")
	if err != nil {
		return err
	}
	z := gzip.NewWriter(tmp)
	_, err = io.Copy(z, in)
	if cerr := z.Close(); err == nil {
		err = cerr
	}
	if serr := tmp.Sync(); err == nil {
		err = serr
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path+".gz")
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("compressing %s: %w", path, err)
	}
	return os.Remove(path)
}
