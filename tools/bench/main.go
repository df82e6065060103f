// Command bench times the user's workload (a full-width QCFS VGG16, CIFAR-10,
// T=8) in PyTorch, in the native CLI on one core and on all (float32, and
// float64 with -f64), in the
// WebAssembly build of the CLI under node (one thread) and in the page in
// headless Chromium (tools/browsertest's TestFullVGG16: one Web Worker a
// core), and prints one table with each run's wall time, peak memory, ratios
// and the target for each. `make bench` makes the files first
// (tools/ref/bench_ref.py) and builds the binaries and the site.
//
//	bench -dir ~/.cache/spikegrad-bench -n 32 -wasm-n 8 [-pairs 3] [-page=false]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type row struct {
	name   string
	images int
	wall   time.Duration
	peak   int64 // bytes; 0: not measured
	target string
	err    error
}

func main() {
	dir := flag.String("dir", filepath.Join(os.Getenv("HOME"), ".cache", "spikegrad-bench"), "folder with vgg16_full.pth and batch.bin")
	n := flag.Int("n", 32, "images for PyTorch and the native CLI")
	wasmN := flag.Int("wasm-n", 8, "images for the wasm build under node and, for its ratio, the native CLI on one core (0: skip)")
	page := flag.Bool("page", true, "also time the page in headless Chromium (needs site/ and chromium)")
	pairs := flag.Int("pairs", 3, "PyTorch and the native CLI on all cores run this many times, in turn; the table gives medians")
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
	// The machine's speed drifts: PyTorch and the CLI take turns, and the
	// ratio is the median of each turn's.
	var pts, alls []row
	var ratios []float64
	for range max(*pairs, 1) {
		pts = append(pts, timeRun("PyTorch 1.13, all cores", *n, nil, *py, "tools/ref/bench_ref.py", *dir, "-n", fmt.Sprint(*n)))
		alls = append(alls, timeRun("spikegrad native, all cores", *n, nil, *cli, args(*n)...))
		// A turn where either side failed has no ratio.
		if p, a := pts[len(pts)-1], alls[len(alls)-1]; p.err == nil && a.err == nil {
			ratios = append(ratios, ratio(a.wall, p.wall))
		}
	}
	pt, all := median(pts), median(alls)
	// The exact mode against float32, in turns as above.
	var f32s, f64s []row
	var exact []float64
	for range max(*pairs, 1) {
		f32s = append(f32s, timeRun("spikegrad native, all cores", *n, nil, *cli, args(*n)...))
		f64s = append(f64s, timeRun("spikegrad native -f64, all cores", *n, nil, *cli, append(args(*n), "-f64")...))
		if a, b := f32s[len(f32s)-1], f64s[len(f64s)-1]; a.err == nil && b.err == nil {
			exact = append(exact, ratio(b.wall, a.wall))
		}
	}
	f64Row := median(f64s)
	if len(exact) > 0 {
		slices.Sort(exact)
		x := exact[len(exact)/2]
		f64Row.target = fmt.Sprintf("<= 2.5x float32: %.2fx (median of %d turns) %s", x, len(exact), verdict(x <= 2.5))
	}
	one := timeRun("spikegrad native, GOMAXPROCS=1", *n, []string{"GOMAXPROCS=1"}, *cli, args(*n)...)
	if len(ratios) > 0 {
		slices.Sort(ratios)
		wallRatio := ratios[len(ratios)/2]
		all.target = fmt.Sprintf("wall <= 0.5x PyTorch: %.2fx (median of %d turns) %s; peak <= 0.25x: %s",
			wallRatio, len(ratios), verdict(wallRatio <= 0.5), verdict(all.peak > 0 && float64(all.peak) <= 0.25*float64(pt.peak)))
	}
	rows := []row{pt, one, all, f64Row}
	if *wasmN > 0 {
		// js/wasm is single-threaded and dies at start with GOMAXPROCS > 1.
		// The same input for both: reading the checkpoint counts in each.
		one8 := timeRun("spikegrad native, GOMAXPROCS=1", *wasmN, []string{"GOMAXPROCS=1"}, *cli, args(*wasmN)...)
		w := timeRun("spikegrad wasm under node, 1 thread", *wasmN, []string{"GOMAXPROCS=1"}, *execWasm, append([]string{*wasm}, args(*wasmN)...)...)
		if w.err == nil && one8.err == nil {
			x := ratio(w.wall, one8.wall)
			one8.target = "the wasm row's reference"
			w.target = fmt.Sprintf("<= 5x native 1 thread, same images: %.1fx %s", x, verdict(x <= 5))
		}
		w64 := timeRun("spikegrad wasm -f64 under node, 1 thread", *wasmN, []string{"GOMAXPROCS=1"}, *execWasm, append([]string{*wasm}, append(args(*wasmN), "-f64")...)...)
		if w.err == nil && w64.err == nil {
			x := ratio(w64.wall, w.wall)
			w64.target = fmt.Sprintf("<= 2.5x the wasm float32 row: %.2fx %s", x, verdict(x <= 2.5))
		}
		rows = append(rows, one8, w, w64)
	}
	if *page {
		rows = append(rows, pageRows(*dir)...)
	}
	fmt.Printf("%-48s %6s %8s %8s %9s %8s %8s  %s\n", "run", "images", "wall s", "s/image", "peak MiB", "time/PT", "mem/PT", "target")
	for _, r := range rows {
		if r.err != nil {
			fmt.Printf("%-48s %6d  failed: %v\n", r.name, r.images, r.err)
			continue
		}
		// Without PyTorch's row there is nothing to divide by.
		mem, timeRatio, memRatio := "-", "-", "-"
		if r.peak > 0 {
			mem = fmt.Sprintf("%.0f", float64(r.peak)/(1<<20))
		}
		if pt.err == nil {
			timeRatio = fmt.Sprintf("%.2f", perImage(r)/perImage(pt))
			if r.peak > 0 {
				memRatio = fmt.Sprintf("%.2f", float64(r.peak)/float64(pt.peak))
			}
		}
		fmt.Printf("%-48s %6d %8.1f %8.2f %9s %8s %8s  %s\n", r.name, r.images, r.wall.Seconds(), perImage(r),
			mem, timeRatio, memRatio, r.target)
	}
	fmt.Println("time/PT compares seconds per image. The page's rows run from the click to the bars (all workers); its memory is Chromium's, in TestFullVGG16's log.")
}

func perImage(r row) float64 { return r.wall.Seconds() / float64(r.images) }

// median is the run of median wall time, with the largest peak of all.
func median(rs []row) row {
	ok := slices.DeleteFunc(slices.Clone(rs), func(r row) bool { return r.err != nil })
	if len(ok) == 0 {
		return rs[0]
	}
	slices.SortFunc(ok, func(a, b row) int { return int(a.wall - b.wall) })
	m := ok[len(ok)/2]
	for _, r := range ok {
		m.peak = max(m.peak, r.peak)
	}
	m.name = fmt.Sprintf("%s (median of %d)", m.name, len(ok))
	return m
}

func ratio(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// pageRows runs the page's benchmark (tools/browsertest TestFullVGG16) and
// reads its times from the log: the demo's bars after navigation and its
// sign check after them, the full-width VGG16 at n=8 and n=32 from the
// click to the bars, float64 beside float32 at n=8 (the exact mode's
// target, float64 <= 2.5x float32), and the sign check at n=8.
func pageRows(dir string) []row {
	cmd := exec.Command("go", "test", "./tools/browsertest", "-run", "TestFullVGG16", "-v", "-count=1", "-timeout", "60m")
	cmd.Env = append(os.Environ(), "SPIKEGRAD_BENCH="+dir)
	out, err := cmd.CombinedOutput()
	os.WriteFile(filepath.Join(dir, "page-bench.log"), out, 0o644)
	if err != nil {
		return []row{{name: "page, headless Chromium", err: fmt.Errorf("TestFullVGG16: %v (log: %s)", err, filepath.Join(dir, "page-bench.log"))}}
	}
	var rows []row
	if m := regexp.MustCompile(`demo: bars ([\d.]+) s after navigation \(median of (\d+)[^)]*\); every chart ([\d.]+) s`).FindSubmatch(out); m != nil {
		s, _ := strconv.ParseFloat(string(m[1]), 64)
		all, _ := strconv.ParseFloat(string(m[3]), 64)
		rows = append(rows, row{name: "page: demo, navigation to the bars of thresholds and gradients (median of " + string(m[2]) + " new browsers)", images: 32, wall: seconds(s),
			target: fmt.Sprintf("< 2 s: %s", verdict(s < 2))},
			row{name: "page: demo, navigation to every chart (same browsers)", images: 32, wall: seconds(all)})
	}
	if m := regexp.MustCompile(`demo: sign check ([\d.]+) s after the bars \(median of (\d+)`).FindSubmatch(out); m != nil {
		s, _ := strconv.ParseFloat(string(m[1]), 64)
		rows = append(rows, row{name: "page: demo, sign check (spread 8) after the bars (median of " + string(m[2]) + ")", images: 32, wall: seconds(s)})
	}
	targets := map[int]float64{8: 15, 32: 60}
	for _, m := range regexp.MustCompile(`page n=(\d+): ([\d.]+) s from the click to the bars`).FindAllSubmatch(out, -1) {
		k, _ := strconv.Atoi(string(m[1]))
		s, _ := strconv.ParseFloat(string(m[2]), 64)
		r := row{name: "page: VGG16, click to bars", images: k, wall: seconds(s)}
		if lim, ok := targets[k]; ok {
			r.target = fmt.Sprintf("<= %.0f s: %s", lim, verdict(s <= lim))
		}
		rows = append(rows, r)
	}
	// The exact mode in the page: float64 beside float32, n=8, in turns.
	if m := regexp.MustCompile(`page float64 n=8: median ([\d.]+) s against float32 ([\d.]+) s from the click to the bars: ([\d.]+)x \(median of (\d+) turns\)`).FindSubmatch(out); m != nil {
		s, _ := strconv.ParseFloat(string(m[1]), 64)
		x, _ := strconv.ParseFloat(string(m[3]), 64)
		rows = append(rows, row{name: "page: VGG16 float64, click to bars (median of " + string(m[4]) + " turns)", images: 8, wall: seconds(s),
			target: fmt.Sprintf("float64 <= 2.5x float32: %.2fx (median of %s turns) %s", x, m[4], verdict(x <= 2.5))})
	}
	if m := regexp.MustCompile(`page spread (\d+) n=(\d+): sign check ([\d.]+) s after the bars`).FindSubmatch(out); m != nil {
		k, _ := strconv.Atoi(string(m[2]))
		s, _ := strconv.ParseFloat(string(m[3]), 64)
		rows = append(rows, row{name: "page: VGG16 sign check (spread " + string(m[1]) + ") after the bars", images: k, wall: seconds(s)})
	}
	if len(rows) == 0 {
		return []row{{name: "page, headless Chromium", err: fmt.Errorf("no times in TestFullVGG16's log (%s)", filepath.Join(dir, "page-bench.log"))}}
	}
	return rows
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

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
