package snn

import (
	"math"
	"math/rand/v2"
	"sync"

	"github.com/spikegrad/spikegrad/snn/kern"
)

// weights are a convolution's or Linear layer's parameters as the checkpoint
// gives them, and the working copies a run reads: BatchNorm folded in float64
// and rounded once to the run's precision (folding in float32 rounds twice
// and moves potentials by a float32 ulp or so, which can flip a spike).
type weights struct {
	cout int
	// rawT is the stored weight transposed to [Cin*K*K][Cout] or [In][Out]:
	// the sparse forwards walk its rows and the products take it as it is.
	rawT []float32
	bias []float32     // nil: none
	norm *[4][]float32 // BatchNorm weight, bias, running mean, running var; nil: none

	f32    params[float32]
	once64 sync.Once
	f64    params[float64] // made at the first float64 run
}

// params are the folded weight, [K][Cout], and bias in one precision.
type params[E kern.Float] struct{ WT, B []E }

// newWeights keeps a layer's parameters (w as stored, [cout][K]) and makes
// the float32 working copy.
func newWeights(cout int, w, bias []float32, norm *[4][]float32) *weights {
	ws := &weights{cout: cout, rawT: make([]float32, len(w)), bias: bias, norm: norm}
	kern.Transpose(ws.rawT, w, cout, len(w)/cout)
	ws.f32 = fold[float32](ws, params[float32]{})
	return ws
}

// fold returns w's weight and bias with BatchNorm folded in, computed in
// float64 and rounded once to E: y = (W·x + b - mean)·s + beta with
// s = gamma/sqrt(var + 1e-5). Without BatchNorm the float32 weight is the
// stored one itself. The result goes into reuse's slices where they are
// of the right size (a spread's nudged runs, one after another).
func fold[E kern.Float](w *weights, reuse params[E]) params[E] {
	scale, shift := make([]float64, w.cout), make([]float64, w.cout)
	for o := range scale {
		scale[o] = 1
		if w.bias != nil {
			shift[o] = float64(w.bias[o])
		}
		if n := w.norm; n != nil {
			scale[o] = float64(n[0][o]) / math.Sqrt(float64(n[3][o])+1e-5)
			shift[o] = (shift[o]-float64(n[2][o]))*scale[o] + float64(n[1][o])
		}
	}
	p := params[E]{B: sized(reuse.B, w.cout)}
	for o, v := range shift {
		p.B[o] = E(v)
	}
	if raw, ok := any(w.rawT).([]E); ok && w.norm == nil {
		p.WT = raw
		return p
	}
	p.WT = sized(reuse.WT, len(w.rawT))
	for r := 0; r < len(w.rawT); r += w.cout {
		dst, src := p.WT[r:r+w.cout], w.rawT[r:r+w.cout]
		if w.norm == nil {
			for o, v := range src {
				dst[o] = E(v)
			}
			continue
		}
		for o, v := range src {
			dst[o] = E(float64(v) * scale[o])
		}
	}
	return p
}

// wts returns layer l's working parameters in precision E.
func wts[E kern.Float](l *Layer) *params[E] {
	if p, ok := any(&l.w.f32).(*params[E]); ok {
		return p
	}
	l.w.once64.Do(func() { l.w.f64 = fold[float64](l.w, params[float64]{}) })
	return any(&l.w.f64).(*params[E])
}

// nudged returns a copy of w whose every stored value (weight, bias,
// BatchNorm) has moved by -1, 0 or +1 float32 ulp, drawn from rng: a
// checkpoint that float32 cannot tell from w. Its slices are prev's when
// prev, an earlier nudged copy of w, is given: a spread's runs take turns,
// and each nudged VGG16 would otherwise be 200 MB more to collect.
func (w *weights) nudged(rng *rand.Rand, prev *weights) *weights {
	var rawT, bias []float32
	var norm *[4][]float32
	var f32 params[float32]
	if prev != nil {
		rawT, bias, norm, f32 = prev.rawT, prev.bias, prev.norm, prev.f32
	}
	nw := &weights{cout: w.cout, rawT: nudge(w.rawT, rng, rawT), bias: nudge(w.bias, rng, bias)}
	if w.norm != nil {
		nw.norm = new([4][]float32)
		for i, v := range w.norm {
			var into []float32
			if norm != nil {
				into = norm[i]
			}
			nw.norm[i] = nudge(v, rng, into)
		}
		// A variance may not cross zero.
		for i, v := range nw.norm[3] {
			nw.norm[3][i] = max(v, 0)
		}
	} else {
		f32.WT = nil // it was rawT itself
	}
	nw.f32 = fold(nw, f32)
	return nw
}

// nudge returns s with each value moved by -1, 0 or +1 ulp, in into when
// it has s's length.
func nudge(s []float32, rng *rand.Rand, into []float32) []float32 {
	if s == nil {
		return nil
	}
	out := sized(into, len(s))
	for i, v := range s {
		switch rng.IntN(3) {
		case 0:
			v = math.Nextafter32(v, float32(math.Inf(-1)))
		case 1:
			v = math.Nextafter32(v, float32(math.Inf(1)))
		}
		out[i] = v
	}
	return out
}

// sized is s when it holds n values, else a new slice of n.
func sized[E any](s []E, n int) []E {
	if len(s) == n {
		return s
	}
	return make([]E, n)
}

// Nudged returns a network whose weights differ from n's by at most one
// float32 ulp each, the same for the same k (run k of a spread), with n's
// thresholds. prev, when not nil, is an earlier Nudged of n that is no
// longer used: its weights' memory is taken over.
func (n *Net) Nudged(k int, prev *Net) *Net {
	rng := rand.New(rand.NewPCG(0x5eed, uint64(k)))
	m := *n
	var old []Layer
	if prev != nil {
		old = prev.Layers
	}
	m.Layers = nudgeLayers(n.Layers, rng, old)
	return &m
}

func nudgeLayers(ls []Layer, rng *rand.Rand, prev []Layer) []Layer {
	out := append([]Layer(nil), ls...)
	for i := range out {
		var p *Layer
		if prev != nil {
			p = &prev[i]
		}
		if out[i].w != nil {
			var pw *weights
			if p != nil {
				pw = p.w
			}
			out[i].w = out[i].w.nudged(rng, pw)
		}
		if out[i].Sub != nil {
			var ps []Layer
			if p != nil {
				ps = p.Sub
			}
			out[i].Sub = nudgeLayers(out[i].Sub, rng, ps)
		}
	}
	return out
}
