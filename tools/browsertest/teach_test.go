package browsertest

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
	p := startPage(t, 15*time.Minute)
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

	// 1. Why this sign: the views open on the first layer, by |gradient|,
	// whose measured slope has the gradient's sign (issue 15), and say so;
	// its detail as the engine computes it natively.
	waitTeach(t, ctx, "details", 0)
	d := evaluate[snn.DetailResult](t, ctx, `window.spikegrad.teach.detail`)
	nativeFD, err := net.FiniteDiff(bg, b.X, b.Labels, opt, 1e-2, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	order := make([]int, len(res.Layers))
	for j := range order {
		order[j] = j
	}
	sort.SliceStable(order, func(a, b int) bool {
		return math.Abs(res.Layers[order[a]].Grad[0]) > math.Abs(res.Layers[order[b]].Grad[0])
	})
	wantLayer := -1
	for _, j := range order[:3] {
		if nativeFD[j].Agree == "yes" {
			wantLayer = j
			break
		}
	}
	type opening struct {
		Layer int
		Agree bool
		Tried []snn.FD
	}
	o := evaluate[opening](t, ctx, `window.spikegrad.teach.opening`)
	if wantLayer < 0 || d.Layer != wantLayer || !o.Agree || o.Layer != wantLayer {
		t.Errorf("the view opened on %s (agree %v), want %d, the first of %v by |gradient| whose slope agrees natively", res.Layers[d.Layer].Name, o.Agree, wantLayer, order[:3])
	}
	if f := o.Tried[len(o.Tried)-1]; f.Agree != "yes" || f.Name != res.Layers[d.Layer].Name {
		t.Errorf("the opening's last measurement %+v is not the agreeing layer's", f)
	}
	openText := evaluate[string](t, ctx, `document.querySelector('#teach-open').textContent`)
	if !strings.Contains(openText, "Opened on "+res.Layers[d.Layer].Name) || !strings.Contains(openText, "same sign") {
		t.Errorf("the opening says %q", openText)
	}
	t.Logf("opened on %s after measuring %d layers: %s", res.Layers[d.Layer].Name, len(o.Tried), openText)
	checkDetail(t, ctx, net, b, opt, &d, res)
	// How firm the sign is: the layer's near_threshold, the one sentence
	// on float32 and float64.
	fragile := evaluate[string](t, ctx, `document.querySelector('#why-fragile').textContent`)
	if near := evaluate[string](t, ctx, `document.querySelector('#why-fragile').dataset.near`); near != fmt.Sprint(res.Layers[d.Layer].NearThreshold) || !strings.Contains(fragile, "near_threshold") || !strings.Contains(fragile, "float64") {
		t.Errorf("why-fragile (near %s, engine %d) says %q", near, res.Layers[d.Layer].NearThreshold, fragile)
	}
	// After the run's sign check (its spread phase, on by default): whether
	// the layer's sign held, as the check's result says.
	if spread := evaluate[int](t, ctx, `Number(document.querySelector('#opt-spread') ? document.querySelector('#opt-spread').value : 0)`); spread > 0 {
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`['done', 'cancelled', 'mismatch', 'error'].includes(document.body.dataset.spread)`, chromedp.WithPollingTimeout(5*time.Minute), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
			t.Fatalf("waiting for the sign check: %v", err)
		}
		if how := evaluate[string](t, ctx, `document.body.dataset.spread`); how != "done" {
			t.Fatalf("the sign check ended %q", how)
		}
		r := evaluate[snn.Result](t, ctx, `window.spikegrad.lastResult`)
		l := r.Layers[d.Layer]
		held := len(l.SignStable) > 0
		for _, ok := range l.SignStable {
			held = held && ok
		}
		got := evaluate[string](t, ctx, `document.querySelector('#why-fragile').dataset.held`)
		text := evaluate[string](t, ctx, `document.querySelector('#why-fragile').textContent`)
		if got != fmt.Sprint(held) || !strings.Contains(text, map[bool]string{true: "the sign held", false: "the sign did not hold"}[held]) {
			t.Errorf("%s: sign_stable %v over %d runs, the page says held %q: %q", l.Name, l.SignStable, r.SpreadRuns, got, text)
		}
		t.Logf("why-fragile after the sign check: %s", text)
	}
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
	// The measured slope of this layer, and the table for all layers (the
	// opening's measurements counted before).
	fdsBefore := evaluate[int](t, ctx, `window.spikegrad.teach.fds`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#fd-one"))); err != nil {
		t.Fatal(err)
	}
	waitTeach(t, ctx, "fds", fdsBefore)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#fd-all"))); err != nil {
		t.Fatal(err)
	}
	waitTeach(t, ctx, "fds", fdsBefore+1)
	fds := evaluate[[]snn.FD](t, ctx, `window.spikegrad.teach.fdAll`)
	one := evaluate[snn.FD](t, ctx, `window.spikegrad.teach.fd`)
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

	// 4. Steps with the page's defaults (3 steps, the line search from the
	// lr shown): the loss lowered at every step, the learning rate and the
	// tries as the native LineSearch's, the steps as Descend's at that lr.
	if n := evaluate[string](t, ctx, `document.querySelector('#step-n').value`); n != "3" {
		t.Errorf("the page's default is %s steps, want 3", n)
	}
	if !evaluate[bool](t, ctx, `document.querySelector('#step-search').checked`) {
		t.Error("the line search is off by default")
	}
	lr0 := parse(t, evaluate[string](t, ctx, `document.querySelector('#step-lr').value`))
	t0 = time.Now()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#step-go"))); err != nil {
		t.Fatal(err)
	}
	waitTeach(t, ctx, "descents", 0)
	pageMs := time.Since(t0).Milliseconds()
	search := evaluate[snn.LRSearch](t, ctx, `window.spikegrad.teach.search`)
	steps := evaluate[[]snn.DescentStep](t, ctx, `window.spikegrad.teach.descent`)
	nativeSearch, err := net.LineSearch(bg, b.X, b.Labels, opt, lr0, 3, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !search.Found || len(steps) != 4 {
		t.Errorf("the line search from lr %g found none (%d points): %+v", lr0, len(steps), search.Tries)
	}
	for k := 1; k < len(steps); k++ {
		if steps[k].Loss >= steps[k-1].Loss {
			t.Errorf("step %d raised the loss: %g -> %g", k, steps[k-1].Loss, steps[k].Loss)
		}
	}
	if !near(search.LR, nativeSearch.LR, 1e-12*nativeSearch.LR) || len(search.Tries) != len(nativeSearch.Tries) {
		t.Errorf("the page chose lr %g after %d tries, natively %g after %d", search.LR, len(search.Tries), nativeSearch.LR, len(nativeSearch.Tries))
	}
	nativeSteps, err := net.Descend(bg, b.X, b.Labels, opt, search.LR, 3)
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range nativeSteps {
		if k < len(steps) && !near(steps[k].Loss, w.Loss, 1e-4*w.Loss) {
			t.Errorf("step %d: page loss %g, native Descend %g", k, steps[k].Loss, w.Loss)
		}
	}
	for _, try := range search.Tries {
		t.Logf("line search: lr %.4g losses %v lowered %v", try.LR, try.Losses, try.Lowered)
	}
	t.Logf("lr %.4g chosen from %g in %d tries (%d ms in the page): losses %v; says %q", search.LR, lr0, len(search.Tries), pageMs, func() (l []float64) {
		for _, s := range steps {
			l = append(l, s.Loss)
		}
		return
	}(), evaluate[string](t, ctx, `document.querySelector('#step-out').textContent`))
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
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(8*time.Minute), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
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
