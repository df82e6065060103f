package snn

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestSIMDRuns: node and browsers run WebAssembly SIMD, so the products go
// through the SIMD module there (TestGemm checks them through matmul).
func TestSIMDRuns(t *testing.T) {
	simd.once.Do(simdInit)
	if !simd.ok {
		t.Fatal("the WebAssembly SIMD module did not start: products fall back to the Go kernel")
	}
}

// TestSIMDIF: the SIMD module's IF neurons give the Go loops' numbers bit
// for bit, with one threshold and one per channel, on inputs that land on
// the edges (d exactly 0, |d| exactly gamma, signed zeros).
func TestSIMDIF(t *testing.T) {
	simd.once.Do(simdInit)
	if !simd.ok {
		t.Skip("no SIMD module")
	}
	const C, T, H, W = 3, 5, 4, 6
	n := C * T * H * W
	rng := rand.New(rand.NewPCG(1, 2))
	in, gout := make([]float32, n), make([]float32, n)
	for i := range in {
		in[i] = float32(rng.NormFloat64())
		gout[i] = float32(rng.NormFloat64())
		switch i % 7 {
		case 0:
			in[i] = 0.5 // with a threshold of 1: d lands on 0
		case 3:
			in[i], gout[i] = float32(math.Copysign(0, -1)), 0
		}
	}
	for _, th := range [][]float32{{1}, {1, 0.75, 1.5}} {
		l := &Layer{Kind: "if", In: Shape{C, H, W}, Out: Shape{C, H, W}, Thresh: th}
		type run struct {
			out, keep, gin []float32
			acc            ifPaths
		}
		do := func(useSIMD bool) run {
			simd.ok = useSIMD
			defer func() { simd.ok = true }()
			r := run{make([]float32, n), make([]float32, n), make([]float32, n), newIFPaths(len(th))}
			ifForward(l, T, in, r.out, r.keep, &r.acc)
			ifBackward(l, T, 1, gout, r.gin, r.keep, nil, &r.acc)
			return r
		}
		want, got := do(false), do(true)
		same := func(what string, a, b []float32) {
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
					t.Fatalf("%d thresholds: %s[%d] = %v, the Go loop's %v", len(th), what, i, b[i], a[i])
				}
			}
		}
		same("out", want.out, got.out)
		same("keep", want.keep, got.keep)
		same("gin", want.gin, got.gin)
		if !reflect.DeepEqual(want.acc, got.acc) {
			t.Fatalf("%d thresholds: paths %+v, the Go loop's %+v", len(th), got.acc, want.acc)
		}
	}
}
