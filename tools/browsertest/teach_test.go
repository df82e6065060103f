package browsertest

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/demo"
	"github.com/spikegrad/spikegrad/snn/job"
)

// TestTeach opens each teaching view (web/teach.js) on the demo and checks
// its numbers against the native engine's on the same network and images:
// the why-this-sign numbers and one neuron's trace, a neuron picked on the
// rate map, a slider re-run (and its time), the finite differences of one
// layer and of all, and gradient steps. The page runs the engine compiled to
// WebAssembly, whose matrix products add in another order, so values agree
// to float32 rounding, and losses to 1e-4 relative (a spike sitting on its
// threshold may flip). Screenshots: artifacts/teach-*.png.
func TestTeach(t *testing.T) {
	p := startPage(t, 10*time.Minute)
	ctx := p.ctx
	net, err := job.Checkpoint(demo.CheckpointName, demo.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	b, err := job.Images(demo.BatchName, demo.Batch, net, 0, 32, "auto")
	if err != nil {
		t.Fatal(err)
	}
	opt := snn.Options{T: 8, L: 4, Gamma: 1}
	bg := context.Background()

	if err := chromedp.Do(ctx, chromedp.Navigate(p.srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	res := waitRun(t, ctx, 0, 3*time.Minute)

	// 1. Why this sign: the layer with the most negative gradient, its
	// detail as the engine computes it natively.
	waitTeach(t, ctx, "details", 0)
	d := evaluate[snn.DetailResult](t, ctx, `window.spikegrad.teach.detail`)
	best := 0
	for j, l := range res.Layers {
		if l.Grad[0] < res.Layers[best].Grad[0] {
			best = j
		}
	}
	if d.Layer != best || res.Layers[best].Grad[0] >= 0 {
		t.Errorf("the view opened on layer %d (grad %g), want %d, the most negative", d.Layer, res.Layers[d.Layer].Grad[0], best)
	}
	checkDetail(t, ctx, net, b, opt, &d, res)
	ratio := evaluate[string](t, ctx, `document.querySelector('#why-numbers').dataset.ratio`)
	if r := parse(t, ratio); math.Abs(r+0.5) > 1e-3 {
		t.Errorf("the page shows init/crossing = %s, want -0.5", ratio)
	}
	if n := evaluate[int](t, ctx, `document.querySelectorAll('#why-diagram svg text').length`); n < 6 {
		t.Errorf("the diagram has %d labels", n)
	}
	shotOf(t, p, "#teach-why", "teach-why.png")
	shotOf(t, p, "#teach-neuron", "teach-neuron.png")

	// 2. A click on the rate map traces that neuron.
	cell := evaluate[[]float64](t, ctx, `(() => { const c = document.querySelector('#rate-map'); c.scrollIntoView(); const r = c.getBoundingClientRect(); return [r.left + r.width * 0.3, r.top + r.height * 0.6]; })()`)
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(cell[0], cell[1])); err != nil {
		t.Fatal(err)
	}
	waitTeach(t, ctx, "details", 1)
	d2 := evaluate[snn.DetailResult](t, ctx, `window.spikegrad.teach.detail`)
	if d2.Neuron == d.Neuron {
		t.Errorf("a click on the rate map left the neuron at %d", d.Neuron)
	}
	checkDetail(t, ctx, net, b, opt, &d2, res)
	shotOf(t, p, "#teach-neuron", "teach-neuron-clicked.png")

	// 3. The slider: +10% on the layer, forward only, against the native forward.
	evaluate[bool](t, ctx, `(() => { const s = document.querySelector('#teach-slider'); s.value = '10'; s.dispatchEvent(new Event('input')); return true; })()`)
	waitTeach(t, ctx, "forwards", 0)
	type sliderRun struct {
		Pct    float64
		Layer  int
		Result snn.Result
		Ms     float64
	}
	s := evaluate[sliderRun](t, ctx, `window.spikegrad.teach.slider`)
	th := net.Thresholds()
	for e := range th[s.Layer] {
		th[s.Layer][e] *= 1 + s.Pct/100
	}
	moved, err := net.WithThresholds(th)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	want, err := moved.Forward(bg, b.X, b.Labels, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("slider re-run (forward only, demo, 32 images): page %.0f ms, native %.0f ms", s.Ms, float64(time.Since(t0).Milliseconds()))
	if s.Pct != 10 || !near(s.Result.Loss, want.Loss, 1e-4*want.Loss) || s.Result.Layers[0].Grad != nil {
		t.Errorf("slider +%g%%: loss %g, native %g (grad %v)", s.Pct, s.Result.Loss, want.Loss, s.Result.Layers[0].Grad)
	}
	if v := evaluate[string](t, ctx, `document.querySelector('#slider-verdict').textContent`); v == "" {
		t.Error("the slider says nothing about the sign")
	}
	// The measured slope of this layer, and the table for all layers.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#fd-one"))); err != nil {
		t.Fatal(err)
	}
	waitTeach(t, ctx, "fds", 0)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#fd-all"))); err != nil {
		t.Fatal(err)
	}
	waitTeach(t, ctx, "fds", 1)
	fds := evaluate[[]snn.FD](t, ctx, `window.spikegrad.teach.fdAll`)
	one := evaluate[snn.FD](t, ctx, `window.spikegrad.teach.fd`)
	nativeFD, err := net.FiniteDiff(bg, b.X, b.Labels, opt, 1e-2, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) != len(nativeFD) {
		t.Fatalf("the page's table has %d layers, the engine %d", len(fds), len(nativeFD))
	}
	if one != fds[s.Layer] {
		t.Errorf("one layer's slope %+v differs from its row %+v", one, fds[s.Layer])
	}
	agree := evaluate[[]string](t, ctx, `[...document.querySelectorAll('#fd-table tbody tr')].map(r => r.cells[6].textContent)`)
	for j, w := range nativeFD {
		g := fds[j]
		if !near(g.LossPlus, w.LossPlus, 1e-4*w.LossPlus) || !near(g.LossMinus, w.LossMinus, 1e-4*w.LossMinus) || !near(g.Grad, w.Grad, 1e-3*maxAbsGrad(res)) {
			t.Errorf("%s: page %+v, native %+v", w.Name, g, w)
		}
		if g.Agree != w.Agree {
			t.Logf("%s: same sign %q in the page, %q natively (slope %g vs %g)", w.Name, g.Agree, w.Agree, g.Slope, w.Slope)
		}
		if wantText := map[string]string{"yes": "yes", "no": "no", "flat": "flat (loss did not move)"}[g.Agree]; agree[j] != wantText {
			t.Errorf("%s: the table says %q, the page's answer is %q", w.Name, agree[j], g.Agree)
		}
	}
	shotOf(t, p, "#teach-move", "teach-slider.png")

	// 4. Steps: the page's loss curve against the native Descend.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#step-n"), "3")); err != nil {
		t.Fatal(err)
	}
	lr := parse(t, evaluate[string](t, ctx, `document.querySelector('#step-lr').value`))
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#step-go"))); err != nil {
		t.Fatal(err)
	}
	waitTeach(t, ctx, "descents", 0)
	steps := evaluate[[]snn.DescentStep](t, ctx, `window.spikegrad.teach.descent`)
	nativeSteps, err := net.Descend(bg, b.X, b.Labels, opt, lr, 3)
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range nativeSteps {
		if !near(steps[k].Loss, w.Loss, 1e-4*w.Loss) {
			t.Errorf("step %d: page loss %g, native %g", k, steps[k].Loss, w.Loss)
		}
	}
	t.Logf("lr %g: losses %v", lr, func() (l []float64) {
		for _, s := range steps {
			l = append(l, s.Loss)
		}
		return
	}())
	shotOf(t, p, "#teach-step", "teach-step.png")

	// Chinese.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#lang"))); err != nil {
		t.Fatal(err)
	}
	if title := evaluate[string](t, ctx, `document.querySelector('#teach-title').textContent`); title != "为什么 threshold_grad = −modified_grad" {
		t.Errorf("in Chinese the teaching title is %q", title)
	}
	shotOf(t, p, "#teach", "teach-zh.png")
	if n := evaluate[int](t, ctx, `window.spikegrad.teach.errors`); n != 0 {
		t.Errorf("%d teaching calls failed: %s", n, evaluate[string](t, ctx, `document.querySelector('#teach-error').textContent`))
	}
	p.check(t)
}

// checkDetail compares the page's detail with the native engine's for the
// same layer, image and neuron.
func checkDetail(t *testing.T, ctx context.Context, net *snn.Net, b *job.Batch, opt snn.Options, d *snn.DetailResult, res *snn.Result) {
	t.Helper()
	opt.Detail = &snn.Detail{Layer: d.Layer, Image: d.Image, Neuron: d.Neuron}
	r, err := net.Run(context.Background(), b.X, b.Labels, opt)
	if err != nil {
		t.Fatal(err)
	}
	w := r.Detail
	scale := maxAbsGrad(res)
	if d.Name != w.Name || len(d.Trace) != len(w.Trace) || !near(d.Crossing, w.Crossing, 1e-3*scale) || !near(d.SumGrad, w.SumGrad, 1e-3*scale) {
		t.Fatalf("page detail %s crossing %g sum %g, native %s %g %g", d.Name, d.Crossing, d.SumGrad, w.Name, w.Crossing, w.SumGrad)
	}
	gmax := 0.0
	for _, s := range w.Trace {
		gmax = math.Max(gmax, math.Abs(s.GradD))
	}
	for k, s := range w.Trace {
		g := d.Trace[k]
		if g.S != s.S || !near(g.Mem, s.Mem, 1e-4) || !near(g.D, s.D, 1e-4) || !near(g.GradD, s.GradD, 1e-3*gmax+1e-12) {
			t.Errorf("%s neuron %d step %d: page %+v, native %+v", d.Name, d.Neuron, k, g, s)
		}
	}
	t.Logf("%s image %d neuron %d: crossing %.4g = -Σ dL/dd %.4g, init/crossing %v; trace matches the native engine", d.Name, d.Image, d.Neuron, d.Crossing, d.SumGrad, *d.InitOverCrossing)
}

// waitTeach waits until window.spikegrad.teach[counter] passes n.
func waitTeach(t *testing.T, ctx context.Context, counter string, n int) {
	t.Helper()
	expr := fmt.Sprintf(`window.spikegrad.teach && (window.spikegrad.teach.%s > %d || window.spikegrad.teach.errors > 0)`, counter, n)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(4*time.Minute), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("waiting for teach.%s > %d: %v", counter, n, err)
	}
	if msg := evaluate[string](t, ctx, `window.spikegrad.teach.errors ? document.querySelector('#teach-error').textContent : ''`); msg != "" {
		t.Fatalf("a teaching call failed: %s", msg)
	}
}

// shotOf saves a screenshot of one element as artifacts/name.
func shotOf(t *testing.T, p *page, sel, name string) {
	t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.ScrollIntoView(chromedp.CSS(sel)), chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatalf("scroll to %s: %v", sel, err)
	}
	buf, err := chromedp.Run(p.ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("screenshot %s: %v", sel, err)
	}
	path := filepath.Join(p.artifacts, name)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func parse(t *testing.T, s string) float64 {
	t.Helper()
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return v
}
