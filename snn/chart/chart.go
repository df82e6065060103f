// Package chart builds the ECharts options of a run's bars with go-echarts:
// one source for the page (through wasm) and the CLI's HTML report.
package chart

import (
	"encoding/json"
	"fmt"
	"html"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/types"

	"github.com/spikegrad/spikegrad/snn"
)

// Colours: a positive gradient means descent lowers the threshold, a negative
// one raises it.
const (
	Positive = "#d9534f"
	Negative = "#337ab7"
)

// Unstable outlines and marks a gradient whose sign changed between the
// runs of a spread.
const Unstable = "#222222"

// PathColors are the four paths' colours, in snn.GradPaths order.
var PathColors = [4]string{"#e67e22", "#27ae60", "#8e44ad", "#7f8c8d"}

// Words are a chart language's labels.
type Words struct {
	Thresh, Grad, Paths, Rate string
	PathNames                 [4]string
	Lower, Raise              string
	// The sign-robustness readout (a run with Options.Spread).
	Range, Unstable, Spread string
}

// Lang holds the labels per language.
var Lang = map[string]Words{
	"en": {
		Thresh: "Threshold per IF layer", Grad: "dL/dthresh per IF layer",
		Paths: "dL/dthresh by path", Rate: "Firing rate per IF layer",
		PathNames: [4]string{"crossing", "amplitude", "reset", "init"},
		Lower:     "descent lowers the threshold", Raise: "descent raises the threshold",
		Range: "range over the runs", Unstable: "sign not robust: it changed between runs",
		Spread: "whiskers: the range over %d runs whose weights differ by at most one float32 ulp; " +
			"pale bars marked ?: the sign changed between them, so float32 cannot tell it (float64 can)",
	},
	"zh": {
		Thresh: "各IF层阈值", Grad: "各IF层阈值梯度 dL/dthresh",
		Paths: "阈值梯度按路径分解", Rate: "各IF层发放率",
		PathNames: [4]string{"穿越", "幅值", "重置", "初始"},
		Lower:     "梯度下降会降低阈值", Raise: "梯度下降会提高阈值",
		Range: "各次运行的范围", Unstable: "符号不稳健: 各次运行符号不同",
		Spread: "须线: 权重各相差不超过一个 float32 ulp 的 %d 次运行的范围; 标 ? 的浅色柱: 其间符号改变, float32 无法确定 (float64 可以)",
	},
}

// Options returns the options of the four charts, keyed thresh, grad, paths
// and rate, as JSON objects for echarts.setOption. A layer with a
// per-channel threshold shows the mean threshold and the summed gradient.
func Options(r *snn.Result, lang string) (map[string]json.RawMessage, error) {
	w, ok := Lang[lang]
	if !ok {
		return nil, fmt.Errorf("unknown language %q", lang)
	}
	names := make([]string, len(r.Layers))
	th := make([]opts.BarData, len(r.Layers))
	gr := make([]opts.BarData, len(r.Layers))
	rate := make([]opts.BarData, len(r.Layers))
	var paths [4][]opts.BarData
	var whiskers []opts.BoxPlotData
	for i, l := range r.Layers {
		names[i] = l.Name
		th[i] = opts.BarData{Value: mean(l.Thresh)}
		g := sum(l.Grad)
		c, tip := Positive, w.Lower
		if g < 0 {
			c, tip = Negative, w.Raise
		}
		tip = fmt.Sprintf("%s<br/>%.6g<br/>%s", html.EscapeString(l.Name), g, tip)
		gr[i] = opts.BarData{Value: g, ItemStyle: &opts.ItemStyle{Color: c}}
		if lo, hi, stable, ok := Spread(l); ok {
			whiskers = append(whiskers, opts.BoxPlotData{Value: []float64{lo, g, g, g, hi}})
			tip += fmt.Sprintf("<br/>%s: %.6g .. %.6g", w.Range, lo, hi)
			if !stable {
				// Pale, outlined and marked "?": the sign is not known.
				tip += "<br/><b>" + w.Unstable + "</b>"
				gr[i].ItemStyle = &opts.ItemStyle{Color: c, Opacity: opts.Float(0.35), BorderColor: Unstable, BorderWidth: 2}
				gr[i].Label = &opts.Label{Show: opts.Bool(true), Position: "top", Formatter: "?", Color: Unstable, FontWeight: "bold"}
			}
		}
		gr[i].Tooltip = &opts.Tooltip{Formatter: types.FuncStr(tip)}
		rate[i] = opts.BarData{Value: l.FiringRate}
		if p := l.GradPaths; p != nil {
			for k, v := range [4][]float64{p.Crossing, p.Amplitude, p.Reset, p.Init} {
				paths[k] = append(paths[k], opts.BarData{Value: sum(v)})
			}
		}
	}
	out := map[string]json.RawMessage{}
	add := func(key string, b *charts.Bar) error {
		b.Validate()
		j, err := json.Marshal(b.JSON())
		if err != nil {
			return err
		}
		out[key] = j
		return nil
	}
	bar := func(title string) *charts.Bar {
		b := charts.NewBar()
		b.SetGlobalOptions(
			charts.WithTitleOpts(opts.Title{Title: title}),
			charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
			charts.WithXAxisOpts(opts.XAxis{AxisLabel: &opts.AxisLabel{Rotate: 45, Interval: "0"}}),
			charts.WithGridOpts(opts.Grid{Bottom: "90"}),
			charts.WithAnimation(false),
		)
		b.SetXAxis(names)
		return b
	}
	b := bar(w.Thresh)
	b.AddSeries("thresh", th)
	if err := add("thresh", b); err != nil {
		return nil, err
	}
	b = bar(w.Grad)
	b.SetGlobalOptions(charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}))
	b.AddSeries("grad", gr)
	if len(whiskers) == len(r.Layers) && len(whiskers) > 0 {
		b.SetGlobalOptions(charts.WithTitleOpts(opts.Title{Title: w.Grad, Subtitle: fmt.Sprintf(w.Spread, r.SpreadRuns),
			SubtitleStyle: &opts.TextStyle{FontSize: 11, Width: 520, Overflow: "break"}}),
			charts.WithGridOpts(opts.Grid{Top: "80", Bottom: "90"}))
		bp := charts.NewBoxPlot()
		bp.AddSeries("range", whiskers, charts.WithItemStyleOpts(opts.ItemStyle{Color: "transparent", BorderColor: "#222", BorderWidth: 1.5}))
		b.Overlap(bp)
	}
	if err := add("grad", b); err != nil {
		return nil, err
	}
	if r.T > 0 {
		b = bar(w.Paths)
		b.SetGlobalOptions(charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "30"}))
		for k := range paths {
			b.AddSeries(w.PathNames[k], paths[k], charts.WithBarChartOpts(opts.BarChart{Stack: "paths"}),
				charts.WithItemStyleOpts(opts.ItemStyle{Color: PathColors[k]}))
		}
		if err := add("paths", b); err != nil {
			return nil, err
		}
	}
	b = bar(w.Rate)
	b.AddSeries("rate", rate)
	if err := add("rate", b); err != nil {
		return nil, err
	}
	return out, nil
}

// Spread is a layer's range of the (summed) gradient over a spread's runs
// and whether its sign held in every one; ok is false without a spread.
func Spread(l snn.LayerResult) (lo, hi float64, stable, ok bool) {
	if len(l.GradRuns) == 0 {
		return 0, 0, false, false
	}
	first := sum(l.GradRuns[0])
	lo, hi, stable = first, first, true
	for _, g := range l.GradRuns[1:] {
		v := sum(g)
		lo, hi = min(lo, v), max(hi, v)
		if (v > 0) != (first > 0) || (v < 0) != (first < 0) {
			stable = false
		}
	}
	return lo, hi, stable, true
}

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

func mean(v []float64) float64 { return sum(v) / float64(len(v)) }
