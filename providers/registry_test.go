package providers_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
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

// closeTracker is a provider that records being closed.
type closeTracker struct {
	providers.Provider
	closed *atomic.Bool
}

func (c closeTracker) Close() error {
	c.closed.Store(true)
	return c.Provider.Close()
}

// TestAddAndCloseWhileStarting adds a provider after another has started,
// and closes the registry while a prestarted provider is still starting:
// Close waits for it and ends it, and nothing starts afterwards.
func TestAddAndCloseWhileStarting(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var closed atomic.Bool
	slow := providers.Entry{Name: "slow", Factory: func() (providers.Provider, error) {
		close(entered)
		<-release
		return closeTracker{sdk.New(&sdk.Provider{Name: "slow"}), &closed}, nil
	}}
	reg := providers.NewRegistry(slow)
	reg.Prestart(context.Background(), "slow", "late")
	reg.Add(providers.Entry{Name: "late", Factory: func() (providers.Provider, error) {
		return sdk.New(&sdk.Provider{Name: "late", Resources: map[string]*sdk.Resource{
			"late_thing": {Schema: &schema.Resource{Block: &schema.Block{}}},
		}}), nil
	}})
	if name, ok := reg.Resolve("late_thing", ""); !ok || name != "late" {
		t.Fatalf("Resolve(late_thing) = %q, %v after Add", name, ok)
	}
	if _, err := reg.Schema(context.Background(), "late"); err != nil {
		t.Fatal(err)
	}
	<-entered
	done := make(chan error)
	go func() { done <- reg.Close() }()
	select {
	case <-done:
		t.Fatal("Close returned while a provider was still starting")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !closed.Load() {
		t.Error("the provider that was starting during Close was not ended")
	}
	if _, err := reg.Schema(context.Background(), "late"); err == nil {
		t.Error("a provider started after Close")
	}
}

// TestSettings: a setting given for the run (a command-line flag) is laid
// over the provider's configuration, whether a provider block gave one or
// not, and keeps the block's other attributes; attributes the provider's
// configuration does not have are left out.
func TestSettings(t *testing.T) {
	config := &schema.Block{Attributes: map[string]*schema.Attribute{
		"allow": {Type: cty.Bool, Optional: true},
		"name":  {Type: cty.String, Optional: true},
	}}
	for _, tc := range []struct {
		name  string
		block cty.Value // null: no provider block
		want  cty.Value
	}{
		{"without a block", cty.NullVal(cty.DynamicPseudoType), cty.ObjectVal(map[string]cty.Value{"allow": cty.True, "name": cty.NullVal(cty.String)})},
		{"over a block", cty.ObjectVal(map[string]cty.Value{"allow": cty.False, "name": cty.StringVal("x")}),
			cty.ObjectVal(map[string]cty.Value{"allow": cty.True, "name": cty.StringVal("x")})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got cty.Value
			reg := providers.NewRegistry(providers.Entry{Name: "p", Factory: func() (providers.Provider, error) {
				return sdk.New(&sdk.Provider{Name: "p", Config: config, Configure: func(ctx context.Context, c cty.Value) providers.Diagnostics {
					got = c
					return nil
				}}), nil
			}})
			defer reg.Close()
			reg.SetSetting("p", "allow", cty.True)
			reg.SetSetting("p", "unknown_to_it", cty.True)
			reg.SetSetting("other", "allow", cty.False)
			var err error
			if tc.block.IsNull() {
				_, _, err = reg.Get(context.Background(), "p")
			} else {
				err = reg.Configure(context.Background(), "p", tc.block)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.RawEquals(tc.want) {
				t.Errorf("configured with %#v, want %#v", got, tc.want)
			}
		})
	}
}
