package plugin

import (
	"sync"

	"github.com/drover-dr/drover/providers"
)

// progressSender wraps a stream send for a provider's Progress callback.
// gRPC streams allow one sender at a time and none after the handler
// returns, so sends are serialised and stop() makes later calls no-ops.
func progressSender(send func(providers.Progress) error) (func(providers.Progress), func()) {
	var mu sync.Mutex
	stopped := false
	return func(p providers.Progress) {
			mu.Lock()
			defer mu.Unlock()
			if !stopped {
				_ = send(p)
			}
		}, func() {
			mu.Lock()
			stopped = true
			mu.Unlock()
		}
}
