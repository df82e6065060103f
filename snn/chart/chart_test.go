package chart

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/spikegrad/spikegrad/snn"
)

func TestOptions(t *testing.T) {
	r := &snn.Result{T: 8, Layers: []snn.LayerResult{
		{Name: "layer1.2", Thresh: []float64{0.2}, Grad: []float64{-0.5}, FiringRate: 0.3,
			GradPaths: &snn.GradPaths{Crossing: []float64{-1}, Amplitude: []float64{0.25}, Reset: []float64{-0.25}, Init: []float64{0.5}}},
		{Name: "classifier.5", Thresh: []float64{0.4, 0.6}, Grad: []float64{0.1, 0.2}, FiringRate: 0.1,
			GradPaths: &snn.GradPaths{Crossing: []float64{0, 0}, Amplitude: []float64{0.1, 0.2}, Reset: []float64{0, 0}, Init: []float64{0, 0}}},
	}}
	o, err := Options(r, "zh")
	if err != nil {
		t.Fatal(err)
	}
	var grad struct {
		Title  struct{ Text string }
		XAxis  []struct{ Data []string }
		Series []struct {
			Data []struct {
				Value     float64
				ItemStyle struct{ Color string }
			}
		}
	}
	if err := json.Unmarshal(o["grad"], &grad); err != nil {
		t.Fatal(err)
	}
	if grad.Title.Text != Lang["zh"].Grad || len(grad.XAxis) != 1 || strings.Join(grad.XAxis[0].Data, ",") != "layer1.2,classifier.5" {
		t.Errorf("grad chart: %s", o["grad"])
	}
	d := grad.Series[0].Data
	// A negative gradient is drawn in the "raise" colour; a per-channel layer shows its summed gradient.
	if d[0].Value != -0.5 || d[0].ItemStyle.Color != Negative || d[1].ItemStyle.Color != Positive || d[1].Value < 0.3-1e-12 || d[1].Value > 0.3+1e-12 {
		t.Errorf("grad bars: %+v", d)
	}
	var paths struct {
		Series []struct{ Name, Stack string }
	}
	if err := json.Unmarshal(o["paths"], &paths); err != nil {
		t.Fatal(err)
	}
	if len(paths.Series) != 4 || paths.Series[0].Name != "穿越" || paths.Series[3].Stack != "paths" {
		t.Errorf("paths chart: %s", o["paths"])
	}
	r.T = 0
	if o, _ := Options(r, "en"); o["paths"] != nil || o["thresh"] == nil || o["rate"] == nil {
		t.Errorf("ANN mode: charts %v", len(o))
	}
	if _, err := Options(r, "fr"); err == nil {
		t.Error("unknown language accepted")
	}
}

// TestSpreadWhiskers: with a spread, the gradient chart draws each layer's
// range as a boxplot whisker [lo, g, g, g, hi] over the bars, and a layer
// whose summed gradient changed sign between the runs is pale, outlined and
// marked "?", with the reason in its tooltip; a stable one is drawn as usual.
func TestSpreadWhiskers(t *testing.T) {
	r := &snn.Result{T: 8, SpreadRuns: 3, Layers: []snn.LayerResult{
		{Name: "a<b>", Thresh: []float64{1}, Grad: []float64{0.5}, GradRuns: [][]float64{{0.5}, {0.4}, {0.7}}},
		{Name: "c", Thresh: []float64{1, 1}, Grad: []float64{0.1, -0.05}, GradRuns: [][]float64{{0.1, -0.05}, {-0.1, 0}, {0.2, 0}}},
	}}
	o, err := Options(r, "en")
	if err != nil {
		t.Fatal(err)
	}
	var grad struct {
		Title  struct{ Subtext string }
		Series []struct {
			Type string
			Data []struct {
				Value     json.RawMessage
				ItemStyle struct {
					Color   string
					Opacity float64
				}
				Label   *struct{ Formatter string }
				Tooltip struct{ Formatter string }
			}
		}
	}
	if err := json.Unmarshal(o["grad"], &grad); err != nil {
		t.Fatal(err)
	}
	if len(grad.Series) != 2 || grad.Series[1].Type != "boxplot" {
		t.Fatalf("grad chart series: %s", o["grad"])
	}
	var box [][]float64
	for _, d := range grad.Series[1].Data {
		var v []float64
		if err := json.Unmarshal(d.Value, &v); err != nil {
			t.Fatal(err)
		}
		box = append(box, v)
	}
	want := [][]float64{{0.4, 0.5, 0.5, 0.5, 0.7}, {-0.1, 0.05, 0.05, 0.05, 0.2}}
	for i := range want {
		for k := range want[i] {
			if d := box[i][k] - want[i][k]; d > 1e-12 || d < -1e-12 {
				t.Fatalf("whisker %d: %v, want %v", i, box[i], want[i])
			}
		}
	}
	bars := grad.Series[0].Data
	if bars[0].Label != nil || bars[0].ItemStyle.Opacity != 0 {
		t.Errorf("a stable layer is marked: %+v", bars[0])
	}
	if bars[1].Label == nil || bars[1].Label.Formatter != "?" || bars[1].ItemStyle.Opacity == 0 || !strings.Contains(bars[1].Tooltip.Formatter, Lang["en"].Unstable) {
		t.Errorf("an unstable layer is not marked: %+v", bars[1])
	}
	if !strings.Contains(bars[0].Tooltip.Formatter, "a&lt;b&gt;") {
		t.Errorf("the layer name is not escaped in its tooltip: %q", bars[0].Tooltip.Formatter)
	}
	if !strings.Contains(grad.Title.Subtext, "3 runs") {
		t.Errorf("the chart does not say what the whiskers are: %q", grad.Title.Subtext)
	}
}

// TestSymlog: the symlog transform round-trips, keeps the sign, is one unit
// a decade above its threshold, and SymlogBase asks for it only where the
// magnitudes span more than Decades decades.
func TestSymlog(t *testing.T) {
	for _, c := range []float64{1e-5, 1e-3, 1} {
		for _, v := range []float64{0, 1e-9, -3e-6, 1e-5, -1e-5, 2.5e-4, -0.05, 7, -123.4} {
			y := Symlog(v, c)
			if (y < 0) != (v < 0) || (y > 0) != (v > 0) {
				t.Errorf("Symlog(%g, %g) = %g: sign lost", v, c, y)
			}
			if back := SymlogInv(y, c); math.Abs(back-v) > 1e-12*math.Max(1, math.Abs(v)) {
				t.Errorf("SymlogInv(Symlog(%g, %g)) = %g", v, c, back)
			}
		}
	}
	if d := Symlog(1e-2, 1e-5) - Symlog(1e-3, 1e-5); math.Abs(d-1) > 1e-12 {
		t.Errorf("a decade is %g units, want 1", d)
	}
	// The user's VGG16 printout: 1e-5 .. 5e-2, both signs.
	c, wide := SymlogBase([]float64{1.2e-5, -3e-4, 0, 5e-2, -2e-3})
	if !wide || c != 1e-5 {
		t.Errorf("SymlogBase(1.2e-5 .. 5e-2) = %g, %v; want 1e-5, true", c, wide)
	}
	if _, wide := SymlogBase([]float64{0.5, -0.01, 0.2}); wide {
		t.Error("two decades call for a symlog axis")
	}
}

// wideResult is n layers whose gradients span 1e-5 .. 5e-2, both signs.
func wideResult(n int) *snn.Result {
	r := &snn.Result{T: 8, L: 4, Gamma: 1}
	for i := range n {
		g := 1.2e-5 * math.Pow(5e-2/1.2e-5, float64(i)/float64(n-1))
		if i%3 == 1 {
			g = -g
		}
		r.Layers = append(r.Layers, snn.LayerResult{Name: fmt.Sprintf("layer%d.residual_function.%d", i/4, i%4), Thresh: []float64{1}, Grad: []float64{g},
			GradPaths: &snn.GradPaths{Crossing: []float64{g * 2}, Amplitude: []float64{-g}, Reset: []float64{g / 1000}, Init: []float64{0}}})
	}
	return r
}

type gradChart struct {
	XAxis, YAxis []struct {
		Type     string
		Data     []string
		Inverse  bool
		Min, Max float64
	}
	Tooltip struct{ Trigger string }
	Series  []struct {
		Type, Stack string
		Data        []struct {
			Value json.RawMessage
			Label *struct{ Formatter, Position string }
		}
	}
	Spikegrad Extra
}

// TestScaleAndLayout: on gradients spanning 1e-5..5e-2 the gradient and
// path charts are symlog by default (every bar at least one unit of an axis
// of a few units, its tooltip in the original value), linear on request;
// the tooltip is the whole layer's (axis); above Horizontal layers the bars
// lie in rows, first at the top, with a row's height each.
func TestScaleAndLayout(t *testing.T) {
	for _, n := range []int{13, Horizontal, Horizontal + 1, 33} {
		r := wideResult(n)
		o, err := Options(r, "en")
		if err != nil {
			t.Fatal(err)
		}
		var g gradChart
		if err := json.Unmarshal(o["grad"], &g); err != nil {
			t.Fatal(err)
		}
		cat, val := g.XAxis, g.YAxis
		if n > Horizontal {
			cat, val = g.YAxis, g.XAxis
		}
		if g.Spikegrad.Horizontal != (n > Horizontal) || cat[0].Type != "category" || len(cat[0].Data) != n || cat[0].Inverse != (n > Horizontal) {
			t.Errorf("%d layers: horizontal %v, category axis %+v", n, g.Spikegrad.Horizontal, cat)
		}
		if n > Horizontal && g.Spikegrad.Height < RowHeight*n {
			t.Errorf("%d layers: height %d", n, g.Spikegrad.Height)
		}
		if g.Tooltip.Trigger != "axis" || len(g.Spikegrad.Tips) != n {
			t.Errorf("%d layers: tooltip %+v, %d tips", n, g.Tooltip, len(g.Spikegrad.Tips))
		}
		c := g.Spikegrad.Symlog
		if c != 1e-5 {
			t.Fatalf("%d layers: symlog threshold %g, want 1e-5", n, c)
		}
		for i, d := range g.Series[0].Data {
			var v float64
			json.Unmarshal(d.Value, &v)
			want := sum(r.Layers[i].Grad)
			if math.Abs(v) < 1 || (v < 0) != (want < 0) || math.Abs(SymlogInv(v, c)-want) > 1e-15 {
				t.Errorf("%d layers: bar %d at %g, for %g", n, i, v, want)
			}
			if !strings.Contains(g.Spikegrad.Tips[i], fmt.Sprintf("%.6g", want)) {
				t.Errorf("tip %d: %q", i, g.Spikegrad.Tips[i])
			}
		}
		if val[0].Max-val[0].Min > 12 {
			t.Errorf("axis %g..%g units: the smallest bar would be thin", val[0].Min, val[0].Max)
		}
		var p gradChart
		json.Unmarshal(o["paths"], &p)
		if p.Spikegrad.Symlog == 0 || len(p.Series) != 4 || p.Series[0].Stack != "" {
			t.Errorf("paths on symlog: %+v", p.Series)
		}
	}
	o, err := OptionsScale(wideResult(8), "en", "linear")
	if err != nil {
		t.Fatal(err)
	}
	var g, p gradChart
	json.Unmarshal(o["grad"], &g)
	json.Unmarshal(o["paths"], &p)
	var v float64
	json.Unmarshal(g.Series[0].Data[7].Value, &v)
	if g.Spikegrad.Symlog != 0 || v != sum(wideResult(8).Layers[7].Grad) || p.Series[0].Stack != "paths" {
		t.Errorf("linear on request: symlog %g, bar %g, stack %q", g.Spikegrad.Symlog, v, p.Series[0].Stack)
	}
	if _, err := OptionsScale(wideResult(8), "en", "log2"); err == nil {
		t.Error("an unknown scale is taken")
	}
}

// TestSpreadSymlog: the whiskers and the "?" of an unstable sign are kept on
// a symlog axis and in rows: the whisker's ends are the range transformed.
func TestSpreadSymlog(t *testing.T) {
	r := wideResult(24)
	r.SpreadRuns = 2
	for i := range r.Layers {
		g := r.Layers[i].Grad[0]
		r.Layers[i].GradRuns = [][]float64{{g}, {g * 1.5}}
	}
	r.Layers[3].GradRuns[1][0] = -r.Layers[3].Grad[0]
	o, err := Options(r, "en")
	if err != nil {
		t.Fatal(err)
	}
	var g gradChart
	json.Unmarshal(o["grad"], &g)
	if len(g.Series) != 2 || g.Series[1].Type != "boxplot" || len(g.Series[1].Data) != 24 {
		t.Fatalf("whiskers lost: %d series", len(g.Series))
	}
	c := g.Spikegrad.Symlog
	for i, d := range g.Series[1].Data {
		var box []float64
		json.Unmarshal(d.Value, &box)
		lo, hi, _, _ := Spread(r.Layers[i])
		if math.Abs(SymlogInv(box[0], c)-lo) > 1e-15 || math.Abs(SymlogInv(box[4], c)-hi) > 1e-15 {
			t.Errorf("whisker %d: %v for %g..%g", i, box, lo, hi)
		}
	}
	for i, d := range g.Series[0].Data {
		if (d.Label != nil) != (i == 3) {
			t.Errorf("bar %d: label %+v", i, d.Label)
		}
	}
	if l := g.Series[0].Data[3].Label; l.Formatter != "?" || l.Position != "right" || !strings.Contains(g.Spikegrad.Tips[3], Lang["en"].Unstable) {
		t.Errorf("the unstable layer in rows: %+v, %q", l, g.Spikegrad.Tips[3])
	}
}

// TestCurveChart: a result with a conversion curve has a curve chart, the
// run's T marked.
func TestCurveChart(t *testing.T) {
	r := wideResult(5)
	for k := 1; k <= 16; k++ {
		r.Curve = append(r.Curve, snn.CurvePoint{T: k, Loss: 1 / float64(k), Accuracy: 1 - 1/float64(k+1)})
	}
	o, err := Options(r, "zh")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		XAxis  []struct{ Data []string }
		Series []struct {
			Name     string
			Data     []float64
			MarkLine struct{ Data []struct{ XAxis string } }
		}
	}
	if err := json.Unmarshal(o["curve"], &c); err != nil {
		t.Fatal(err)
	}
	if len(c.XAxis[0].Data) != 16 || len(c.Series) != 2 || len(c.Series[0].Data) != 16 || c.Series[1].Name != Lang["zh"].Loss ||
		len(c.Series[0].MarkLine.Data) != 1 || c.Series[0].MarkLine.Data[0].XAxis != "8" {
		t.Errorf("curve chart: %s", o["curve"])
	}
	r.Curve = nil
	if o, _ := Options(r, "en"); o["curve"] != nil {
		t.Error("a curve chart without a curve")
	}
}
