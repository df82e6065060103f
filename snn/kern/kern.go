// Package kern holds the engine's numeric kernels: matrix products, axpy,
// transposes and the fused kernels of the page's WebAssembly SIMD module,
// over flat slices with explicit sizes. They know nothing of networks; each
// is generic over the element type, float32 or float64 (the exact mode), and
// picks the fastest implementation the host runs for that type.
package kern

import "sync"

// Float is an element type the kernels run on.
type Float interface{ float32 | float64 }

// is32 says whether E is float32; the dispatchers branch on it once a call.
func is32[E Float]() bool {
	var z E
	_, ok := any(z).(float32)
	return ok
}

// packs holds the products' panel scratch, one pool per element type; a
// pool, because workers may share a thread.
var packs32, packs64 sync.Pool

// pack takes n values of scratch (give it back with unpack).
func pack[E Float](n int) *[]E {
	pool := &packs64
	if is32[E]() {
		pool = &packs32
	}
	p, _ := pool.Get().(*[]E)
	if p == nil || cap(*p) < n {
		s := make([]E, n)
		p = &s
	}
	*p = (*p)[:n]
	return p
}

func unpack[E Float](p *[]E) {
	if is32[E]() {
		packs32.Put(p)
	} else {
		packs64.Put(p)
	}
}

// Axpy adds a*x to y (len(y) == len(x)): 32 float32s or 16 float64s at a
// time with FMA where the CPU has it, then four at a time.
func Axpy[E Float](y, x []E, a E) {
	x = x[:len(y)]
	i := axpyFMA(y, x, a)
	for ; i+4 <= len(y); i += 4 {
		y[i] += a * x[i]
		y[i+1] += a * x[i+1]
		y[i+2] += a * x[i+2]
		y[i+3] += a * x[i+3]
	}
	for ; i < len(y); i++ {
		y[i] += a * x[i]
	}
}

// Transpose writes the r x c matrix src into dst as c x r, in tiles that
// stay in cache (the SIMD module's or AVX blocks where they run).
func Transpose[E Float](dst, src []E, r, c int) {
	if transposeFast(dst, src, r, c) {
		return
	}
	const b = 32
	for i0 := 0; i0 < r; i0 += b {
		i1 := min(i0+b, r)
		for j0 := 0; j0 < c; j0 += b {
			j1 := min(j0+b, c)
			for i := i0; i < i1; i++ {
				row := src[i*c+j0 : i*c+j1]
				for j, v := range row {
					dst[(j0+j)*r+i] = v
				}
			}
		}
	}
}

// gemm sets c = a*b for row-major a (m x k, or stored k x m when aT), b
// (k x n), c (m x n). It packs
// b in panels of four columns and a in panels of four rows, so the 4x4
// kernel reads both sequentially and keeps its sixteen sums in registers: no
// bounds checks or calls in the inner loop, which is what keeps the
// WebAssembly build fast (Go's wasm has no SIMD and gonum's assembly does
// not apply there). pa and pb are scratch of at least k*roundup4(m) and
// k*roundup4(n) values.
func gemm[E Float](m, n, k int, a []E, aT bool, b, c, pa, pb []E) {
	m4, n4 := (m+3)&^3, (n+3)&^3
	pa, pb = pa[:k*m4], pb[:k*n4]
	// a's rows i..i+3 as [p][4].
	for i := 0; i < m4; i += 4 {
		dst := pa[i*k : (i+4)*k]
		for r := 0; r < 4; r++ {
			if i+r >= m {
				for p := 0; p < k; p++ {
					dst[p*4+r] = 0
				}
				continue
			}
			if aT {
				for p := 0; p < k; p++ {
					dst[p*4+r] = a[p*m+i+r]
				}
				continue
			}
			row := a[(i+r)*k : (i+r+1)*k]
			for p, v := range row {
				dst[p*4+r] = v
			}
		}
	}
	// b's columns j..j+3 as [p][4].
	for p := 0; p < k; p++ {
		row := b[p*n : (p+1)*n]
		for j := 0; j < n4; j += 4 {
			d := pb[j*k+p*4 : j*k+p*4+4]
			if j+4 <= n {
				d[0], d[1], d[2], d[3] = row[j], row[j+1], row[j+2], row[j+3]
				continue
			}
			for q := 0; q < 4; q++ {
				d[q] = 0
				if j+q < n {
					d[q] = row[j+q]
				}
			}
		}
	}
	for j := 0; j < n4; j += 4 {
		bp := pb[j*k : (j+4)*k]
		for i := 0; i < m4; i += 4 {
			ap := pa[i*k : (i+4)*k]
			var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 E
			for p := 0; p+4 <= len(ap) && p+4 <= len(bp); p += 4 {
				a0, a1, a2, a3 := ap[p], ap[p+1], ap[p+2], ap[p+3]
				b0, b1, b2, b3 := bp[p], bp[p+1], bp[p+2], bp[p+3]
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
				c20 += a2 * b0
				c21 += a2 * b1
				c22 += a2 * b2
				c23 += a2 * b3
				c30 += a3 * b0
				c31 += a3 * b1
				c32 += a3 * b2
				c33 += a3 * b3
			}
			if i+4 <= m && j+4 <= n {
				r0 := c[i*n+j : i*n+j+4]
				r1 := c[(i+1)*n+j : (i+1)*n+j+4]
				r2 := c[(i+2)*n+j : (i+2)*n+j+4]
				r3 := c[(i+3)*n+j : (i+3)*n+j+4]
				r0[0], r0[1], r0[2], r0[3] = c00, c01, c02, c03
				r1[0], r1[1], r1[2], r1[3] = c10, c11, c12, c13
				r2[0], r2[1], r2[2], r2[3] = c20, c21, c22, c23
				r3[0], r3[1], r3[2], r3[3] = c30, c31, c32, c33
				continue
			}
			sums := [4][4]E{{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}, {c30, c31, c32, c33}}
			for r := 0; r < 4 && i+r < m; r++ {
				row := c[(i+r)*n : (i+r+1)*n]
				for q := 0; q < 4 && j+q < n; q++ {
					row[j+q] = sums[r][q]
				}
			}
		}
	}
}
