package replication

import (
	"context"
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/replication/mirror"
	"github.com/zclconf/go-cty/cty"
)

// setConfig is a replication set's configuration in Go form.
type setConfig struct {
	sources       []endpoint
	target        endpoint
	include       []string
	exclude       []string
	deleteOrphans bool
	checksum      bool
	preserve      mirror.Preserve
	bandwidth     int64
	maxDelete     mirror.DeleteLimit
	// allowMassDelete comes from the attribute or the provider's setting.
	allowMassDelete bool
	// sourceIDs are the recorded identities of the sources, in order ("" for
	// none).
	sourceIDs []string
}

// defaultMaxDelete is max_delete when not set: a source that lost more
// than half of what its replica holds at once is more likely replaced or
// half-mounted than cleaned up.
const defaultMaxDelete = "50%"

type endpoint struct {
	host host.Config
	path string
}

// preserveNames are the values `preserve` takes.
var preserveNames = map[string]mirror.Preserve{
	"mode":       mirror.PreserveMode,
	"owner":      mirror.PreserveOwner,
	"mtime":      mirror.PreserveTimes,
	"symlinks":   mirror.PreserveSymlinks,
	"hard_links": mirror.PreserveHardLinks,
}

// parseSet reads a wholly known configuration or state value. Problems are
// diagnostics with the attribute's path.
func parseSet(v cty.Value) (setConfig, providers.Diagnostics) {
	var c setConfig
	var diags providers.Diagnostics
	v, _ = v.UnmarkDeep()
	if src := v.GetAttr("source"); !src.IsNull() {
		for it := src.ElementIterator(); it.Next(); {
			k, e := it.Element()
			i, _ := k.AsBigFloat().Int64()
			ep, d := parseEndpoint(e, cty.GetAttrPath("source").IndexInt(int(i)))
			diags = append(diags, d...)
			c.sources = append(c.sources, ep)
		}
	}
	if len(c.sources) == 0 {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("source"), "Missing source",
			"A replication set needs at least one source block with the host and the folder to mirror."))
	}
	if t := v.GetAttr("target"); t.IsNull() {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("target"), "Missing target",
			"A replication set needs one target block with the host and the folder that holds the replica."))
	} else {
		ep, d := parseEndpoint(t, cty.GetAttrPath("target"))
		diags = append(diags, d...)
		c.target = ep
	}
	c.include = stringList(v.GetAttr("include"))
	c.exclude = stringList(v.GetAttr("exclude"))
	if _, err := mirror.NewFilter(c.include, c.exclude); err != nil {
		attr := "exclude"
		if strings.HasPrefix(err.Error(), "include") {
			attr = "include"
		}
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath(attr), "Invalid pattern", "%s.", err))
	}
	c.deleteOrphans = boolAttr(v, "delete_orphans")
	c.checksum = boolAttr(v, "checksum")
	c.preserve = mirror.PreserveAll
	if p := v.GetAttr("preserve"); !p.IsNull() {
		c.preserve = 0
		for _, name := range stringList(p) {
			bit, ok := preserveNames[name]
			if !ok {
				diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("preserve"), "Invalid preserve value",
					"%q is not something a mirror preserves; use any of \"mode\", \"owner\", \"mtime\", \"symlinks\" and \"hard_links\".", name))
			}
			c.preserve |= bit
		}
	}
	if b := v.GetAttr("bandwidth"); !b.IsNull() {
		n, err := parseBandwidth(b.AsString())
		if err != nil {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("bandwidth"), "Invalid bandwidth", "%s.", err))
		}
		c.bandwidth = n
	}
	maxDelete := defaultMaxDelete
	if md := v.GetAttr("max_delete"); !md.IsNull() {
		maxDelete = md.AsString()
	}
	var err error
	if c.maxDelete, err = mirror.ParseDeleteLimit(maxDelete); err != nil {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("max_delete"), "Invalid max_delete", "%s.", err))
	}
	c.allowMassDelete = boolAttr(v, "allow_mass_delete")
	c.sourceIDs = c.recordedIDs(v)
	seen := map[string]bool{}
	for i, s := range c.sources {
		key := s.key()
		if seen[key] {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("source").IndexInt(i), "Duplicate source",
				"%s is listed twice; list each folder once.", key))
		}
		seen[key] = true
	}
	return c, diags
}

// recordedIDs are the source identities the state value v recorded, in
// the order of c's sources.
func (c setConfig) recordedIDs(v cty.Value) []string {
	if v.IsNull() {
		return nil
	}
	ids := v.GetAttr("source_ids")
	if !ids.IsWhollyKnown() || ids.IsNull() {
		return nil
	}
	m := ids.AsValueMap()
	out := make([]string, len(c.sources))
	for i, s := range c.sources {
		if id, ok := m[s.key()]; ok {
			out[i] = id.AsString()
		}
	}
	return out
}

// sourceIDsValue is source_ids for the identities MarkSources gave.
func (c setConfig) sourceIDsValue(ids []string) cty.Value {
	m := map[string]cty.Value{}
	for i, s := range c.sources {
		if ids[i] != "" {
			m[s.key()] = cty.StringVal(ids[i])
		}
	}
	if len(m) == 0 {
		return cty.MapValEmpty(cty.String)
	}
	return cty.MapVal(m)
}

// key names a source as source_ids does: HOST:PATH.
func (e endpoint) key() string { return e.host.Name + ":" + e.path }

func parseEndpoint(v cty.Value, at cty.Path) (endpoint, providers.Diagnostics) {
	var diags providers.Diagnostics
	var ep endpoint
	hc, err := host.ConfigFromValue(v.GetAttr("host"))
	if err != nil {
		diags = append(diags, providers.AttrErrorf(at.GetAttr("host"), "Invalid host", "%s.", err))
	}
	ep.host = hc
	if p := v.GetAttr("path"); !p.IsNull() {
		ep.path = p.AsString()
		if err := mirror.CheckPath(ep.path); err != nil {
			diags = append(diags, providers.AttrErrorf(at.GetAttr("path"), "Invalid folder path",
				"%s: give the folder's absolute path, like \"/srv/repset\".", err))
		}
	}
	return ep, diags
}

func stringList(v cty.Value) []string {
	if v.IsNull() {
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if !e.IsNull() {
			out = append(out, e.AsString())
		}
	}
	return out
}

func boolAttr(v cty.Value, name string) bool {
	a := v.GetAttr(name)
	return !a.IsNull() && a.True()
}

// targetFolder is where a source folder's tree lands below the target:
// its whole path, so that several sources never collide.
func (c setConfig) targetFolder(src endpoint) string {
	return path.Join(c.target.path, src.path)
}

// open connects to the hosts and opens the set as a mirror; close
// releases both.
func (c setConfig) open(ctx context.Context) (*mirror.Mirror, func(), error) {
	// Opening a remote host dials it: every host at once, not one after
	// the other.
	var configs []host.Config
	add := func(hc host.Config) {
		if !slices.Contains(configs, hc) {
			configs = append(configs, hc)
		}
	}
	for _, s := range c.sources {
		add(s.host)
	}
	add(c.target.host)
	opened := make([]host.Host, len(configs))
	errs := make([]error, len(configs))
	var wg sync.WaitGroup
	for i, hc := range configs {
		wg.Go(func() { opened[i], errs[i] = hc.Open() })
	}
	wg.Wait()
	closeHosts := func() {
		for _, h := range opened {
			if h != nil {
				h.Close()
			}
		}
	}
	hosts := map[host.Config]host.Host{}
	for i, hc := range configs {
		if errs[i] != nil {
			closeHosts()
			return nil, nil, errs[i]
		}
		hosts[hc] = opened[i]
	}
	var pairs []mirror.Pair
	for _, s := range c.sources {
		pairs = append(pairs, mirror.Pair{Source: mirror.Endpoint{Host: hosts[s.host], Path: s.path},
			Target: mirror.Endpoint{Host: hosts[c.target.host], Path: c.targetFolder(s)}})
	}
	m, err := mirror.New(ctx, pairs, c.options())
	if err != nil {
		closeHosts()
		return nil, nil, err
	}
	return m, func() { m.Close(); closeHosts() }, nil
}

func (c setConfig) options() mirror.Options {
	return mirror.Options{Include: c.include, Exclude: c.exclude, DeleteOrphans: c.deleteOrphans, Checksum: c.checksum,
		Preserve: c.preserve, Bandwidth: c.bandwidth, BlockThreshold: blockThreshold,
		MaxDelete: c.maxDelete, SourceIDs: c.sourceIDs, AllowMassDelete: c.allowMassDelete}
}

// blockThreshold: files from this size on, whose replica has their size,
// are updated in place by changed blocks.
const blockThreshold = 64 << 20

// parseBandwidth reads a rate such as "10MiB/s", "512 KB/s", "100Mbit/s"
// or "1G" (bytes per second when no unit of time is given).
func parseBandwidth(s string) (int64, error) {
	bad := fmt.Errorf("the bandwidth %q is not a rate like \"10MiB/s\", \"512KB/s\" or \"100Mbit/s\"", s)
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(t, "/s")
	t = strings.TrimSuffix(t, "ps")
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) {
		return 0, bad
	}
	bits := false
	switch {
	case strings.HasSuffix(unit, "bit"):
		bits, unit = true, strings.TrimSuffix(unit, "bit")
	case strings.HasSuffix(unit, "b"):
		bits, unit = true, strings.TrimSuffix(unit, "b")
	default:
		unit = strings.TrimSuffix(unit, "B")
	}
	mult := map[string]float64{"": 1, "K": 1e3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
		"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}
	m, ok := mult[unit]
	if !ok {
		return 0, bad
	}
	v *= m
	if bits {
		v /= 8
	}
	if v < 1 || v > math.MaxInt64/2 {
		return 0, fmt.Errorf("the bandwidth %q is out of range", s)
	}
	return int64(v), nil
}
