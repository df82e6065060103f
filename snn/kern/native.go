//go:build !js

package kern

import (
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

var impl gonum.Implementation

// Gemm sets c = a*b, a m x k (stored k x m when aT), b k x n, c m x n,
// row-major: natively the FMA kernel where the CPU has it, else gonum's
// (kern_test.go measures both).
func Gemm[E Float](m, n, k int, a []E, aT bool, b, c []E) {
	if haveFMA {
		gemmFMA(m, n, k, a, aT, b, c)
		return
	}
	if k == 0 || m == 0 || n == 0 { // gonum refuses a zero leading dimension
		clear(c[:m*n])
		return
	}
	ta, lda := blas.NoTrans, k
	if aT {
		ta, lda = blas.Trans, m
	}
	if is32[E]() {
		f := func(s []E) []float32 { return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s)) }
		impl.Sgemm(ta, blas.NoTrans, m, n, k, 1, f(a), lda, f(b), n, 0, f(c), n)
		return
	}
	f := func(s []E) []float64 { return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s)) }
	impl.Dgemm(ta, blas.NoTrans, m, n, k, 1, f(a), lda, f(b), n, 0, f(c), n)
}

func transposeFast[E Float](dst, src []E, r, c int) bool { return transposeAVX(dst, src, r, c) }

// Natively the fused kernels below stay in the engine's Go loops (axpy has
// its own FMA kernel): each answers false.

func SparseConv[E Float](in, wt, acc []E, cin, T, H, W, Ho, Wo, C, k, stride, pad int) bool {
	return false
}

func ConvBackward[E Float](wt, gout, gin []E, cout, cin, T, H, W, Ho, Wo, k, stride, pad int) bool {
	return false
}

func IFForward[E Float](in, out, keep, th []E, C, T, hw int) (int, bool) { return 0, false }

func IFBackward[E Float](gout, gin, keep, th []E, C, T, hw int, gamma, inv E) ([]float64, bool) {
	return nil, false
}

func AvgPool2[E Float](in, out []E, planes, H, W int) bool { return false }

func AvgUnpool2[E Float](gout, gin []E, planes, H, W int) bool { return false }
