package main

import (
	"io/fs"
	"os"
	"sort"
	"strconv"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/fat32"
	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	// fatls IMAGE: prints the files of the FAT32 image IMAGE, one
	// "PATH SIZE" line each (folders end in a slash), as go-diskfs reads
	// them back: what a guest mounting the image finds.
	vmCmds["fatls"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: fatls IMAGE")
		}
		f, err := os.Open(ts.MkAbs(args[0]))
		ts.Check(err)
		defer f.Close()
		fi, err := f.Stat()
		ts.Check(err)
		fsys, err := fat32.Read(file.New(f, true), fi.Size(), 0, 512)
		ts.Check(err)
		var lines []string
		ts.Check(fs.WalkDir(fsys, ".", func(name string, e fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case name == ".":
				return nil
			case e.IsDir():
				lines = append(lines, name+"/")
				return nil
			}
			b, err := fsys.ReadFile(name)
			lines = append(lines, name+" "+strconv.Itoa(len(b)))
			return err
		}))
		sort.Strings(lines)
		for _, l := range lines {
			ts.Stdout().Write([]byte(l + "\n"))
		}
	}
}
