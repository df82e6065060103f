//go:build !amd64 || noasm

package kern

// Without the amd64 kernels the products keep to gonum (natively) or the Go
// kernel, and axpy and transpose to plain loops.
const haveFMA = false

func kern6x16(k int, a, b, c *float32, ldc int, acc bool)       { panic("kern: no FMA kernel") }
func kern6x8d(k int, a, b, c *float64, ldc int, acc bool)       { panic("kern: no FMA kernel") }
func axpy32(y, x *float32, n int, a float32)                    { panic("kern: no FMA kernel") }
func axpy16d(y, x *float64, n int, a float64)                   { panic("kern: no FMA kernel") }
func transpose8x8(dst *float32, ldd int, src *float32, lds int) { panic("kern: no FMA kernel") }
