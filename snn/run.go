package snn

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/spikegrad/spikegrad/snn/kern"
)

// Options are the inference settings a checkpoint does not carry.
type Options struct {
	T       int     // time steps; 0 runs the quantised ANN
	L       int     // quantisation levels (ANN mode)
	Gamma   float64 // surrogate width
	Workers int     // images run in parallel; 0 means GOMAXPROCS
	// Progress, when set, is called (never concurrently) as each image goes
	// through each layer.
	Progress func(Progress)
	// ForwardOnly skips the backward: the result has loss, accuracy and
	// firing rates, and no gradients (teach.go's Forward).
	ForwardOnly bool
	// Detail, when set (SNN mode), asks for a closer look at one IF layer.
	Detail *Detail
	// F64 runs the engine in float64 end to end (the weights widened from
	// the checkpoint's values): the exact answer, where float32's rounding
	// can flip a spike and the gradient with it.
	F64 bool
	// Spread adds that many runs whose weights each differ from the
	// checkpoint's by at most one float32 ulp (Net.Nudged): per threshold
	// the range of the gradient seen and whether its sign held.
	Spread int
	// Quantiser is ANN mode's (T = 0) activation: "" or "if", the later
	// QCFS code's IF (clamp, then floor); "myfloor", the earlier code's
	// MyFloor (floor, then clamp), whose gradient passes for x/thresh in
	// [-0.5/L, 1 + 0.5/L). The forwards are the same.
	Quantiser string
	// Curve (SNN mode) adds the loss and accuracy of the output averaged
	// over the first t steps, for every t up to T: the conversion curve. A
	// neuron's state at step t depends on steps up to t only, so the first
	// t steps of a T-step run are the t-step run.
	Curve bool
}

// CurvePoint is the loss and accuracy after the first T steps.
type CurvePoint struct {
	T        int     `json:"T"`
	Loss     float64 `json:"loss"`
	Accuracy float64 `json:"accuracy"`
}

// Progress says where a run is.
type Progress struct {
	Image, Images int    // images finished, images in all
	Layer         string // layer name (or kind)
	Phase         string // "forward" or "backward"
}

// Result is what a run reports (the `spikegrad -json` object).
type Result struct {
	Loss     float64       `json:"loss"`
	Accuracy float64       `json:"accuracy"`
	T        int           `json:"T"`
	L        int           `json:"L"`
	Gamma    float64       `json:"gamma"`
	N        int           `json:"n"`
	Layers   []LayerResult `json:"layers"`
	// Unlabeled counts the images without a label (-1): their loss is the
	// predicted class's, and Accuracy is over the labelled images only.
	Unlabeled int `json:"unlabeled,omitempty"`
	// Pred is each image's predicted class (argmax of the step-averaged logits).
	Pred []int `json:"-"`
	// Detail answers Options.Detail.
	Detail *DetailResult `json:"detail,omitempty"`
	// Precision is "float32" or "float64" (Options.F64).
	Precision string `json:"precision"`
	// SpreadRuns counts the runs behind each layer's GradMin, GradMax and
	// SignStable: the checkpoint's and Options.Spread nudged ones.
	SpreadRuns int `json:"spread_runs,omitempty"`
	// Curve answers Options.Curve: one point per T from 1.
	Curve []CurvePoint `json:"curve,omitempty"`
	// Labeled counts the images with a label (N - Unlabeled) and Correct
	// those of them the network classes right: what an exact join of
	// parts' accuracies needs (Merge, spikegrad merge).
	Labeled int `json:"labeled"`
	Correct int `json:"correct"`
}

// LayerResult is one IF layer's threshold and dL/dthresh.
type LayerResult struct {
	Name       string     `json:"name"`
	Thresh     []float64  `json:"thresh"`
	Grad       []float64  `json:"grad"`
	GradPaths  *GradPaths `json:"grad_paths,omitempty"`
	FiringRate float64    `json:"firing_rate"`
	// NearThreshold counts the neuron-steps (over the images) that sit
	// within float32 rounding of flipping (nearThreshold): where there are
	// some, a float32 gradient may not keep its sign.
	NearThreshold int `json:"near_threshold"`
	// With Options.Spread: each run's gradient (the checkpoint's first),
	// and per threshold the least and greatest of them and whether they all
	// had the sign of the first (zero counts as a sign of its own).
	GradRuns   [][]float64 `json:"grad_runs,omitempty"`
	GradMin    []float64   `json:"grad_min,omitempty"`
	GradMax    []float64   `json:"grad_max,omitempty"`
	SignStable []bool      `json:"sign_stable,omitempty"`
}

// GradPaths splits dL/dthresh by where the threshold enters an IF neuron.
type GradPaths struct {
	Crossing  []float64 `json:"crossing"`
	Amplitude []float64 `json:"amplitude"`
	Reset     []float64 `json:"reset"`
	Init      []float64 `json:"init"`
}

// Check tells impossible settings apart before any work.
func (o Options) Check() error {
	switch {
	case o.T < 0:
		return fmt.Errorf("T is %d: the number of time steps must be 0 (ANN) or more", o.T)
	case o.T > 4096:
		return fmt.Errorf("T is %d: more than 4096 time steps is not supported", o.T)
	case o.L < 1 || o.L > 1<<16:
		return fmt.Errorf("L is %d: quantisation levels must be between 1 and 65536", o.L)
	case !(o.Gamma > 0) || math.IsInf(o.Gamma, 0):
		return fmt.Errorf("gamma is %g: the surrogate width must be positive", o.Gamma)
	case o.Spread < 0 || o.Spread > 64:
		return fmt.Errorf("spread is %d: the nudged runs must number 0 to 64", o.Spread)
	case o.Curve && o.T < 1:
		return fmt.Errorf("the conversion curve needs SNN mode (T of 1 or more), not T=%d", o.T)
	case o.Quantiser != "" && o.Quantiser != "if" && o.Quantiser != "myfloor":
		return fmt.Errorf("quantiser %q: want if or myfloor", o.Quantiser)
	case o.Quantiser == "myfloor" && o.T != 0:
		return fmt.Errorf("quantiser myfloor is ANN mode's activation: it needs T=0 (T is %d)", o.T)
	}
	return nil
}

// imageResult is one image's share of a run, kept apart so that the sum over
// images is made in image order whatever the number of workers.
type imageResult struct {
	loss    float64
	pred    int
	paths   []ifPaths // per IF layer
	correct bool
	labeled bool
	detail  *imageDetail // with Options.Detail
	// With Options.Curve, per step count t (from 1): the loss of the output
	// averaged over t steps, and whether its class was the label.
	curveLoss    []float64
	curveCorrect []bool
}

// Run computes loss, accuracy and dL/dthresh for every IF layer over a batch
// of normalised images x ([N][C][H][W]) with their labels. The loss is the
// mean over images, so its gradient is the mean of the images' gradients:
// each image runs on its own, and workers take images in parallel.
func (n *Net) Run(ctx context.Context, x []float32, labels []int, opt Options) (*Result, error) {
	if err := opt.Check(); err != nil {
		return nil, err
	}
	in := Shape{n.Arch.Input[0], n.Arch.Input[1], n.Arch.Input[2]}
	N := len(labels)
	if N == 0 {
		return nil, fmt.Errorf("no images")
	}
	if len(x) != N*in.Size() {
		return nil, fmt.Errorf("%d values for %d images of %dx%dx%d", len(x), N, in.C, in.H, in.W)
	}
	classes := n.Layers[len(n.Layers)-1].Out.C
	for i, y := range labels {
		if y < -1 || y >= classes {
			return nil, fmt.Errorf("image %d has label %d, but the model has %d classes", i, y, classes)
		}
	}
	if opt.Detail != nil {
		if err := opt.Detail.check(n, N); err != nil {
			return nil, err
		}
	}
	run := runImages[float32]
	if opt.F64 {
		run = runImages[float64]
	}
	// With a spread, progress counts the images of every run.
	runs := opt.Spread + 1
	main := opt
	if opt.Progress != nil && opt.Spread > 0 && !opt.ForwardOnly {
		main.Progress = func(p Progress) {
			p.Images *= runs
			opt.Progress(p)
		}
	}
	r, err := run(ctx, n, x, labels, main)
	if err != nil || opt.Spread == 0 || opt.ForwardOnly {
		return r, err
	}
	// The spread: the same batch on nudged weights, one run after another
	// (each on every core), with neither a Detail nor its own progress.
	all := [][]LayerResult{r.Layers}
	sub := opt
	sub.Detail, sub.Spread = nil, 0
	var nudged *Net // the last run's, whose memory the next one takes over
	for k := 1; k <= opt.Spread; k++ {
		if opt.Progress != nil {
			sub.Progress = func(p Progress) {
				p.Image += k * p.Images
				p.Images *= runs
				p.Phase = fmt.Sprintf("spread %d/%d %s", k, opt.Spread, p.Phase)
				opt.Progress(p)
			}
		}
		nudged = n.Nudged(k, nudged)
		rk, err := run(ctx, nudged, x, labels, sub)
		if err != nil {
			return nil, err
		}
		all = append(all, rk.Layers)
	}
	for j := range r.Layers {
		l := &r.Layers[j]
		for _, lr := range all {
			l.GradRuns = append(l.GradRuns, lr[j].Grad)
		}
		l.fillSpread()
	}
	r.SpreadRuns = len(all)
	return r, nil
}

// fillSpread sets GradMin, GradMax and SignStable from GradRuns.
func (l *LayerResult) fillSpread() {
	k := len(l.Grad)
	l.GradMin, l.GradMax, l.SignStable = make([]float64, k), make([]float64, k), make([]bool, k)
	for e := range k {
		first := l.GradRuns[0][e]
		l.GradMin[e], l.GradMax[e], l.SignStable[e] = first, first, true
		for _, g := range l.GradRuns[1:] {
			l.GradMin[e] = min(l.GradMin[e], g[e])
			l.GradMax[e] = max(l.GradMax[e], g[e])
			if cmp.Compare(g[e], 0) != cmp.Compare(first, 0) {
				l.SignStable[e] = false
			}
		}
	}
}

// runImages runs the batch in precision E: each image on its own, workers
// taking images in parallel.
func runImages[E kern.Float](ctx context.Context, n *Net, x []float32, labels []int, opt Options) (*Result, error) {
	in := Shape{n.Arch.Input[0], n.Arch.Input[1], n.Arch.Input[2]}
	N := len(labels)
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, N)

	results := make([]imageResult, N)
	var mu sync.Mutex
	done := 0
	report := func(layer, phase string) {
		if opt.Progress == nil {
			return
		}
		mu.Lock()
		opt.Progress(Progress{Image: done, Images: N, Layer: layer, Phase: phase})
		mu.Unlock()
	}
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker[E](n, opt)
			for i := range next {
				r, err := w.image(ctx, x[i*in.Size():(i+1)*in.Size()], i, labels[i], N, report)
				if err != nil {
					errs <- err
					return
				}
				results[i] = r
				mu.Lock()
				done++
				mu.Unlock()
			}
		}()
	}
	var err error
feed:
	for i := range N {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	if err != nil {
		return nil, err
	}
	return n.sum(results, opt), nil
}

// sum adds the images' results in image order.
func (n *Net) sum(rs []imageResult, opt Options) *Result {
	N := len(rs)
	r := &Result{T: opt.T, L: opt.L, Gamma: opt.Gamma, N: N, Pred: make([]int, N), Precision: "float32"}
	if opt.F64 {
		r.Precision = "float64"
	}
	correct := 0
	for i, ir := range rs {
		r.Loss += ir.loss
		r.Pred[i] = ir.pred
		if ir.correct {
			correct++
		}
	}
	r.Loss /= float64(N)
	for _, ir := range rs {
		if !ir.labeled {
			r.Unlabeled++
		}
	}
	r.Labeled, r.Correct = N-r.Unlabeled, correct
	if N > r.Unlabeled {
		r.Accuracy = float64(correct) / float64(N-r.Unlabeled)
	}
	steps := max(opt.T, 1)
	for j, li := range n.IFLayers() {
		l := &n.Layers[li]
		k := len(l.Thresh)
		tot := newIFPaths(k)
		for _, ir := range rs {
			p := ir.paths[j]
			for e := range k {
				tot.Crossing[e] += p.Crossing[e]
				tot.Amplitude[e] += p.Amplitude[e]
				tot.Reset[e] += p.Reset[e]
				tot.Init[e] += p.Init[e]
			}
			tot.Spikes += p.Spikes
			tot.Near += p.Near
		}
		// Each image's gradient is of its own loss: the batch mean's is
		// their sum over N, divided here in float64, so that an image adds
		// the same numbers whatever the batch or part it runs in.
		for e := range k {
			tot.Crossing[e] /= float64(N)
			tot.Amplitude[e] /= float64(N)
			tot.Reset[e] /= float64(N)
			tot.Init[e] /= float64(N)
		}
		lr := LayerResult{Name: l.Name, Thresh: make([]float64, k), NearThreshold: tot.Near}
		for e := range k {
			lr.Thresh[e] = float64(l.Thresh[e])
		}
		if !opt.ForwardOnly {
			lr.Grad = make([]float64, k)
			for e := range k {
				lr.Grad[e] = tot.Crossing[e] + tot.Amplitude[e] + tot.Reset[e] + tot.Init[e]
			}
		}
		if opt.T > 0 && !opt.ForwardOnly {
			lr.GradPaths = &GradPaths{tot.Crossing, tot.Amplitude, tot.Reset, tot.Init}
		}
		lr.FiringRate = tot.Spikes / float64(steps*l.In.Size()*N)
		r.Layers = append(r.Layers, lr)
	}
	if opt.Curve {
		r.Curve = make([]CurvePoint, opt.T)
		for t := range r.Curve {
			correct := 0
			for _, ir := range rs {
				r.Curve[t].Loss += ir.curveLoss[t]
				if ir.curveCorrect[t] {
					correct++
				}
			}
			r.Curve[t].T, r.Curve[t].Loss = t+1, r.Curve[t].Loss/float64(N)
			if N > r.Unlabeled {
				r.Curve[t].Accuracy = float64(correct) / float64(N-r.Unlabeled)
			}
		}
	}
	if opt.Detail != nil && opt.T > 0 && !opt.ForwardOnly {
		r.Detail = n.sumDetail(rs, opt)
		r.Detail.fillPaths(r.Layers[opt.Detail.Layer])
	}
	return r
}

// worker owns the buffers for running one image at a time in precision E.
type worker[E kern.Float] struct {
	net   *Net
	opt   Options
	steps int
	a, b  []E   // activations, ping-pong
	col   []E   // im2col scratch
	acc   []E   // channels-last scratch of the sparse forwards
	keep  [][]E // per layer: what its backward needs (IF: d_t; ANN: x; save: the activation)
	gtap  [][]E // per save layer: the gradient its adds send back
	th    [][]E // per IF layer: its thresholds
	s1    []E   // shortcut scratch, ping-pong with s2
	s2    []E
	arg   map[*Layer][]int32 // per maxpool layer: the winners' positions
	// With Options.Detail: the detail's IF layer index (into IFLayers) and
	// its dL/dd for the current image.
	detail *Detail
	gd     []E
}

func newWorker[E kern.Float](n *Net, opt Options) *worker[E] {
	w := &worker[E]{net: n, opt: opt, steps: max(opt.T, 1), keep: make([][]E, len(n.Layers)),
		gtap: make([][]E, len(n.Layers)), th: make([][]E, len(n.Layers)), arg: map[*Layer][]int32{}}
	var act, col, acc, sc int
	size := func(l *Layer) (int, int) { return w.steps * l.In.Size(), w.steps * l.Out.Size() }
	scratch := func(l *Layer) {
		_, out := size(l)
		acc = max(acc, out)
		if l.Kind == "conv" {
			col = max(col, w.steps*l.In.C*l.K*l.K*l.Out.H*l.Out.W)
		}
		if l.Kind == "maxpool" {
			w.arg[l] = make([]int32, out)
		}
	}
	for i := range n.Layers {
		l := &n.Layers[i]
		in, out := size(l)
		act = max(act, in, out)
		scratch(l)
		switch l.Kind {
		case "if", "save":
			w.keep[i] = make([]E, in)
			w.th[i] = make([]E, len(l.Thresh))
			for e, v := range l.Thresh {
				w.th[i][e] = E(v)
			}
		case "add":
			for k := range l.Sub {
				si, so := size(&l.Sub[k])
				sc = max(sc, si, so)
				scratch(&l.Sub[k])
			}
		}
		if l.Kind == "save" {
			w.gtap[i] = make([]E, in)
		}
	}
	w.a, w.b, w.col, w.acc = make([]E, act), make([]E, act), make([]E, col), make([]E, acc)
	w.s1, w.s2 = make([]E, sc), make([]E, sc)
	if d := opt.Detail; d != nil && opt.T > 0 && !opt.ForwardOnly {
		w.detail = d
		w.gd = make([]E, len(w.keep[n.IFLayers()[d.Layer]]))
	}
	return w
}

// image runs one image forward and, unless the run is forward-only, backward;
// the loss is divided by N, the batch size, as the batch mean's gradient asks.
// idx is the image's place in the batch (a Detail asks for one image).
func (w *worker[E]) image(ctx context.Context, x []float32, idx, label, N int, report func(string, string)) (imageResult, error) {
	n := w.net
	ifs := n.IFLayers()
	r := imageResult{paths: make([]ifPaths, len(ifs))}
	for j, li := range ifs {
		r.paths[j] = newIFPaths(len(n.Layers[li].Thresh))
	}
	out, free, err := w.forward(ctx, x, &r, report)
	if err != nil {
		return r, err
	}
	g := w.loss(out, free, label, &r)
	if w.opt.ForwardOnly {
		return r, nil
	}
	if w.detail != nil {
		w.detailForward(idx, &r)
	}
	if err := w.backward(ctx, g, out, &r, report); err != nil {
		return r, err
	}
	if w.detail != nil {
		w.detailBackward(idx, N, &r)
	}
	return r, nil
}

// forward runs the layers over the T steps and returns the logits ([classes][T])
// and the other activation buffer, free for the loss gradient.
func (w *worker[E]) forward(ctx context.Context, x []float32, r *imageResult, report func(string, string)) (out, free []E, err error) {
	n, T := w.net, w.steps
	// The input is the same at every step, so the layers before the
	// first IF run once and their output is repeated T times.
	cur, nxt := w.a, w.b
	for i, v := range x {
		cur[i] = E(v)
	}
	t := 1
	j := 0 // IF layers passed: after the first, inputs are spikes
	for i := range n.Layers {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		l := &n.Layers[i]
		report(l.Label(), "forward")
		if (l.Kind == "if" || l.Kind == "save" || l.Kind == "add") && t < T {
			hw := l.In.H * l.In.W
			for c := 0; c < l.In.C; c++ {
				for s := 0; s < T; s++ {
					copy(nxt[(c*T+s)*hw:(c*T+s+1)*hw], cur[c*hw:(c+1)*hw])
				}
			}
			cur, nxt = nxt, cur
			t = T
		}
		switch l.Kind {
		case "if":
			if w.opt.T == 0 {
				annForward(l, w.th[i], w.opt.L, cur, nxt, w.keep[i], &r.paths[j])
			} else {
				ifForward(l, w.th[i], T, cur, nxt, w.keep[i], &r.paths[j])
			}
			r.paths[j].Near += nearThreshold(l, w.th[i], T, w.opt.L, w.opt.T == 0, w.keep[i])
			j++
		case "save":
			copy(w.keep[i], cur)
			continue // cur goes on unchanged
		case "add":
			sz := t * l.Out.Size()
			add(cur[:sz], w.shortcut(l, t, j), nxt[:sz])
		default:
			w.layerForward(l, t, j, cur, nxt)
		}
		cur, nxt = nxt, cur
	}
	return cur, nxt, nil
}

// layerForward runs one layer without state of its own over t steps; j is
// the number of IF layers before it.
func (w *worker[E]) layerForward(l *Layer, t, j int, in, out []E) {
	switch l.Kind {
	case "conv":
		if j > 0 && density(in[:t*l.In.Size()]) < sparseBelow {
			convForwardSparse(l, t, in, out, w.acc)
		} else {
			convForward(l, t, in, out, w.col)
		}
	case "linear":
		if j > 0 && density(in[:t*l.In.Size()]) < sparseBelow {
			linearForwardSparse(l, t, in, out, w.acc)
		} else {
			linearForward(l, t, in, out)
		}
	case "flatten":
		flattenForward(l, t, in, out)
	case "avgpool":
		avgpoolForward(l, t, in, out)
	case "maxpool":
		maxpoolForward(l, t, in, out, w.arg[l])
	}
}

// layerBackward is layerForward's backward: gin from gout.
func (w *worker[E]) layerBackward(l *Layer, T int, gout, gin []E) {
	switch l.Kind {
	case "conv":
		convBackward(l, T, gout, gin, w.col)
	case "linear":
		linearBackward(l, T, gout, gin)
	case "flatten":
		flattenBackward(l, T, gout, gin)
	case "avgpool":
		avgpoolBackward(l, T, gout, gin)
	case "maxpool":
		maxpoolBackward(l, T, gout, gin, w.arg[l])
	}
}

// shortcut runs an add's shortcut layers on its saved activation and
// returns the result (the saved activation itself when there are none).
func (w *worker[E]) shortcut(l *Layer, t, j int) []E {
	in := w.keep[l.Tap]
	for k := range l.Sub {
		out := w.s1
		if k%2 == 1 {
			out = w.s2
		}
		w.layerForward(&l.Sub[k], t, j, in, out)
		in = out
	}
	return in[:t*l.Out.Size()]
}

// shortcutBackward runs g back through an add's shortcut layers and adds
// the result to the gradient of its save.
func (w *worker[E]) shortcutBackward(l *Layer, g []E) {
	T := w.steps
	for k := len(l.Sub) - 1; k >= 0; k-- {
		out := w.s1
		if k%2 == 1 {
			out = w.s2
		}
		w.layerBackward(&l.Sub[k], T, g, out)
		g = out
	}
	gt := w.gtap[l.Tap]
	for i := range gt {
		gt[i] += g[i]
	}
}

// loss is the cross-entropy of the step-averaged logits; it writes into g
// the gradient that reaches each step's logits, divided by T (the average)
// and N (the batch mean), and returns g.
func (w *worker[E]) loss(logits, g []E, label int, r *imageResult) []E {
	n, T := w.net, w.steps
	classes := n.Layers[len(n.Layers)-1].Out.C
	z := make([]float64, classes)
	if w.opt.Curve {
		// The running sums give every shorter run's averaged output.
		r.curveLoss, r.curveCorrect = make([]float64, T), make([]bool, T)
		avg := make([]float64, classes)
		for t := range T {
			for k := range z {
				z[k] += float64(logits[k*T+t])
				avg[k] = z[k] / float64(t+1)
			}
			loss, pred, _, _ := crossEntropy(avg, label)
			r.curveLoss[t], r.curveCorrect[t] = loss, label >= 0 && pred == label
		}
	}
	for k := range z {
		var s float64
		for s2 := 0; s2 < T; s2++ {
			s += float64(logits[k*T+s2])
		}
		z[k] = s / float64(T)
	}
	loss, arg, zmax, se := crossEntropy(z, label)
	r.pred = arg
	r.labeled = label >= 0
	if !r.labeled {
		label = arg // no label: the loss of the class the network predicts
	}
	r.loss = loss
	r.correct = r.labeled && arg == label
	for k := range classes {
		p := math.Exp(z[k]-zmax) / se
		if k == label {
			p--
		}
		for s2 := 0; s2 < T; s2++ {
			g[k*T+s2] = E(p / float64(T))
		}
	}
	return g
}

// crossEntropy is the cross-entropy of logits z for label (-1: the class
// the network predicts, arg), with the largest logit and the softmax's sum
// of exp(z - zmax), which the gradient reuses.
func crossEntropy(z []float64, label int) (loss float64, arg int, zmax, se float64) {
	zmax = math.Inf(-1)
	for k, v := range z {
		if v > zmax {
			zmax, arg = v, k
		}
	}
	for _, v := range z {
		se += math.Exp(v - zmax)
	}
	if label < 0 {
		label = arg
	}
	return zmax + math.Log(se) - z[label], arg, zmax, se
}

// backward runs the gradient g of the logits down to the first IF layer:
// nothing below it has a threshold. free is the other activation buffer.
func (w *worker[E]) backward(ctx context.Context, g, free []E, r *imageResult, report func(string, string)) error {
	n, T, gamma := w.net, w.steps, E(w.opt.Gamma)
	ifs := n.IFLayers()
	gcur, gnxt := g, free
	j := len(ifs)
	for _, gt := range w.gtap {
		clear(gt)
	}
	for i := len(n.Layers) - 1; i >= ifs[0]; i-- {
		if err := ctx.Err(); err != nil {
			return err
		}
		l := &n.Layers[i]
		report(l.Label(), "backward")
		switch l.Kind {
		case "save":
			gt := w.gtap[i]
			for k := range gt {
				gnxt[k] = gcur[k] + gt[k]
			}
		case "add":
			sz := T * l.Out.Size()
			copy(gnxt[:sz], gcur[:sz])
			w.shortcutBackward(l, gcur[:sz])
		case "if":
			j--
			if w.opt.T == 0 {
				annBackward(l, w.th[i], w.opt.L, w.opt.Quantiser == "myfloor", gcur, gnxt, w.keep[i], &r.paths[j])
			} else {
				var gd []E // dL/dd per neuron and step, only for a Detail's layer
				if w.detail != nil && w.detail.Layer == j {
					gd = w.gd
				}
				ifBackward(l, w.th[i], T, gamma, gcur, gnxt, w.keep[i], gd, &r.paths[j])
			}
		default:
			w.layerBackward(l, T, gcur, gnxt)
		}
		gcur, gnxt = gnxt, gcur
	}
	return nil
}
