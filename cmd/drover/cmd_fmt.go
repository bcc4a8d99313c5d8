package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aymanbagabas/go-udiff"
	"github.com/drover-dr/drover/lang"
	"github.com/spf13/cobra"
)

type fmtOptions struct {
	check     bool
	diff      bool
	recursive bool
}

func newFmtCommand(g *globalOptions) *cobra.Command {
	o := &fmtOptions{}
	cmd := &cobra.Command{
		Use:   "fmt [PATH...]",
		Short: "Rewrite configuration files in the canonical layout",
		Long: `Rewrites *.dr.hcl files (the current folder by default; files or folders as
arguments; - for stdin to stdout) in the canonical layout and lists those it
changed. --check changes nothing and exits 1 if any file would change.

` + exitCodesHelp,
		RunE: func(cmd *cobra.Command, args []string) error { return runFmt(g, o, args) },
	}
	cmd.Flags().BoolVar(&o.check, "check", false, "change nothing; fail if any file is not formatted")
	cmd.Flags().BoolVar(&o.diff, "diff", false, "print the changes as a unified diff")
	cmd.Flags().BoolVar(&o.recursive, "recursive", false, "also format files in subfolders")
	return cmd
}

// errUnformatted is returned by fmt --check when a file would change.
var errUnformatted = fmt.Errorf("some files are not formatted: run `drover fmt`")

func runFmt(g *globalOptions, o *fmtOptions, args []string) error {
	v := g.newView()
	if len(args) == 0 {
		args = []string{"."}
	}
	if len(args) == 1 && args[0] == "-" {
		src, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		out, _, diags := lang.FormatFile("<stdin>", src)
		if err := v.fail(diags); err != nil {
			return err
		}
		_, err = v.out.Write(out)
		return err
	}
	var files []string
	for _, arg := range args {
		st, err := os.Stat(arg)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			files = append(files, arg)
			continue
		}
		err = filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != arg && (!o.recursive || strings.HasPrefix(d.Name(), ".")) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(path, lang.NativeSuffix) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	unformatted := false
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out, changed, diags := lang.FormatFile(path, src)
		if err := v.fail(diags); err != nil {
			return err
		}
		if !changed {
			continue
		}
		unformatted = true
		fmt.Fprintln(v.out, path)
		if o.diff {
			fmt.Fprint(v.out, udiff.Unified(path, path+" (formatted)", string(src), string(out)))
		}
		if !o.check {
			st, err := os.Stat(path)
			if err != nil {
				return err
			}
			if err := os.WriteFile(path, out, st.Mode().Perm()); err != nil {
				return err
			}
		}
	}
	if o.check && unformatted {
		return errUnformatted
	}
	return nil
}
