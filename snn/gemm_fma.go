package snn

// gemmFMA sets c = a*b (row-major, a m x k or stored k x m when aT, b k x n) with the 6x16 FMA
// kernel, blocked as GotoBLAS does: a kc x nc block of b is packed once into
// 16-column panels that stay in L2, and each 6-row panel of a, packed for that
// block, stays in L1 while it meets every panel of b. Edge tiles go through a
// 6x16 scratch so that the kernel never reads or writes past c.
const (
	fmaMR, fmaNR = 6, 16
	fmaKC, fmaNC = 256, 512
)

func gemmFMA(m, n, k int, a []float32, aT bool, b, c []float32) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		clear(c[:m*n])
		return
	}
	p := pack(fmaKC*fmaNC + fmaKC*fmaMR + fmaMR*fmaNR)
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
						kern6x16(kb, &pa[0], bp, &c[i*n+j0], n, acc)
						continue
					}
					for r := 0; r < h; r++ {
						copy(tmp[r*fmaNR:r*fmaNR+w], c[(i+r)*n+j0:])
					}
					kern6x16(kb, &pa[0], bp, &tmp[0], fmaNR, acc)
					for r := 0; r < h; r++ {
						copy(c[(i+r)*n+j0:(i+r)*n+j0+w], tmp[r*fmaNR:])
					}
				}
			}
		}
	}
	packs.Put(p)
}
