package chart

import (
	"encoding/json"
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
