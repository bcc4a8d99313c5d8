package vm

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/fat32"
	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

// readFAT lists the files of the FAT image at p with their content, folders
// with a trailing slash, as go-diskfs reads them back.
func readFAT(t *testing.T, p string) map[string]string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := fat32.Read(file.New(f, true), fi.Size(), 0, 512)
	if err != nil {
		t.Fatalf("%s is no FAT32 file system: %v", p, err)
	}
	got := map[string]string{}
	err = fs.WalkDir(fsys, ".", func(name string, e fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case name == ".":
			return nil
		case e.IsDir():
			got[name+"/"] = ""
			return nil
		}
		b, err := fsys.ReadFile(name)
		got[name] = string(b)
		return err
	})
	if err != nil {
		t.Fatalf("reading %s back: %v", p, err)
	}
	return got
}

func sharedFolders(folders ...sharedFolder) cty.Value {
	var vs []cty.Value
	for _, f := range folders {
		vs = append(vs, cty.ObjectVal(map[string]cty.Value{"path": cty.StringVal(f.path), "image": cty.StringVal(f.image)}))
	}
	return cty.ListVal(vs)
}

// TestGuestSharedFolder: a guest started with a shared folder boots with
// the folder's image attached as its second disk, and the image holds the
// folder's files as they were at the start. What this proves: the image
// Drover built holds the replicated files (read back with go-diskfs, an
// independent reader of FAT) and QEMU ran the booted guest with it; the
// boot sector guest does not read it itself.
func TestGuestSharedFolder(t *testing.T) {
	t.Parallel()
	m := newMachine(t)
	m.bootDisk("/srv/fs1.img", "FS1 READY")
	want := map[string]string{
		"orders.csv":                "id,total\n1,20\n",
		"Long File Name Report.txt": strings.Repeat("quarterly figures\n", 5000),
		"archive/":                  "",
		"archive/2025/":             "",
		"archive/2025/jan.csv":      "id,total\n",
	}
	for name, content := range want {
		if strings.HasSuffix(name, "/") {
			continue
		}
		m.writeFile(filepath.Join("/replica/fs1/share", name), []byte(content))
	}
	share := sharedFolder{path: "/replica/fs1/share", image: "/var/lib/drover/fs1-share.img"}
	config := m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{
		"boot_check": check("FS1 READY", "30s"), "shared_folder": sharedFolders(share)})

	state, plan, diags := m.apply(cty.NullVal(guestType), config)
	if diags.HasErrors() {
		t.Fatalf("start: %s", render(diags))
	}
	if plan.Description != `starts the guest from 1 disk and 1 shared folder (TCG); complete when "FS1 READY" on the console` {
		t.Errorf("plan description %q", plan.Description)
	}
	image := filepath.Join(m.root, share.image)
	cmdline, err := os.ReadFile(filepath.Join("/proc", strings.TrimSpace(state.GetAttr("pid").AsBigFloat().String()), "cmdline"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cmdline), "file="+image+",format=raw,if=ide,index=1") {
		t.Errorf("QEMU runs without the folder's image as its second disk: %q", cmdline)
	}
	if diff := cmp.Diff(want, readFAT(t, image)); diff != "" {
		t.Errorf("the image's files (-want +got):\n%s", diff)
	}

	// A new file in the folder is in the image of the next start.
	m.writeFile("/replica/fs1/share/new.txt", []byte("after the first start\n"))
	stopped := m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{
		"boot_check": check("FS1 READY", "30s"), "shared_folder": sharedFolders(share), "running": cty.False})
	if state, _, diags = m.apply(state, stopped); diags.HasErrors() {
		t.Fatalf("stop: %s", render(diags))
	}
	if state, _, diags = m.apply(state, config); diags.HasErrors() {
		t.Fatalf("second start: %s", render(diags))
	}
	want["new.txt"] = "after the first start\n"
	if diff := cmp.Diff(want, readFAT(t, image)); diff != "" {
		t.Errorf("the image's files after the second start (-want +got):\n%s", diff)
	}
	m.destroy(state)
}

// TestGuestSharedFolderRefused: a folder holding a symlink is refused
// (FAT holds files and folders), no QEMU starts and the last image stays
// whole.
func TestGuestSharedFolderRefused(t *testing.T) {
	t.Parallel()
	m := newMachine(t)
	m.bootDisk("/srv/fs1.img", "FS1 READY")
	m.writeFile("/replica/fs1/share/orders.csv", []byte("id\n"))
	m.writeFile("/var/lib/drover/fs1-share.img", []byte("the last image"))
	if err := os.Symlink("/etc/passwd", filepath.Join(m.root, "replica/fs1/share/link")); err != nil {
		t.Fatal(err)
	}
	share := sharedFolder{path: "/replica/fs1/share", image: "/var/lib/drover/fs1-share.img"}
	_, _, diags := m.apply(cty.NullVal(guestType), m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{
		"boot_check": check("FS1 READY", "30s"), "shared_folder": sharedFolders(share)}))
	msg := render(diags)
	if !strings.Contains(msg, "Guest not started: the shared folder /replica/fs1/share holds /replica/fs1/share/link, a symlink; its image holds files and folders only.") {
		t.Errorf("diagnostics:\n%s", msg)
	}
	if b, _ := os.ReadFile(filepath.Join(m.root, share.image)); string(b) != "the last image" {
		t.Errorf("the last image was touched: %q", b)
	}
	entries, _ := os.ReadDir(filepath.Join(m.root, "var/lib/drover"))
	for _, e := range entries {
		if e.Type()&fs.ModeType == 0 && e.Name() != "fs1-share.img" && e.Name() != "guest.serial" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
