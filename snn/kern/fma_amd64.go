//go:build !noasm

package kern

import "golang.org/x/sys/cpu"

// haveFMA: x86-64 with AVX2 and FMA (since 2013) runs the kernels of
// kernel_amd64.s; gonum's SSE axpy-based sgemm reaches a quarter of their speed.
var haveFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func kern6x16(k int, a, b, c *float32, ldc int, acc bool)

//go:noescape
func kern6x8d(k int, a, b, c *float64, ldc int, acc bool)

//go:noescape
func axpy32(y, x *float32, n int, a float32)

//go:noescape
func axpy16d(y, x *float64, n int, a float64)

//go:noescape
func transpose8x8(dst *float32, ldd int, src *float32, lds int)
