//go:build ignore

// vm_bootsector writes the boot sector guest of bench/vm.sh, the vm
// provider's test guest, which prints MARKER on its serial console:
//
//	go run bench/vm_bootsector.go FILE MARKER
package main

import (
	"fmt"
	"os"

	"github.com/drover-dr/drover/providers/builtin/vm/bootsector"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: vm_bootsector FILE MARKER")
		os.Exit(2)
	}
	sector, err := bootsector.Image(os.Args[2])
	if err == nil {
		err = os.WriteFile(os.Args[1], sector, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vm_bootsector:", err)
		os.Exit(1)
	}
}
