//go:build ignore

// replication_tree makes the trees of bench/replication.sh:
//
//	go run bench/replication_tree.go create DIR FILES LARGE LARGE_MIB
//	go run bench/replication_tree.go change DIR PERCENT
//	go run bench/replication_tree.go write DIR RATE SECONDS
//
// create writes FILES small files (0.5-8 KiB, 100 per folder) and LARGE
// files of LARGE_MIB; change rewrites PERCENT of the small files and 1 MiB
// in the middle of the first large file; write changes, creates, renames
// and deletes files at RATE per second for SECONDS (the continuous case).
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fail("usage: replication_tree create|change|write DIR ...")
	}
	dir := os.Args[2]
	n := func(i int) int {
		v, err := strconv.Atoi(os.Args[i])
		if err != nil {
			fail("argument %d: %v", i, err)
		}
		return v
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	switch os.Args[1] {
	case "create":
		create(dir, n(3), n(4), n(5), rng)
	case "change":
		change(dir, n(3), rng)
	case "write":
		write(dir, n(3), n(4), rng)
	default:
		fail("unknown mode %q", os.Args[1])
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func small(i int) string {
	return filepath.Join(fmt.Sprintf("d%03d", i/100/100), fmt.Sprintf("s%02d", i/100%100), fmt.Sprintf("f%05d", i))
}

func content(rng *rand.Rand) []byte {
	b := make([]byte, 512+rng.IntN(8*1024-512))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func put(path string, b []byte) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		fail("%v", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		fail("%v", err)
	}
}

func create(dir string, files, large, mib int, rng *rand.Rand) {
	for i := range files {
		put(filepath.Join(dir, small(i)), content(rng))
	}
	chunk := make([]byte, 1<<20)
	for i := range large {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("large%d.img", i)))
		if err != nil {
			fail("%v", err)
		}
		for range mib {
			for j := range chunk {
				chunk[j] = byte(rng.Uint32())
			}
			f.Write(chunk)
		}
		f.Close()
	}
	fmt.Fprintf(os.Stderr, "seed %d\n", rng.Uint64())
}

func change(dir string, percent int, rng *rand.Rand) {
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		// Names starting with a dot are Drover's (the source marker,
		// block manifests): a change there is not a user's edit.
		if err == nil && d.Type().IsRegular() && filepath.Ext(p) != ".img" && !strings.HasPrefix(d.Name(), ".") {
			files = append(files, p)
		}
		return nil
	})
	k := len(files) * percent / 100
	for _, i := range rng.Perm(len(files))[:k] {
		put(files[i], content(rng))
	}
	if f, err := os.OpenFile(filepath.Join(dir, "large0.img"), os.O_WRONLY, 0); err == nil {
		fi, _ := f.Stat()
		b := make([]byte, 1<<20)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		f.WriteAt(b, fi.Size()/2)
		f.Close()
	}
	fmt.Printf("%d\n", k)
}

func write(dir string, rate, seconds int, rng *rand.Rand) {
	every := time.Second / time.Duration(rate)
	end := time.Now().Add(time.Duration(seconds) * time.Second)
	next := time.Now()
	for i := 0; time.Now().Before(end); i++ {
		p := filepath.Join(dir, "live", fmt.Sprintf("s%02d", rng.IntN(20)), fmt.Sprintf("w%03d", rng.IntN(500)))
		switch op := rng.IntN(10); {
		case op < 7:
			put(p, content(rng))
		case op < 9:
			to := filepath.Join(dir, "live", fmt.Sprintf("s%02d", rng.IntN(20)), fmt.Sprintf("w%03d", rng.IntN(500)))
			os.MkdirAll(filepath.Dir(to), 0o755)
			os.Rename(p, to)
		default:
			os.Remove(p)
		}
		next = next.Add(every)
		time.Sleep(time.Until(next))
	}
}
