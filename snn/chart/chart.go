// Package chart builds the ECharts options of a run's bars with go-echarts:
// one source for the page (through wasm) and the CLI's HTML report.
package chart

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

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
	// The symlog axis's name (%s: the linear threshold) and the
	// conversion curve's title, series and run's-T mark (%d).
	Symlog, Curve, Accuracy, Loss, ThisT string
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
		Symlog: "symlog scale: linear below %s", Curve: "Accuracy and loss against T (one forward run)",
		Accuracy: "accuracy", Loss: "loss", ThisT: "T=%d (this run)",
	},
	"zh": {
		Thresh: "各IF层阈值", Grad: "各IF层阈值梯度 dL/dthresh",
		Paths: "阈值梯度按路径分解", Rate: "各IF层发放率",
		PathNames: [4]string{"穿越", "幅值", "重置", "初始"},
		Lower:     "梯度下降会降低阈值", Raise: "梯度下降会提高阈值",
		Range: "各次运行的范围", Unstable: "符号不稳健: 各次运行符号不同",
		Spread: "须线: 权重各相差不超过一个 float32 ulp 的 %d 次运行的范围; 标 ? 的浅色柱: 其间符号改变, float32 无法确定 (float64 可以)",
		Symlog: "对称对数刻度: %s 以下为线性", Curve: "准确率与损失随 T 的变化 (一次前向)",
		Accuracy: "准确率", Loss: "损失", ThisT: "T=%d (本次运行)",
	},
}

// Horizontal is the layer count above which the bars lie horizontally, a
// row a layer, so that every layer's name is written out in full.
const Horizontal = 20

// Decades: gradients whose nonzero magnitudes span more than this many
// decades are drawn on a symlog axis (Scale "auto"), where a linear one
// would leave the small ones a pixel or none.
const Decades = 2

// RowHeight is a horizontal chart's pixels per layer.
const RowHeight = 18

// Extra is what a chart's options carry under the key "spikegrad" for the
// script that draws them (the page's charts.js, the -html report's), which
// takes it out before echarts.setOption: what JSON cannot say as functions.
type Extra struct {
	// Symlog, when not 0, is the value axis's linear threshold c: the
	// values drawn are Symlog(v, c), its labels SymlogInv of their place.
	Symlog float64 `json:"symlog,omitempty"`
	// Horizontal: the layers are rows (the category axis is y, first at
	// the top), Height the pixels the chart wants then.
	Horizontal bool `json:"horizontal,omitempty"`
	Height     int  `json:"height,omitempty"`
	// Tips is the tooltip's HTML per layer, in the original units: the
	// tooltip is on the whole layer (axis pointer), not only on a bar.
	Tips []string `json:"tips,omitempty"`
}

// SymlogBase says whether values spanning their nonzero magnitudes call for
// a symlog axis (more than Decades decades) and its linear threshold c: the
// power of ten at or below the smallest nonzero |v|, so that the smallest
// bar is at least one unit (a decade's height) long.
func SymlogBase(vals []float64) (c float64, wide bool) {
	lo, hi := math.Inf(1), 0.0
	for _, v := range vals {
		if a := math.Abs(v); a > 0 && !math.IsInf(a, 0) && !math.IsNaN(a) {
			lo, hi = min(lo, a), max(hi, a)
		}
	}
	if hi == 0 {
		return 0, false
	}
	return math.Pow(10, math.Floor(math.Log10(lo))), hi/lo > math.Pow(10, Decades)
}

// Symlog is v on a symlog axis of linear threshold c: linear in (-c, c)
// (|v|/c, below one unit), then one unit a decade, the sign kept.
func Symlog(v, c float64) float64 {
	a := math.Abs(v)
	y := a / c
	if a > c {
		y = 1 + math.Log10(a/c)
	}
	return math.Copysign(y, v)
}

// SymlogInv is the value at place y of a symlog axis of linear threshold c.
func SymlogInv(y, c float64) float64 {
	a := math.Abs(y)
	v := a * c
	if a > 1 {
		v = c * math.Pow(10, a-1)
	}
	return math.Copysign(v, y)
}

// Options returns the options of the charts, keyed thresh, grad, paths,
// rate and (when the result has a conversion curve) curve, as JSON objects
// for echarts.setOption, the gradients' scale chosen by their span.
func Options(r *snn.Result, lang string) (map[string]json.RawMessage, error) {
	return OptionsScale(r, lang, "auto")
}

// OptionsScale is Options with the gradient and path charts' scale: "auto"
// (symlog where the gradients span more than Decades decades), "symlog" or
// "linear". A layer with a per-channel threshold shows the mean threshold
// and the summed gradient. With more than Horizontal layers the bars lie
// horizontally. On a symlog axis the paths are drawn side by side, not
// stacked (a sum of logarithms is not the logarithm of a sum).
func OptionsScale(r *snn.Result, lang, scale string) (map[string]json.RawMessage, error) {
	w, ok := Lang[lang]
	if !ok {
		return nil, fmt.Errorf("unknown language %q", lang)
	}
	if scale != "auto" && scale != "symlog" && scale != "linear" {
		return nil, fmt.Errorf("unknown scale %q: want auto, symlog or linear", scale)
	}
	n := len(r.Layers)
	horizontal := n > Horizontal
	names := make([]string, n)
	th := make([]opts.BarData, n)
	gr := make([]opts.BarData, n)
	rate := make([]opts.BarData, n)
	grads := make([]float64, n)
	var pathVals [4][]float64
	gradTips := make([]string, n)
	pathTips := make([]string, n)
	for i, l := range r.Layers {
		names[i] = l.Name
		grads[i] = sum(l.Grad)
		if p := l.GradPaths; p != nil {
			for k, v := range [4][]float64{p.Crossing, p.Amplitude, p.Reset, p.Init} {
				pathVals[k] = append(pathVals[k], sum(v))
			}
		}
	}
	gc := symlogOf(scale, grads)
	var whiskers []opts.BoxPlotData
	for i, l := range r.Layers {
		th[i] = opts.BarData{Value: mean(l.Thresh)}
		g := grads[i]
		c, tip := Positive, w.Lower
		if g < 0 {
			c, tip = Negative, w.Raise
		}
		tip = fmt.Sprintf("%s<br/>%s: %.6g<br/>%s", html.EscapeString(l.Name), w.Grad, g, tip)
		gr[i] = opts.BarData{Value: scaled(g, gc), ItemStyle: &opts.ItemStyle{Color: c}}
		if lo, hi, stable, ok := Spread(l); ok {
			whiskers = append(whiskers, opts.BoxPlotData{Value: []float64{scaled(lo, gc), scaled(g, gc), scaled(g, gc), scaled(g, gc), scaled(hi, gc)}})
			tip += fmt.Sprintf("<br/>%s: %.6g .. %.6g", w.Range, lo, hi)
			if !stable {
				// Pale, outlined and marked "?": the sign is not known.
				tip += "<br/><b>" + w.Unstable + "</b>"
				pos := "top"
				if horizontal {
					pos = "right"
				}
				gr[i].ItemStyle = &opts.ItemStyle{Color: c, Opacity: opts.Float(0.35), BorderColor: Unstable, BorderWidth: 2}
				gr[i].Label = &opts.Label{Show: opts.Bool(true), Position: pos, Formatter: "?", Color: Unstable, FontWeight: "bold"}
			}
		}
		gr[i].Tooltip = &opts.Tooltip{Formatter: types.FuncStr(tip)}
		gradTips[i] = tip
		rate[i] = opts.BarData{Value: l.FiringRate}
	}
	out := map[string]json.RawMessage{}
	add := func(key string, b *charts.Bar, x Extra) error {
		b.Validate()
		j, err := json.Marshal(b.JSON())
		if err != nil {
			return err
		}
		x.Horizontal = horizontal
		if horizontal {
			x.Height = 110 + RowHeight*n
		}
		if out[key], err = layout(j, x, w); err != nil {
			return err
		}
		return nil
	}
	bar := func(title string) *charts.Bar {
		b := charts.NewBar()
		b.SetGlobalOptions(
			charts.WithTitleOpts(opts.Title{Title: title}),
			charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
			charts.WithAnimation(false),
		)
		b.SetXAxis(names)
		return b
	}
	b := bar(w.Thresh)
	b.AddSeries("thresh", th)
	if err := add("thresh", b, Extra{}); err != nil {
		return nil, err
	}
	b = bar(w.Grad)
	b.AddSeries("grad", gr)
	if len(whiskers) == n && n > 0 {
		b.SetGlobalOptions(charts.WithTitleOpts(opts.Title{Title: w.Grad, Subtitle: fmt.Sprintf(w.Spread, r.SpreadRuns),
			SubtitleStyle: &opts.TextStyle{FontSize: 11, Width: 520, Overflow: "break"}}))
		bp := charts.NewBoxPlot()
		bp.AddSeries("range", whiskers, charts.WithItemStyleOpts(opts.ItemStyle{Color: "transparent", BorderColor: "#222", BorderWidth: 1.5}))
		b.Overlap(bp)
	}
	if err := add("grad", b, Extra{Symlog: gc, Tips: gradTips}); err != nil {
		return nil, err
	}
	if r.T > 0 && len(pathVals[0]) == n {
		b = bar(w.Paths)
		b.SetGlobalOptions(charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "30"}))
		pc := symlogOf(scale, append(append(append(append([]float64{}, pathVals[0]...), pathVals[1]...), pathVals[2]...), pathVals[3]...))
		for i := range r.Layers {
			pathTips[i] = html.EscapeString(names[i])
			for k := range pathVals {
				pathTips[i] += fmt.Sprintf("<br/>%s: %.6g", w.PathNames[k], pathVals[k][i])
			}
			pathTips[i] += fmt.Sprintf("<br/>%s: %.6g", w.Grad, grads[i])
		}
		for k := range pathVals {
			d := make([]opts.BarData, n)
			for i, v := range pathVals[k] {
				d[i] = opts.BarData{Value: scaled(v, pc)}
			}
			var so []charts.SeriesOpts
			if pc == 0 {
				so = append(so, charts.WithBarChartOpts(opts.BarChart{Stack: "paths"}))
			}
			so = append(so, charts.WithItemStyleOpts(opts.ItemStyle{Color: PathColors[k]}))
			b.AddSeries(w.PathNames[k], d, so...)
		}
		if err := add("paths", b, Extra{Symlog: pc, Tips: pathTips}); err != nil {
			return nil, err
		}
	}
	b = bar(w.Rate)
	b.AddSeries("rate", rate)
	if err := add("rate", b, Extra{}); err != nil {
		return nil, err
	}
	if len(r.Curve) > 0 {
		j, err := json.Marshal(CurveOptions(r.Curve, r.T, w))
		if err != nil {
			return nil, err
		}
		out["curve"] = j
	}
	return out, nil
}

// symlogOf is the symlog threshold the scale asks for vals (0: linear).
func symlogOf(scale string, vals []float64) float64 {
	c, wide := SymlogBase(vals)
	if scale == "linear" || (scale == "auto" && !wide) {
		return 0
	}
	return c
}

func scaled(v, c float64) float64 {
	if c == 0 {
		return v
	}
	return Symlog(v, c)
}

// layout adds to a bar chart's options what go-echarts does not say: room
// for every name (rotated, or rows when horizontal, the first at the top),
// the tooltip on the whole layer, the symlog axis's ticks a decade apart
// and its name, and x under "spikegrad".
func layout(j json.RawMessage, x Extra, w Words) (json.RawMessage, error) {
	var o map[string]any
	if err := json.Unmarshal(j, &o); err != nil {
		return nil, err
	}
	top := 60
	if t, _ := o["title"].(map[string]any); t != nil && t["subtext"] != nil {
		top = 84
	}
	if l, _ := o["legend"].(map[string]any); l != nil && l["show"] == true {
		top += 24
	} else {
		o["legend"] = map[string]any{"show": false} // one series: its name says nothing
	}
	o["grid"] = []any{map[string]any{"left": 16, "right": 32, "top": top, "bottom": 12, "containLabel": true}}
	o["tooltip"] = map[string]any{"show": true, "trigger": "axis", "axisPointer": map[string]any{"type": "shadow"}, "confine": true}
	cat, _ := o["xAxis"].([]any)
	if len(cat) == 0 {
		cat = []any{map[string]any{}}
	}
	ca, _ := cat[0].(map[string]any)
	ca["type"] = "category"
	va := map[string]any{"type": "value"}
	if x.Symlog > 0 {
		lo, hi := 0.0, 0.0
		for _, s := range o["series"].([]any) {
			for _, d := range s.(map[string]any)["data"].([]any) {
				var vs []any
				switch v := d.(map[string]any)["value"].(type) {
				case []any:
					vs = v
				default:
					vs = []any{v}
				}
				for _, v := range vs {
					if f, ok := v.(float64); ok {
						lo, hi = min(lo, f), max(hi, f)
					}
				}
			}
		}
		lo, hi = math.Floor(lo), math.Ceil(hi)
		// A decade a tick, or two when they would crowd (fewer fit across).
		step, most := 1.0, 12.0
		if x.Horizontal {
			most = 6
		}
		if hi-lo > most {
			step = 2
		}
		va["min"], va["max"], va["interval"] = lo, hi, step
		va["name"] = fmt.Sprintf(w.Symlog, strings.Replace(strconv.FormatFloat(x.Symlog, 'g', 3, 64), "e-0", "e-", 1))
		va["nameLocation"] = "middle"
		va["nameGap"] = 28
		va["nameTextStyle"] = map[string]any{"color": "#555", "fontSize": 11}
	}
	if x.Horizontal {
		if x.Symlog > 0 {
			o["grid"].([]any)[0].(map[string]any)["bottom"] = 34 // the axis's name under its labels
		}
		ca["inverse"] = true
		ca["axisLabel"] = map[string]any{"interval": 0, "fontSize": 11}
		o["xAxis"], o["yAxis"] = []any{va}, []any{ca}
	} else {
		ca["axisLabel"] = map[string]any{"interval": 0, "rotate": 45, "fontSize": 11}
		o["xAxis"], o["yAxis"] = []any{ca}, []any{va}
	}
	o["spikegrad"] = x
	return json.Marshal(o)
}

// CurveOptions are the conversion curve's chart: the accuracy (left axis)
// and loss (right axis) of the output averaged over the first T steps, for
// every T of the curve, the run's own T marked.
func CurveOptions(curve []snn.CurvePoint, runT int, w Words) map[string]any {
	ts := make([]string, len(curve))
	acc := make([]float64, len(curve))
	loss := make([]float64, len(curve))
	for i, p := range curve {
		ts[i], acc[i], loss[i] = strconv.Itoa(p.T), p.Accuracy, p.Loss
	}
	accSeries := map[string]any{"name": w.Accuracy, "type": "line", "data": acc, "yAxisIndex": 0, "showSymbol": false, "color": "#27ae60"}
	if runT >= 1 && runT <= len(curve) {
		accSeries["markLine"] = map[string]any{"symbol": "none", "silent": true, "lineStyle": map[string]any{"color": "#333", "type": "dashed"},
			"label": map[string]any{"formatter": fmt.Sprintf(w.ThisT, runT), "position": "end"},
			"data":  []any{map[string]any{"xAxis": strconv.Itoa(runT)}}}
	}
	return map[string]any{
		"title":     map[string]any{"text": w.Curve},
		"animation": false,
		"tooltip":   map[string]any{"show": true, "trigger": "axis"},
		"legend":    map[string]any{"show": true, "top": 30},
		"grid":      []any{map[string]any{"left": 16, "right": 16, "top": 70, "bottom": 12, "containLabel": true}},
		"xAxis":     []any{map[string]any{"type": "category", "name": "T", "data": ts, "boundaryGap": false}},
		"yAxis": []any{map[string]any{"type": "value", "name": w.Accuracy, "min": 0, "max": 1},
			map[string]any{"type": "value", "name": w.Loss, "scale": true, "splitLine": map[string]any{"show": false}}},
		"series": []any{accSeries, map[string]any{"name": w.Loss, "type": "line", "data": loss, "yAxisIndex": 1, "showSymbol": false, "color": "#8e44ad"}},
	}
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
