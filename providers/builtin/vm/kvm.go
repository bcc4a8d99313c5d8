package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/drover-dr/drover/providers/builtin/vm/bootsector"
)

// probeMarker is what the probe guest prints.
const probeMarker = "DROVER KVM PROBE"

// probeRuns is how many probe boots must all pass: where nested
// virtualization is unreliable, KVM guests boot now and then and print
// nothing otherwise, so one lucky boot proves little.
const probeRuns = 3

// probeTimeout bounds each probe boot; under KVM one takes a fraction of
// a second.
const probeTimeout = 3 * time.Second

// kvmDevice is the device QEMU runs KVM guests through.
const kvmDevice = "/dev/kvm"

// probeKVM says whether QEMU guests run under KVM on this machine, by
// booting the probe boot sector with QEMU and KVM probeRuns times. That
// /dev/kvm opens is not enough: on machines with broken nested
// virtualization guests start and, most of the time, never print.
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
		if err := probeBoot(ctx, dir, disk); err != nil {
			return fmt.Errorf("probe boot %d of %d: %w", i+1, probeRuns, err)
		}
	}
	return nil
}

// probeBoot boots disk under KVM once and waits for the probe marker on
// the console, then ends QEMU.
func probeBoot(ctx context.Context, dir, disk string) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	console := filepath.Join(dir, "console")
	os.Remove(console)
	cmd := exec.CommandContext(ctx, qemuProgram, "-accel", "kvm", "-nodefaults", "-no-user-config", "-display", "none",
		"-nic", "none", "-m", "16", "-drive", "file="+qemuOpt(disk)+",format=raw,if=ide,index=0,snapshot=on",
		"-chardev", "file,id=console,path="+qemuOpt(console), "-serial", "chardev:console")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("%s is not installed", qemuProgram)
		}
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return fmt.Errorf("QEMU exited before the guest printed (%v): %s", err, strings.TrimSpace(stderr.String()))
		case <-ctx.Done():
			<-done
			return fmt.Errorf("the guest printed nothing within %s", probeTimeout)
		case <-tick.C:
			if b, _ := os.ReadFile(console); bytes.Contains(b, []byte(probeMarker)) {
				cmd.Process.Kill()
				<-done
				return nil
			}
		}
	}
}
