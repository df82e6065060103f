package kern

import "unsafe"

// gemmFMA sets c = a*b (row-major, a m x k or stored k x m when aT, b k x n)
// with the FMA kernel, 6x16 for float32 and 6x8 for float64 (twelve ymm sums
// either way), blocked as GotoBLAS does: a kc x nc block of b is packed once into
// 16-column panels that stay in L2, and each 6-row panel of a, packed for that
// block, stays in L1 while it meets every panel of b. Edge tiles go through a
// 6x16 scratch so that the kernel never reads or writes past c.
const (
	fmaMR        = 6
	fmaKC, fmaNC = 256, 512
)

func gemmFMA[E Float](m, n, k int, a []E, aT bool, b, c []E) {
	fmaNR := 8
	if is32[E]() {
		fmaNR = 16
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		clear(c[:m*n])
		return
	}
	p := pack[E](fmaKC*fmaNC + fmaKC*fmaMR + fmaMR*fmaNR)
	buf := *p
	pb, pa, tmp := buf[:fmaKC*fmaNC], buf[fmaKC*fmaNC:fmaKC*fmaNC+fmaKC*fmaMR], buf[fmaKC*fmaNC+fmaKC*fmaMR:]
	for jc := 0; jc < n; jc += fmaNC {
		nb := min(fmaNC, n-jc)
		for pc := 0; pc < k; pc += fmaKC {
			kb := min(fmaKC, k-pc)
			acc := pc > 0
			for j0 := jc; j0 < jc+nb; j0 += fmaNR {
				w := min(fmaNR, jc+nb-j0)
				d := pb[(j0-jc)*kb : (j0-jc+fmaNR)*kb]
				for q := 0; q < kb; q++ {
					dd := d[q*fmaNR : (q+1)*fmaNR]
					copy(dd, b[(pc+q)*n+j0:(pc+q)*n+j0+w])
					clear(dd[w:])
				}
			}
			for i := 0; i < m; i += fmaMR {
				h := min(fmaMR, m-i)
				if aT {
					for q := 0; q < kb; q++ {
						d := pa[q*fmaMR : (q+1)*fmaMR]
						copy(d, a[(pc+q)*m+i:(pc+q)*m+i+h])
						clear(d[h:])
					}
				} else if h == fmaMR {
					// Six rows side by side: each step writes one panel row.
					r0, r1, r2 := a[i*k+pc:i*k+pc+kb], a[(i+1)*k+pc:(i+1)*k+pc+kb], a[(i+2)*k+pc:(i+2)*k+pc+kb]
					r3, r4, r5 := a[(i+3)*k+pc:(i+3)*k+pc+kb], a[(i+4)*k+pc:(i+4)*k+pc+kb], a[(i+5)*k+pc:(i+5)*k+pc+kb]
					r1, r2, r3, r4, r5 = r1[:len(r0)], r2[:len(r0)], r3[:len(r0)], r4[:len(r0)], r5[:len(r0)]
					d := pa[:len(r0)*fmaMR]
					for q := range r0 {
						e := d[q*fmaMR : q*fmaMR+fmaMR]
						e[0], e[1], e[2], e[3], e[4], e[5] = r0[q], r1[q], r2[q], r3[q], r4[q], r5[q]
					}
				} else {
					for r := 0; r < h; r++ {
						for q, v := range a[(i+r)*k+pc : (i+r)*k+pc+kb] {
							pa[q*fmaMR+r] = v
						}
					}
					for r := h; r < fmaMR; r++ {
						for q := 0; q < kb; q++ {
							pa[q*fmaMR+r] = 0
						}
					}
				}
				for j0 := jc; j0 < jc+nb; j0 += fmaNR {
					w := min(fmaNR, jc+nb-j0)
					bp := &pb[(j0-jc)*kb]
					if h == fmaMR && w == fmaNR {
						micro(kb, &pa[0], bp, &c[i*n+j0], n, acc)
						continue
					}
					for r := 0; r < h; r++ {
						copy(tmp[r*fmaNR:r*fmaNR+w], c[(i+r)*n+j0:])
					}
					micro(kb, &pa[0], bp, &tmp[0], fmaNR, acc)
					for r := 0; r < h; r++ {
						copy(c[(i+r)*n+j0:(i+r)*n+j0+w], tmp[r*fmaNR:])
					}
				}
			}
		}
	}
	unpack(p)
}

// micro is the register kernel for E: c[6][NR] (+)= a·b over k.
func micro[E Float](k int, a, b, c *E, ldc int, acc bool) {
	if is32[E]() {
		kern6x16(k, (*float32)(unsafe.Pointer(a)), (*float32)(unsafe.Pointer(b)), (*float32)(unsafe.Pointer(c)), ldc, acc)
		return
	}
	kern6x8d(k, (*float64)(unsafe.Pointer(a)), (*float64)(unsafe.Pointer(b)), (*float64)(unsafe.Pointer(c)), ldc, acc)
}

// axpyFMA adds a*x to y's leading multiple of 32 (float32) or 16 (float64)
// values with the FMA kernel, where the CPU has it, and says how many.
func axpyFMA[E Float](y, x []E, a E) int {
	if !haveFMA {
		return 0
	}
	if is32[E]() {
		i := len(y) &^ 31
		if i > 0 {
			axpy32((*float32)(unsafe.Pointer(&y[0])), (*float32)(unsafe.Pointer(&x[0])), i, float32(a))
		}
		return i
	}
	i := len(y) &^ 15
	if i > 0 {
		axpy16d((*float64)(unsafe.Pointer(&y[0])), (*float64)(unsafe.Pointer(&x[0])), i, float64(a))
	}
	return i
}

// transposeAVX transposes float32 matrices whose sides are multiples of 8 in
// AVX 8x8 blocks (the shapes of conv outputs); false for anything else.
func transposeAVX[E Float](dst, src []E, r, c int) bool {
	if !haveFMA || !is32[E]() || r%8 != 0 || c%8 != 0 || r == 0 || c == 0 {
		return false
	}
	dst, src = dst[:r*c], src[:r*c]
	d, s := unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0])
	for i := 0; i < r; i += 8 {
		for j := 0; j < c; j += 8 {
			transpose8x8((*float32)(unsafe.Add(d, 4*(j*r+i))), r, (*float32)(unsafe.Add(s, 4*(i*c+j))), c)
		}
	}
	return true
}
