package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/spikegrad/spikegrad/snn"
)

// TestReportEscapes: a layer name that is HTML reaches the -html report only
// escaped: in the table, in the charts' options and in their tooltips.
func TestReportEscapes(t *testing.T) {
	const name = `<img src=x onerror=alert(1)>`
	r := &snn.Result{T: 8, L: 4, Gamma: 1, N: 1, Layers: []snn.LayerResult{{
		Name: name, Thresh: []float64{1}, Grad: []float64{-0.5}, FiringRate: 0.1,
		GradPaths: &snn.GradPaths{Crossing: []float64{-1}, Amplitude: []float64{0.25}, Reset: []float64{0.5}, Init: []float64{-0.25}},
	}}}
	var b bytes.Buffer
	if err := writeReport(&b, r, "a<b>.pth", "d&.bin", "en", []byte("/* echarts */")); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "<img") || strings.Contains(out, "<b>.pth") {
		t.Errorf("the report holds a name unescaped: %s", out)
	}
	if !strings.Contains(out, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Errorf("the table does not show the layer's name escaped")
	}
	// The charts' options: a tooltip's formatter is HTML, so the name in it
	// must be escaped (the axes' names are drawn as text).
	_, rest, _ := strings.Cut(out, "const opts = ")
	js, _, _ := strings.Cut(rest, ";\nfor")
	var opts any
	if err := json.Unmarshal([]byte(js), &opts); err != nil {
		t.Fatalf("the report's options: %v", err)
	}
	formatters := 0
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(k, x)
			}
		case []any:
			for _, x := range v {
				walk(key, x)
			}
		case string:
			if key == "formatter" && strings.Contains(v, "onerror") {
				formatters++
				if strings.Contains(v, "<img") {
					t.Errorf("a tooltip's formatter holds the name unescaped: %q", v)
				}
			}
		}
	}
	walk("", opts)
	if formatters == 0 {
		t.Errorf("no tooltip names the layer")
	}
}
