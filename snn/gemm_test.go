package snn

import (
	"math"
	"math/rand"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

func TestGemm(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, s := range [][3]int{{1, 1, 1}, {4, 4, 4}, {5, 7, 3}, {64, 130, 27}, {3, 9, 100}} {
		m, n, k := s[0], s[1], s[2]
		a, b := make([]float32, m*k), make([]float32, k*n)
		for i := range a {
			a[i] = rng.Float32() - 0.5
		}
		for i := range b {
			b[i] = rng.Float32() - 0.5
		}
		c := make([]float32, m*n)
		gemm(m, n, k, a, b, c, make([]float32, k*(m+3)), make([]float32, k*(n+3)))
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var want float64
				for p := 0; p < k; p++ {
					want += float64(a[i*k+p]) * float64(b[p*n+j])
				}
				if math.Abs(float64(c[i*n+j])-want) > 1e-4 {
					t.Fatalf("%v: c[%d][%d] = %g, want %g", s, i, j, c[i*n+j], want)
				}
			}
		}
	}
}

func benchGemm(b *testing.B, m, n, k int, own bool) {
	a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	pa, pb := make([]float32, k*(m+3)), make([]float32, k*(n+3))
	for i := range a {
		a[i] = float32(i % 7)
	}
	for i := range bb {
		bb[i] = float32(i % 5)
	}
	for range b.N {
		if own {
			gemm(m, n, k, a, bb, c, pa, pb)
		} else {
			gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, bb, n, 0, c, n)
		}
	}
	b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// gemm against gonum, natively and compiled to wasm (matmul picks the faster).
// Shapes of VGG16's backward products (Cin*9 x T*H*W x Cout) at layers 1 and 4.
func BenchmarkGemmOwnL1(b *testing.B)   { benchGemm(b, 576, 8192, 64, true) }
func BenchmarkGemmGonumL1(b *testing.B) { benchGemm(b, 576, 8192, 64, false) }
func BenchmarkGemmOwnL4(b *testing.B)   { benchGemm(b, 4608, 128, 512, true) }
func BenchmarkGemmGonumL4(b *testing.B) { benchGemm(b, 4608, 128, 512, false) }
