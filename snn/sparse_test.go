package snn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/spikegrad/spikegrad/snn/kern"
)

// TestSparseForwards: the sparse forwards give the dense ones' values (the
// dense ones are checked against PyTorch through the fixtures).
func TestSparseForwards(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	fill := func(n int, density float64) []float32 {
		x := make([]float32, n)
		for i := range x {
			if rng.Float64() < density {
				x[i] = rng.Float32()
			}
		}
		return x
	}
	const T = 3
	for _, c := range []struct{ cin, cout, h, k, stride, pad int }{
		{3, 5, 8, 3, 1, 1}, {4, 6, 7, 3, 2, 1}, {2, 3, 6, 1, 2, 0}, {5, 4, 5, 3, 1, 0},
		// Multiples of four channels: the WebAssembly SIMD path where it runs.
		{4, 8, 7, 3, 2, 1}, {3, 16, 8, 3, 1, 1}, {2, 12, 5, 1, 2, 0},
	} {
		l := Layer{Kind: "conv", In: Shape{c.cin, c.h, c.h}, K: c.k, Stride: c.stride, Pad: c.pad}
		ho := (c.h+2*c.pad-c.k)/c.stride + 1
		l.Out = Shape{c.cout, ho, ho}
		l.w = newWeights(c.cout, fill(c.cout*c.cin*c.k*c.k, 1), fill(c.cout, 1), nil)
		in := fill(T*l.In.Size(), 0.3)
		dense, sparse := make([]float32, T*l.Out.Size()), make([]float32, T*l.Out.Size())
		convForward(&l, T, in, dense, make([]float32, c.cin*c.k*c.k*T*ho*ho))
		convForwardSparse(&l, T, in, sparse, make([]float32, T*l.Out.Size()))
		near(t, fmt.Sprintf("conv %+v", c), dense, sparse, 1e-5)
		in64 := widen(in)
		dense64, sparse64 := make([]float64, T*l.Out.Size()), make([]float64, T*l.Out.Size())
		convForward(&l, T, in64, dense64, make([]float64, c.cin*c.k*c.k*T*ho*ho))
		convForwardSparse(&l, T, in64, sparse64, make([]float64, T*l.Out.Size()))
		near(t, fmt.Sprintf("conv %+v float64", c), dense64, sparse64, 1e-13)
		near(t, fmt.Sprintf("conv %+v float32 against float64", c), dense, sparse64, 1e-5)
	}
	l := Layer{Kind: "linear", In: Shape{37, 1, 1}, Out: Shape{11, 1, 1}}
	l.w = newWeights(11, fill(11*37, 1), fill(11, 1), nil)
	in := fill(T*37, 0.3)
	dense, sparse := make([]float32, T*11), make([]float32, T*11)
	linearForward(&l, T, in, dense)
	linearForwardSparse(&l, T, in, sparse, make([]float32, T*11))
	near(t, "linear", dense, sparse, 1e-5)
	dense64, sparse64 := make([]float64, T*11), make([]float64, T*11)
	linearForward(&l, T, widen(in), dense64)
	linearForwardSparse(&l, T, widen(in), sparse64, make([]float64, T*11))
	near(t, "linear float64", dense64, sparse64, 1e-13)
}

// near fails t where got and want differ by more than tol.
func near[A, B kern.Float](t *testing.T, what string, want []A, got []B, tol float64) {
	t.Helper()
	for i := range want {
		if math.Abs(float64(want[i])-float64(got[i])) > tol {
			t.Fatalf("%s: value %d is %g, want %g", what, i, got[i], want[i])
		}
	}
}

func widen(s []float32) []float64 {
	w := make([]float64, len(s))
	for i, v := range s {
		w[i] = float64(v)
	}
	return w
}
