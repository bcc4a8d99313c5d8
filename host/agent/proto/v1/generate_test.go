package agentv1

import (
	"testing"

	"github.com/drover-dr/drover/internal/prototest"
)

// TestGeneratedCodeIsCurrent: the committed Go code is what agent.proto
// generates now.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	prototest.CheckGenerated(t, "agent.proto", "./host/agent/proto/...")
}
