package browsertest

// Issue 13 in the page: the exact mode (precision float64) against PyTorch
// on model.double(), and the sign check (spread) against the CLI, with its
// marks in the table and its fields in the exports (issue 15: exports named
// after the checkpoint and data, with the settings and images).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/fixture"
)

// f64Case is the full-width ResNet20 of f64_cases.json (PyTorch on
// model.double(), 8 CIFAR-10 images, T=8).
const f64Case = "resnet20_full_T8"

func loadF64Case(t *testing.T, root string) *fixtureCase {
	t.Helper()
	cs, err := fixture.F64Cases(filepath.Join(root, "snn", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range cs {
		if cs[i].Name == f64Case {
			return &cs[i]
		}
	}
	t.Fatalf("no case %s in f64_cases.json", f64Case)
	return nil
}

// TestFloat64Page runs the full-width ResNet20 in the page with precision
// float64 and holds it to PyTorch's float64: every gradient within 1e-9 of
// the largest |grad|, the loss within 1e-12 relative.
func TestFloat64Page(t *testing.T) {
	p := startPage(t, 8*time.Minute)
	ctx := p.ctx
	c := loadF64Case(t, p.root)
	if err := chromedp.Do(ctx, chromedp.Navigate(p.srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitRun(t, ctx, 0, 3*time.Minute)
	upload(t, ctx, "#ckpt-file", filepath.Join(p.root, "snn", "testdata", c.Ckpt), "ready", time.Minute)
	upload(t, ctx, "#data-file", filepath.Join(p.root, "snn", "testdata", c.Data), "ready", time.Minute)
	setOptions(t, ctx, c)
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#opt-precision"), "float64"),
		chromedp.SetValue(chromedp.CSS("#opt-spread"), "0"),
	); err != nil {
		t.Fatal(err)
	}
	got := clickRun(t, ctx, 5*time.Minute)
	if got.Precision != "float64" {
		t.Errorf("precision float64 chosen, the result says %q", got.Precision)
	}
	worst, largest := fixture.GradGap(got, &c.Want)
	t.Logf("page float64 against PyTorch float64: largest grad difference %.3g = %.3g of the largest |grad| (%.3g); loss %.17g against %.17g (%.3g relative)",
		worst, worst/largest, largest, got.Loss, c.Want.Loss, math.Abs(got.Loss-c.Want.Loss)/math.Abs(c.Want.Loss))
	if len(got.Layers) != len(c.Want.Layers) {
		t.Fatalf("%d IF layers in the page, %d in PyTorch's", len(got.Layers), len(c.Want.Layers))
	}
	for i, l := range c.Want.Layers {
		if got.Layers[i].Name != l.Name {
			t.Errorf("layer %d is %s in the page, %s in PyTorch's", i, got.Layers[i].Name, l.Name)
		}
		for j, g := range l.Grad {
			if d := math.Abs(got.Layers[i].Grad[j] - g); d > 1e-9*largest {
				t.Errorf("%s: page %.17g, PyTorch float64 %.17g: %.3g of the largest |grad|, want within 1e-9", l.Name, got.Layers[i].Grad[j], g, d/largest)
			}
		}
	}
	if d := math.Abs(got.Loss-c.Want.Loss) / math.Abs(c.Want.Loss); d > 1e-12 {
		t.Errorf("loss %.17g, PyTorch float64 %.17g: %.3g relative, want within 1e-12", got.Loss, c.Want.Loss, d)
	}
	p.check(t)
}

// cliSpread runs the CLI on the case's files with -spread k -json: the
// native build, or with wasm its WebAssembly build under node (one thread),
// whose arithmetic is the page's.
func cliSpread(t *testing.T, root string, c *fixtureCase, k int, wasm bool) *snn.Result {
	t.Helper()
	args := []string{"-ckpt", filepath.Join(root, "snn", "testdata", c.Ckpt), "-data", filepath.Join(root, "snn", "testdata", c.Data),
		"-n", strconv.Itoa(c.N), "-spread", strconv.Itoa(k), "-json"}
	var cmd *exec.Cmd
	if wasm {
		bin := filepath.Join(t.TempDir(), "spikegrad.wasm")
		build := exec.Command("go", "build", "-o", bin, "./tools/spikegrad")
		build.Dir, build.Env = root, append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("GOOS=js GOARCH=wasm go build ./tools/spikegrad: %v\n%s", err, out)
		}
		goroot, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "go_js_wasm_exec"), append([]string{bin}, args...)...)
		cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	} else {
		cmd = exec.Command(buildCLI(t, root), args...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.Bytes())
	}
	var r snn.Result
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("the CLI's -json: %v", err)
	}
	return &r
}

// unstable names the layers where some threshold's sign did not hold.
func unstable(r *snn.Result) []string {
	var out []string
	for _, l := range r.Layers {
		if slices.Contains(l.SignStable, false) {
			out = append(out, l.Name)
		}
	}
	return out
}

// waitSpread waits for the page's sign check to end, and wants it done.
func waitSpread(t *testing.T, ctx context.Context, timeout time.Duration) {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Poll[string](`(s => s && s !== 'running' && s)(document.body.dataset.spread)`,
		chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		t.Fatalf("waiting for the sign check: %v (status %q)", err, evaluate[string](t, ctx, `document.querySelector('#status-text').textContent`))
	}
	if got != "done" {
		t.Fatalf("the sign check ended %q: %s", got, evaluate[string](t, ctx, `document.querySelector('#status-text').textContent`))
	}
}

// TestSpreadPage chooses the full-width ResNet20 and its batch and clicks
// Run at once, as a user does, with float32 and a sign check of 8 runs: the
// page's ranges and signs equal the CLI's -spread 8, the table marks the
// layers whose sign did not hold, and the exports carry it all, named after
// the files.
func TestSpreadPage(t *testing.T) {
	p := startPage(t, 10*time.Minute)
	ctx := p.ctx
	c := loadF64Case(t, p.root)
	const K = 8
	if err := chromedp.Do(ctx, chromedp.Navigate(p.srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	// The demo: its bars, then its own sign check (the page's default K).
	waitRun(t, ctx, 0, 3*time.Minute)
	bars := demoTimings(t, ctx)["demoBars"] / 1000
	defaultK := evaluate[string](t, ctx, `document.querySelector('#opt-spread').value`)
	waitSpread(t, ctx, 3*time.Minute)
	demo := evaluate[snn.Result](t, ctx, `window.spikegrad.lastResult`)
	t.Logf("demo: bars %.2f s after navigation; its sign check (spread %s, %d runs) %.2f s after them, %d of %d layers unstable; status %q",
		bars, defaultK, demo.SpreadRuns, evaluate[float64](t, ctx, `window.spikegrad.lastRun.spread_seconds`), len(unstable(&demo)), len(demo.Layers),
		evaluate[string](t, ctx, `document.querySelector('#status-text').textContent`))
	if demo.SpreadRuns == 0 {
		t.Errorf("the demo's result has no spread runs after its sign check")
	}

	// As a user: the files, the settings, Run, without waiting for the loads.
	runs := evaluate[int](t, ctx, `window.spikegrad.runs`)
	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.CSS("#ckpt-file"), []string{filepath.Join(p.root, "snn", "testdata", c.Ckpt)}),
		chromedp.SetUploadFiles(chromedp.CSS("#data-file"), []string{filepath.Join(p.root, "snn", "testdata", c.Data)}),
		chromedp.SetValue(chromedp.CSS("#opt-n"), strconv.Itoa(c.N)),
		chromedp.SetValue(chromedp.CSS("#opt-precision"), "float32"),
		chromedp.SetValue(chromedp.CSS("#opt-spread"), strconv.Itoa(K)),
		chromedp.Click(chromedp.CSS("#run")),
	); err != nil {
		t.Fatal(err)
	}
	first := waitRun(t, ctx, runs, 3*time.Minute)
	if first.SpreadRuns != 0 {
		t.Errorf("the bars came with %d spread runs: the sign check should come after them", first.SpreadRuns)
	}
	// The progress line says which of the spread's runs goes on.
	line, err := chromedp.Run(ctx, chromedp.Poll[string](`(s => (/spread \d+\/8/.test(s) || document.body.dataset.spread !== 'running') && s)(document.querySelector('#status-text').textContent)`,
		chromedp.WithPollingTimeout(time.Minute), chromedp.WithPollingInterval(20*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(line, "spread ") {
		t.Errorf("during the sign check the status read %q, want spread k/%d", line, K)
	}
	waitSpread(t, ctx, 5*time.Minute)
	got := evaluate[snn.Result](t, ctx, `window.spikegrad.lastResult`)
	t.Logf("page: sign check of %d runs in %.2f s; status %q", got.SpreadRuns, evaluate[float64](t, ctx, `window.spikegrad.lastRun.spread_seconds`),
		evaluate[string](t, ctx, `document.querySelector('#status-text').textContent`))
	p.shot(t, "browser-spread.png")

	want := cliSpread(t, p.root, c, K, false)
	same := cliSpread(t, p.root, c, K, true)
	if got.Precision != "float32" || got.SpreadRuns != K+1 || want.SpreadRuns != K+1 {
		t.Fatalf("precision %q, spread_runs %d in the page, %d in the CLI; want float32 and %d", got.Precision, got.SpreadRuns, want.SpreadRuns, K+1)
	}
	if len(got.Layers) != len(want.Layers) {
		t.Fatalf("%d IF layers in the page, %d in the CLI", len(got.Layers), len(want.Layers))
	}
	_, largest := fixture.GradGap(&got, want)
	// gap is the largest difference of grad, grad_min and grad_max.
	gap := func(a, b *snn.Result) float64 {
		worst := 0.0
		for i, w := range b.Layers {
			g := a.Layers[i]
			if len(g.GradMin) != len(w.Grad) || len(g.GradMax) != len(w.Grad) {
				t.Fatalf("%s: %d grad_min and %d grad_max for %d thresholds", w.Name, len(g.GradMin), len(g.GradMax), len(w.Grad))
			}
			for j := range w.Grad {
				worst = max(worst, math.Abs(g.GradMin[j]-w.GradMin[j]), math.Abs(g.GradMax[j]-w.GradMax[j]), math.Abs(g.Grad[j]-w.Grad[j]))
			}
		}
		return worst / largest
	}
	for i, w := range want.Layers {
		g := got.Layers[i]
		if !slices.Equal(g.SignStable, w.SignStable) {
			t.Errorf("%s: sign_stable %v in the page, %v in the native CLI", w.Name, g.SignStable, w.SignStable)
		}
		if !slices.Equal(g.SignStable, same.Layers[i].SignStable) {
			t.Errorf("%s: sign_stable %v in the page, %v in the wasm CLI", w.Name, g.SignStable, same.Layers[i].SignStable)
		}
		if g.NearThreshold != w.NearThreshold {
			t.Logf("%s: near_threshold %d in the page, %d in the native CLI", w.Name, g.NearThreshold, w.NearThreshold)
		}
	}
	// The page's arithmetic is the WebAssembly build's (its SIMD products):
	// the same ranges up to the rounding of the workers' merge. The native
	// build's FMA kernels round otherwise, and at full width in float32 that
	// flips spikes (the very draw the sign check measures): its ranges are
	// another draw, within a few percent, with the same signs held.
	toWasm, toNative := gap(&got, same), gap(&got, want)
	t.Logf("page against the CLI -spread %d: ranges within %.3g of the largest |grad| (%.3g) of the wasm build's, %.3g of the native build's; unstable layers %v (CLI %v)",
		K, toWasm, largest, toNative, unstable(&got), unstable(want))
	if toWasm > 1e-5 {
		t.Errorf("the page's grad, grad_min and grad_max differ from the wasm CLI's by %.3g of the largest |grad|, want float rounding (1e-5)", toWasm)
	}
	if toNative > 0.05 {
		t.Errorf("the page's grad, grad_min and grad_max differ from the native CLI's by %.3g of the largest |grad|, want the float32 spread (under 0.05)", toNative)
	}
	if len(unstable(want)) == 0 {
		t.Logf("note: the CLI marks no layer of %s unstable with -spread %d", c.Ckpt, K)
	}

	// The table marks exactly the unstable layers, with their ranges, and one
	// line says what the marks mean.
	marked := evaluate[[]string](t, ctx, `Array.from(document.querySelectorAll('#numbers tbody tr[data-unstable="true"]')).map((r) => r.dataset.layer)`)
	if !slices.Equal(marked, unstable(want)) && !(len(marked) == 0 && len(unstable(want)) == 0) {
		t.Errorf("the table marks %v, the CLI's unstable layers are %v", marked, unstable(want))
	}
	rangeCells := evaluate[int](t, ctx, `document.querySelectorAll('#numbers tbody td.spread').length`)
	if rangeCells != len(want.Layers) {
		t.Errorf("the table shows %d ranges, want one per layer (%d)", rangeCells, len(want.Layers))
	}
	note := evaluate[string](t, ctx, `document.querySelector('#spread-note').hidden ? '' : document.querySelector('#spread-note').textContent`)
	if note == "" || (len(marked) > 0 && !strings.Contains(note, "float64")) {
		t.Errorf("the sign check's note reads %q", note)
	}
	t.Logf("note: %s", note)

	checkSpreadExports(t, p, c, &got)

	// A load ends a sign check still going, and so does Cancel; the state
	// stays done, and the next run gives the bars' numbers.
	running := func() {
		t.Helper()
		runs := evaluate[int](t, ctx, `window.spikegrad.runs`)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#run"))); err != nil {
			t.Fatal(err)
		}
		waitRun(t, ctx, runs, 3*time.Minute)
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.body.dataset.spread === 'running'`,
			chromedp.WithPollingTimeout(time.Minute), chromedp.WithPollingInterval(10*time.Millisecond))); err != nil {
			t.Fatalf("no sign check after the bars: %v", err)
		}
	}
	running()
	spreads := evaluate[int](t, ctx, `window.spikegrad.spreads`)
	upload(t, ctx, "#data-file", filepath.Join(p.root, "snn", "testdata", c.Data), "ready", time.Minute)
	if how, n := evaluate[string](t, ctx, `document.body.dataset.spread`), evaluate[int](t, ctx, `window.spikegrad.spreads`); how != "cancelled" || n != spreads+1 {
		t.Errorf("after a load during the sign check: data-spread %q, spreads %d -> %d; want cancelled, one more", how, spreads, n)
	}
	running()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#cancel"))); err != nil {
		t.Fatal(err)
	}
	if how, state := evaluate[string](t, ctx, `document.body.dataset.spread`), evaluate[string](t, ctx, `document.body.dataset.state`); how != "cancelled" || state != "done" {
		t.Errorf("after Cancel during the sign check: data-spread %q, state %q; want cancelled, done", how, state)
	}
	t.Logf("Cancel during the sign check: %q", evaluate[string](t, ctx, `document.querySelector('#status-text').textContent`))
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#opt-spread"), "0")); err != nil {
		t.Fatal(err)
	}
	again := clickRun(t, ctx, 3*time.Minute)
	for i, l := range first.Layers {
		if !slices.Equal(again.Layers[i].Grad, l.Grad) {
			t.Errorf("%s: after the cancelled checks the run gives %v, the first %v", l.Name, again.Layers[i].Grad, l.Grad)
		}
	}
	if again.SpreadRuns != 0 || evaluate[string](t, ctx, `document.body.dataset.spread`) != "cancelled" {
		t.Errorf("spread 0: the result has %d spread runs, data-spread %q", again.SpreadRuns, evaluate[string](t, ctx, `document.body.dataset.spread`))
	}
	p.check(t)
}

// checkSpreadExports clicks the exports and reads them: named after the
// checkpoint and data, with the settings, the images and the sign check.
func checkSpreadExports(t *testing.T, p *page, c *fixtureCase, got *snn.Result) {
	t.Helper()
	ctx := p.ctx
	dir := filepath.Join(p.artifacts, "downloads-spread")
	clickExports(t, ctx, dir)
	stem := "spikegrad-" + strings.TrimSuffix(c.Ckpt, filepath.Ext(c.Ckpt)) + "-" + strings.TrimSuffix(c.Data, filepath.Ext(c.Data))
	read := func(name string) []byte {
		t.Helper()
		path := filepath.Join(dir, name)
		for end := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
				return b
			}
			if time.Now().After(end) {
				entries, _ := os.ReadDir(dir)
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Fatalf("export: %s was not saved (saved: %v)", path, names)
			}
		}
	}

	// CSV: the header block, then a line per layer with the new columns.
	text := string(read(stem + ".csv"))
	var head, body []string
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.HasPrefix(line, "#") {
			head = append(head, line)
		} else {
			body = append(body, line)
		}
	}
	block := strings.Join(head, "\n")
	for _, want := range []string{"checkpoint: " + c.Ckpt, "data: " + c.Data, "precision: float32", fmt.Sprintf("spread_runs: %d", got.SpreadRuns),
		"T: 8", fmt.Sprintf("n: %d", c.N), "images: 0 1 2 3 4 5 6 7"} {
		if !strings.Contains(block, want) {
			t.Errorf("the CSV's header block lacks %q:\n%s", want, block)
		}
	}
	if len(body) != len(got.Layers)+1 {
		t.Fatalf("the CSV has %d lines after its header block, want a header and %d layers", len(body), len(got.Layers))
	}
	cols := strings.Split(body[0], ",")
	col := func(name string) int {
		i := slices.Index(cols, name)
		if i < 0 {
			t.Fatalf("the CSV has no column %s: %s", name, body[0])
		}
		return i
	}
	iMin, iMax, iStable, iNear := col("grad_min"), col("grad_max"), col("sign_stable"), col("near_threshold")
	for k, l := range got.Layers {
		f := strings.Split(body[k+1], ",")
		lo, _ := strconv.ParseFloat(f[iMin], 64)
		hi, _ := strconv.ParseFloat(f[iMax], 64)
		if want := strconv.FormatBool(!slices.Contains(l.SignStable, false)); f[iStable] != want {
			t.Errorf("CSV %s: sign_stable %s, want %s", l.Name, f[iStable], want)
		}
		if len(l.Grad) == 1 && (lo != l.GradMin[0] || hi != l.GradMax[0]) {
			t.Errorf("CSV %s: range %g .. %g, the result's %g .. %g", l.Name, lo, hi, l.GradMin[0], l.GradMax[0])
		}
		if f[iNear] != strconv.Itoa(l.NearThreshold) {
			t.Errorf("CSV %s: near_threshold %s, want %d", l.Name, f[iNear], l.NearThreshold)
		}
	}

	// JSON: the fields at the top and per layer.
	var doc struct {
		Ckpt       string          `json:"ckpt"`
		Data       string          `json:"data"`
		Precision  string          `json:"precision"`
		SpreadRuns int             `json:"spread_runs"`
		Indices    []int           `json:"indices"`
		Settings   struct{ N int } `json:"settings"`
		Result     snn.Result      `json:"result"`
		Layers     []struct {
			Name          string   `json:"name"`
			NearThreshold int      `json:"near_threshold"`
			GradMin       *float64 `json:"grad_min"`
			GradMax       *float64 `json:"grad_max"`
			SignStable    *bool    `json:"sign_stable"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(read(stem+".json"), &doc); err != nil {
		t.Fatalf("the JSON export: %v", err)
	}
	if doc.Ckpt != c.Ckpt || doc.Data != c.Data || doc.Precision != "float32" || doc.SpreadRuns != got.SpreadRuns ||
		!slices.Equal(doc.Indices, []int{0, 1, 2, 3, 4, 5, 6, 7}) || doc.Settings.N != c.N {
		t.Errorf("the JSON export says ckpt %q data %q precision %q spread_runs %d indices %v n %d", doc.Ckpt, doc.Data, doc.Precision, doc.SpreadRuns, doc.Indices, doc.Settings.N)
	}
	if len(doc.Layers) != len(got.Layers) || len(doc.Result.Layers) != len(got.Layers) {
		t.Fatalf("the JSON export has %d layers and a result of %d, want %d", len(doc.Layers), len(doc.Result.Layers), len(got.Layers))
	}
	for k, l := range got.Layers {
		d, r := doc.Layers[k], doc.Result.Layers[k]
		if d.SignStable == nil || *d.SignStable == slices.Contains(l.SignStable, false) || d.GradMin == nil || d.GradMax == nil || d.NearThreshold != l.NearThreshold {
			t.Errorf("JSON %s: %+v", l.Name, d)
		}
		if !slices.Equal(r.SignStable, l.SignStable) || !slices.Equal(r.GradMin, l.GradMin) || !slices.Equal(r.GradMax, l.GradMax) {
			t.Errorf("JSON result %s: sign_stable %v grad_min %v grad_max %v, the page's %v %v %v", l.Name, r.SignStable, r.GradMin, r.GradMax, l.SignStable, l.GradMin, l.GradMax)
		}
	}

	// PNG: the chart with its caption under it.
	b := read(stem + "-grad.png")
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the chart's PNG: %v", err)
	}
	chartH := evaluate[float64](t, ctx, `document.getElementById('chart-grad').clientHeight`)
	if float64(cfg.Height) < 2*chartH+30 {
		t.Errorf("the chart's PNG is %dx%d, no taller than the chart (%g px at 2x): no caption", cfg.Width, cfg.Height, chartH)
	}
	t.Logf("exports: %s.csv (%d header lines), .json, -grad.png %dx%d, in %s", stem, len(head), cfg.Width, cfg.Height, dir)
}
