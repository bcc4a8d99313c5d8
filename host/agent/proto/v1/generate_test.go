package agentv1

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/drover-dr/drover/internal/testenv"
)

// TestGeneratedCodeIsCurrent regenerates the Go code into a temporary
// folder and compares it with the committed files.
func TestGeneratedCodeIsCurrent(t *testing.T) {
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
		"agent.proto")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, b)
	}
	for _, name := range []string{"agent.pb.go", "agent_grpc.pb.go"} {
		want, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `go generate ./host/agent/proto/...` and commit the result", name)
		}
	}
}
