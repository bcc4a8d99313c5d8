package spare

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// helperEnv makes the test binary act as a spare: it receives its orders
// and prints what it became.
const helperEnv = "SPARE_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		helper()
		return
	}
	os.Exit(m.Run())
}

func helper() {
	args, err := Receive()
	if err == ErrUnused {
		os.Stdout.WriteString("unused\n")
		return
	}
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	rest, err := io.ReadAll(received)
	if err != nil {
		os.Exit(1)
	}
	dir, _ := os.Getwd()
	for _, line := range []string{
		"args=" + strings.Join(args, ","),
		"A=" + os.Getenv("A"),
		"B=" + os.Getenv("B"),
		helperEnv + "=" + os.Getenv(helperEnv),
		"dir=" + filepath.Base(dir),
		"rest=" + string(rest),
	} {
		os.Stdout.WriteString(line + "\n")
	}
}

func startHelper(t *testing.T) *Process {
	t.Helper()
	t.Setenv(helperEnv, "1")
	p, err := Start(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func lines(t *testing.T, p *Process) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(p.Stdout())
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := p.Wait(); err != nil {
		errText, _ := io.ReadAll(p.Stderr())
		t.Fatalf("spare: %v: %s", err, errText)
	}
	return out
}

// TestHand checks that a spare continues exactly as ordered: arguments,
// the whole environment (nothing of its own left), folder, and what
// follows the orders on the pipe.
func TestHand(t *testing.T) {
	p := startHelper(t)
	dir := filepath.Join(t.TempDir(), "work")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := p.Hand([]string{"internal-plugin", "core"}, []string{"A=1", "B=x=y", "C"}, dir, []byte("secret\nlines")); err != nil {
		t.Fatal(err)
	}
	want := []string{"args=internal-plugin,core", "A=1", "B=x=y", helperEnv + "=", "dir=work", "rest=secret", "lines"}
	if got := lines(t, p); !reflect.DeepEqual(got, want) {
		t.Fatalf("spare printed\n%q\nwant\n%q", got, want)
	}
}

// TestStarterGone checks that a spare whose starter ends without handing
// it orders exits quietly.
func TestStarterGone(t *testing.T) {
	p := startHelper(t)
	p.orders.Close()
	if got := lines(t, p); !reflect.DeepEqual(got, []string{"unused"}) {
		t.Fatalf("spare printed %q, want unused", got)
	}
}

// TestTakeAndRelease checks that a kept spare goes to the first taker that
// runs the same program, once, and that Release ends one nobody took.
func TestTakeAndRelease(t *testing.T) {
	p := startHelper(t)
	Keep(p)
	if got := Take("/some/other/program"); got != nil {
		t.Fatal("a spare went to a taker of another program")
	}
	if got := Take(os.Args[0]); got != p {
		t.Fatal("the kept spare did not go to its program's taker")
	}
	if got := Take(os.Args[0]); got != nil {
		t.Fatal("a spare went to two takers")
	}
	Release() // nothing kept: nothing to do
	p.Kill()
	p.Wait()

	p = startHelper(t)
	Keep(p)
	Release()
	if Take(os.Args[0]) != nil {
		t.Fatal("a released spare was taken")
	}
	if err := p.proc.Signal(syscall.Signal(0)); !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("a released spare was not ended and reaped: %v", err)
	}
}

func TestDecode(t *testing.T) {
	args, env, dir, err := decode(string(encode([]string{"a", "", "b:c"}, []string{"K=v", "E="}, "/d")))
	if err != nil || !reflect.DeepEqual(args, []string{"a", "", "b:c"}) || !reflect.DeepEqual(env, []string{"K=v", "E="}) || dir != "/d" {
		t.Fatalf("round trip: %q %q %q %v", args, env, dir, err)
	}
	for _, doc := range []string{"", "2:/d", "2:/d1:3", "x:abc", "5:ab", "-1:", "2:/d2:-1"} {
		if _, _, _, err := decode(doc); err == nil {
			t.Errorf("decode(%q) accepted malformed orders", doc)
		}
	}
}
