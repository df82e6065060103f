//go:build !js

package snn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

var impl gonum.Implementation

// matmul sets c = a*b, a m x k (stored k x m when aT), b k x n, c m x n,
// row-major: natively the FMA kernel where the CPU has it, else gonum's
// (gemm_test.go measures both).
func matmul(m, n, k int, a []float32, aT bool, b, c []float32) {
	if haveFMA {
		gemmFMA(m, n, k, a, aT, b, c)
		return
	}
	if k == 0 { // gonum refuses a zero leading dimension
		clear(c[:m*n])
		return
	}
	if aT {
		impl.Sgemm(blas.Trans, blas.NoTrans, m, n, k, 1, a, m, b, n, 0, c, n)
		return
	}
	impl.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
}

// sconvSIMD and slinearSIMD: natively the sparse forwards stay in Go (axpy
// has its own FMA kernel).
func sconvSIMD(l *Layer, T int, in, acc []float32) bool   { return false }
func slinearSIMD(l *Layer, T int, in, acc []float32) bool { return false }

// ifForwardSIMD and ifBackwardSIMD: natively the IF neurons stay in Go.
func ifForwardSIMD(l *Layer, T int, in, out, keep []float32) (int, bool) { return 0, false }

func ifBackwardSIMD(l *Layer, T int, gamma, inv float32, gout, gin, keep []float32) ([]float64, bool) {
	return nil, false
}

// avgpoolForwardSIMD and avgpoolBackwardSIMD: natively pooling stays in Go.
func avgpoolForwardSIMD(l *Layer, T int, in, out []float32) bool { return false }

func avgpoolBackwardSIMD(l *Layer, T int, gout, gin []float32) bool { return false }

// transposeSIMD: natively transpose has its own AVX kernel.
func transposeSIMD(dst, src []float32, r, c int) bool { return false }

// convBackwardSIMD: natively the product and col2im stay in Go.
func convBackwardSIMD(l *Layer, T int, gout, gin []float32) bool { return false }
