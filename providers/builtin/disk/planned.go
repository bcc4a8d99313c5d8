package disk

import "sync"

// plannedImages are the image files that drive resources of the current
// run plan to create or grow, by HOST:PATH, with their planned size. A
// drive_copy whose source or target does not exist yet checks it against
// them at plan time: the drive resource it refers to is planned before it
// (the reference orders them), so a path none of them creates is missing
// for good, and a planned size is known before anything is written.
//
// The provider process serves one run, and a path's planned size only
// matters while its image does not exist: entries are never removed.
type plannedImages struct {
	mu    sync.Mutex
	sizes map[string]int64
}

func (p *plannedImages) add(id string, size int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sizes == nil {
		p.sizes = map[string]int64{}
	}
	p.sizes[id] = size
}

// size is the planned size of the image id, if a drive resource plans it.
func (p *plannedImages) size(id string) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, ok := p.sizes[id]
	return n, ok
}
