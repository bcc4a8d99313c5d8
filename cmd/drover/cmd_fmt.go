package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
			fmt.Fprint(v.out, unifiedDiff(path, src, out))
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

// unifiedDiff renders the line changes from a to b with three lines of
// context, by longest common subsequence (configuration files are small).
func unifiedDiff(name string, a, b []byte) string {
	al := strings.SplitAfter(string(a), "\n")
	bl := strings.SplitAfter(string(b), "\n")
	if al[len(al)-1] == "" {
		al = al[:len(al)-1]
	}
	if bl[len(bl)-1] == "" {
		bl = bl[:len(bl)-1]
	}
	n, m := len(al), len(bl)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if al[i] == bl[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
		ai   int
		bi   int
	}
	var lines []line
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && al[i] == bl[j]:
			lines = append(lines, line{' ', al[i], i, j})
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			lines = append(lines, line{'+', bl[j], i, j})
			j++
		default:
			lines = append(lines, line{'-', al[i], i, j})
			i++
		}
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "--- %s\n+++ %s (formatted)\n", name, name)
	const ctx = 3
	for k := 0; k < len(lines); {
		if lines[k].op == ' ' {
			k++
			continue
		}
		start := max(0, k-ctx)
		end := k
		for end < len(lines) {
			if lines[end].op != ' ' {
				end++
				continue
			}
			run := end
			for run < len(lines) && lines[run].op == ' ' {
				run++
			}
			if run-end > 2*ctx || run == len(lines) {
				end = min(end+ctx, len(lines))
				break
			}
			end = run
		}
		var acount, bcount int
		for _, l := range lines[start:end] {
			if l.op != '+' {
				acount++
			}
			if l.op != '-' {
				bcount++
			}
		}
		fmt.Fprintf(&out, "@@ -%d,%d +%d,%d @@\n", lines[start].ai+1, acount, lines[start].bi+1, bcount)
		for _, l := range lines[start:end] {
			out.WriteByte(l.op)
			out.WriteString(l.text)
			if !strings.HasSuffix(l.text, "\n") {
				out.WriteString("\n\\ No newline at end of file\n")
			}
		}
		k = end
	}
	return out.String()
}
