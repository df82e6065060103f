package snn

import "testing"

// BenchmarkFold64 is the float64 working copy of a 4096x4096 layer with
// BatchNorm, made at a network's first float64 run.
func BenchmarkFold64(b *testing.B) {
	const n = 4096
	w := make([]float32, n*n)
	for i := range w {
		w[i] = float32(i%7) - 3
	}
	norm := &[4][]float32{make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)}
	for i := range n {
		norm[0][i], norm[3][i] = 1, 1
	}
	ws := newWeights(n, w, nil, norm)
	b.ResetTimer()
	for range b.N {
		fold(ws, params[float64]{})
	}
}
