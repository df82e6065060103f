// Command bench times the user's workload (a full-width QCFS VGG16, CIFAR-10,
// T=8) in PyTorch, in the native CLI on one core and on all, and in the
// WebAssembly build of the CLI under node (one thread), and prints one table
// with each run's wall time, peak memory and ratios to PyTorch. `make bench`
// makes the files first (tools/ref/bench_ref.py) and builds the binaries.
//
//	bench -dir ~/.cache/spikegrad-bench -n 32 -wasm-n 8
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type row struct {
	name   string
	images int
	wall   time.Duration
	peak   int64 // bytes
	err    error
}

func main() {
	dir := flag.String("dir", filepath.Join(os.Getenv("HOME"), ".cache", "spikegrad-bench"), "folder with vgg16_full.pth and batch.bin")
	n := flag.Int("n", 32, "images for PyTorch and the native CLI")
	wasmN := flag.Int("wasm-n", 8, "images for the wasm build under node (0: skip)")
	cli := flag.String("cli", "bin/spikegrad", "native CLI")
	wasm := flag.String("wasm", "bin/spikegrad.wasm", "CLI built with GOOS=js GOARCH=wasm")
	execWasm := flag.String("exec-wasm", "", "go_js_wasm_exec (default: from the Go toolchain)")
	py := flag.String("python", "/usr/bin/python3", "python with torch")
	flag.Parse()

	ck, data := filepath.Join(*dir, "vgg16_full.pth"), filepath.Join(*dir, "batch.bin")
	args := func(k int) []string {
		return []string{"-ckpt", ck, "-data", data, "-n", fmt.Sprint(k), "-T", "8", "-json"}
	}
	if *execWasm == "" {
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err == nil {
			*execWasm = filepath.Join(strings.TrimSpace(string(out)), "lib", "wasm", "go_js_wasm_exec")
		}
	}
	rows := []row{
		timeRun("PyTorch 1.13, all cores", *n, nil, *py, "tools/ref/bench_ref.py", *dir, "-n", fmt.Sprint(*n)),
		timeRun("spikegrad native, GOMAXPROCS=1", *n, []string{"GOMAXPROCS=1"}, *cli, args(*n)...),
		timeRun("spikegrad native, all cores", *n, nil, *cli, args(*n)...),
	}
	if *wasmN > 0 {
		// js/wasm is single-threaded and dies at start with GOMAXPROCS > 1.
		rows = append(rows, timeRun("spikegrad wasm under node, 1 thread", *wasmN, []string{"GOMAXPROCS=1"}, *execWasm, append([]string{*wasm}, args(*wasmN)...)...))
	}
	ref := rows[0]
	fmt.Printf("%-38s %6s %10s %10s %12s %10s %10s\n", "run", "images", "wall s", "s/image", "peak MiB", "time/PT", "mem/PT")
	for _, r := range rows {
		if r.err != nil {
			fmt.Printf("%-38s %6d  failed: %v\n", r.name, r.images, r.err)
			continue
		}
		per := r.wall.Seconds() / float64(r.images)
		refPer := ref.wall.Seconds() / float64(ref.images)
		fmt.Printf("%-38s %6d %10.1f %10.2f %12.0f %10.2f %10.2f\n", r.name, r.images, r.wall.Seconds(), per,
			float64(r.peak)/(1<<20), per/refPer, float64(r.peak)/float64(ref.peak))
	}
	fmt.Println("time/PT compares seconds per image; the page's own times come from `SPIKEGRAD_BENCH=DIR go test ./tools/browsertest -run TestFullVGG16 -v`.")
}

// timeRun runs a command to the end and reads its wall time and the peak
// resident memory the kernel accounted to it.
func timeRun(name string, images int, env []string, prog string, args ...string) row {
	cmd := exec.Command(prog, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	out, err := cmd.Output()
	r := row{name: name, images: images, wall: time.Since(start)}
	if err != nil {
		r.err = fmt.Errorf("%s: %v", prog, err)
		return r
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.peak = ru.Maxrss * 1024
	}
	if len(out) == 0 {
		r.err = fmt.Errorf("%s printed nothing", prog)
	}
	return r
}
