package drill

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
)

// lyingKind says it removed what it did not: the proof must not believe it.
type lyingKind struct{ guestKind }

func (lyingKind) Remove(ctx context.Context, h host.Host, o Object) error { return nil }

func TestProve(t *testing.T) {
	t.Run("a removal that removed nothing", func(t *testing.T) {
		dir := t.TempDir()
		inv, err := OpenInventory(ctx, machine, dir, InventoryOptions{Kinds: map[string]Kind{"guest": lyingKind{}}})
		if err != nil {
			t.Fatal(err)
		}
		defer inv.Close()
		guest := filepath.Join(dir, "guest.xml")
		if _, err := inv.Record(ctx, machine, Object{Kind: "guest", ID: guest, Note: "the standby's guest"}); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(guest, nil, 0o600)
		if err := inv.Teardown(ctx); err != nil {
			t.Fatal(err)
		}
		leaks, err := inv.Prove(ctx)
		if err != nil || len(leaks) != 1 || leaks[0].String() != `guest `+guest+` on host "fs1" (the standby's guest): the guest is still defined` {
			t.Errorf("Prove: %v, %v", leaks, err)
		}
	})
	t.Run("a kind nobody registered", func(t *testing.T) {
		dir := t.TempDir()
		inv, err := OpenInventory(ctx, machine, dir, drillOptions(false))
		if err != nil {
			t.Fatal(err)
		}
		inv.Record(ctx, machine, Object{Kind: "guest", ID: filepath.Join(dir, "guest.xml")})
		inv.Close()
		// Reopened without the engine's kinds: the object cannot be
		// checked, which is an error, never a clean proof.
		inv = openInventory(t, dir)
		if leaks, err := inv.Prove(ctx); err == nil || !strings.Contains(err.Error(), `no drill object kind "guest"`) {
			t.Errorf("Prove: %v, %v", leaks, err)
		}
		if err := inv.Teardown(ctx); err == nil {
			t.Error("Teardown removed an object of a kind it does not know")
		}
	})
	t.Run("an object on a host it cannot reach", func(t *testing.T) {
		dir := t.TempDir()
		inv := openInventory(t, dir)
		clone := filepath.Join(dir, "on-fs2")
		if _, err := inv.Record(ctx, host.NewLocal("fs2", ""), Object{Kind: File, ID: clone}); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(clone, nil, 0o600)
		if err := inv.Teardown(ctx); err == nil || !strings.Contains(err.Error(), "without a way to reach other hosts") {
			t.Errorf("Teardown: %v", err)
		}
		if _, err := os.Stat(clone); err != nil {
			t.Errorf("the object of host fs2 was removed through host fs1: %v", err)
		}
	})
	t.Run("a file system mounted at a clone", func(t *testing.T) {
		testenv.Root(t)
		dir := t.TempDir()
		inv := openInventory(t, dir)
		clone := filepath.Join(dir, "replica")
		if _, err := inv.Record(ctx, machine, Object{Kind: File, ID: clone}); err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(clone, 0o700)
		run(t, "mount", "-t", "tmpfs", "tmpfs", clone)
		t.Cleanup(func() { exec.Command("umount", clone).Run() })
		os.WriteFile(filepath.Join(clone, "keep"), []byte("keep"), 0o600)
		if err := inv.Teardown(ctx); err == nil || !strings.Contains(err.Error(), clone+" holds another file system") {
			t.Errorf("Teardown: %v", err)
		}
		if b, _ := os.ReadFile(filepath.Join(clone, "keep")); string(b) != "keep" {
			t.Fatal("the teardown removed files of the file system mounted at the clone")
		}
	})
	t.Run("a file system mounted inside a clone", func(t *testing.T) {
		testenv.Root(t)
		dir := t.TempDir()
		inv := openInventory(t, dir)
		clones := filepath.Join(dir, "clones")
		if _, err := inv.Record(ctx, machine, Object{Kind: File, ID: clones}); err != nil {
			t.Fatal(err)
		}
		foreign := filepath.Join(clones, "mnt")
		os.MkdirAll(foreign, 0o700)
		run(t, "mount", "-t", "tmpfs", "tmpfs", foreign)
		t.Cleanup(func() { exec.Command("umount", foreign).Run() })
		keep := filepath.Join(foreign, "not the drill's")
		os.WriteFile(keep, []byte("keep"), 0o600)
		if err := inv.Teardown(ctx); err == nil || !strings.Contains(err.Error(), foreign+" holds another file system; unmount it") {
			t.Errorf("Teardown: %v", err)
		}
		if b, err := os.ReadFile(keep); string(b) != "keep" {
			t.Fatalf("the teardown went into the mounted file system: %v", err)
		}
		if leaks, err := inv.Prove(ctx); err != nil || len(leaks) != 1 || leaks[0].Left != "the folder is still there" {
			t.Errorf("Prove: %v, %v", leaks, err)
		}
		// Unmounted, the next teardown finishes.
		run(t, "umount", foreign)
		if err := inv.Teardown(ctx); err != nil {
			t.Fatal(err)
		}
		if leaks, err := inv.Prove(ctx); err != nil || len(leaks) != 0 {
			t.Errorf("Prove: %v, %v", leaks, err)
		}
	})
}
