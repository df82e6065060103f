package browsertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// barsJS measures a chart's bars as ECharts laid them out: per series of
// bars, each bar's length in pixels along the value axis (its height, or
// its width when the layers are rows), and the category axis's labels drawn.
const barsJS = `((key) => {
	const c = echarts.getInstanceByDom(document.getElementById('chart-' + key));
	const model = c.getModel();
	const o = c.getOption();
	const rows = o.yAxis[0].type === 'category';
	const out = {rows, series: [], types: o.series.map(s => s.type), labels: 0, height: c.getHeight(), symlog: !!(rows ? o.xAxis[0] : o.yAxis[0]).name};
	model.eachSeries((s) => {
		if (s.subType !== 'bar') return;
		const d = s.getData();
		const len = [];
		for (let i = 0; i < d.count(); i++) {
			const l = d.getItemLayout(i);
			len.push(l ? Math.abs(rows ? l.width : l.height) : -1);
		}
		out.series.push(len);
	});
	const axis = model.getComponent(rows ? 'yAxis' : 'xAxis', 0).axis;
	out.labels = axis.getViewLabels().length;
	return out;
})`

type barsInfo struct {
	Rows   bool        `json:"rows"`
	Series [][]float64 `json:"series"`
	Types  []string    `json:"types"`
	Labels int         `json:"labels"`
	Height int         `json:"height"`
	Symlog bool        `json:"symlog"`
}

func bars(t *testing.T, p *page, key string) barsInfo {
	t.Helper()
	return evaluate[barsInfo](t, p.ctx, barsJS+`('`+key+`')`)
}

func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

// setScale chooses the gradient charts' scale and waits a frame.
func setScale(t *testing.T, p *page, scale string) {
	t.Helper()
	evaluate[bool](t, p.ctx, `(() => { const s = document.querySelector('#chart-scale'); s.value = '`+scale+`'; s.dispatchEvent(new Event('change')); return true; })()`)
	if err := chromedp.Do(p.ctx, chromedp.Sleep(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
}

// TestChartsScale (issue 15, items 1, 6, 7; issue 13's chart part):
//   - on the user's VGG16 printout's gradients and on 1e-5..5e-2, drawn in
//     the page's charts, and on ResNet34 (33 IF layers, a run), every
//     gradient bar is at least 3 px long on the default (symlog) axis and
//     every layer is named (rows above 20 layers); the linear axis, asked
//     for, leaves some under a pixel (what the page drew before);
//   - the sign check's whiskers are kept and a layer whose sign changed is
//     pale and marked "?" with "sign not robust" in its tooltip; with a
//     subset of paths ticked the whiskers go and the subtitle says why;
//   - a pinned run's bars are drawn beside the next run's, with its
//     difference in the table, and survive a reload;
//   - the conversion curve is drawn (64 points) with the run's T marked;
//   - the -html report draws ResNet34's bars in rows, each a few pixels.
func TestChartsScale(t *testing.T) {
	p := startPage(t, 15*time.Minute)
	ctx := p.ctx
	if err := chromedp.Do(ctx, chromedp.Navigate(p.srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	demo := waitRun(t, ctx, 0, 3*time.Minute)
	hasSpread := evaluate[bool](t, ctx, `!!document.querySelector('#opt-spread')`)
	if hasSpread {
		waitCount(t, ctx, "spreads", 0, 3*time.Minute)
		b := bars(t, p, "grad")
		if len(b.Types) < 2 || b.Types[len(b.Types)-1] != "boxplot" {
			t.Errorf("the demo's sign check: grad chart series %v, want the whiskers (boxplot)", b.Types)
		}
	}

	// 1. The page's gradient chart on given gradients: the run shown, its
	// layers' gradients replaced (charts.js is the page's own module).
	type drawn struct {
		Bars    barsInfo  `json:"bars"`
		Tip     string    `json:"tip"`
		Sub     string    `json:"sub"`
		Marks   []string  `json:"marks"`
		Opacity []float64 `json:"opacity"`
	}
	drawWith := func(name, grads, extra string) drawn {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[drawn](`(async () => {
			const charts = await import('/web/charts.js');
			const run = window.spikegrad.state.lastRun;
			const grads = `+grads+`;
			const r = JSON.parse(JSON.stringify(run.output.result));
			r.layers = grads.map((g, i) => Object.assign({}, r.layers[i % r.layers.length], {name: g[0], grad: [g[1]], grad_paths: {crossing: [g[1] * 2], amplitude: [-g[1]], reset: [0], init: [0]}}));
			delete r.spread_runs;
			r.layers.forEach((l) => { delete l.grad_runs; delete l.sign_stable; });
			`+extra+`
			const fake = Object.assign({}, run, {output: Object.assign({}, run.output, {result: r})});
			charts.draw(fake, ['grad']);
			const c = echarts.getInstanceByDom(document.getElementById('chart-grad'));
			const o = c.getOption();
			const tip = o.tooltip[0].formatter([{dataIndex: 1}]);
			return {bars: (`+barsJS+`)('grad'), tip, sub: o.title[0].subtext,
				marks: o.series[0].data.map(d => d.label ? d.label.formatter : ''), opacity: o.series[0].data.map(d => d.itemStyle.opacity || 1)};
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("drawing %s: %v", name, err)
		}
		shotOf(t, p, "#chart-grad", "charts-"+name+".png")
		return v
	}
	userVGG := `[["layer1.2",-0.002944],["layer1.6",0.008141],["layer2.2",-0.026386],["layer2.6",0.045844],["layer3.2",-0.053857],
		["layer3.6",0.072422],["layer3.10",-0.046216],["layer4.2",0.023349],["layer4.6",0.000744],["layer4.10",-0.000156],
		["layer5.2",-0.005481],["layer5.6",0.019224],["layer5.10",0.382622],["classifier.2",0.461214],["classifier.5",0.162942]]`
	wide := `Array.from({length: 15}, (_, i) => ['layer' + i, (i % 3 === 1 ? -1 : 1) * 1e-5 * Math.pow(5e3, i / 14)])`
	for _, c := range []struct{ name, grads string }{{"vgg16-user", userVGG}, {"vgg16-1e-5", wide}} {
		setScale(t, p, "auto")
		d := drawWith(c.name, c.grads, "")
		if !d.Bars.Symlog || len(d.Bars.Series) != 1 || d.Bars.Labels != 15 {
			t.Errorf("%s: symlog %v, %d bar series, %d names drawn; want symlog, 1, 15", c.name, d.Bars.Symlog, len(d.Bars.Series), d.Bars.Labels)
		} else if m := minOf(d.Bars.Series[0]); m < 3 {
			t.Errorf("%s: the smallest bar is %.1f px on the symlog axis", c.name, m)
		} else {
			t.Logf("%s: symlog, smallest bar %.1f px, every one of 15 layers named; bars %v", c.name, m, d.Bars.Series[0])
		}
		setScale(t, p, "linear")
		d = drawWith(c.name+"-linear", c.grads, "")
		t.Logf("%s on the linear axis (asked for): smallest bar %.2f px", c.name, minOf(d.Bars.Series[0]))
		if d.Bars.Symlog {
			t.Errorf("%s: linear asked, symlog drawn", c.name)
		}
	}
	setScale(t, p, "auto")

	// 2. Whiskers and "?" on a synthetic spread: layer 1's sign changed.
	spreadJS := `r.spread_runs = 3; r.layers.forEach((l, i) => { const g = l.grad[0]; l.grad_runs = [[g], [g * 1.3], [i === 1 ? -g : g * 0.8]]; l.sign_stable = [i !== 1]; });`
	d := drawWith("spread-marks", userVGG, spreadJS)
	if len(d.Bars.Types) != 2 || d.Bars.Types[1] != "boxplot" {
		t.Errorf("spread: series %v, want bar and boxplot", d.Bars.Types)
	}
	if d.Marks[1] != "?" || d.Marks[0] != "" || !strings.Contains(d.Tip, "sign not robust") || !strings.Contains(d.Tip, "…") {
		t.Errorf("spread: marks %v, tooltip %q", d.Marks, d.Tip)
	}
	if !strings.Contains(d.Sub, "3 runs") {
		t.Errorf("spread: the subtitle does not say what the whiskers are: %q", d.Sub)
	}
	// Crossing only: the range is of all four paths, so no whiskers, said.
	evaluate[bool](t, ctx, `(() => { document.querySelector('#paths-crossing').click(); return true; })()`)
	d = drawWith("spread-subset", userVGG, spreadJS)
	if len(d.Bars.Types) != 1 || !strings.Contains(d.Sub, "tick every path") {
		t.Errorf("spread, crossing only: series %v, subtitle %q", d.Bars.Types, d.Sub)
	}
	evaluate[bool](t, ctx, `(() => { document.querySelector('#paths-all').click(); return true; })()`)

	// 3. The conversion curve of the demo's run: 64 points, T=8 marked.
	waitCount(t, ctx, "curves", 0, 3*time.Minute)
	type curveInfo struct {
		State  string   `json:"state"`
		Points int      `json:"points"`
		Mark   []string `json:"mark"`
		Note   string   `json:"note"`
	}
	curveJS := `(() => {
		const c = echarts.getInstanceByDom(document.getElementById('chart-curve'));
		const o = c ? c.getOption() : null;
		const s = o && o.series && o.series[0];
		const note = document.querySelector('#curve-note');
		return {state: document.body.dataset.curve || '', points: s ? s.data.length : 0,
			mark: s && s.markLine ? s.markLine.data.map(d => String(d.xAxis)) : [], note: note ? note.textContent : ''};
	})()`
	ci := evaluate[curveInfo](t, ctx, curveJS)
	if ci.State != "done" || ci.Points != 64 || len(ci.Mark) != 1 || ci.Mark[0] != fmt.Sprint(demo.T) {
		t.Errorf("curve: %+v; want done, 64 points, T=%d marked", ci, demo.T)
	} else {
		t.Logf("curve: %+v", ci)
	}
	shotOf(t, p, "#curve-box", "charts-curve.png")
	// Another T_max: the same run's curve again, to 16.
	curves := evaluate[int](t, ctx, `window.spikegrad.curves`)
	evaluate[bool](t, ctx, `(() => { const e = document.querySelector('#curve-tmax'); e.value = '16'; e.dispatchEvent(new Event('change')); return true; })()`)
	waitCount(t, ctx, "curves", curves, 3*time.Minute)
	if ci := evaluate[curveInfo](t, ctx, curveJS); ci.State != "done" || ci.Points != 16 || len(ci.Mark) != 1 || ci.Mark[0] != fmt.Sprint(demo.T) {
		t.Errorf("curve to 16: %+v", ci)
	}
	evaluate[bool](t, ctx, `(() => { const e = document.querySelector('#curve-tmax'); e.value = '64'; return true; })()`)

	// 4. Pin the demo's run; run T=64: its bars beside the pinned ones, the
	// difference in the table.
	runs := evaluate[int](t, ctx, `window.spikegrad.runs`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#pin-run")), chromedp.SetValue(chromedp.CSS("#opt-T"), "64")); err != nil {
		t.Fatal(err)
	}
	if hasSpread {
		chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#opt-spread"), "0"))
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#run"))); err != nil {
		t.Fatal(err)
	}
	waitRun(t, ctx, runs, 3*time.Minute)
	t.Logf("one T=64 run of the demo's 32 images (gradients, no sign check): %.1f s on %d workers; its curve to 64 took %s",
		evaluate[float64](t, ctx, `window.spikegrad.lastRun.seconds`), evaluate[int](t, ctx, `window.spikegrad.lastRun.workers`), ci.Note)
	checkPinned := func(what string) {
		t.Helper()
		b := bars(t, p, "grad")
		head := evaluate[string](t, ctx, `Array.from(document.querySelectorAll('#numbers thead th')).map(th => th.textContent).join('|')`)
		diffs := evaluate[int](t, ctx, `document.querySelectorAll('#numbers td.pin-diff').length`)
		if len(b.Series) != 2 || len(b.Series[0]) != len(demo.Layers) || len(b.Series[1]) != len(demo.Layers) {
			t.Errorf("%s: %d bar series (%v), want this run's and the pinned one's, %d bars each", what, len(b.Series), b.Types, len(demo.Layers))
		}
		if !strings.Contains(head, "pinned") || diffs != len(demo.Layers) {
			t.Errorf("%s: table head %q, %d difference cells", what, head, diffs)
		}
	}
	checkPinned("pinned, then T=64")
	shotOf(t, p, "#chart-grad", "charts-pinned.png")
	// A reload keeps the pin: the demo's run (T=8 again) beside it.
	runs = 0
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitRun(t, ctx, 0, 3*time.Minute)
	checkPinned("after a reload")
	shotOf(t, p, "#chart-grad", "charts-pinned-reload.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#pins-clear"))); err != nil {
		t.Fatal(err)
	}
	if b := bars(t, p, "grad"); len(b.Series) != 1 {
		t.Errorf("unpinned: %d bar series", len(b.Series))
	}

	// 5. ResNet34: 33 IF layers, in rows, every bar a few pixels.
	upload(t, ctx, "#ckpt-file", filepath.Join(p.root, "snn", "testdata", "resnet34_c100.pth"), "ready", time.Minute)
	upload(t, ctx, "#data-file", filepath.Join(p.root, "snn", "testdata", "c100.bin"), "ready", time.Minute)
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#opt-n"), "4"), chromedp.SetValue(chromedp.CSS("#opt-T"), "8")); err != nil {
		t.Fatal(err)
	}
	if hasSpread {
		chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#opt-spread"), "0"))
	}
	r := clickRun(t, ctx, 5*time.Minute)
	for _, key := range []string{"grad", "paths"} {
		b := bars(t, p, key)
		if !b.Rows || b.Labels != len(r.Layers) || len(b.Series) == 0 {
			t.Errorf("ResNet34 %s: rows %v, %d names drawn of %d layers", key, b.Rows, b.Labels, len(r.Layers))
			continue
		}
		m := minOf(b.Series[0])
		if key == "grad" && m < 3 {
			t.Errorf("ResNet34 grad: the smallest bar is %.1f px", m)
		}
		t.Logf("ResNet34 %s: %d layers in rows, chart %d px tall, symlog %v, smallest bar %.1f px", key, len(r.Layers), b.Height, b.Symlog, m)
	}
	shotOf(t, p, "#chart-grad", "charts-resnet34-grad.png")
	shotOf(t, p, "#paths-box", "charts-resnet34-paths.png")
	setScale(t, p, "linear")
	if b := bars(t, p, "grad"); len(b.Series) > 0 {
		small := 0
		for _, v := range b.Series[0] {
			if v < 1 {
				small++
			}
		}
		t.Logf("ResNet34 on the linear axis (asked for): smallest bar %.2f px, %d of %d under a pixel", minOf(b.Series[0]), small, len(b.Series[0]))
	}
	shotOf(t, p, "#chart-grad", "charts-resnet34-grad-linear.png")
	setScale(t, p, "auto")
	// At a phone's 390 px: the rows still name every layer, every bar a few
	// pixels, and the charts do not widen the page.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 900), chromedp.Sleep(800*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	b390 := bars(t, p, "grad")
	sw := evaluate[int](t, ctx, `document.documentElement.scrollWidth`)
	if sw > 390 || b390.Labels != len(r.Layers) || minOf(b390.Series[0]) < 3 {
		t.Errorf("390 px: page %d px wide, %d names, smallest bar %.1f px", sw, b390.Labels, minOf(b390.Series[0]))
	} else {
		t.Logf("390 px: page %d px wide, %d names, smallest bar %.1f px", sw, b390.Labels, minOf(b390.Series[0]))
	}
	shotOf(t, p, "#chart-grad", "charts-resnet34-grad-390.png")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1000)); err != nil {
		t.Fatal(err)
	}
	p.check(t)

	// 6. The -html report of the same run: rows, every bar a few pixels.
	cli := buildCLI(t, p.root)
	report := filepath.Join(p.artifacts, "charts-resnet34-report.html")
	cmd := exec.Command(cli, "-ckpt", filepath.Join(p.root, "snn", "testdata", "resnet34_c100.pth"), "-data", filepath.Join(p.root, "snn", "testdata", "c100.bin"),
		"-n", "4", "-curve", "16", "-html", report, "-echarts", filepath.Join(p.site, "echarts.min.js"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cli, err, out)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+report), chromedp.Sleep(500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	rep := evaluate[barsInfo](t, ctx, strings.Replace(barsJS, "document.getElementById('chart-' + key)", "document.getElementById(key)", 1)+`('grad')`)
	if !rep.Rows || rep.Labels != len(r.Layers) || len(rep.Series) == 0 || minOf(rep.Series[0]) < 3 {
		t.Errorf("-html ResNet34: rows %v, %d names of %d, bars %v", rep.Rows, rep.Labels, len(r.Layers), rep.Series)
	} else {
		t.Logf("-html ResNet34: rows, %d names, smallest bar %.1f px", rep.Labels, minOf(rep.Series[0]))
	}
	// Its conversion curve: 16 points, the run's T=8 marked.
	rc := evaluate[curveInfo](t, ctx, strings.Replace(curveJS, "document.getElementById('chart-curve')", "document.getElementById('curve')", 1))
	if rc.Points != 16 || len(rc.Mark) != 1 || rc.Mark[0] != "8" {
		t.Errorf("-html curve: %+v, want 16 points, T=8 marked", rc)
	}
	buf, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#grad")))
	if err == nil {
		path := filepath.Join(p.artifacts, "charts-resnet34-report-grad.png")
		os.WriteFile(path, buf, 0o644)
		t.Logf("screenshot: %s", path)
	}
}
