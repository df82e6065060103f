// Package chart builds the ECharts options of a run's bars with go-echarts:
// one source for the page (through wasm) and the CLI's HTML report.
package chart

import (
	"encoding/json"
	"fmt"

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

// PathColors are the four paths' colours, in snn.GradPaths order.
var PathColors = [4]string{"#e67e22", "#27ae60", "#8e44ad", "#7f8c8d"}

// Words are a chart language's labels.
type Words struct {
	Thresh, Grad, Paths, Rate string
	PathNames                 [4]string
	Lower, Raise              string
}

// Lang holds the labels per language.
var Lang = map[string]Words{
	"en": {
		Thresh: "Threshold per IF layer", Grad: "dL/dthresh per IF layer",
		Paths: "dL/dthresh by path", Rate: "Firing rate per IF layer",
		PathNames: [4]string{"crossing", "amplitude", "reset", "init"},
		Lower:     "descent lowers the threshold", Raise: "descent raises the threshold",
	},
	"zh": {
		Thresh: "各IF层阈值", Grad: "各IF层阈值梯度 dL/dthresh",
		Paths: "阈值梯度按路径分解", Rate: "各IF层发放率",
		PathNames: [4]string{"穿越", "幅值", "重置", "初始"},
		Lower:     "梯度下降会降低阈值", Raise: "梯度下降会提高阈值",
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
	for i, l := range r.Layers {
		names[i] = l.Name
		th[i] = opts.BarData{Value: mean(l.Thresh)}
		g := sum(l.Grad)
		c, tip := Positive, w.Lower
		if g < 0 {
			c, tip = Negative, w.Raise
		}
		gr[i] = opts.BarData{Value: g, ItemStyle: &opts.ItemStyle{Color: c},
			Tooltip: &opts.Tooltip{Formatter: types.FuncStr(fmt.Sprintf("%s<br/>%.6g<br/>%s", l.Name, g, tip))}}
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

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

func mean(v []float64) float64 { return sum(v) / float64(len(v)) }
