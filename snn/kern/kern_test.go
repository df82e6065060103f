package kern

import (
	"math"
	"math/rand"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// TestGemm: both own gemms against a float64 product, on shapes with edge
// tiles and, for the FMA one, more than one block of k and of n.
func TestGemm(t *testing.T) {
	checkGemm(t, "gemm", func(m, n, k int, a []float32, aT bool, b, c []float32) {
		gemm(m, n, k, a, aT, b, c, make([]float32, k*(m+3)), make([]float32, k*(n+3)))
	})
	checkGemm(t, "Gemm", Gemm[float32])
	checkGemm(t, "gemm", func(m, n, k int, a []float64, aT bool, b, c []float64) {
		gemm(m, n, k, a, aT, b, c, make([]float64, k*(m+3)), make([]float64, k*(n+3)))
	})
	checkGemm(t, "Gemm", Gemm[float64])
	if !haveFMA {
		t.Log("no AVX2/FMA here: the FMA kernel is not tested")
		return
	}
	checkGemm(t, "gemmFMA", gemmFMA[float32])
	checkGemm(t, "gemmFMA", gemmFMA[float64])
}

// checkGemm tries f with a as given and transposed (aT) on shapes with
// edge tiles, each product against the sum in float64: within 1e-4 in
// float32, 1e-12 in float64 (the kernels sum in other orders).
func checkGemm[E Float](t *testing.T, name string, f func(m, n, k int, a []E, aT bool, b, c []E)) {
	tol := 1e-12
	if is32[E]() {
		tol, name = 1e-4, name+"32"
	} else {
		name += "64"
	}
	rng := rand.New(rand.NewSource(2))
	for _, s := range [][3]int{{1, 1, 1}, {4, 4, 4}, {5, 7, 3}, {6, 16, 1}, {6, 8, 1}, {64, 130, 27}, {3, 9, 100},
		{13, 1100, 300}, {37, 35, 600}, {7, 17, 0}, {512, 8, 512}, {300, 5, 41}} {
		m, n, k := s[0], s[1], s[2]
		a, b := make([]E, m*k), make([]E, k*n)
		for i := range a {
			a[i] = E(rng.Float64() - 0.5)
		}
		for i := range b {
			b[i] = E(rng.Float64() - 0.5)
		}
		c := make([]E, m*n+1) // the product overwrites c, and nothing past it
		for _, aT := range []bool{false, true} {
			av := a
			if aT {
				av = make([]E, len(a))
				Transpose(av, a, m, k)
			}
			for i := range c {
				c[i] = 7
			}
			f(m, n, k, av, aT, b, c[:m*n])
			if c[m*n] != 7 {
				t.Fatalf("%s %v aT=%v: wrote past c", name, s, aT)
			}
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var want float64
					for p := 0; p < k; p++ {
						want += float64(a[i*k+p]) * float64(b[p*n+j])
					}
					if math.Abs(float64(c[i*n+j])-want) > tol {
						t.Fatalf("%s %v aT=%v: c[%d][%d] = %g, want %g", name, s, aT, i, j, c[i*n+j], want)
					}
				}
			}
		}
	}
}

func benchGemm(b *testing.B, m, n, k int, kind string) {
	if (kind == "fma" || kind == "fma64") && !haveFMA {
		b.Skip("no AVX2/FMA")
	}
	a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	pa, pb := make([]float32, k*(m+3)), make([]float32, k*(n+3))
	for i := range a {
		a[i] = float32(i % 7)
	}
	for i := range bb {
		bb[i] = float32(i % 5)
	}
	a64, b64, c64 := widen(a), widen(bb), make([]float64, m*n)
	for range b.N {
		switch kind {
		case "own":
			gemm(m, n, k, a, false, bb, c, pa, pb)
		case "fma":
			gemmFMA(m, n, k, a, false, bb, c)
		case "fma64":
			gemmFMA(m, n, k, a64, false, b64, c64)
		case "matmul":
			Gemm(m, n, k, a, false, bb, c)
		case "matmul64":
			Gemm(m, n, k, a64, false, b64, c64)
		default:
			gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, bb, n, 0, c, n)
		}
	}
	b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// gemm against gonum and the FMA kernel, natively and compiled to wasm
// (matmul picks the fastest that runs there; gonum's Sgemm uses every core).
// Shapes of VGG16's backward products (Cin*9 x T*H*W x Cout) at layers 1 and 4.
func BenchmarkGemmOwnL1(b *testing.B)   { benchGemm(b, 576, 8192, 64, "own") }
func BenchmarkGemmGonumL1(b *testing.B) { benchGemm(b, 576, 8192, 64, "gonum") }
func BenchmarkGemmFMAL1(b *testing.B)   { benchGemm(b, 576, 8192, 64, "fma") }

// BenchmarkMatmulL1: what the engine calls: natively the FMA kernel (or
// gonum's), in WebAssembly the SIMD module's product, padding included.
func BenchmarkMatmulL1(b *testing.B)    { benchGemm(b, 576, 8192, 64, "matmul") }
func BenchmarkMatmul64L1(b *testing.B)  { benchGemm(b, 576, 8192, 64, "matmul64") }
func BenchmarkGemmFMA64L1(b *testing.B) { benchGemm(b, 576, 8192, 64, "fma64") }

func widen(s []float32) []float64 {
	w := make([]float64, len(s))
	for i, v := range s {
		w[i] = float64(v)
	}
	return w
}
func BenchmarkGemmOwnL4(b *testing.B)   { benchGemm(b, 4608, 128, 512, "own") }
func BenchmarkGemmGonumL4(b *testing.B) { benchGemm(b, 4608, 128, 512, "gonum") }
func BenchmarkGemmFMAL4(b *testing.B)   { benchGemm(b, 4608, 128, 512, "fma") }

// TestTranspose: the blocked (AVX where it runs) and plain transposes agree
// with the definition.
func TestTranspose(t *testing.T) {
	for _, s := range [][2]int{{8, 8}, {16, 64}, {24, 8}, {5, 7}, {32, 33}} {
		r, c := s[0], s[1]
		src, dst := make([]float32, r*c), make([]float32, r*c)
		for i := range src {
			src[i] = float32(i)
		}
		Transpose(dst, src, r, c)
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				if dst[j*r+i] != src[i*c+j] {
					t.Fatalf("%dx%d: dst[%d][%d] = %g, want %g", r, c, j, i, dst[j*r+i], src[i*c+j])
				}
			}
		}
	}
}

// BenchmarkTranspose: a conv output (8192 positions by 32 channels) turned
// channels-first, as the sparse forwards do: natively in the AVX kernel, in
// WebAssembly in the SIMD module.
func BenchmarkTranspose(b *testing.B) {
	src, dst := make([]float32, 8192*32), make([]float32, 8192*32)
	b.SetBytes(4 * int64(len(src)))
	for range b.N {
		Transpose(dst, src, 8192, 32)
	}
}

// BenchmarkAxpy is the sparse forward's inner loop, at a VGG16 width.
func BenchmarkAxpy(b *testing.B) {
	x, y := make([]float32, 512), make([]float32, 512)
	for i := range x {
		x[i] = rand.Float32()
	}
	for range b.N {
		Axpy(y, x, 0.5)
	}
	b.SetBytes(512 * 4)
}
