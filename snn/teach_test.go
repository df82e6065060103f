package snn_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/job"
)

// teachFixture is snn/testdata/teach.json (tools/ref/make_teach_fixtures.py).
type teachFixture struct {
	Ckpt, Data, Norm string
	N, T, L          int
	Gamma, Rel, LR   float64
	Steps            int
	Base             snn.Result
	FD               []snn.FD `json:"fd"`
	Descent          []struct {
		Thresh [][]float64
		Loss   float64
		Grad   []float64
	}
	Detail struct {
		snn.Detail
		Name      string
		C, H, W   int
		Thresh    float64
		HistCount []int64   `json:"hist_count"`
		HistSum   []float64 `json:"hist_sum"`
		SumGrad   float64   `json:"sum_grad_d"`
		Crossing  float64
		Init      float64
		Trace     []snn.Step
		Rate      []float64
	}
}

func loadTeach(t *testing.T) (*teachFixture, *snn.Net, []float32, []int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "teach.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f teachFixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	net, err := job.Checkpoint(f.Ckpt, read(f.Ckpt))
	if err != nil {
		t.Fatal(err)
	}
	bt, err := job.Images(f.Data, read(f.Data), net, 0, f.N, f.Norm)
	if err != nil {
		t.Fatal(err)
	}
	return &f, net, bt.X, bt.Labels
}

func (f *teachFixture) opt() snn.Options { return snn.Options{T: f.T, L: f.L, Gamma: f.Gamma} }

func relDiff(a, b float64) float64 { return math.Abs(a-b) / math.Max(math.Abs(b), 1e-30) }

// TestForwardOnly: the forward-only run is the full run's forward: the same
// loss, accuracy and firing rates to the bit, and no gradients.
func TestForwardOnly(t *testing.T) {
	f, net, x, y := loadTeach(t)
	full, err := net.Run(context.Background(), x, y, f.opt())
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := net.Forward(context.Background(), x, y, f.opt())
	if err != nil {
		t.Fatal(err)
	}
	if fwd.Loss != full.Loss || fwd.Accuracy != full.Accuracy {
		t.Errorf("forward-only loss %v acc %v, full run %v %v", fwd.Loss, fwd.Accuracy, full.Loss, full.Accuracy)
	}
	for j := range full.Layers {
		if fwd.Layers[j].FiringRate != full.Layers[j].FiringRate || fwd.Layers[j].Grad != nil || fwd.Layers[j].GradPaths != nil {
			t.Errorf("%s: forward-only %+v, full %+v", full.Layers[j].Name, fwd.Layers[j], full.Layers[j])
		}
	}
	if relDiff(full.Loss, f.Base.Loss) > 1e-4 {
		t.Errorf("loss %.6f, PyTorch %.6f", full.Loss, f.Base.Loss)
	}
}

// TestWithThresholds: the new network has the new thresholds, shares the
// weights, and leaves the old one alone.
func TestWithThresholds(t *testing.T) {
	_, net, _, _ := loadTeach(t)
	th := net.Thresholds()
	moved := make([][]float64, len(th))
	for j := range th {
		moved[j] = []float64{th[j][0] * 2}
	}
	m, err := net.WithThresholds(moved)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Thresholds(); got[0][0] != float64(float32(th[0][0]*2)) {
		t.Errorf("new threshold %v, want %v", got[0][0], th[0][0]*2)
	}
	if got := net.Thresholds(); got[0][0] != th[0][0] {
		t.Errorf("the old network's threshold moved: %v, was %v", got[0][0], th[0][0])
	}
	if !snn.SameWeights(m, net) {
		t.Error("the weights were copied, not shared")
	}
	moved[1][0] = -1
	if _, err := net.WithThresholds(moved); err == nil {
		t.Error("a negative threshold was accepted")
	}
}

// TestFiniteDiffAgainstPyTorch: the losses at thresh ± h, layer by layer,
// against PyTorch's (1e-4 relative, as TestAgainstPyTorch), and the slopes'
// signs where PyTorch's slope is clear of that tolerance. Of the 30 moved
// networks one may have a spike that sits on its threshold and flips with
// the order of a float32 sum: that loss may be off by up to 1e-3, and its
// slope is not compared.
func TestFiniteDiffAgainstPyTorch(t *testing.T) {
	f, net, x, y := loadTeach(t)
	got, err := net.FiniteDiff(context.Background(), x, y, f.opt(), f.Rel, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(f.FD) {
		t.Fatalf("%d layers, PyTorch %d", len(got), len(f.FD))
	}
	flipped := 0
	for j, w := range f.FD {
		g := got[j]
		if g.Name != w.Name || relDiff(g.H, w.H) > 1e-6 {
			t.Errorf("layer %d: %s h=%g, PyTorch %s h=%g", j, g.Name, g.H, w.Name, w.H)
		}
		off := max(relDiff(g.LossPlus, w.LossPlus), relDiff(g.LossMinus, w.LossMinus))
		if off > 1e-4 {
			flipped++
			t.Logf("%s: losses %.6f/%.6f, PyTorch %.6f/%.6f (a spike flipped?)", w.Name, g.LossPlus, g.LossMinus, w.LossPlus, w.LossMinus)
		}
		if off > 1e-3 || flipped > 1 {
			t.Errorf("%s: losses %.6f/%.6f, PyTorch %.6f/%.6f", w.Name, g.LossPlus, g.LossMinus, w.LossPlus, w.LossMinus)
		}
		tol := 2e-4 * w.LossPlus / (2 * w.H)
		if off <= 1e-4 && math.Abs(w.Slope) > tol && (g.Slope > 0) != (w.Slope > 0) {
			t.Errorf("%s: slope %g, PyTorch %g", w.Name, g.Slope, w.Slope)
		}
		t.Logf("%-13s slope %+.5f (PyTorch %+.5f) surrogate %+.3g agree %s", g.Name, g.Slope, w.Slope, g.Grad, g.Agree)
	}
}

// TestDescendAgainstPyTorch: thresholds and losses along two steps of
// thresh - lr*grad. The engine's gradients differ from PyTorch's in the last
// float32 digits, so the thresholds after a step agree to 1e-5 relative.
func TestDescendAgainstPyTorch(t *testing.T) {
	f, net, x, y := loadTeach(t)
	got, err := net.Descend(context.Background(), x, y, f.opt(), f.LR, f.Steps)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(f.Descent) {
		t.Fatalf("%d points, PyTorch %d", len(got), len(f.Descent))
	}
	for k, w := range f.Descent {
		g := got[k]
		for j := range w.Thresh {
			for e := range w.Thresh[j] {
				if relDiff(g.Thresh[j][e], w.Thresh[j][e]) > 1e-5 {
					t.Errorf("step %d layer %d: thresh %.7g, PyTorch %.7g", k, j, g.Thresh[j][e], w.Thresh[j][e])
				}
			}
		}
		if relDiff(g.Loss, w.Loss) > 1e-4 {
			t.Errorf("step %d: loss %.6f, PyTorch %.6f", k, g.Loss, w.Loss)
		}
		t.Logf("step %d: loss %.6f (PyTorch %.6f)", k, g.Loss, w.Loss)
	}
}

// TestDetailAgainstPyTorch: one neuron's mem, d, s and dL/dd per step
// (PyTorch: retain_grad on d), the image's firing-rate map, the histogram of
// dL/dd and its sum, and the identity init = -0.5 x crossing.
func TestDetailAgainstPyTorch(t *testing.T) {
	f, net, x, y := loadTeach(t)
	w := f.Detail
	opt := f.opt()
	opt.Detail = &snn.Detail{Layer: w.Layer, Image: w.Image, Neuron: w.Neuron}
	r, err := net.Run(context.Background(), x, y, opt)
	if err != nil {
		t.Fatal(err)
	}
	d := r.Detail
	if d == nil || d.Name != w.Name || d.C != w.C || d.H != w.H || d.W != w.W {
		t.Fatalf("detail %+v, PyTorch %s %dx%dx%d", d, w.Name, w.C, w.H, w.W)
	}
	// The detail changes nothing else.
	plain, err := net.Run(context.Background(), x, y, f.opt())
	if err != nil {
		t.Fatal(err)
	}
	plain.Detail = nil
	r.Detail = nil
	a, _ := json.Marshal(plain)
	b, _ := json.Marshal(r)
	if string(a) != string(b) {
		t.Error("a run with a detail differs from one without")
	}

	gmax := 0.0
	for _, s := range w.Trace {
		gmax = math.Max(gmax, math.Abs(s.GradD))
	}
	for k, s := range w.Trace {
		g := d.Trace[k]
		if math.Abs(g.Mem-s.Mem) > 1e-5 || math.Abs(g.D-s.D) > 1e-5 || g.S != s.S || math.Abs(g.MemAfter-s.MemAfter) > 1e-5 {
			t.Errorf("step %d: %+v, PyTorch %+v", k, g, s)
		}
		if math.Abs(g.GradD-s.GradD) > 2e-3*gmax {
			t.Errorf("step %d: dL/dd %.6g, PyTorch %.6g", k, g.GradD, s.GradD)
		}
	}
	flips := 0
	for i := range w.Rate {
		if math.Abs(d.Rate[i]-w.Rate[i]) > 1e-9 {
			flips++
		}
	}
	if flips > len(w.Rate)/200 {
		t.Errorf("firing-rate map: %d of %d neurons differ", flips, len(w.Rate))
	}
	var total, off int64
	for b := range w.HistCount {
		total += w.HistCount[b]
		off += abs64(d.Hist[b].Count - w.HistCount[b])
	}
	if off > total/100 {
		t.Errorf("histogram: %d of %d values in another bin", off, total)
	}
	// The sum of dL/dd is minus the crossing term, in the engine and in PyTorch.
	scale := 0.0
	for _, l := range f.Base.Layers {
		for _, g := range l.Grad {
			scale = math.Max(scale, math.Abs(g))
		}
	}
	if math.Abs(d.SumGrad-w.SumGrad) > 2e-3*scale || math.Abs(d.Crossing-w.Crossing) > 2e-3*scale {
		t.Errorf("sum dL/dd %.6g crossing %.6g, PyTorch %.6g %.6g", d.SumGrad, d.Crossing, w.SumGrad, w.Crossing)
	}
	if math.Abs(d.SumGrad+d.Crossing) > 1e-6*math.Abs(d.Crossing)+1e-12 {
		t.Errorf("sum dL/dd %.9g is not minus the crossing term %.9g", d.SumGrad, d.Crossing)
	}
	if d.InitOverCrossing == nil || math.Abs(*d.InitOverCrossing+0.5) > 1e-6 || math.Abs(w.Init/w.Crossing+0.5) > 1e-4 {
		t.Errorf("init/crossing %v, PyTorch %v", d.InitOverCrossing, w.Init/w.Crossing)
	}
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// TestDetailPicksNeuron: neuron -1 picks the image's neuron whose firing
// rate is nearest one half, and traces it.
func TestDetailPicksNeuron(t *testing.T) {
	f, net, x, y := loadTeach(t)
	opt := f.opt()
	opt.Detail = &snn.Detail{Layer: 1, Image: 0, Neuron: -1}
	r, err := net.Run(context.Background(), x, y, opt)
	if err != nil {
		t.Fatal(err)
	}
	d := r.Detail
	if d.Neuron < 0 || len(d.Trace) != f.T {
		t.Fatalf("picked neuron %d, trace of %d steps", d.Neuron, len(d.Trace))
	}
	for i, v := range d.Rate {
		if math.Abs(v-0.5) < math.Abs(d.Rate[d.Neuron]-0.5) {
			t.Fatalf("neuron %d has rate %v, nearer 0.5 than the picked %d's %v", i, v, d.Neuron, d.Rate[d.Neuron])
		}
	}
	spikes := 0
	for _, s := range d.Trace {
		spikes += s.S
	}
	if float64(spikes)/float64(f.T) != d.Rate[d.Neuron] {
		t.Errorf("trace has %d spikes, rate map says %v", spikes, d.Rate[d.Neuron])
	}
}

// TestLineSearch: every try's losses are Descend's at that learning rate
// up to the try's first rise, the tries go down by √2 from lr0, and the
// chosen learning rate is the first whose steps all lowered the loss (or,
// when none did, Found is false); in float64 as in float32.
func TestLineSearch(t *testing.T) {
	f, net, x, y := loadTeach(t)
	// f.LR rises at the first step (TestDescendAgainstPyTorch) and so do
	// the 5 below it; 8*f.LR lowers the loss 3 times.
	for _, c := range []struct {
		lr0 float64
		f64 bool
	}{{f.LR, false}, {8 * f.LR, false}, {8 * f.LR, true}} {
		f64, lr0 := c.f64, c.lr0
		opt := f.opt()
		opt.F64 = f64
		const steps, tries = 3, 6
		s, err := net.LineSearch(context.Background(), x, y, opt, lr0, steps, tries, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, try := range s.Tries {
			if want := lr0 * math.Pow(0.5, float64(k)/2); relDiff(try.LR, want) > 1e-12 {
				t.Errorf("try %d: lr %g, want %g", k, try.LR, want)
			}
			d, err := net.Descend(context.Background(), x, y, opt, try.LR, steps)
			if err != nil {
				t.Fatal(err)
			}
			rose := false
			for i, l := range try.Losses {
				if relDiff(l, d[i].Loss) > 1e-12 {
					t.Errorf("try %d (lr %g) step %d: loss %g, Descend %g", k, try.LR, i, l, d[i].Loss)
				}
				if i > 0 && l >= try.Losses[i-1] {
					rose = i < len(try.Losses)-1 // a rise must end the try
				}
			}
			if rose || try.Lowered != (len(try.Losses) == steps+1 && try.Losses[steps] < try.Losses[steps-1] && func() bool {
				for i := 1; i <= steps; i++ {
					if try.Losses[i] >= try.Losses[i-1] {
						return false
					}
				}
				return true
			}()) {
				t.Errorf("try %d: losses %v, lowered %v", k, try.Losses, try.Lowered)
			}
			if try.Lowered && (k != len(s.Tries)-1 || !s.Found || s.LR != try.LR) {
				t.Errorf("try %d lowered the loss at every step, but the search chose lr %g (found %v) after %d tries", k, s.LR, s.Found, len(s.Tries))
			}
			t.Logf("f64 %v: lr %.4g: %v lowered %v", f64, try.LR, try.Losses, try.Lowered)
		}
		if !s.Found && len(s.Tries) != tries {
			t.Errorf("not found after %d tries, want %d", len(s.Tries), tries)
		}
		if !s.Found {
			furthest := s.Tries[0]
			for _, try := range s.Tries {
				if len(try.Losses) > len(furthest.Losses) {
					furthest = try
				}
			}
			if s.LR != furthest.LR || len(s.Steps) != len(furthest.Losses) {
				t.Errorf("none lowered the loss at every step: chose lr %g (%d points), want the furthest try, %g", s.LR, len(s.Steps), furthest.LR)
			}
		}
		if len(s.Steps) == 0 || s.Steps[0].Loss != s.Tries[0].Losses[0] {
			t.Errorf("the chosen descent %v does not start at the run's loss", s.Steps)
		}
	}
}
