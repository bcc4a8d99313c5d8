package providerv1

import (
	"testing"

	"github.com/drover-dr/drover/internal/prototest"
)

// TestGeneratedCodeIsCurrent: the committed Go code is what provider.proto
// generates now.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	prototest.CheckGenerated(t, "provider.proto", "./providers/proto/...")
}
