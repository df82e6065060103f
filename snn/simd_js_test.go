package snn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/spikegrad/spikegrad/snn/kern"
)

// TestSIMDIF: the SIMD module's IF neurons give the Go loops' numbers bit
// for bit, with one threshold and one per channel, on inputs that land on
// the edges (d exactly 0, |d| exactly gamma, signed zeros).
func TestSIMDIF(t *testing.T) {
	needSIMD(t)
	testSIMDIF[float32](t)
	t.Run("float64", testSIMDIF[float64])
}

func testSIMDIF[E kern.Float](t *testing.T) {
	const C, T, H, W = 3, 5, 4, 6
	n := C * T * H * W
	rng := rand.New(rand.NewPCG(1, 2))
	in, gout := make([]E, n), make([]E, n)
	for i := range in {
		in[i] = E(rng.NormFloat64())
		gout[i] = E(rng.NormFloat64())
		switch i % 7 {
		case 0:
			in[i] = 0.5 // with a threshold of 1: d lands on 0
		case 3:
			in[i], gout[i] = E(math.Copysign(0, -1)), 0
		}
	}
	for _, th32 := range [][]float32{{1}, {1, 0.75, 1.5}} {
		l := &Layer{Kind: "if", In: Shape{C, H, W}, Out: Shape{C, H, W}, Thresh: th32}
		th := make([]E, len(th32))
		for i, v := range th32 {
			th[i] = E(v)
		}
		if _, ok := kern.IFForward(make([]E, n), make([]E, n), make([]E, n), th, C, T, H*W); !ok {
			t.Fatalf("%d thresholds: the module does not take it", len(th))
		}
		type run struct {
			out, keep, gin []E
			acc            ifPaths
		}
		do := func(useSIMD bool) run {
			defer withSIMD(useSIMD)()
			r := run{make([]E, n), make([]E, n), make([]E, n), newIFPaths(len(th))}
			ifForward(l, th, T, in, r.out, r.keep, &r.acc)
			ifBackward(l, th, T, 1, gout, r.gin, r.keep, nil, &r.acc)
			return r
		}
		want, got := do(false), do(true)
		what := fmt.Sprintf("%d thresholds", len(th))
		sameBits(t, what+": out", got.out, want.out)
		sameBits(t, what+": keep", got.keep, want.keep)
		sameBits(t, what+": gin", got.gin, want.gin)
		if !reflect.DeepEqual(want.acc, got.acc) {
			t.Fatalf("%d thresholds: paths %+v, the Go loop's %+v", len(th), got.acc, want.acc)
		}
	}
}

// TestSIMDConv: the SIMD module's sparse convolution forward gives the Go
// loop's numbers bit for bit, and its backward (product, then col2im) the Go
// path's, for strides 1 and 2, paddings and kernels as the networks have;
// in float32 and float64 (sconv64, gemm64, col2im64).
func TestSIMDConv(t *testing.T) {
	needSIMD(t)
	testSIMDConv[float32](t, 1e-5)
	t.Run("float64", func(t *testing.T) { testSIMDConv[float64](t, 1e-13) })
}

func testSIMDConv[E kern.Float](t *testing.T, tol float64) {
	rng := rand.New(rand.NewPCG(3, 4))
	const T = 4
	// Each big enough for the module (simdMin).
	for _, c := range []struct{ cin, cout, h, k, stride, pad int }{
		{3, 8, 9, 3, 1, 1}, {4, 8, 16, 3, 2, 1}, {4, 32, 16, 1, 2, 0}, {3, 8, 13, 7, 2, 3}, {4, 8, 12, 3, 1, 0},
	} {
		ho := (c.h+2*c.pad-c.k)/c.stride + 1
		l := &Layer{Kind: "conv", In: Shape{c.cin, c.h, c.h}, Out: Shape{c.cout, ho, ho}, K: c.k, Stride: c.stride, Pad: c.pad}
		w, b := make([]float32, c.cin*c.k*c.k*c.cout), make([]float32, c.cout)
		for i := range w {
			w[i] = float32(rng.NormFloat64())
		}
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		l.w = newWeights(c.cout, w, b, nil)
		nin, nout := c.cin*T*c.h*c.h, c.cout*T*ho*ho
		in, gout := make([]E, nin), make([]E, nout)
		for i := range in {
			if rng.IntN(3) == 0 { // spikes: mostly zeros
				in[i] = 0.75
			}
		}
		for i := range gout {
			gout[i] = E(rng.NormFloat64())
		}
		if !kern.SparseConv(in, wts[E](l).WT, make([]E, T*ho*ho*c.cout), c.cin, T, c.h, c.h, ho, ho, c.cout, c.k, c.stride, c.pad) {
			t.Fatalf("%+v: the module does not take it", c)
		}
		do := func(useSIMD bool) (out, gin []E) {
			defer withSIMD(useSIMD)()
			out, gin = make([]E, nout), make([]E, nin)
			convForwardSparse(l, T, in, out, make([]E, nout))
			convBackward(l, T, gout, gin, make([]E, c.cin*c.k*c.k*T*ho*ho))
			return out, gin
		}
		wantOut, wantGin := do(false)
		gotOut, gotGin := do(true)
		sameBits(t, fmt.Sprintf("%+v: forward out", c), gotOut, wantOut)
		for i := range wantGin {
			if math.Abs(float64(gotGin[i]-wantGin[i])) > tol*(1+math.Abs(float64(wantGin[i]))) {
				t.Fatalf("%+v: backward gin[%d] = %v, the Go path's %v", c, i, gotGin[i], wantGin[i])
			}
		}
	}
}

// TestSIMDLinear: a linear layer's sparse forward in the SIMD module (sconv
// as a 1x1 convolution) gives the Go loop's numbers bit for bit; a width
// that is not a multiple of 4 (2 in float64) stays in Go.
func TestSIMDLinear(t *testing.T) {
	needSIMD(t)
	testSIMDLinear[float32](t, 4)
	t.Run("float64", func(t *testing.T) { testSIMDLinear[float64](t, 2) })
}

func testSIMDLinear[E kern.Float](t *testing.T, q int) {
	rng := rand.New(rand.NewPCG(7, 8))
	const T = 5
	for _, c := range []struct{ in, out int }{{512, 64}, {96, 40}, {64, 10}, {40, 7}} {
		l := &Layer{Kind: "linear", In: Shape{c.in, 1, 1}, Out: Shape{c.out, 1, 1}}
		w, b := make([]float32, c.in*c.out), make([]float32, c.out)
		for i := range w {
			w[i] = float32(rng.NormFloat64())
		}
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		l.w = newWeights(c.out, w, b, nil)
		in := make([]E, c.in*T)
		for i := range in {
			if rng.IntN(3) == 0 { // spikes times a threshold: mostly zeros
				in[i] = 0.625
			}
		}
		if got := kern.SparseConv(in, wts[E](l).WT, make([]E, T*c.out), c.in, T, 1, 1, 1, 1, c.out, 1, 1, 0); got != (c.out%q == 0) {
			t.Fatalf("%+v: the module takes it: %v", c, got)
		}
		do := func(useSIMD bool) []E {
			defer withSIMD(useSIMD)()
			out := make([]E, c.out*T)
			linearForwardSparse(l, T, in, out, make([]E, T*c.out))
			return out
		}
		sameBits(t, fmt.Sprintf("%+v: forward out", c), do(true), do(false))
	}
}

// TestSIMDPool: the SIMD module's 2x2 average pooling, forward and
// backward, gives the Go loops' numbers bit for bit (signed zeros too), in
// float32 and float64 (pool2_64, unpool2_64, rows of a multiple of 4).
func TestSIMDPool(t *testing.T) {
	needSIMD(t)
	testSIMDPool[float32](t)
	t.Run("float64", testSIMDPool[float64])
}

func testSIMDPool[E kern.Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const T = 3
	for _, hw := range [][2]int{{16, 16}, {8, 8}, {4, 8}, {6, 24}} {
		l := &Layer{Kind: "avgpool", In: Shape{3, hw[0], hw[1]}, Out: Shape{3, hw[0] / 2, hw[1] / 2}, K: 2, Stride: 2}
		if !pool2(l) || !kern.AvgPool2(make([]E, 3*T*hw[0]*hw[1]), make([]E, 3*T*hw[0]*hw[1]/4), 3*T, hw[0], hw[1]) {
			t.Fatalf("%v: the module does not take it", hw)
		}
		nin, nout := 3*T*hw[0]*hw[1], 3*T*hw[0]*hw[1]/4
		in, gout := make([]E, nin), make([]E, nout)
		for i := range in {
			in[i] = E(rng.NormFloat64())
			if i%5 == 0 {
				in[i] = E(math.Copysign(0, -1))
			}
		}
		for i := range gout {
			gout[i] = E(rng.NormFloat64())
			if i%4 == 0 {
				gout[i] = E(math.Copysign(0, -1))
			}
		}
		do := func(useSIMD bool) (out, gin []E) {
			defer withSIMD(useSIMD)()
			out, gin = make([]E, nout), make([]E, nin)
			avgpoolForward(l, T, in, out)
			avgpoolBackward(l, T, gout, gin)
			return out, gin
		}
		wantOut, wantGin := do(false)
		gotOut, gotGin := do(true)
		sameBits(t, fmt.Sprintf("%v: out", hw), gotOut, wantOut)
		sameBits(t, fmt.Sprintf("%v: gin", hw), gotGin, wantGin)
	}
}

// sameBits fails t where got differs from the Go loop's want in any bit.
// (float32 widened to float64 keeps every bit that tells them apart).
func sameBits[E kern.Float](t *testing.T, what string, got, want []E) {
	t.Helper()
	for i := range want {
		if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) {
			t.Fatalf("%s[%d] = %v, the Go loop's %v", what, i, got[i], want[i])
		}
	}
}

// withSIMD sends the engine's kernels to the SIMD module, or to the Go loops
// when on is false, until the function it returns is called.
func withSIMD(on bool) (restore func()) {
	was := kern.SIMD(on)
	return func() { kern.SIMD(was) }
}

// needSIMD skips t where the SIMD module does not run.
func needSIMD(t *testing.T) {
	t.Helper()
	if was := kern.SIMD(true); !was {
		kern.SIMD(false)
		t.Skip("no SIMD module")
	}
}
