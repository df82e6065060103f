package browsertest

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestTeachLayout draws the teaching views (web/teach.js) of the demo at
// 1280, 800 and 390 px wide (issue 15) and checks what is drawn, through
// ECharts' own model: the page is no wider than the window (no sideways
// scroll on a phone), the neuron trace's ticks and labels sit on the
// integer steps, no chart text is cut by its chart's edge ("thresh 2.05"
// whole), every legend swatch has its series' colour (dL/dd's two signs,
// thresholds after the steps), the diagram's "−1" does not overlap
// "Σ dL/dd", and the histogram's axis name overlaps no other text.
// Screenshots: artifacts/teach-{why,neuron,step}-{1280,800,390}.png and
// artifacts/page-390.png.
func TestTeachLayout(t *testing.T) {
	p := startPage(t, 12*time.Minute)
	ctx := p.ctx
	if err := chromedp.Do(ctx, chromedp.Navigate(p.srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitRun(t, ctx, 0, 3*time.Minute)
	waitTeach(t, ctx, "details", 0)
	// Two steps at the lr shown, for the steps' charts (the line search is
	// TestTeach's).
	evaluate[bool](t, ctx, `(() => { const s = document.querySelector('#step-search'); if (s) { s.checked = false; } document.querySelector('#step-n').value = '2'; document.querySelector('#step-go').click(); return true; })()`)
	waitTeach(t, ctx, "descents", 0)

	for _, w := range []int64{1280, 800, 390} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 900), chromedp.Sleep(800*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		l := evaluate[layout](t, ctx, layoutJS)
		if l.View != int(w) {
			t.Fatalf("the viewport is %d px wide, want %d", l.View, w)
		}
		if l.Doc > l.View {
			t.Errorf("%d px: the page is %d px wide, it scrolls sideways; past the edge: %s", w, l.Doc, strings.Join(l.Wide, ", "))
		}
		// The trace's steps: ticks and labels on the integers, every step labelled.
		for k, ax := range l.TraceTicks {
			labelled := map[float64]bool{}
			for _, tk := range ax {
				if tk.Value != math.Trunc(tk.Value) {
					t.Errorf("%d px: trace axis %d has a tick at %g", w, k, tk.Value)
				}
				if tk.Label != "" {
					if tk.Label != fmt.Sprint(tk.Value) {
						t.Errorf("%d px: trace axis %d labels %g %q", w, k, tk.Value, tk.Label)
					}
					labelled[tk.Value] = true
				}
			}
			for s := 1; s <= l.T; s++ {
				if !labelled[float64(s)] {
					t.Errorf("%d px: trace axis %d does not label step %d (ticks %v)", w, k, s, ax)
				}
			}
		}
		// No text cut by its chart's edge; the threshold's label whole.
		for id, texts := range l.Texts {
			for _, x := range texts {
				if x.Clipped {
					continue // a scrolling legend's item, shown by its arrows
				}
				if x.X < -1 || x.Y < -1 || x.X+x.W > x.CW+1 || x.Y+x.H > x.CH+1 {
					t.Errorf("%d px: %s: %q at [%.0f, %.0f]+[%.0f x %.0f] is cut by the %.0f x %.0f chart", w, id, x.Text, x.X, x.Y, x.W, x.H, x.CW, x.CH)
				}
			}
		}
		if !strings.HasPrefix(l.ThreshLabel, "thresh ") || strings.Contains(l.ThreshLabel, "…") || len(l.ThreshLabel) < len("thresh 1.0") {
			t.Errorf("%d px: the threshold's label is %q", w, l.ThreshLabel)
		}
		// Legend swatches: a series' legend colour is the colour of each of its bars or points.
		for id, series := range l.Legends {
			for _, s := range series {
				if len(s.Items) != 1 || s.Items[0] != s.Colour {
					t.Errorf("%d px: %s: the legend shows %q in %s, its items are drawn in %v", w, id, s.Name, s.Colour, s.Items)
				}
			}
		}
		for _, pair := range l.Overlaps {
			t.Errorf("%d px: %s", w, pair)
		}
		shotOf(t, p, "#teach-why", fmt.Sprintf("teach-why-%d.png", w))
		shotOf(t, p, "#teach-neuron", fmt.Sprintf("teach-neuron-%d.png", w))
		shotOf(t, p, "#teach-step", fmt.Sprintf("teach-step-%d.png", w))
		t.Logf("%d px: page %d px wide; trace ticks %v; threshold label %q", w, l.Doc, l.TraceTicks[0], l.ThreshLabel)
	}
	p.shot(t, "page-390.png")
	p.check(t)
}

type layout struct {
	View, Doc  int
	Wide       []string
	T          int
	TraceTicks [][]struct {
		Value float64
		Label string
	}
	Texts map[string][]struct {
		Text       string
		X, Y, W, H float64
		CW, CH     float64
		Clipped    bool
	}
	ThreshLabel string
	Legends     map[string][]struct {
		Name   string
		Colour string
		Items  []string
	}
	Overlaps []string
}

// layoutJS measures the page and the teaching charts as drawn.
const layoutJS = `(() => {
  const out = { view: window.innerWidth, doc: document.documentElement.scrollWidth, wide: [], texts: {}, legends: {}, overlaps: [] };
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > window.innerWidth + 0.5 && out.wide.length < 8) {
      out.wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') + ' right ' + Math.round(r.right));
    }
  }
  const inst = (id) => echarts.getInstanceByDom(document.getElementById(id));
  const tr = inst('chart-trace');
  const model = tr.getModel();
  out.t = window.spikegrad.teach.detail.trace.length;
  out.traceTicks = [0, 1].map((k) => {
    const ax = model.getComponent('xAxis', k).axis;
    const labels = new Map(ax.getViewLabels().map((l) => [l.tickValue, l.formattedLabel]));
    return ax.getTicksCoords().map((c) => ({ value: c.tickValue, label: labels.get(c.tickValue) || '' }));
  });
  const texts = (id) => {
    const c = inst(id);
    const zr = c.getZr();
    const W = zr.getWidth();
    const H = zr.getHeight();
    const list = [];
    for (const el of zr.storage.getDisplayList(true)) {
      // A text is drawn as its lines (zrender's TSpan), each in the list.
      if ((el.type !== 'tspan' && el.type !== 'text') || el.invisible || el.ignore || !el.style || !el.style.text) {
        continue;
      }
      const r = el.getBoundingRect().clone();
      const m = el.getComputedTransform();
      if (m) {
        r.applyTransform(m);
      }
      const clipped = !!(el.__clipPaths && el.__clipPaths.length);
      list.push({ text: String(el.style.text), x: r.x, y: r.y, w: r.width, h: r.height, cw: W, ch: H, clipped });
    }
    return list;
  };
  for (const id of ['chart-hist', 'chart-trace', 'chart-steps', 'chart-stepbars']) {
    out.texts[id] = texts(id);
  }
  const th = out.texts['chart-trace'].find((x) => x.text.startsWith('thresh'));
  out.threshLabel = th ? th.text : '';
  const hit = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  // Named texts that must stand clear of every other text of their chart.
  const clear = { 'chart-hist': [window.spikegrad.teach.detail && document.documentElement.lang === 'zh' ? '个数' : 'count'], 'chart-trace': ['thresh', 'step', 'mem', 'dL/dd'] };
  for (const [id, names] of Object.entries(clear)) {
    const ts = out.texts[id];
    for (const a of ts) {
      if (!names.some((n) => a.text === n || (n === 'thresh' && a.text.startsWith('thresh ')))) {
        continue;
      }
      for (const b of ts) {
        if (b !== a && !b.clipped && hit(a, b)) {
          out.overlaps.push(id + ': "' + a.text + '" overlaps "' + b.text + '"');
        }
      }
    }
  }
  for (const id of ['chart-trace', 'chart-stepbars']) {
    const c = inst(id);
    const names = new Set();
    c.getModel().getComponent('legend').getData().forEach((d) => names.add(d.get('name')));
    const series = [];
    c.getModel().eachSeries((s) => {
      if (!names.has(s.name)) {
        return;
      }
      const d = s.getData();
      const items = new Set();
      for (let i = 0; i < d.count(); i++) {
        const v = d.getItemVisual(i, 'style');
        if (v && v.fill) {
          items.add(v.fill);
        }
      }
      series.push({ name: s.name, colour: d.getVisual('style').fill, items: [...items] });
    });
    out.legends[id] = series;
  }
  // The diagram: "−1" clear of the sums' lines, every label inside its box.
  const svg = document.querySelector('#why-diagram svg');
  const sr = svg.getBoundingClientRect();
  const labels = [...svg.querySelectorAll('text')].map((e) => ({ text: e.textContent, r: e.getBoundingClientRect() }));
  const minus = labels.find((x) => x.text === '−1');
  for (const x of labels) {
    const r = x.r;
    if (r.left < sr.left - 0.5 || r.right > sr.right + 0.5 || r.top < sr.top - 0.5 || r.bottom > sr.bottom + 0.5) {
      out.overlaps.push('diagram: "' + x.text + '" is cut by its box');
    }
    if (x !== minus && minus && r.left < minus.r.right && minus.r.left < r.right && r.top < minus.r.bottom && minus.r.top < r.bottom) {
      out.overlaps.push('diagram: "−1" overlaps "' + x.text + '"');
    }
  }
  return out;
})()`
