package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikegrad/spikegrad/snn"
)

// TestMain runs the test binary as the spikegrad command when asked
// (SPIKEGRAD_TEST_CLI=1), so that tests can start shards as plain
// processes; and keeps an enclosing Slurm array job (make test run as one)
// from sharding the in-process runs.
func TestMain(m *testing.M) {
	if os.Getenv("SPIKEGRAD_TEST_CLI") == "1" {
		main()
		os.Exit(0)
	}
	for _, v := range os.Environ() {
		if k, _, _ := strings.Cut(v, "="); strings.HasPrefix(k, "SLURM_ARRAY_") {
			os.Unsetenv(k)
		}
	}
	os.Exit(m.Run())
}

const demoDir = "../../snn/demo/"

// output is spikegrad -json's object: the engine's result and the CLI's run
// information.
type output struct {
	snn.Result
	runInfo
}

func decodeOutput(t *testing.T, what, s string) *output {
	t.Helper()
	var o output
	if err := json.Unmarshal([]byte(s), &o.Result); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := json.Unmarshal([]byte(s), &o.runInfo); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return &o
}

// sameNumbers compares a merged result with one run's: counts exactly,
// means to tol relative (the loss to its own size, each layer's values to
// the largest of that layer's), and returns the worst relative gap.
func sameNumbers(t *testing.T, got, want *snn.Result, tol float64) float64 {
	t.Helper()
	if got.N != want.N || got.Labeled != want.Labeled || got.Correct != want.Correct || got.Unlabeled != want.Unlabeled ||
		got.Accuracy != want.Accuracy || got.Precision != want.Precision || len(got.Layers) != len(want.Layers) {
		t.Fatalf("merged n=%d labeled=%d correct=%d unlabeled=%d accuracy=%g %s %d layers; one run n=%d labeled=%d correct=%d unlabeled=%d accuracy=%g %s %d layers",
			got.N, got.Labeled, got.Correct, got.Unlabeled, got.Accuracy, got.Precision, len(got.Layers),
			want.N, want.Labeled, want.Correct, want.Unlabeled, want.Accuracy, want.Precision, len(want.Layers))
	}
	worst := math.Abs(got.Loss-want.Loss) / math.Abs(want.Loss)
	for j, wl := range want.Layers {
		gl := got.Layers[j]
		if gl.Name != wl.Name || gl.NearThreshold != wl.NearThreshold || (gl.GradPaths == nil) != (wl.GradPaths == nil) {
			t.Fatalf("layer %d: merged %s (near %d), one run %s (near %d)", j, gl.Name, gl.NearThreshold, wl.Name, wl.NearThreshold)
		}
		pairs := [][2][]float64{{gl.Grad, wl.Grad}, {gl.Thresh, wl.Thresh}, {{gl.FiringRate}, {wl.FiringRate}}}
		if wl.GradPaths != nil {
			g, w := gl.GradPaths, wl.GradPaths
			pairs = append(pairs, [2][]float64{g.Crossing, w.Crossing}, [2][]float64{g.Amplitude, w.Amplitude},
				[2][]float64{g.Reset, w.Reset}, [2][]float64{g.Init, w.Init})
		}
		for _, p := range pairs {
			if len(p[0]) != len(p[1]) {
				t.Fatalf("layer %s: %d values merged, %d in one run", wl.Name, len(p[0]), len(p[1]))
			}
			var largest float64
			for _, v := range p[1] {
				largest = max(largest, math.Abs(v))
			}
			for e := range p[1] {
				if d := math.Abs(p[0][e] - p[1][e]); d > 0 {
					worst = max(worst, d/largest)
				}
			}
		}
	}
	if worst > tol {
		t.Errorf("merged and one run differ by %.3g relative (tolerance %.0e)", worst, tol)
	}
	return worst
}

// TestShardsAsProcesses: four shards of the demo network and batch, run as
// plain processes inside a simulated Slurm array (--array=5-8, so shard i is
// task 5+i; one and two cores), merged, give one run's numbers: to 1e-12
// relative in float64 and in float32 (each image is computed alike in a
// shard and in one run; only the float64 sums differ in order), with the
// counts exact; and -html draws the merged result.
func TestShardsAsProcesses(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, prec := range []string{"float32", "float64"} {
		args := []string{"-ckpt", demoDir + "vgg16_demo.pth", "-data", demoDir + "demo_batch.bin", "-n", "32", "-json"}
		if prec == "float64" {
			args = append(args, "-f64")
		}
		var files []string
		for i := range 4 {
			cmd := exec.Command(exe, args...)
			cmd.Env = append(os.Environ(), "SPIKEGRAD_TEST_CLI=1", fmt.Sprintf("GOMAXPROCS=%d", 1+i%2),
				fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d", 5+i), "SLURM_ARRAY_TASK_MIN=5", "SLURM_ARRAY_TASK_MAX=8",
				"SLURM_ARRAY_TASK_COUNT=4", "SLURM_ARRAY_TASK_STEP=1")
			var errOut strings.Builder
			cmd.Stderr = &errOut
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("shard %d: %v: %s", i, err, errOut.String())
			}
			if !strings.Contains(errOut.String(), fmt.Sprintf("shard %d/4 from the Slurm array", i)) {
				t.Errorf("shard %d's stderr does not say which shard: %q", i, errOut.String())
			}
			o := decodeOutput(t, "shard", string(out))
			if o.Shard == nil || *o.Shard != (shard{i, 4}) || o.N != 8 || o.Indices != fmt.Sprintf("%d-%d", 8*i, 8*i+7) {
				t.Errorf("task %d: shard %v, n %d, indices %q; want shard %d/4 of images %d-%d", 5+i, o.Shard, o.N, o.Indices, i, 8*i, 8*i+7)
			}
			f := filepath.Join(dir, fmt.Sprintf("%s-part%d.json", prec, i))
			if err := os.WriteFile(f, out, 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		one, _, err := runCLI(args...)
		if err != nil {
			t.Fatal(err)
		}
		// Given out of order: merge puts the parts in shard order.
		files[0], files[3] = files[3], files[0]
		html := filepath.Join(dir, prec+".html")
		js := filepath.Join(dir, "echarts.js")
		if err := os.WriteFile(js, []byte("/* echarts */"), 0o644); err != nil {
			t.Fatal(err)
		}
		merged, _, err := runCLI(append([]string{"merge", "-json", "-html", html, "-echarts", js}, files...)...)
		if err != nil {
			t.Fatal(err)
		}
		m, w := decodeOutput(t, "merge", merged), decodeOutput(t, "one run", one)
		worst := sameNumbers(t, &m.Result, &w.Result, 1e-12)
		if m.Shards != 4 || m.Indices != "0-31" || m.Chosen != 32 || m.Checkpoint != w.Checkpoint || m.Data != w.Data || m.Norm != w.Norm {
			t.Errorf("merged run information %+v; one run's %+v", m.runInfo, w.runInfo)
		}
		t.Logf("%s: 4 shards merged against one run of 32 images: worst gap %.2g relative, loss %.17g vs %.17g", prec, worst, m.Loss, w.Loss)
		page, err := os.ReadFile(html)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(page), "n=32") || !strings.Contains(string(page), "layer1.2") {
			t.Errorf("the merged -html report lacks n=32 or layer1.2")
		}
		// The table too.
		table, _, err := runCLI(append([]string{"merge"}, files...)...)
		if err != nil || !strings.Contains(table, "vgg16_demo.pth") || !strings.Contains(table, "images: 32") {
			t.Errorf("merge's table: %v\n%.300s", err, table)
		}
	}
}

// TestMergeRefuses: parts of different runs, a missing shard, a repeated one
// and files that are no shard's output are refused, each in one line naming
// the file.
func TestMergeRefuses(t *testing.T) {
	dir := t.TempDir()
	part := func(name string, args ...string) string {
		t.Helper()
		out, _, err := runCLI(append([]string{"-ckpt", demoDir + "vgg16_demo.pth", "-data", demoDir + "demo_batch.bin", "-n", "8", "-json"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	p := []string{part("p0.json", "-shard", "0/4"), part("p1.json", "-shard", "1/4"), part("p2.json", "-shard", "2/4"), part("p3.json", "-shard", "3/4")}
	if _, _, err := runCLI(append([]string{"merge"}, p...)...); err != nil {
		t.Fatalf("the four parts: %v", err)
	}
	other, _, err := runCLI("-ckpt", testdata+"vgg16_c10.pth", "-data", testdata+"c10.bin", "-n", "8", "-json", "-shard", "2/4")
	if err != nil {
		t.Fatal(err)
	}
	otherCkpt := filepath.Join(dir, "ckpt.json")
	if err := os.WriteFile(otherCkpt, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	copyP1 := filepath.Join(dir, "p1-again.json")
	if b, err := os.ReadFile(p[1]); err != nil || os.WriteFile(copyP1, b, 0o644) != nil {
		t.Fatal("copy")
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"loss": 1`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what  string
		files []string
		file  string // named in the error
		words string
	}{
		{"T", []string{p[0], p[1], part("t4.json", "-shard", "2/4", "-T", "4"), p[3]}, "t4.json", "T 4, but"},
		{"gamma", []string{p[0], p[1], part("g.json", "-shard", "2/4", "-gamma", "0.5"), p[3]}, "g.json", "gamma 0.5"},
		{"L", []string{p[0], part("l.json", "-shard", "1/4", "-L", "8"), p[2], p[3]}, "l.json", "L 8"},
		{"precision", []string{p[0], p[1], p[2], part("f64.json", "-shard", "3/4", "-f64")}, "f64.json", "precision float64"},
		{"norm", []string{p[0], p[1], part("norm.json", "-shard", "2/4", "-norm", "none"), p[3]}, "norm.json", "norm none"},
		{"quantiser", []string{part("ann0.json", "-shard", "0/2", "-T", "0"), part("myfloor.json", "-shard", "1/2", "-T", "0", "-quantiser", "myfloor")}, "myfloor.json", "quantiser myfloor"},
		{"curve", []string{p[0], p[1], part("curve.json", "-shard", "2/4", "-curve", "8"), p[3]}, "curve.json", "curve points (-curve) 8"},
		{"checkpoint", []string{p[0], p[1], otherCkpt, p[3]}, "ckpt.json", "checkpoint"},
		{"images chosen", []string{p[0], p[1], part("n12.json", "-shard", "2/4", "-n", "12"), p[3]}, "n12.json", "images chosen 12"},
		{"shard count", []string{p[0], part("of2.json", "-shard", "1/2")}, "of2.json", "shard count 2"},
		{"missing shard", []string{p[0], p[1], p[3]}, "p3.json", "shard 2/4 missing"},
		{"repeated shard", []string{p[0], p[1], copyP1, p[2], p[3]}, "p1-again.json", "shard 1/4 again"},
		{"one file twice", []string{p[0], p[1], p[1], p[2], p[3]}, "p1.json", "given twice"},
		{"not a shard", []string{p[0], part("plain.json"), p[2], p[3]}, "plain.json", "not a shard's output"},
		{"not JSON", []string{p[0], bad}, "bad.json", "not spikegrad -json output"},
		{"no such file", []string{p[0], filepath.Join(dir, "none.json")}, "none.json", "no such file"},
	} {
		_, _, err := runCLI(append([]string{"merge"}, c.files...)...)
		if err == nil {
			t.Errorf("%s: merged", c.what)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, c.file) || !strings.Contains(msg, c.words) {
			t.Errorf("%s: %q, want one line naming %s and saying %q", c.what, msg, c.file, c.words)
		}
	}
	if _, _, err := runCLI("merge"); err == nil || !strings.Contains(err.Error(), "no files") {
		t.Errorf("merge without files: %v", err)
	}
	if _, _, err := runCLI("-shard", "4/4"); err == nil || !strings.Contains(err.Error(), "0 <= i < n") {
		t.Errorf("-shard 4/4: %v", err)
	}
	if _, _, err := runCLI("-n", "2", "-shard", "2/4"); err == nil || !strings.Contains(err.Error(), "none") {
		t.Errorf("an empty shard: %v", err)
	}
	if _, _, err := runCLI("-n", "4", "-shard", "0/2", "-fd"); err == nil || !strings.Contains(err.Error(), "-fd") {
		t.Errorf("-fd with a shard: %v", err)
	}
}

// TestSlurmShard: the shard from a Slurm array task's environment, whatever
// the array's first id and step.
func TestSlurmShard(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for k, c := range []struct {
		env  func(string) string
		want string // shard, "" for none, "error" for a refusal
	}{
		{env(), ""},
		{env("SLURM_ARRAY_TASK_ID", "3"), ""},
		{env("SLURM_ARRAY_TASK_ID", "0", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "0", "SLURM_ARRAY_TASK_MAX", "3"), "0/4"},
		{env("SLURM_ARRAY_TASK_ID", "3", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "0", "SLURM_ARRAY_TASK_MAX", "3"), "3/4"},
		{env("SLURM_ARRAY_TASK_ID", "1", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "1", "SLURM_ARRAY_TASK_MAX", "4"), "0/4"},
		{env("SLURM_ARRAY_TASK_ID", "4", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "1"), "3/4"},
		{env("SLURM_ARRAY_TASK_ID", "4", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "0", "SLURM_ARRAY_TASK_STEP", "2", "SLURM_ARRAY_TASK_MAX", "6"), "2/4"},
		{env("SLURM_ARRAY_TASK_ID", "3", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "0", "SLURM_ARRAY_TASK_STEP", "2"), "error"},
		{env("SLURM_ARRAY_TASK_ID", "7", "SLURM_ARRAY_TASK_COUNT", "3", "SLURM_ARRAY_TASK_MIN", "1", "SLURM_ARRAY_TASK_MAX", "7"), "error"}, // --array=1,2,7
		{env("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_COUNT", "3", "SLURM_ARRAY_TASK_MIN", "1", "SLURM_ARRAY_TASK_MAX", "7"), "error"},
		{env("SLURM_ARRAY_TASK_ID", "x", "SLURM_ARRAY_TASK_COUNT", "4"), "error"},
	} {
		s, _, ok, err := slurmShard(c.env)
		got := ""
		switch {
		case err != nil:
			got = "error"
			if !strings.Contains(err.Error(), "-shard i/n") {
				t.Errorf("the refusal %q does not say what to do", err)
			}
		case ok:
			got = s.String()
		}
		if got != c.want {
			t.Errorf("case %d: got %q, want %q", k, got, c.want)
		}
	}
	// -shard overrides the array's.
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7}
	part, s, err := pickShard("1/2", env("SLURM_ARRAY_TASK_ID", "0", "SLURM_ARRAY_TASK_COUNT", "4"), idx, &strings.Builder{})
	if err != nil || *s != (shard{1, 2}) || fmt.Sprint(part) != "[4 5 6 7]" {
		t.Errorf("-shard 1/2 in an array task: %v %v %v", part, s, err)
	}
}

// TestShardSplit: the shards are consecutive blocks that cover the chosen
// images once, sizes differing by at most one; and indices print as
// -indices reads them.
func TestShardSplit(t *testing.T) {
	for total := 1; total <= 40; total++ {
		for n := 1; n <= total; n++ {
			next := 0
			for i := range n {
				lo, hi := shard{i, n}.bounds(total)
				if lo != next || hi-lo < total/n || hi-lo > total/n+1 {
					t.Fatalf("%d images, shard %d/%d: [%d, %d)", total, i, n, lo, hi)
				}
				next = hi
			}
			if next != total {
				t.Fatalf("%d images in %d shards end at %d", total, n, next)
			}
		}
	}
	for _, c := range []struct {
		idx  []int
		want string
	}{{[]int{0, 1, 2}, "0-2"}, {[]int{3, 7, 10, 11, 12}, "3,7,10-12"}, {[]int{5}, "5"}, {[]int{9, 8}, "9,8"}} {
		if got := formatIndices(c.idx); got != c.want {
			t.Errorf("formatIndices(%v) = %q, want %q", c.idx, got, c.want)
		}
	}
}

// TestShards10000: shards of 10,000 CIFAR-shaped images (random pixels and
// labels in a CIFAR-10 binary batch made here) merge to the same numbers as
// one run over all of them, to 1e-12 relative in float32: the small VGG11
// fixture at T=4, 4 shards, with the default -batch 256 (2,500 images a
// shard in 9 parts of 256 and one of 196, the one run in 40 parts). Each
// image's backward runs on its own loss and the 1/n of the batch mean is
// applied in float64 to the sums, so an image adds the same numbers in any
// part.
func TestShards10000(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 images twice: not with -short")
	}
	const n = 10000
	rng := rand.New(rand.NewSource(10000))
	b := make([]byte, n*3073)
	rng.Read(b)
	for i := range n {
		b[i*3073] = byte(rng.Intn(10))
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "test_batch.bin")
	if err := os.WriteFile(data, b, 0o644); err != nil {
		t.Fatal(err)
	}
	m, w := shardAndMerge(t, []string{"-ckpt", testdata + "vgg11_c10.pth", "-data", data, "-n", "10000", "-T", "4", "-json"}, 4)
	worst := sameNumbers(t, &m.Result, &w.Result, 1e-12)
	if m.N != n || m.Indices != "0-9999" {
		t.Errorf("merged n %d, indices %q", m.N, m.Indices)
	}
	t.Logf("10,000 images: one run loss %.17g, accuracy %g; 4 shards merged: loss %.17g, worst gap %.2g relative", w.Loss, w.Accuracy, m.Loss, worst)
}

// TestShardsSpread: with -spread, the shards' runs on nudged weights join
// too: each run's gradient, its range and whether the sign held are one
// run's.
func TestShardsSpread(t *testing.T) {
	m, w := shardAndMerge(t, []string{"-ckpt", demoDir + "vgg16_demo.pth", "-data", demoDir + "demo_batch.bin", "-n", "8", "-spread", "2", "-json"}, 2)
	sameNumbers(t, &m.Result, &w.Result, 1e-12)
	if m.SpreadRuns != 3 || w.SpreadRuns != 3 {
		t.Fatalf("spread runs: merged %d, one run %d; want 3", m.SpreadRuns, w.SpreadRuns)
	}
	for j, wl := range w.Layers {
		ml := m.Layers[j]
		if len(ml.GradRuns) != 3 || fmt.Sprint(ml.SignStable) != fmt.Sprint(wl.SignStable) {
			t.Fatalf("layer %s: %d runs, sign held %v; one run %v", wl.Name, len(ml.GradRuns), ml.SignStable, wl.SignStable)
		}
		for k, g := range wl.GradRuns {
			for e := range g {
				if d := math.Abs(ml.GradRuns[k][e] - g[e]); d > 1e-12*math.Abs(g[e]) {
					t.Errorf("layer %s, run %d: merged %g, one run %g", wl.Name, k, ml.GradRuns[k][e], g[e])
				}
			}
		}
		for e := range wl.GradMin {
			if math.Abs(ml.GradMin[e]-wl.GradMin[e]) > 1e-12*math.Abs(wl.GradMin[e]) || math.Abs(ml.GradMax[e]-wl.GradMax[e]) > 1e-12*math.Abs(wl.GradMax[e]) {
				t.Errorf("layer %s: range %g..%g merged, %g..%g one run", wl.Name, ml.GradMin[e], ml.GradMax[e], wl.GradMin[e], wl.GradMax[e])
			}
		}
	}
}

// shardAndMerge runs the CLI with args once and as n shards, joins the
// shards' -json with spikegrad merge, and returns the merge and the one run.
func shardAndMerge(t *testing.T, args []string, n int) (merged, one *output) {
	t.Helper()
	dir := t.TempDir()
	whole, _, err := runCLI(args...)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for i := range n {
		out, _, err := runCLI(append(args, "-shard", fmt.Sprintf("%d/%d", i, n))...)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, fmt.Sprintf("part%d.json", i))
		if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	out, _, err := runCLI(append([]string{"merge", "-json"}, files...)...)
	if err != nil {
		t.Fatal(err)
	}
	return decodeOutput(t, "merge", out), decodeOutput(t, "one run", whole)
}
