package snn

import (
	"math"

	"github.com/spikegrad/spikegrad/snn/kern"
)

// Each layer has a forward and a backward over flat slices of E, float32 or
// float64 (the exact mode): one engine over both. An activation over T steps
// is [C][T][H*W] (see Shape). Backward computes only the gradient with
// respect to the layer's input: no weight gradient is ever needed for
// threshold gradients.

// convForward: out[co][t][p] = b[co] + sum W[co][ci,ky,kx] in[ci][t][p shifted].
// col is scratch of Cin*K*K x T*Ho*Wo.
func convForward[E kern.Float](l *Layer, T int, in, out, col []E) {
	p := wts[E](l)
	n := T * l.Out.H * l.Out.W
	kk := l.In.C * l.K * l.K
	im2col(l, T, in, col[:kk*n])
	kern.Gemm(l.Out.C, n, kk, p.WT, true, col, out)
	for co := 0; co < l.Out.C; co++ {
		b := p.B[co]
		o := out[co*n : (co+1)*n]
		for i := range o {
			o[i] += b
		}
	}
}

// convBackward: gin = col2im(Wᵀ gout).
func convBackward[E kern.Float](l *Layer, T int, gout, gin, col []E) {
	p := wts[E](l)
	if kern.ConvBackward(p.WT, gout, gin, l.Out.C, l.In.C, T, l.In.H, l.In.W, l.Out.H, l.Out.W, l.K, l.Stride, l.Pad) {
		return
	}
	n := T * l.Out.H * l.Out.W
	kk := l.In.C * l.K * l.K
	kern.Gemm(kk, n, l.Out.C, p.WT, false, gout, col[:kk*n])
	col2im(l, T, col[:kk*n], gin)
}

// im2col lays the input patches out as rows (ci,ky,kx) and columns (t,oy,ox).
func im2col[E kern.Float](l *Layer, T int, in, col []E) {
	H, W, Ho, Wo := l.In.H, l.In.W, l.Out.H, l.Out.W
	n := T * Ho * Wo
	r := 0
	for ci := 0; ci < l.In.C; ci++ {
		for ky := 0; ky < l.K; ky++ {
			for kx := 0; kx < l.K; kx++ {
				row := col[r*n : (r+1)*n]
				r++
				for t := 0; t < T; t++ {
					plane := in[(ci*T+t)*H*W : (ci*T+t+1)*H*W]
					dst := row[t*Ho*Wo : (t+1)*Ho*Wo]
					for oy := 0; oy < Ho; oy++ {
						iy := oy*l.Stride - l.Pad + ky
						d := dst[oy*Wo : (oy+1)*Wo]
						if iy < 0 || iy >= H {
							clear(d)
							continue
						}
						src := plane[iy*W : (iy+1)*W]
						for ox := range d {
							ix := ox*l.Stride - l.Pad + kx
							if ix < 0 || ix >= W {
								d[ox] = 0
							} else {
								d[ox] = src[ix]
							}
						}
					}
				}
			}
		}
	}
}

// col2im adds the patch gradients back onto the input positions they came from.
func col2im[E kern.Float](l *Layer, T int, col, gin []E) {
	H, W, Ho, Wo := l.In.H, l.In.W, l.Out.H, l.Out.W
	n := T * Ho * Wo
	clear(gin[:l.In.C*T*H*W])
	r := 0
	for ci := 0; ci < l.In.C; ci++ {
		for ky := 0; ky < l.K; ky++ {
			for kx := 0; kx < l.K; kx++ {
				row := col[r*n : (r+1)*n]
				r++
				for t := 0; t < T; t++ {
					plane := gin[(ci*T+t)*H*W : (ci*T+t+1)*H*W]
					s := row[t*Ho*Wo : (t+1)*Ho*Wo]
					ox0, ox1 := validSpan(Wo, W, l.Stride, l.Pad, kx)
					for oy := 0; oy < Ho; oy++ {
						iy := oy*l.Stride - l.Pad + ky
						if iy < 0 || iy >= H || ox0 >= ox1 {
							continue
						}
						dst := plane[iy*W : (iy+1)*W]
						src := s[oy*Wo+ox0 : oy*Wo+ox1]
						if l.Stride == 1 {
							// A contiguous run: no index arithmetic or test per value.
							d := dst[ox0-l.Pad+kx : ox1-l.Pad+kx]
							d = d[:len(src)]
							for i, v := range src {
								d[i] += v
							}
							continue
						}
						ix := ox0*l.Stride - l.Pad + kx
						for _, v := range src {
							dst[ix] += v
							ix += l.Stride
						}
					}
				}
			}
		}
	}
}

// validSpan returns the output columns [ox0, ox1) whose input column
// ox*stride - pad + kx lies inside a row of w values.
func validSpan(wo, w, stride, pad, kx int) (ox0, ox1 int) {
	// ox*stride >= pad - kx, and ox*stride <= w-1 + pad - kx.
	lo := pad - kx
	if lo > 0 {
		ox0 = (lo + stride - 1) / stride
	}
	hi := w - 1 + pad - kx
	if hi < 0 {
		return 0, 0
	}
	ox1 = min(wo, hi/stride+1)
	return ox0, max(ox0, ox1)
}

// linearForward: out[o][t] = b[o] + sum W[o][i] in[i][t].
func linearForward[E kern.Float](l *Layer, T int, in, out []E) {
	p := wts[E](l)
	kern.Gemm(l.Out.C, T, l.In.Size(), p.WT, true, in, out)
	for o := 0; o < l.Out.C; o++ {
		for t := 0; t < T; t++ {
			out[o*T+t] += p.B[o]
		}
	}
}

func linearBackward[E kern.Float](l *Layer, T int, gout, gin []E) {
	kern.Gemm(l.In.Size(), T, l.Out.C, wts[E](l).WT, false, gout, gin)
}

// flattenForward turns [C][T][HW] into [C*HW][T], PyTorch's flatten order with steps inner.
func flattenForward[E kern.Float](l *Layer, T int, in, out []E) {
	hw := l.In.H * l.In.W
	for c := 0; c < l.In.C; c++ {
		for t := 0; t < T; t++ {
			for p := 0; p < hw; p++ {
				out[(c*hw+p)*T+t] = in[(c*T+t)*hw+p]
			}
		}
	}
}

func flattenBackward[E kern.Float](l *Layer, T int, gout, gin []E) {
	hw := l.In.H * l.In.W
	for c := 0; c < l.In.C; c++ {
		for t := 0; t < T; t++ {
			for p := 0; p < hw; p++ {
				gin[(c*T+t)*hw+p] = gout[(c*hw+p)*T+t]
			}
		}
	}
}

// pool2 says whether l is a 2x2, stride-2 pool without padding, the one the
// SIMD module takes.
func pool2(l *Layer) bool { return l.K == 2 && l.Stride == 2 && l.Pad == 0 }

// avgpoolForward averages K x K windows of every (channel, step) plane.
func avgpoolForward[E kern.Float](l *Layer, T int, in, out []E) {
	if pool2(l) && kern.AvgPool2(in, out, l.In.C*T, l.In.H, l.In.W) {
		return
	}
	H, W, Ho, Wo, k := l.In.H, l.In.W, l.Out.H, l.Out.W, l.K
	inv := 1 / E(k*k)
	for pl := 0; pl < l.In.C*T; pl++ {
		src := in[pl*H*W : (pl+1)*H*W]
		dst := out[pl*Ho*Wo : (pl+1)*Ho*Wo]
		for oy := 0; oy < Ho; oy++ {
			for ox := 0; ox < Wo; ox++ {
				var s E
				for ky := 0; ky < k; ky++ {
					row := src[(oy*l.Stride+ky)*W+ox*l.Stride:]
					for kx := 0; kx < k; kx++ {
						s += row[kx]
					}
				}
				dst[oy*Wo+ox] = s * inv
			}
		}
	}
}

func avgpoolBackward[E kern.Float](l *Layer, T int, gout, gin []E) {
	if pool2(l) && kern.AvgUnpool2(gout, gin, l.In.C*T, l.In.H, l.In.W) {
		return
	}
	H, W, Ho, Wo, k := l.In.H, l.In.W, l.Out.H, l.Out.W, l.K
	inv := 1 / E(k*k)
	clear(gin[:l.In.C*T*H*W])
	for pl := 0; pl < l.In.C*T; pl++ {
		dst := gin[pl*H*W : (pl+1)*H*W]
		src := gout[pl*Ho*Wo : (pl+1)*Ho*Wo]
		for oy := 0; oy < Ho; oy++ {
			for ox := 0; ox < Wo; ox++ {
				g := src[oy*Wo+ox] * inv
				for ky := 0; ky < k; ky++ {
					row := dst[(oy*l.Stride+ky)*W+ox*l.Stride:]
					for kx := 0; kx < k; kx++ {
						row[kx] += g
					}
				}
			}
		}
	}
}

// maxpoolForward takes the largest value of every K x K window (padding
// never wins) and keeps, for the backward, the input position it came from.
// On ties the first in scan order wins, as in PyTorch: spikes tie often.
func maxpoolForward[E kern.Float](l *Layer, T int, in, out []E, arg []int32) {
	H, W, Ho, Wo, k := l.In.H, l.In.W, l.Out.H, l.Out.W, l.K
	for pl := 0; pl < l.In.C*T; pl++ {
		src := in[pl*H*W : (pl+1)*H*W]
		dst := out[pl*Ho*Wo : (pl+1)*Ho*Wo]
		at := arg[pl*Ho*Wo : (pl+1)*Ho*Wo]
		for oy := 0; oy < Ho; oy++ {
			for ox := 0; ox < Wo; ox++ {
				best, bi := E(math.Inf(-1)), int32(-1)
				for ky := 0; ky < k; ky++ {
					iy := oy*l.Stride - l.Pad + ky
					if iy < 0 || iy >= H {
						continue
					}
					for kx := 0; kx < k; kx++ {
						ix := ox*l.Stride - l.Pad + kx
						if ix < 0 || ix >= W {
							continue
						}
						if v := src[iy*W+ix]; v > best || bi < 0 {
							best, bi = v, int32(iy*W+ix)
						}
					}
				}
				dst[oy*Wo+ox], at[oy*Wo+ox] = best, bi
			}
		}
	}
}

// maxpoolBackward sends each window's gradient to the position that won it.
func maxpoolBackward[E kern.Float](l *Layer, T int, gout, gin []E, arg []int32) {
	H, W, Ho, Wo := l.In.H, l.In.W, l.Out.H, l.Out.W
	clear(gin[:l.In.C*T*H*W])
	for pl := 0; pl < l.In.C*T; pl++ {
		dst := gin[pl*H*W : (pl+1)*H*W]
		for p, g := range gout[pl*Ho*Wo : (pl+1)*Ho*Wo] {
			dst[arg[pl*Ho*Wo+p]] += g
		}
	}
}

// add sums two activations into out (a residual join's forward; its
// backward hands the same gradient to both branches).
func add[E kern.Float](a, b, out []E) {
	for i := range out {
		out[i] = a[i] + b[i]
	}
}

// ifPaths holds one IF layer's dL/dthresh, split by the four places the
// threshold enters (SEMANTICS.md), one entry per threshold value.
type ifPaths struct {
	Crossing, Amplitude, Reset, Init []float64
	Spikes                           float64 // spikes (SNN) or sum of y/thresh (ANN)
	Near                             int     // neuron-steps within float32 rounding of a flip (nearThreshold)
}

func newIFPaths(n int) ifPaths {
	return ifPaths{make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), 0, 0}
}

// thresh is channel c's threshold of th (one for the layer, or one per channel).
func thresh[E kern.Float](th []E, c int) E {
	if len(th) > 1 {
		return th[c]
	}
	return th[0]
}

// ifForward runs the IF neurons over T steps:
//
//	mem = th/2; for t: mem += x_t; d_t = mem - th; s_t = [d_t >= 0]; o_t = s_t*th; mem -= s_t*th
//
// and keeps d_t, all the backward needs (s_t is d_t >= 0).
func ifForward[E kern.Float](l *Layer, th []E, T int, in, out, keep []E, acc *ifPaths) {
	if spikes, ok := kern.IFForward(in, out, keep, th, l.In.C, T, l.In.H*l.In.W); ok {
		acc.Spikes += float64(spikes)
		return
	}
	hw := l.In.H * l.In.W
	var spikes int
	for c := 0; c < l.In.C; c++ {
		th := thresh(th, c)
		base := c * T * hw
		for p := 0; p < hw; p++ {
			mem := 0.5 * th
			for t := 0; t < T; t++ {
				i := base + t*hw + p
				mem += in[i]
				d := mem - th
				keep[i] = d
				if d >= 0 {
					out[i] = th
					mem -= th
					spikes++
				} else {
					out[i] = 0
				}
			}
		}
	}
	acc.Spikes += float64(spikes)
}

// ifBackward runs the steps backwards (BPTT). gm is dL/dmem after step t's
// reset, carried from step t+1. With g_o the gradient reaching o_t:
//
//	g_s = th*(g_o - gm)          (o_t = s_t*th and mem -= s_t*th)
//	g_d = g_s * sg(d_t)          (surrogate: max(0, gamma-|d|)/gamma²)
//	g_u = gm + g_d               (u_t = mem before the crossing test)
//	crossing -= g_d; amplitude += s*g_o; reset -= s*gm; init += gm_0/2
//
// gd, when not nil, receives g_d (dL/dd) for every neuron and step, laid out
// as keep: a Detail asks for it, a normal run passes nil.
func ifBackward[E kern.Float](l *Layer, th []E, T int, gamma E, gout, gin, keep, gd []E, acc *ifPaths) {
	inv := 1 / (gamma * gamma)
	if gd == nil {
		if sums, ok := kern.IFBackward(gout, gin, keep, th, l.In.C, T, l.In.H*l.In.W, gamma, inv); ok {
			for c := 0; c < l.In.C; c++ {
				k := 0
				if len(th) > 1 {
					k = c
				}
				acc.Crossing[k] += sums[4*c]
				acc.Amplitude[k] += sums[4*c+1]
				acc.Reset[k] += sums[4*c+2]
				acc.Init[k] += sums[4*c+3]
			}
			return
		}
	}
	hw := l.In.H * l.In.W
	for c := 0; c < l.In.C; c++ {
		k := 0
		if len(th) > 1 {
			k = c
		}
		th := thresh(th, c)
		base := c * T * hw
		var cross, amp, reset, init float64
		for p := 0; p < hw; p++ {
			var gm, cr, am, re E
			for t := T - 1; t >= 0; t-- {
				i := base + t*hw + p
				d, go_ := keep[i], gout[i]
				var g E
				if d >= 0 {
					am += go_
					re -= gm
				}
				if a := gamma - abs(d); a > 0 {
					g = th * (go_ - gm) * a * inv
				}
				if gd != nil {
					gd[i] = g
				}
				cr -= g
				gm += g
				gin[i] = gm
			}
			cross += float64(cr)
			amp += float64(am)
			reset += float64(re)
			init += 0.5 * float64(gm)
		}
		acc.Crossing[k] += cross
		acc.Amplitude[k] += amp
		acc.Reset[k] += reset
		acc.Init[k] += init
	}
}

// annForward is the QCFS quantised activation (T = 0):
// y = th * floor(clamp(x/th, 0, 1)*L + 0.5)/L; it keeps x for the backward.
func annForward[E kern.Float](l *Layer, th []E, L int, in, out, keep []E, acc *ifPaths) {
	hw := l.In.H * l.In.W
	fl := E(L)
	var rate float64
	for c := 0; c < l.In.C; c++ {
		th := thresh(th, c)
		for i := c * hw; i < (c+1)*hw; i++ {
			x := in[i]
			keep[i] = x
			z := min(max(x/th, 0), 1)
			q := E(math.Floor(float64(z*fl+0.5))) / fl
			out[i] = q * th
			rate += float64(q)
		}
	}
	acc.Spikes += rate
}

// annBackward: the floor is straight-through, so dy/dx = pass and
// dy/dth = q - pass*x/th, where pass is where the clamp lets the gradient
// through (bounds included, as PyTorch's clamp). The later QCFS code's IF
// clamps x/th first: pass = [0 <= x/th <= 1]. The earlier code's MyFloor
// (myfloor), y = th*clamp(floor(x/th*L + 0.5)/L, 0, 1), clamps after the
// floor: pass = [0 <= floor(x/th*L + 0.5) <= L], x/th in [-0.5/L, 1 + 0.5/L).
// Both have the same forward.
func annBackward[E kern.Float](l *Layer, th []E, L int, myfloor bool, gout, gin, keep []E, acc *ifPaths) {
	hw := l.In.H * l.In.W
	fl := E(L)
	for c := 0; c < l.In.C; c++ {
		k := 0
		if len(th) > 1 {
			k = c
		}
		th := thresh(th, c)
		var g float64
		for i := c * hw; i < (c+1)*hw; i++ {
			x, go_ := keep[i], gout[i]
			z := x / th
			q := E(math.Floor(float64(min(max(z, 0), 1)*fl+0.5))) / fl
			gth := go_ * q
			pass := z >= 0 && z <= 1
			if myfloor {
				f := E(math.Floor(float64(z*fl + 0.5)))
				pass = f >= 0 && f <= fl
			}
			if pass {
				gin[i] = go_
				gth -= go_ * x / th
			} else {
				gin[i] = 0
			}
			g += float64(gth)
		}
		acc.Crossing[k] += g
	}
}

func abs[E kern.Float](x E) E {
	if x < 0 {
		return -x
	}
	return x
}

// nearThreshold counts the neuron-steps of an IF layer (keep as ifForward or
// annForward left it) that sit within float32 rounding of a flip: SNN mode,
// |mem - thresh| at most one float32 ulp of the threshold; ANN mode, x that
// close to a level's edge thresh*(j+0.5)/L. Summing in another order moves
// such a potential across, and the spike and its surrogate gradient with it.
func nearThreshold[E kern.Float](l *Layer, th []E, T, L int, ann bool, keep []E) int {
	hw := l.In.H * l.In.W
	near := 0
	for c := 0; c < l.In.C; c++ {
		th := thresh(th, c)
		f := float32(th)
		tol := E(math.Nextafter32(f, float32(math.Inf(1))) - f)
		for _, v := range keep[c*T*hw : (c+1)*T*hw] {
			if !ann {
				if abs(v) <= tol {
					near++
				}
				continue
			}
			// The nearest edge: j+0.5 levels, j = round(v*L/th - 0.5), clamped.
			j := min(max(math.Round(float64(v)*float64(L)/float64(th)-0.5), 0), float64(L-1))
			if abs(v-th*E(j+0.5)/E(L)) <= tol {
				near++
			}
		}
	}
	return near
}
