package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSIMDRuns: node and browsers run WebAssembly SIMD, so the products go
// through the SIMD module there (TestGemm checks them through Gemm).
func TestSIMDRuns(t *testing.T) {
	if !simdReady() {
		t.Fatal("the WebAssembly SIMD module did not start: products fall back to the Go kernel")
	}
}

// TestSIMDTranspose: the SIMD module's transposes (float32 and float64)
// give the Go loop's matrix, for the shapes of conv outputs (tall, few
// channels) and others.
func TestSIMDTranspose(t *testing.T) {
	if !simdReady() {
		t.Fatal("no SIMD module")
	}
	testSIMDTranspose[float32](t)
	t.Run("float64", testSIMDTranspose[float64])
}

func testSIMDTranspose[E Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, rc := range [][2]int{{8192, 8}, {256, 64}, {12, 100}, {4, 1024}, {36, 36}} {
		r, c := rc[0], rc[1]
		src := make([]E, r*c)
		for i := range src {
			src[i] = E(rng.NormFloat64())
		}
		do := func(useSIMD bool) []E {
			was := SIMD(useSIMD)
			defer SIMD(was)
			dst := make([]E, r*c)
			Transpose(dst, src, r, c)
			return dst
		}
		if !transposeFast(make([]E, r*c), src, r, c) {
			t.Fatalf("%dx%d: the module does not take it", r, c)
		}
		sameBits(t, fmt.Sprintf("%dx%d", r, c), do(true), do(false))
	}
}

func sameBits[E Float](t *testing.T, what string, got, want []E) {
	t.Helper()
	for i := range want {
		if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) {
			t.Fatalf("%s[%d] = %v, the Go loop's %v", what, i, got[i], want[i])
		}
	}
}

// TestSIMDGemm: the module's products, gemm (float32) and gemm64 (float64),
// on every shape checkGemm tries, the small ones too (Gemm keeps those in
// the Go kernel): float64 within 1e-12 of the exact sum.
func TestSIMDGemm(t *testing.T) {
	if !simdReady() {
		t.Fatal("no SIMD module")
	}
	checkGemm(t, "simdGemm", simdGemm[float32])
	checkGemm(t, "simdGemm", simdGemm[float64])
}

// The SIMD module's products in float32 and float64 at VGG16's layer 4
// backward (BenchmarkMatmulL1 and BenchmarkMatmul64L1 are layer 1's).
func BenchmarkMatmulL4(b *testing.B)   { benchGemm(b, 4608, 128, 512, "matmul") }
func BenchmarkMatmul64L4(b *testing.B) { benchGemm(b, 4608, 128, 512, "matmul64") }

// benchSparseConv times SparseConv at a VGG16 layer's shape (cin channels
// of h x h in, C out, 3x3, T=8) with one input in 7 nonzero, in E.
func benchSparseConv[E Float](b *testing.B, cin, h, C int) {
	const T = 8
	in, wt, acc := make([]E, cin*T*h*h), make([]E, cin*9*C), make([]E, T*h*h*C)
	for i := range in {
		if i%7 == 0 {
			in[i] = 0.5
		}
	}
	for i := range wt {
		wt[i] = E(i%13) - 6
	}
	for range b.N {
		if !SparseConv(in, wt, acc, cin, T, h, h, h, h, C, 3, 1, 1) {
			b.Fatal("the module does not take it")
		}
	}
}

// The sparse forward in float32 (sconv) and float64 (sconv64) at VGG16's
// layers 2 (128 channels of 16x16) and 4 (512 of 4x4).
func BenchmarkSparseConvL2(b *testing.B)   { benchSparseConv[float32](b, 128, 16, 128) }
func BenchmarkSparseConv64L2(b *testing.B) { benchSparseConv[float64](b, 128, 16, 128) }
func BenchmarkSparseConvL4(b *testing.B)   { benchSparseConv[float32](b, 512, 4, 512) }
func BenchmarkSparseConv64L4(b *testing.B) { benchSparseConv[float64](b, 512, 4, 512) }
