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
