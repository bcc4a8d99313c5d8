package core

import (
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// BenchmarkRunAction is one runbook step of `run = ["true"]` as the core
// provider serves it, without the plugin protocol: what the provider
// itself spends around the program, per step.
func BenchmarkRunAction(b *testing.B) {
	p := sdk.New(New())
	args := runTrueArgs(b)
	b.ReportAllocs()
	for b.Loop() {
		resp := p.Invoke(b.Context(), providers.InvokeRequest{Action: "run", Args: args, Progress: func(providers.Progress) {}})
		if resp.Diagnostics.HasErrors() {
			b.Fatal(resp.Diagnostics)
		}
	}
}

// BenchmarkRunActionParallel is BenchmarkRunAction with ten steps at a
// time, as a runbook wave runs them (-parallelism 10): the provider's CPU
// per step is cpu-ns/op, this process's CPU time without its children's
// (the programs run), which a perf stat of the whole would drown.
func BenchmarkRunActionParallel(b *testing.B) {
	p := sdk.New(New())
	args := runTrueArgs(b)
	b.ReportAllocs()
	b.SetParallelism((10 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	before := selfCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp := p.Invoke(b.Context(), providers.InvokeRequest{Action: "run", Args: args, Progress: func(providers.Progress) {}})
			if resp.Diagnostics.HasErrors() {
				b.Error(resp.Diagnostics)
				return
			}
		}
	})
	b.ReportMetric(float64(selfCPU(b)-before)/float64(b.N), "cpu-ns/op")
}

// runTrueArgs are the arguments of `run = ["true"]` on a host rooted at
// a folder named relative to the working folder, as a runbook's
// configuration names it (bench/runbook.sh: root = "sim").
func runTrueArgs(b *testing.B) cty.Value {
	b.Chdir(b.TempDir())
	if err := os.Mkdir("sim", 0o755); err != nil {
		b.Fatal(err)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"host": host.Config{Name: "h", Root: "sim"}.Value(),
		"argv": cty.ListVal([]cty.Value{cty.StringVal("true")}),
		"env":  cty.NullVal(cty.Map(cty.String)),
		"dir":  cty.NullVal(cty.String),
	})
}

// selfCPU is the CPU time this process has used, user and system.
func selfCPU(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
