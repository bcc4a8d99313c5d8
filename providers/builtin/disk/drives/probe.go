package drives

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/diskfs/go-diskfs/partition"
	"github.com/diskfs/go-diskfs/partition/gpt"
	"github.com/diskfs/go-diskfs/partition/mbr"
	"github.com/drover-dr/drover/host"
	"golang.org/x/sys/unix"
)

// Kind tells an image file from a block device.
type Kind string

const (
	Image  Kind = "image"
	Device Kind = "device"
)

// Drive is what Probe found at a path.
type Drive struct {
	Path       string
	Kind       Kind
	Size       int64
	SectorSize int64
	// Table is "gpt", "mbr" or "" (none found).
	Table      string
	Partitions []Partition
	// Mounts are the mounted file systems on the drive, its partitions, or
	// (for an image) the loop devices backed by it.
	Mounts []Mount
	// Holders are loop devices backed by an image, or kernel holders of a
	// device (device-mapper, md).
	Holders []string
	// StableID names a device across reboots (WWID, serial, a loop
	// device's backing file); empty for an image.
	StableID string
	// Dev and Ino identify an image file (when identified: a host over
	// SFTP does not tell them); Rdev a device.
	Dev, Ino, Rdev uint64
	identified     bool
	// sys is the device's folder below /sys/dev/block, "" for an image.
	sys string
}

// Partition is one entry of a partition table, in bytes.
type Partition struct {
	Number int
	Start  int64
	Size   int64
	Type   string
	Name   string
}

// Mount is one mounted file system.
type Mount struct {
	// Partition is the number of the drive's partition mounted, 0 for the
	// whole drive (set by Probe).
	Partition    int
	Major, Minor int
	Point        string
	FSType       string
	Source       string
	ReadOnly     bool
}

// ErrNotFound is wrapped by Probe's error for a path that does not exist.
var ErrNotFound = errors.New("no such drive")

// Probe looks at the image file or block device at p.
func Probe(ctx context.Context, h host.Host, p string) (*Drive, error) {
	f, err := h.OpenFile(ctx, p, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist on host %q", ErrNotFound, p, h.Name())
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	d := &Drive{Path: p, SectorSize: 512}
	st, _ := fi.Sys().(*syscall.Stat_t)
	switch {
	case fi.Mode().IsRegular():
		d.Kind, d.Size = Image, fi.Size()
		if st != nil {
			d.Dev, d.Ino = uint64(st.Dev), st.Ino
			d.identified = true
		}
	case fi.Mode()&fs.ModeDevice != 0 && fi.Mode()&fs.ModeCharDevice == 0:
		d.Kind = Device
		if d.Size, err = f.Seek(0, io.SeekEnd); err != nil {
			return nil, err
		}
		if st != nil {
			d.Rdev = st.Rdev
			d.sys = fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
		}
	default:
		return nil, fmt.Errorf("%s on host %q is a %s, not an image file or a block device", p, h.Name(), host.ModeKind(fi.Mode()))
	}
	if d.sys != "" {
		if n, err := readInt(ctx, h, d.sys+"/queue/logical_block_size"); err == nil && n > 0 {
			d.SectorSize = n
		}
		d.StableID = stableID(ctx, h, d.sys, d.Rdev)
	}
	d.readTable(f)
	if err := d.findUsers(ctx, h); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Drive) readTable(f host.File) {
	t, err := partition.Read(f, int(d.SectorSize), int(d.SectorSize))
	if err != nil {
		return
	}
	switch t := t.(type) {
	case *gpt.Table:
		d.Table = "gpt"
		for _, p := range t.Partitions {
			if p.Type == gpt.Unused || p.Size == 0 {
				continue
			}
			d.Partitions = append(d.Partitions, Partition{Number: p.Index, Start: int64(p.Start) * d.SectorSize,
				Size: int64(p.Size), Type: string(p.Type), Name: p.Name})
		}
	case *mbr.Table:
		d.Table = "mbr"
		for _, p := range t.Partitions {
			if p.Type == mbr.Empty || p.Size == 0 {
				continue
			}
			d.Partitions = append(d.Partitions, Partition{Number: p.Index, Start: int64(p.Start) * d.SectorSize,
				Size: int64(p.Size) * d.SectorSize, Type: fmt.Sprintf("0x%02x", byte(p.Type))})
		}
	}
	slices.SortFunc(d.Partitions, func(a, b Partition) int { return a.Number - b.Number })
}

// Partition returns the partition numbered n.
func (d *Drive) Partition(n int) (Partition, bool) {
	for _, p := range d.Partitions {
		if p.Number == n {
			return p, true
		}
	}
	return Partition{}, false
}

// InUse says why nothing may write the drive, or "" when it is free.
func (d *Drive) InUse() string {
	if len(d.Mounts) > 0 {
		var where []string
		for _, m := range d.Mounts {
			where = append(where, m.Source+" on "+m.Point)
		}
		return "it is mounted (" + strings.Join(where, ", ") + ")"
	}
	if len(d.Holders) > 0 {
		return "it is in use by " + strings.Join(d.Holders, ", ")
	}
	return ""
}

// Same says whether a and b are the same drive, or one holds the other
// (a partition of a device, the backing file of a loop device).
func Same(a, b *Drive) bool {
	switch {
	case a.Kind == Image && b.Kind == Image && a.identified && b.identified:
		return a.Dev == b.Dev && a.Ino == b.Ino
	case a.Kind == Image && b.Kind == Image:
		// A host that does not tell inodes (SFTP): only the same path is
		// known to be the same file.
		return path.Clean(a.Path) == path.Clean(b.Path)
	case a.Kind == Device && b.Kind == Device:
		return a.Rdev == b.Rdev || a.StableID != "" && a.StableID == b.StableID
	}
	img, dev := a, b
	if a.Kind == Device {
		img, dev = b, a
	}
	return slices.Contains(img.Holders, dev.Path) || dev.StableID == "loop:"+img.Path
}

func stableID(ctx context.Context, h host.Host, sys string, rdev uint64) string {
	for _, name := range []string{"/loop/backing_file", "/device/wwid", "/wwid", "/device/serial", "/serial"} {
		if b, err := h.ReadFile(ctx, sys+name); err == nil {
			if s := strings.TrimSpace(string(b)); s != "" {
				if name == "/loop/backing_file" {
					return "loop:" + s
				}
				return s
			}
		}
	}
	return fmt.Sprintf("dev:%d:%d", unix.Major(rdev), unix.Minor(rdev))
}

// findUsers fills Mounts and Holders.
func (d *Drive) findUsers(ctx context.Context, h host.Host) error {
	mounts, err := readMounts(ctx, h)
	if err != nil {
		return err
	}
	devs := map[string]int{} // M:m of the drive, its partitions and its loop devices
	switch d.Kind {
	case Device:
		sysDevices(ctx, h, d.sys, devs)
		d.Holders = append(d.Holders, holders(ctx, h, d.sys)...)
	case Image:
		for _, loop := range loopsOf(ctx, h, d.Path) {
			d.Holders = append(d.Holders, "/dev/"+loop)
			sysDevices(ctx, h, "/sys/block/"+loop, devs)
		}
	}
	for _, m := range mounts {
		if n, ok := devs[fmt.Sprintf("%d:%d", m.Major, m.Minor)]; ok {
			m.Partition = n
			d.Mounts = append(d.Mounts, m)
		}
	}
	return nil
}

// sysDevices adds the M:m of the device at sys (as partition 0) and of
// its partitions (by number) to devs.
func sysDevices(ctx context.Context, h host.Host, sys string, devs map[string]int) {
	if b, err := h.ReadFile(ctx, sys+"/dev"); err == nil {
		devs[strings.TrimSpace(string(b))] = 0
	}
	entries, _ := h.ReadDir(ctx, sys)
	for _, e := range entries {
		n, err := readInt(ctx, h, sys+"/"+e.Name()+"/partition")
		if err != nil {
			continue
		}
		if dev, err := h.ReadFile(ctx, sys+"/"+e.Name()+"/dev"); err == nil {
			devs[strings.TrimSpace(string(dev))] = int(n)
		}
	}
}

func holders(ctx context.Context, h host.Host, sys string) []string {
	var out []string
	entries, _ := h.ReadDir(ctx, sys+"/holders")
	for _, e := range entries {
		out = append(out, "/dev/"+e.Name())
	}
	return out
}

// loopsOf lists the loop devices (names like loop3) backed by the file p.
func loopsOf(ctx context.Context, h host.Host, p string) []string {
	var out []string
	entries, _ := h.ReadDir(ctx, "/sys/block")
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "loop") {
			continue
		}
		b, err := h.ReadFile(ctx, "/sys/block/"+e.Name()+"/loop/backing_file")
		if err == nil && path.Clean(strings.TrimSpace(string(b))) == path.Clean(p) {
			out = append(out, e.Name())
		}
	}
	return out
}

// readMounts parses /proc/self/mountinfo; none on a host without one.
func readMounts(ctx context.Context, h host.Host) ([]Mount, error) {
	b, err := h.ReadFile(ctx, "/proc/self/mountinfo")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseMountinfo(string(b)), nil
}

// ParseMountinfo reads the lines of /proc/PID/mountinfo (what a drill
// checks its mounts against, too):
// ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
func ParseMountinfo(s string) []Mount {
	var out []Mount
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		sep := slices.Index(f, "-")
		if len(f) < 6 || sep < 6 || len(f) < sep+3 {
			continue
		}
		maj, min, ok := strings.Cut(f[2], ":")
		if !ok {
			continue
		}
		ma, err1 := strconv.Atoi(maj)
		mi, err2 := strconv.Atoi(min)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, Mount{Major: ma, Minor: mi, Point: unescapeMount(f[4]), FSType: f[sep+1],
			Source: unescapeMount(f[sep+2]), ReadOnly: slices.Contains(strings.Split(f[5], ","), "ro")})
	}
	return out
}

// unescapeMount undoes the octal escapes (\040 for a space) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func readInt(ctx context.Context, h host.Host, p string) (int64, error) {
	b, err := h.ReadFile(ctx, p)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}
