package prototest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/internal/testenv"
)

// CheckGenerated regenerates the Go code of proto (a .proto file in the
// test's folder, the package folder) into a temporary folder with the
// plugins go.mod pins as tools, and fails for each committed file that
// differs, naming the pattern to `go generate` (e.g.
// "./providers/proto/...").
func CheckGenerated(t *testing.T, proto, generate string) {
	t.Helper()
	testenv.Command(t, "protoc", "protobuf-compiler")
	out := t.TempDir()
	plugin := func(name string) string {
		b, err := exec.Command("go", "tool", "-n", name).Output()
		if err != nil {
			t.Fatalf("go tool -n %s: %v", name, err)
		}
		return string(bytes.TrimSpace(b))
	}
	cmd := exec.Command("protoc",
		"--plugin=protoc-gen-go="+plugin("protoc-gen-go"),
		"--plugin=protoc-gen-go-grpc="+plugin("protoc-gen-go-grpc"),
		"--go_out="+out, "--go_opt=paths=source_relative",
		"--go-grpc_out="+out, "--go-grpc_opt=paths=source_relative",
		proto)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, b)
	}
	base := strings.TrimSuffix(proto, ".proto")
	for _, name := range []string{base + ".pb.go", base + "_grpc.pb.go"} {
		want, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `go generate %s` and commit the result", name, generate)
		}
	}
}
