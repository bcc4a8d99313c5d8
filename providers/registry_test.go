package providers_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
)

// TestPrestart starts a provider in the background once: a later Get
// waits for that start instead of starting another process.
func TestPrestart(t *testing.T) {
	var starts atomic.Int32
	reg := providers.NewRegistry(providers.Entry{Name: "p", Factory: func() (providers.Provider, error) {
		starts.Add(1)
		return sdk.New(&sdk.Provider{Name: "p", Resources: map[string]*sdk.Resource{
			"p_thing": {Schema: &schema.Resource{Block: &schema.Block{}}},
		}}), nil
	}})
	defer reg.Close()
	reg.Prestart(context.Background(), "p", "unknown")
	_, s, err := reg.Get(context.Background(), "p")
	if err != nil {
		t.Fatal(err)
	}
	if s.ResourceTypes["p_thing"] == nil {
		t.Errorf("schema %+v", s)
	}
	if n := starts.Load(); n != 1 {
		t.Errorf("the provider started %d times, want once", n)
	}
	if _, _, err := reg.Get(context.Background(), "unknown"); err == nil {
		t.Error("an unknown provider must still be an error on Get")
	}
}
