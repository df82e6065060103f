package snn

// What the page needs to teach the sign of dL/dthresh (issue 4): a closer
// look inside one IF layer's backward (Detail), forward-only runs with other
// thresholds (WithThresholds, Forward), the measured slope of the loss
// (FiniteDiff) and gradient steps on the thresholds (Descend).

import (
	"context"
	"fmt"
	"math"
)

// Detail asks a run (SNN mode, with the backward) for one IF layer's dL/dd,
// d = mem - thresh: its distribution over neurons, steps and images, and, for
// one image, the layer's firing-rate map and one neuron's trace over the steps.
type Detail struct {
	Layer int `json:"layer"` // index into the IF layers (0 = the first)
	Image int `json:"image"` // index into the batch
	// Neuron is the flat index c*H*W + y*W + x into the layer's input; -1
	// picks the image's neuron whose firing rate is nearest one half (the
	// first such), one that both spikes and stays silent.
	Neuron int `json:"neuron"`
}

// The histogram's bins are signed log10 of |dL/dd|: histPerDecade bins per
// decade from 10^histLo to 10^histHi on each side of zero, values beyond
// falling into the end bins, and one bin for exact zeros (the steps outside
// the surrogate window |d| < gamma, where dL/dd is 0). Gradients of a batch
// mean span many decades, which a linear scale would squash into one bar.
const (
	histLo        = -12
	histHi        = 0
	histPerDecade = 2
	histSide      = (histHi - histLo) * histPerDecade
	histBins      = 2*histSide + 1
)

// Bin is one bar of the histogram: values in [Lo, Hi) (Lo = Hi = 0 for the
// zero bin), how many and their sum.
type Bin struct {
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Count int64   `json:"count"`
	Sum   float64 `json:"sum"`
}

// Step is one step of a neuron's trace.
type Step struct {
	Mem      float64 `json:"mem"`       // potential before the crossing test (mem + x_t)
	D        float64 `json:"d"`         // mem - thresh
	S        int     `json:"s"`         // spike
	MemAfter float64 `json:"mem_after"` // potential after the reset
	GradD    float64 `json:"grad_d"`    // dL/dd at this step
}

// DetailResult answers a Detail.
type DetailResult struct {
	Detail
	Name    string  `json:"name"`
	C       int     `json:"C"`
	H       int     `json:"H"`
	W       int     `json:"W"`
	Thresh  float64 `json:"thresh"` // the neuron's threshold
	Gamma   float64 `json:"gamma"`
	Hist    []Bin   `json:"hist"`
	SumGrad float64 `json:"sum_grad_d"` // sum of dL/dd over neurons, steps and images
	// Crossing is the layer's crossing term, -SumGrad summed over its
	// thresholds; InitOverCrossing the ratio init/crossing (absent when
	// crossing is 0). The backward makes it -0.5: dL/dmem_0 = sum_t dL/dd_t.
	Crossing         float64   `json:"crossing"`
	InitOverCrossing *float64  `json:"init_over_crossing,omitempty"`
	Trace            []Step    `json:"trace"`
	Rate             []float64 `json:"rate"` // the image's firing rate per neuron, [C][H*W]
}

// imageDetail is one image's share of a DetailResult.
type imageDetail struct {
	count  [histBins]int64
	sum    [histBins]float64
	trace  []Step    // the chosen image only
	rate   []float64 // the chosen image only
	neuron int       // the chosen image only: the neuron traced
}

func (d *Detail) check(n *Net, images int) error {
	ifs := n.IFLayers()
	if d.Layer < 0 || d.Layer >= len(ifs) {
		return fmt.Errorf("detail: IF layer %d, but the network has %d", d.Layer, len(ifs))
	}
	if d.Image < 0 || d.Image >= images {
		return fmt.Errorf("detail: image %d, but the batch has %d", d.Image, images)
	}
	if size := n.Layers[ifs[d.Layer]].In.Size(); d.Neuron < -1 || d.Neuron >= size {
		return fmt.Errorf("detail: neuron %d, but %s has %d", d.Neuron, n.Layers[ifs[d.Layer]].Name, size)
	}
	return nil
}

// histBin is the bin of g.
func histBin(g float64) int {
	if g == 0 {
		return histSide
	}
	a := math.Abs(float64(g))
	k := int(math.Floor((math.Log10(a) - histLo) * histPerDecade))
	k = min(max(k, 0), histSide-1)
	if g < 0 {
		return histSide - 1 - k
	}
	return histSide + 1 + k
}

func histEdges() []Bin {
	bins := make([]Bin, histBins)
	for k := range histSide {
		lo := math.Pow(10, histLo+float64(k)/histPerDecade)
		hi := math.Pow(10, histLo+float64(k+1)/histPerDecade)
		bins[histSide+1+k].Lo, bins[histSide+1+k].Hi = lo, hi
		bins[histSide-1-k].Lo, bins[histSide-1-k].Hi = -hi, -lo
	}
	return bins
}

// neuron returns neuron k of the detail's layer as channel, position, and its threshold.
func (w *worker[E]) neuron(k int) (l *Layer, c, p int, th E) {
	li := w.net.IFLayers()[w.detail.Layer]
	l = &w.net.Layers[li]
	hw := l.In.H * l.In.W
	c, p = k/hw, k%hw
	return l, c, p, thresh(w.th[li], c)
}

// detailForward reads the chosen image's spikes from the layer's d_t (kept
// for the backward): the firing-rate map and the neuron's potentials.
func (w *worker[E]) detailForward(idx int, r *imageResult) {
	r.detail = &imageDetail{}
	if idx != w.detail.Image {
		return
	}
	li := w.net.IFLayers()[w.detail.Layer]
	l := &w.net.Layers[li]
	T, hw := w.steps, l.In.H*l.In.W
	keep := w.keep[li]
	rate := make([]float64, l.In.Size())
	for ch := 0; ch < l.In.C; ch++ {
		for t := 0; t < T; t++ {
			for q, d := range keep[(ch*T+t)*hw : (ch*T+t+1)*hw] {
				if d >= 0 {
					rate[ch*hw+q]++
				}
			}
		}
	}
	k := w.detail.Neuron
	for i := range rate {
		rate[i] /= float64(T)
		if w.detail.Neuron < 0 && (k < 0 || math.Abs(rate[i]-0.5) < math.Abs(rate[k]-0.5)) {
			k = i
		}
	}
	r.detail.rate, r.detail.neuron = rate, k
	_, c, p, th := w.neuron(k)
	r.detail.trace = make([]Step, T)
	for t := range T {
		d := keep[(c*T+t)*hw+p]
		st := Step{Mem: float64(d + th), D: float64(d)}
		if d >= 0 {
			st.S = 1
		}
		st.MemAfter = float64(d + th - E(st.S)*th)
		r.detail.trace[t] = st
	}
}

// detailBackward bins the layer's dL/dd of this image, and keeps the
// chosen neuron's: the backward ran on the image's own loss, so each value
// is divided by N, the batch size, to be the batch mean's.
func (w *worker[E]) detailBackward(idx, N int, r *imageResult) {
	li := w.net.IFLayers()[w.detail.Layer]
	n := w.steps * w.net.Layers[li].In.Size()
	for _, g := range w.gd[:n] {
		v := float64(g) / float64(N)
		b := histBin(v)
		r.detail.count[b]++
		r.detail.sum[b] += v
	}
	if idx == w.detail.Image {
		l, c, p, _ := w.neuron(r.detail.neuron)
		hw := l.In.H * l.In.W
		for t := range r.detail.trace {
			r.detail.trace[t].GradD = float64(w.gd[(c*w.steps+t)*hw+p]) / float64(N)
		}
	}
}

// sumDetail adds the images' histograms in image order.
func (n *Net) sumDetail(rs []imageResult, opt Options) *DetailResult {
	d := opt.Detail
	l := &n.Layers[n.IFLayers()[d.Layer]]
	out := &DetailResult{Detail: *d, Name: l.Name, C: l.In.C, H: l.In.H, W: l.In.W, Gamma: opt.Gamma, Hist: histEdges()}
	for _, ir := range rs {
		for b := range histBins {
			out.Hist[b].Count += ir.detail.count[b]
			out.Hist[b].Sum += ir.detail.sum[b]
		}
		if ir.detail.trace != nil {
			out.Trace, out.Rate, out.Neuron = ir.detail.trace, ir.detail.rate, ir.detail.neuron
		}
	}
	th := l.Thresh[0]
	if len(l.Thresh) > 1 {
		th = l.Thresh[out.Neuron/(l.In.H*l.In.W)]
	}
	out.Thresh = float64(th)
	for _, b := range out.Hist {
		out.SumGrad += b.Sum
	}
	return out
}

// fillPaths completes a DetailResult with the layer's path terms from the run.
func (d *DetailResult) fillPaths(lr LayerResult) {
	if lr.GradPaths == nil {
		return
	}
	var cr, in float64
	for e := range lr.GradPaths.Crossing {
		cr += lr.GradPaths.Crossing[e]
		in += lr.GradPaths.Init[e]
	}
	d.Crossing = cr
	if cr != 0 {
		ratio := in / cr
		d.InitOverCrossing = &ratio
	}
}

// Thresholds returns every IF layer's thresholds, in network order.
func (n *Net) Thresholds() [][]float64 {
	var out [][]float64
	for _, i := range n.IFLayers() {
		th := make([]float64, len(n.Layers[i].Thresh))
		for e, v := range n.Layers[i].Thresh {
			th[e] = float64(v)
		}
		out = append(out, th)
	}
	return out
}

// WithThresholds returns a network that shares n's weights and has the
// given thresholds (one list per IF layer, in network order, each as long as
// the layer's). n is not changed.
func (n *Net) WithThresholds(th [][]float64) (*Net, error) {
	ifs := n.IFLayers()
	if len(th) != len(ifs) {
		return nil, fmt.Errorf("%d threshold lists for %d IF layers", len(th), len(ifs))
	}
	m := &Net{Arch: n.Arch, Layers: append([]Layer(nil), n.Layers...)}
	for j, i := range ifs {
		l := &m.Layers[i]
		if len(th[j]) != len(l.Thresh) {
			return nil, fmt.Errorf("%s: %d thresholds, want %d", l.Name, len(th[j]), len(l.Thresh))
		}
		l.Thresh = make([]float32, len(th[j]))
		for e, v := range th[j] {
			if !(v > 0) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: threshold %g: a threshold must be positive and finite", l.Name, v)
			}
			l.Thresh[e] = float32(v)
		}
	}
	return m, nil
}

// Forward runs the batch forward only: loss, accuracy and firing rates, no
// gradients. It is what a threshold slider re-runs.
func (n *Net) Forward(ctx context.Context, x []float32, labels []int, opt Options) (*Result, error) {
	opt.ForwardOnly, opt.Detail = true, nil
	return n.Run(ctx, x, labels, opt)
}

// FD is one IF layer's measured slope of the loss against its surrogate
// gradient. Every threshold of the layer moves by the same H, so the slope
// estimates sum_e dL/dthresh_e, which Grad is.
type FD struct {
	Name      string  `json:"name"`
	H         float64 `json:"h"` // the shift of each threshold
	LossPlus  float64 `json:"loss_plus"`
	LossMinus float64 `json:"loss_minus"`
	Slope     float64 `json:"slope"` // (LossPlus - LossMinus) / 2H
	Grad      float64 `json:"grad"`  // the surrogate gradient, summed over the layer's thresholds
	// Agree is "yes" or "no" (the signs of Slope and Grad), or "flat": the
	// loss did not move at all over the step (Slope is 0).
	Agree string `json:"agree"`
}

// FiniteDiff measures, for the IF layers listed (indices into IFLayers; nil
// means all), the central difference of the loss when all of a layer's
// thresholds move by ±h, with h = rel times the mean of the layer's
// thresholds (a relative step, so one setting suits layers of any scale).
// base is the run with gradients at n's thresholds; nil runs it.
func (n *Net) FiniteDiff(ctx context.Context, x []float32, labels []int, opt Options, rel float64, layers []int, base *Result) ([]FD, error) {
	if !(rel > 0) || rel >= 1 {
		return nil, fmt.Errorf("finite-difference step %g: want a fraction of the threshold between 0 and 1", rel)
	}
	if base == nil {
		var err error
		opt.Detail, opt.ForwardOnly = nil, false
		if base, err = n.Run(ctx, x, labels, opt); err != nil {
			return nil, err
		}
	}
	if layers == nil {
		for j := range base.Layers {
			layers = append(layers, j)
		}
	}
	th := n.Thresholds()
	var out []FD
	for _, j := range layers {
		if j < 0 || j >= len(th) {
			return nil, fmt.Errorf("IF layer %d, but the network has %d", j, len(th))
		}
		var mean float64
		for _, v := range th[j] {
			mean += v / float64(len(th[j]))
		}
		h := rel * mean
		loss := func(sign float64) (float64, error) {
			moved := cloneThresholds(th)
			for e := range moved[j] {
				moved[j][e] += sign * h
			}
			m, err := n.WithThresholds(moved)
			if err != nil {
				return 0, err
			}
			r, err := m.Forward(ctx, x, labels, opt)
			if err != nil {
				return 0, err
			}
			return r.Loss, nil
		}
		f := FD{Name: base.Layers[j].Name, H: h}
		var err error
		if f.LossPlus, err = loss(1); err != nil {
			return nil, err
		}
		if f.LossMinus, err = loss(-1); err != nil {
			return nil, err
		}
		f.Slope = (f.LossPlus - f.LossMinus) / (2 * h)
		for _, g := range base.Layers[j].Grad {
			f.Grad += g
		}
		switch {
		case f.Slope == 0:
			f.Agree = "flat"
		case (f.Slope > 0) == (f.Grad > 0) && f.Grad != 0:
			f.Agree = "yes"
		default:
			f.Agree = "no"
		}
		out = append(out, f)
	}
	return out, nil
}

func cloneThresholds(th [][]float64) [][]float64 {
	out := make([][]float64, len(th))
	for j := range th {
		out[j] = append([]float64(nil), th[j]...)
	}
	return out
}

// StepThresholds is one gradient-descent step, thresh - lr*grad, for every
// threshold of r. A threshold must stay positive: a step that would take it
// to 0 or below halves it instead.
func StepThresholds(r *Result, lr float64) [][]float64 {
	out := make([][]float64, len(r.Layers))
	for j, l := range r.Layers {
		out[j] = make([]float64, len(l.Thresh))
		for e, v := range l.Thresh {
			nv := v - lr*l.Grad[e]
			if !(nv > 0) {
				nv = v / 2
			}
			out[j][e] = nv
		}
	}
	return out
}

// DescentStep is one point of Descend: the run at some thresholds.
type DescentStep struct {
	Thresh [][]float64 `json:"thresh"`
	Grad   []float64   `json:"grad"` // per IF layer, summed over its thresholds
	Rate   []float64   `json:"rate"` // per IF layer
	Loss   float64     `json:"loss"`
	Acc    float64     `json:"accuracy"`
}

// Descend takes steps gradient-descent steps of size lr on all thresholds
// at once and returns steps+1 points: n's thresholds and each step's.
func (n *Net) Descend(ctx context.Context, x []float32, labels []int, opt Options, lr float64, steps int) ([]DescentStep, error) {
	if steps < 1 || steps > 100 {
		return nil, fmt.Errorf("steps %d: want 1 to 100", steps)
	}
	if !(lr > 0) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("learning rate %g: want a positive number", lr)
	}
	opt.Detail, opt.ForwardOnly = nil, false
	cur := n
	var out []DescentStep
	for k := 0; ; k++ {
		r, err := cur.Run(ctx, x, labels, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, descentStep(cur, r))
		if k == steps {
			return out, nil
		}
		if cur, err = n.WithThresholds(StepThresholds(r, lr)); err != nil {
			return nil, err
		}
	}
}

// LRTry is one learning rate a line search tried: the loss at the start
// and after each of its steps, up to the first step that did not lower it.
type LRTry struct {
	LR      float64   `json:"lr"`
	Losses  []float64 `json:"losses"`
	Lowered bool      `json:"lowered"` // every step lowered the loss
}

// LRSearch answers LineSearch.
type LRSearch struct {
	LR    float64 `json:"lr"`    // the learning rate chosen
	Found bool    `json:"found"` // its steps each lowered the loss
	// Steps is the chosen learning rate's descent, as Descend gives it
	// (the last point without gradients when Found: it is not stepped from).
	Steps []DescentStep `json:"steps"`
	Tries []LRTry       `json:"tries"`
}

// LineSearch looks for a learning rate whose steps gradient-descent steps
// (Descend) each lower the loss, trying lr0, lr0/√2, lr0/2, ... (tries of
// them, largest first) and taking the first that does. A try stops at its
// first step that does not lower the loss, so a failed try costs a run or
// two. The loss of a spiking network is a step function of its
// thresholds and the surrogate gradient only its smoothed slope, so a
// learning rate that lowers the loss once can raise it the step after.
// When no try lowers it at every step, the chosen one is the try that went
// furthest (ties: the lowest last loss) and Found is false. base, when
// given, is the run at n's thresholds (its loss and gradients).
func (n *Net) LineSearch(ctx context.Context, x []float32, labels []int, opt Options, lr0 float64, steps, tries int, base *Result) (*LRSearch, error) {
	if steps < 1 || steps > 100 {
		return nil, fmt.Errorf("steps %d: want 1 to 100", steps)
	}
	if !(lr0 > 0) || math.IsInf(lr0, 0) {
		return nil, fmt.Errorf("learning rate %g: want a positive number", lr0)
	}
	if tries < 1 || tries > 40 {
		return nil, fmt.Errorf("line search of %d tries: want 1 to 40", tries)
	}
	opt.Detail, opt.ForwardOnly = nil, false
	if base == nil {
		var err error
		if base, err = n.Run(ctx, x, labels, opt); err != nil {
			return nil, err
		}
	}
	start := descentStep(n, base)
	out := &LRSearch{}
	var best []DescentStep
	for k := range tries {
		lr := lr0 * math.Pow(0.5, float64(k)/2)
		pts := []DescentStep{start}
		r := base
		for s := 1; s <= steps; s++ {
			m, err := n.WithThresholds(StepThresholds(r, lr))
			if err != nil {
				return nil, err
			}
			o := opt
			o.ForwardOnly = s == steps // the last point is not stepped from
			if r, err = m.Run(ctx, x, labels, o); err != nil {
				return nil, err
			}
			pts = append(pts, descentStep(m, r))
			if r.Loss >= pts[s-1].Loss {
				break
			}
		}
		try := LRTry{LR: lr, Lowered: len(pts) == steps+1 && pts[steps].Loss < pts[steps-1].Loss}
		for _, p := range pts {
			try.Losses = append(try.Losses, p.Loss)
		}
		out.Tries = append(out.Tries, try)
		if try.Lowered {
			out.LR, out.Found, out.Steps = lr, true, pts
			return out, nil
		}
		if best == nil || len(pts) > len(best) || len(pts) == len(best) && pts[len(pts)-1].Loss < best[len(best)-1].Loss {
			best, out.LR = pts, lr
		}
	}
	out.Steps = best
	return out, nil
}

// descentStep is the point of a descent at m's thresholds, run as r.
func descentStep(m *Net, r *Result) DescentStep {
	p := DescentStep{Thresh: m.Thresholds(), Loss: r.Loss, Acc: r.Accuracy}
	for _, l := range r.Layers {
		if l.Grad != nil {
			var g float64
			for _, v := range l.Grad {
				g += v
			}
			p.Grad = append(p.Grad, g)
		}
		p.Rate = append(p.Rate, l.FiringRate)
	}
	return p
}
