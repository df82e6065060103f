package snn

import (
	"math"
	"math/rand"
	"testing"
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
		l.W, l.B = fill(c.cout*c.cin*c.k*c.k, 1), fill(c.cout, 1)
		l.WT = make([]float32, len(l.W))
		transpose(l.WT, l.W, c.cout, c.cin*c.k*c.k)
		in := fill(T*l.In.Size(), 0.3)
		dense, sparse := make([]float32, T*l.Out.Size()), make([]float32, T*l.Out.Size())
		convForward(&l, T, in, dense, make([]float32, c.cin*c.k*c.k*T*ho*ho))
		convForwardSparse(&l, T, in, sparse, make([]float32, T*l.Out.Size()))
		for i := range dense {
			if math.Abs(float64(dense[i]-sparse[i])) > 1e-5 {
				t.Fatalf("conv %+v: value %d dense %g sparse %g", c, i, dense[i], sparse[i])
			}
		}
	}
	l := Layer{Kind: "linear", In: Shape{37, 1, 1}, Out: Shape{11, 1, 1}}
	l.W, l.B = fill(11*37, 1), fill(11, 1)
	l.WT = make([]float32, len(l.W))
	transpose(l.WT, l.W, 11, 37)
	in := fill(T*37, 0.3)
	dense, sparse := make([]float32, T*11), make([]float32, T*11)
	linearForward(&l, T, in, dense)
	linearForwardSparse(&l, T, in, sparse, make([]float32, T*11))
	for i := range dense {
		if math.Abs(float64(dense[i]-sparse[i])) > 1e-5 {
			t.Fatalf("linear: value %d dense %g sparse %g", i, dense[i], sparse[i])
		}
	}
}
