package vm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/drover-dr/drover/internal/atomicfile"
	"github.com/drover-dr/drover/providers/builtin/vm/bootsector"
)

// probeMarker is what the probe guest prints.
const probeMarker = "DROVER KVM PROBE"

// probeRuns is how many probe races KVM must all pass: where nested
// virtualization is unreliable, KVM guests boot now and then and print
// nothing otherwise, so one lucky boot proves little.
const probeRuns = 3

// probeTimeout bounds a probe race in which neither KVM nor TCG prints;
// the probe guest prints within a fraction of a second under either.
const probeTimeout = 3 * time.Second

// probeMargin is how many times TCG's time KVM may take to boot the
// probe guest and still be used.
const probeMargin = 3

// probeInterval is how often a probe race looks at the consoles: the
// probe is on the way of every start with accelerator = "auto".
const probeInterval = 2 * time.Millisecond

// kvmDevice is the device QEMU runs KVM guests through.
const kvmDevice = "/dev/kvm"

// verdictFile keeps the probe's last decided verdict on the machine, for
// the runs after the one that probed: each run of a guest with accelerator
// = "auto" would otherwise boot the probe first (a failover's start waits
// on it).
var verdictFile = "/run/drover/kvm-probe.json"

// probeVerdict is what verdictFile holds: the verdict and what it holds
// for.
type probeVerdict struct {
	// Key names the machine's boot, its /dev/kvm and its QEMU as they
	// were probed (probeKey): a restart, a reloaded KVM module or another
	// QEMU probes anew.
	Key string `json:"key"`
	// Unusable says why KVM is not used; "" when it passed the probe.
	Unusable string    `json:"unusable"`
	Probed   time.Time `json:"probed"`
}

// kvmVerdict is probeKVM's verdict, as kept in verdictFile when it was
// decided earlier for this boot, /dev/kvm and QEMU. Only decided verdicts
// are kept, KVM within the margin every race or past it in one; a probe
// that timed out or whose QEMU failed is asked again next time.
func kvmVerdict(ctx context.Context) error {
	key, keyErr := probeKey()
	if keyErr == nil {
		if b, err := os.ReadFile(verdictFile); err == nil {
			var v probeVerdict
			if json.Unmarshal(b, &v) == nil && v.Key == key {
				if v.Unusable == "" {
					return nil
				}
				return fmt.Errorf("%s; probed at %s", v.Unusable, v.Probed.UTC().Format(time.DateTime+" UTC"))
			}
		}
	}
	err := probeKVM(ctx)
	var slower *slowerError
	if keyErr == nil && (err == nil || errors.As(err, &slower)) {
		v := probeVerdict{Key: key, Probed: time.Now()}
		if err != nil {
			v.Unusable = err.Error()
		}
		// Without the file the next run probes again: nothing is lost.
		if b, merr := json.Marshal(v); merr == nil && os.MkdirAll(filepath.Dir(verdictFile), 0o755) == nil {
			atomicfile.Write(verdictFile, b)
		}
	}
	return err
}

// probeKey names what a verdict holds for: the machine's boot, /dev/kvm
// (made anew when the KVM module loads) and the QEMU binary.
func probeKey() (string, error) {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", err
	}
	dev, err := os.Stat(kvmDevice)
	if err != nil {
		return "", err
	}
	qemu, err := exec.LookPath(qemuProgram)
	if err != nil {
		return "", err
	}
	bin, err := os.Stat(qemu)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("boot %s; %s made %s; %s of %d bytes, %s", strings.TrimSpace(string(boot)),
		kvmDevice, dev.ModTime().UTC().Format(time.RFC3339Nano), qemu, bin.Size(), bin.ModTime().UTC().Format(time.RFC3339Nano)), nil
}

// slowerError is a probe race KVM lost: TCG printed after tcg, and KVM
// had printed nothing after waited.
type slowerError struct{ tcg, waited time.Duration }

func (e *slowerError) Error() string {
	return fmt.Sprintf("the guest printed nothing under KVM within %s, where TCG booted it in %s: KVM is much slower than TCG here (nested virtualization?)",
		e.waited.Round(time.Millisecond), e.tcg.Round(time.Millisecond))
}

// probeKVM says whether QEMU guests run under KVM on this machine, and
// not much slower than under TCG, by booting the probe boot sector under
// both at once, probeRuns times: KVM must print within probeMargin times
// TCG's time each time. That /dev/kvm opens is not enough: on machines
// with broken nested virtualization guests start and, most of the time,
// never print, and where it is emulated in software (no VMX or SVM for the
// machine's own guests) they print after seconds where TCG takes a tenth
// of one. A race lost is decided shortly after TCG prints, instead of
// after a timeout.
func probeKVM(ctx context.Context) error {
	f, err := os.OpenFile(kvmDevice, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	f.Close()
	dir, err := os.MkdirTemp("", "drover-kvm-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sector, err := bootsector.Image(probeMarker)
	if err != nil {
		return err
	}
	disk := filepath.Join(dir, "probe.img")
	if err := os.WriteFile(disk, sector, 0o600); err != nil {
		return err
	}
	for i := range probeRuns {
		if err := probeRace(ctx, dir, disk); err != nil {
			return fmt.Errorf("probe boot %d of %d: %w", i+1, probeRuns, err)
		}
	}
	return nil
}

// probeRace boots disk under KVM and under TCG at once and waits until
// KVM prints the probe marker. Once TCG has printed it, KVM has until
// probeMargin times TCG's time: both pay QEMU's own start, and a boot
// sector is too short a run for working KVM to be always first, while
// KVM emulated in software takes many times TCG's time.
func probeRace(ctx context.Context, dir, disk string) error {
	// The timeout is for neither printing; once TCG has, the margin
	// bounds the race.
	timeout := time.NewTimer(probeTimeout)
	defer timeout.Stop()
	start := time.Now()
	kvm, err := startProbe(ctx, dir, disk, "kvm")
	if err != nil {
		return err
	}
	defer kvm.end()
	// Without a TCG to race, KVM has the whole timeout to print.
	tcg, _ := startProbe(ctx, dir, disk, "tcg")
	if tcg != nil {
		defer tcg.end()
	}
	var tcgTook time.Duration
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	for {
		switch {
		case kvm.printed():
			return nil
		case tcgTook > 0 && time.Since(start) > probeMargin*tcgTook:
			return &slowerError{tcg: tcgTook, waited: time.Since(start)}
		case tcg != nil && tcg.printed():
			// TCG's QEMU is done racing: its CPU goes to KVM's.
			tcgTook = time.Since(start)
			tcg.end()
			tcg = nil
			timeout.Stop()
		}
		select {
		case <-kvm.exited():
			return fmt.Errorf("QEMU exited before the guest printed (%v): %s", kvm.err, strings.TrimSpace(kvm.stderr.String()))
		case <-tcg.exited():
			tcg = nil
		case <-timeout.C:
			return fmt.Errorf("the guest printed nothing within %s", probeTimeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// probe is one QEMU of a probe race.
type probe struct {
	cmd     *exec.Cmd
	console string
	stderr  bytes.Buffer
	done    chan struct{} // closed when QEMU has exited, err then set
	err     error
}

// startProbe starts QEMU on disk with accelerator accel, its console in
// dir.
func startProbe(ctx context.Context, dir, disk, accel string) (*probe, error) {
	p := &probe{console: filepath.Join(dir, "console-"+accel), done: make(chan struct{})}
	os.Remove(p.console)
	p.cmd = exec.CommandContext(ctx, qemuProgram, "-accel", accel, "-nodefaults", "-no-user-config", "-display", "none",
		"-nic", "none", "-m", "16", "-drive", "file="+qemuOpt(disk)+",format=raw,if=ide,index=0,snapshot=on",
		"-chardev", "file,id=console,path="+qemuOpt(p.console), "-serial", "chardev:console")
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("%s is not installed", qemuProgram)
		}
		return nil, err
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// printed says whether the probe guest printed its marker.
func (p *probe) printed() bool {
	b, _ := os.ReadFile(p.console)
	return bytes.Contains(b, []byte(probeMarker))
}

// exited is closed when p's QEMU has exited; nil (never) for no probe.
func (p *probe) exited() <-chan struct{} {
	if p == nil {
		return nil
	}
	return p.done
}

// end kills p's QEMU, if it still runs, and waits for it.
func (p *probe) end() {
	p.cmd.Process.Kill()
	<-p.done
}
