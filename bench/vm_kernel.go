//go:build ignore

// vm_kernel writes the kernel guest of bench/vm.sh and bench/failover.sh:
// a disk that boots Debian's cloud kernel, whose init prints MARKER on the
// serial console, the way a server's replica boots an OS rather than a
// boot sector:
//
//	CGO_ENABLED=0 go build -o vm_kernel bench/vm_kernel.go
//	vm_kernel IMAGE MARKER CACHE
//
// The disk is a FAT file system with no partition table (SeaBIOS boots its
// first sector, the kernel reads no partition tables here) holding
// SYSLINUX, the kernel and an initramfs whose only file, /init, is this
// program itself (hence the static build): run as process 1 it writes
// MARKER, which the kernel hands it as the arguments after "--", to
// /dev/ttyS0, then sleeps until QEMU stops. The guest loads no modules, so
// it has no ACPI button driver (a module in Debian's kernel): like the
// boot sector it ignores the power button. The kernel (the vmlinuz only,
// from `apt-get download`) is kept in CACHE. Needs apt-get, dpkg-deb,
// mkfs.fat, syslinux and mcopy.
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// kernelPackage is the Debian package whose vmlinuz the guest boots: the
// flavour made for virtual machines, with the 8250 serial console built
// in.
const kernelPackage = "linux-image-cloud-amd64"

func main() {
	if os.Getpid() == 1 {
		guestInit()
	}
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: vm_kernel IMAGE MARKER CACHE")
		os.Exit(2)
	}
	if err := build(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "vm_kernel:", err)
		os.Exit(1)
	}
}

// guestInit is the guest's whole user space. It never returns: process 1
// exiting panics the kernel.
func guestInit() {
	marker := strings.Join(os.Args[1:], " ")
	err := os.Mkdir("/dev", 0o755)
	if err == nil || os.IsExist(err) {
		err = syscall.Mount("devtmpfs", "/dev", "devtmpfs", 0, "")
	}
	var tty *os.File
	if err == nil {
		tty, err = os.OpenFile("/dev/ttyS0", os.O_WRONLY, 0)
	}
	if err == nil {
		_, err = fmt.Fprintf(tty, "%s\r\n", marker)
	}
	if err != nil {
		// The kernel's console, should there be one, is the only place
		// left to say why no marker comes.
		fmt.Fprintln(os.Stderr, "vm_kernel init:", err)
	}
	for {
		time.Sleep(time.Hour)
	}
}

func build(image, marker, cache string) error {
	vmlinuz, err := kernel(cache)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	initProgram, err := os.ReadFile(self)
	if err != nil {
		return err
	}
	initrd, err := initramfs(initProgram)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(filepath.Dir(image), ".vm_kernel")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// PROMPT 0 boots the default at once; quiet keeps the kernel's own
	// serial output, which costs time at 115200 baud, to a few lines.
	cfg := fmt.Sprintf("DEFAULT linux\nPROMPT 0\nLABEL linux\n  KERNEL vmlinuz\n  APPEND initrd=initrd console=ttyS0 quiet -- %s\n", marker)
	files := map[string][]byte{"initrd": initrd, "syslinux.cfg": []byte(cfg)}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	// Room for the files and a little more; built aside, renamed at the end.
	st, err := os.Stat(vmlinuz)
	if err != nil {
		return err
	}
	kib := (st.Size()+int64(len(initrd)))/1024 + 2048
	tmp := filepath.Join(dir, "disk.img")
	steps := [][]string{
		{"mkfs.fat", "-C", tmp, fmt.Sprint(kib)},
		{"syslinux", "--install", tmp},
		{"mcopy", "-i", tmp, vmlinuz, "::vmlinuz"},
		{"mcopy", "-i", tmp, filepath.Join(dir, "initrd"), "::initrd"},
		{"mcopy", "-i", tmp, filepath.Join(dir, "syslinux.cfg"), "::syslinux.cfg"},
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(s, " "), err, out)
		}
	}
	return os.Rename(tmp, image)
}

// kernel returns the path of the vmlinuz in cache, downloading and
// unpacking the package the first time.
func kernel(cache string) (string, error) {
	vmlinuz := filepath.Join(cache, "vmlinuz")
	if _, err := os.Stat(vmlinuz); err == nil {
		return vmlinuz, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	// The meta package only depends on the versioned one, which holds the file.
	out, err := exec.Command("apt-cache", "depends", kernelPackage).Output()
	if err != nil {
		return "", fmt.Errorf("apt-cache depends %s: %w", kernelPackage, err)
	}
	var pkg string
	for _, line := range strings.Split(string(out), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "Depends: "); ok && strings.HasPrefix(name, "linux-image-") {
			pkg = name
			break
		}
	}
	if pkg == "" {
		return "", fmt.Errorf("apt-cache depends %s names no linux-image package:\n%s", kernelPackage, out)
	}
	steps := [][]string{
		{"apt-get", "download", pkg},
		{"sh", "-c", "dpkg-deb --fsys-tarfile " + pkg + "_*.deb | tar -x --wildcards ./boot/vmlinuz-* && rm " + pkg + "_*.deb"},
	}
	for _, s := range steps {
		cmd := exec.Command(s[0], s[1:]...)
		cmd.Dir = cache
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s: %w\n%s", strings.Join(s, " "), err, out)
		}
	}
	found, err := filepath.Glob(filepath.Join(cache, "boot", "vmlinuz-*"))
	if err != nil || len(found) != 1 {
		return "", fmt.Errorf("%s holds no single boot/vmlinuz-*", pkg)
	}
	if err := os.Rename(found[0], vmlinuz); err != nil {
		return "", err
	}
	return vmlinuz, os.RemoveAll(filepath.Join(cache, "boot"))
}

// initramfs returns a gzipped newc cpio archive of one file, /init.
func initramfs(init []byte) ([]byte, error) {
	var raw bytes.Buffer
	entry := func(name string, mode uint32, data []byte) {
		// newc: magic, then 13 eight-digit hex fields (inode, mode, uid,
		// gid, nlink, mtime, size, dev major/minor, rdev major/minor,
		// name size with its NUL, check), the name, the data; name and
		// data each padded to four bytes.
		fmt.Fprintf(&raw, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
		raw.WriteString(name + "\x00")
		pad(&raw)
		raw.Write(data)
		pad(&raw)
	}
	entry("init", 0o100755, init)
	entry("TRAILER!!!", 0, nil)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	if _, err := w.Write(raw.Bytes()); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return gz.Bytes(), nil
}

func pad(b *bytes.Buffer) {
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
}
