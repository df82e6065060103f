//go:build !amd64 || noasm

package snn

// Without the amd64 kernels matmul and axpy keep to gonum and plain loops.
const haveFMA = false

func kern6x16(k int, a, b, c *float32, ldc int, acc bool)       { panic("snn: no FMA kernel") }
func axpy32(y, x *float32, n int, a float32)                    { panic("snn: no FMA kernel") }
func transpose8x8(dst *float32, ldd int, src *float32, lds int) { panic("snn: no FMA kernel") }
