package snn

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
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
}

// LayerResult is one IF layer's threshold and dL/dthresh.
type LayerResult struct {
	Name       string     `json:"name"`
	Thresh     []float64  `json:"thresh"`
	Grad       []float64  `json:"grad"`
	GradPaths  *GradPaths `json:"grad_paths,omitempty"`
	FiringRate float64    `json:"firing_rate"`
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
			w := newWorker(n, opt)
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
	r := &Result{T: opt.T, L: opt.L, Gamma: opt.Gamma, N: N, Pred: make([]int, N)}
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
		}
		lr := LayerResult{Name: l.Name, Thresh: make([]float64, k)}
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
	if opt.Detail != nil && opt.T > 0 && !opt.ForwardOnly {
		r.Detail = n.sumDetail(rs, opt)
		r.Detail.fillPaths(r.Layers[opt.Detail.Layer])
	}
	return r
}

// worker owns the buffers for running one image at a time.
type worker struct {
	net   *Net
	opt   Options
	steps int
	a, b  []float32   // activations, ping-pong
	col   []float32   // im2col scratch
	acc   []float32   // channels-last scratch of the sparse forwards
	keep  [][]float32 // per layer: what its backward needs (IF: d_t; ANN: x; save: the activation)
	gtap  [][]float32 // per save layer: the gradient its adds send back
	s1    []float32   // shortcut scratch, ping-pong with s2
	s2    []float32
	arg   map[*Layer][]int32 // per maxpool layer: the winners' positions
	// With Options.Detail: the detail's IF layer index (into IFLayers) and
	// its dL/dd for the current image.
	detail *Detail
	gd     []float32
}

func newWorker(n *Net, opt Options) *worker {
	w := &worker{net: n, opt: opt, steps: max(opt.T, 1), keep: make([][]float32, len(n.Layers)),
		gtap: make([][]float32, len(n.Layers)), arg: map[*Layer][]int32{}}
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
			w.keep[i] = make([]float32, in)
		case "add":
			for k := range l.Sub {
				si, so := size(&l.Sub[k])
				sc = max(sc, si, so)
				scratch(&l.Sub[k])
			}
		}
		if l.Kind == "save" {
			w.gtap[i] = make([]float32, in)
		}
	}
	w.a, w.b, w.col, w.acc = make([]float32, act), make([]float32, act), make([]float32, col), make([]float32, acc)
	w.s1, w.s2 = make([]float32, sc), make([]float32, sc)
	if d := opt.Detail; d != nil && opt.T > 0 && !opt.ForwardOnly {
		w.detail = d
		w.gd = make([]float32, len(w.keep[n.IFLayers()[d.Layer]]))
	}
	return w
}

// image runs one image forward and, unless the run is forward-only, backward;
// the loss is divided by N, the batch size, as the batch mean's gradient asks.
// idx is the image's place in the batch (a Detail asks for one image).
func (w *worker) image(ctx context.Context, x []float32, idx, label, N int, report func(string, string)) (imageResult, error) {
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
	g := w.loss(out, free, label, N, &r)
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
		w.detailBackward(idx, &r)
	}
	return r, nil
}

// forward runs the layers over the T steps and returns the logits ([classes][T])
// and the other activation buffer, free for the loss gradient.
func (w *worker) forward(ctx context.Context, x []float32, r *imageResult, report func(string, string)) (out, free []float32, err error) {
	n, T := w.net, w.steps
	// The input is the same at every step, so the layers before the
	// first IF run once and their output is repeated T times.
	cur, nxt := w.a, w.b
	copy(cur, x)
	t := 1
	j := 0 // IF layers passed: after the first, inputs are spikes
	for i := range n.Layers {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		l := &n.Layers[i]
		report(l.Name, "forward")
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
				annForward(l, w.opt.L, cur, nxt, w.keep[i], &r.paths[j])
			} else {
				ifForward(l, T, cur, nxt, w.keep[i], &r.paths[j])
			}
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
func (w *worker) layerForward(l *Layer, t, j int, in, out []float32) {
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
func (w *worker) layerBackward(l *Layer, T int, gout, gin []float32) {
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
func (w *worker) shortcut(l *Layer, t, j int) []float32 {
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
func (w *worker) shortcutBackward(l *Layer, g []float32) {
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
func (w *worker) loss(logits, g []float32, label, N int, r *imageResult) []float32 {
	n, T := w.net, w.steps
	classes := n.Layers[len(n.Layers)-1].Out.C
	z := make([]float64, classes)
	for k := range z {
		var s float64
		for s2 := 0; s2 < T; s2++ {
			s += float64(logits[k*T+s2])
		}
		z[k] = s / float64(T)
	}
	zmax, arg := math.Inf(-1), 0
	for k, v := range z {
		if v > zmax {
			zmax, arg = v, k
		}
	}
	var se float64
	for _, v := range z {
		se += math.Exp(v - zmax)
	}
	r.pred = arg
	r.labeled = label >= 0
	if !r.labeled {
		label = arg // no label: the loss of the class the network predicts
	}
	r.loss = zmax + math.Log(se) - z[label]
	r.correct = r.labeled && arg == label
	for k := range classes {
		p := math.Exp(z[k]-zmax) / se
		if k == label {
			p--
		}
		for s2 := 0; s2 < T; s2++ {
			g[k*T+s2] = float32(p / float64(T*N))
		}
	}
	return g
}

// backward runs the gradient g of the logits down to the first IF layer:
// nothing below it has a threshold. free is the other activation buffer.
func (w *worker) backward(ctx context.Context, g, free []float32, r *imageResult, report func(string, string)) error {
	n, T, gamma := w.net, w.steps, float32(w.opt.Gamma)
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
		report(l.Name, "backward")
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
				annBackward(l, w.opt.L, gcur, gnxt, w.keep[i], &r.paths[j])
			} else {
				var gd []float32 // dL/dd per neuron and step, only for a Detail's layer
				if w.detail != nil && w.detail.Layer == j {
					gd = w.gd
				}
				ifBackward(l, T, gamma, gcur, gnxt, w.keep[i], gd, &r.paths[j])
			}
		default:
			w.layerBackward(l, T, gcur, gnxt)
		}
		gcur, gnxt = gnxt, gcur
	}
	return nil
}
