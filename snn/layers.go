package snn

import "math"

// Each layer has a forward and a backward over flat slices. An activation
// over T steps is [C][T][H*W] (see Shape). Backward computes only the
// gradient with respect to the layer's input: no weight gradient is ever
// needed for threshold gradients.

// convForward: out[co][t][p] = b[co] + sum W[co][ci,ky,kx] in[ci][t][p shifted].
// col is scratch of Cin*K*K x T*Ho*Wo.
func convForward(l *Layer, T int, in, out, col []float32) {
	n := T * l.Out.H * l.Out.W
	kk := l.In.C * l.K * l.K
	im2col(l, T, in, col[:kk*n])
	matmul(l.Out.C, n, kk, l.WT, true, col, out)
	for co := 0; co < l.Out.C; co++ {
		b := l.B[co]
		o := out[co*n : (co+1)*n]
		for i := range o {
			o[i] += b
		}
	}
}

// convBackward: gin = col2im(Wᵀ gout).
func convBackward(l *Layer, T int, gout, gin, col []float32) {
	if convBackwardSIMD(l, T, gout, gin) {
		return
	}
	n := T * l.Out.H * l.Out.W
	kk := l.In.C * l.K * l.K
	matmul(kk, n, l.Out.C, l.WT, false, gout, col[:kk*n])
	col2im(l, T, col[:kk*n], gin)
}

// im2col lays the input patches out as rows (ci,ky,kx) and columns (t,oy,ox).
func im2col(l *Layer, T int, in, col []float32) {
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
func col2im(l *Layer, T int, col, gin []float32) {
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
func linearForward(l *Layer, T int, in, out []float32) {
	matmul(l.Out.C, T, l.In.Size(), l.WT, true, in, out)
	for o := 0; o < l.Out.C; o++ {
		for t := 0; t < T; t++ {
			out[o*T+t] += l.B[o]
		}
	}
}

func linearBackward(l *Layer, T int, gout, gin []float32) {
	matmul(l.In.Size(), T, l.Out.C, l.WT, false, gout, gin)
}

// flattenForward turns [C][T][HW] into [C*HW][T], PyTorch's flatten order with steps inner.
func flattenForward(l *Layer, T int, in, out []float32) {
	hw := l.In.H * l.In.W
	for c := 0; c < l.In.C; c++ {
		for t := 0; t < T; t++ {
			for p := 0; p < hw; p++ {
				out[(c*hw+p)*T+t] = in[(c*T+t)*hw+p]
			}
		}
	}
}

func flattenBackward(l *Layer, T int, gout, gin []float32) {
	hw := l.In.H * l.In.W
	for c := 0; c < l.In.C; c++ {
		for t := 0; t < T; t++ {
			for p := 0; p < hw; p++ {
				gin[(c*T+t)*hw+p] = gout[(c*hw+p)*T+t]
			}
		}
	}
}

// avgpoolForward averages K x K windows of every (channel, step) plane.
func avgpoolForward(l *Layer, T int, in, out []float32) {
	if avgpoolForwardSIMD(l, T, in, out) {
		return
	}
	H, W, Ho, Wo, k := l.In.H, l.In.W, l.Out.H, l.Out.W, l.K
	inv := 1 / float32(k*k)
	for pl := 0; pl < l.In.C*T; pl++ {
		src := in[pl*H*W : (pl+1)*H*W]
		dst := out[pl*Ho*Wo : (pl+1)*Ho*Wo]
		for oy := 0; oy < Ho; oy++ {
			for ox := 0; ox < Wo; ox++ {
				var s float32
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

func avgpoolBackward(l *Layer, T int, gout, gin []float32) {
	if avgpoolBackwardSIMD(l, T, gout, gin) {
		return
	}
	H, W, Ho, Wo, k := l.In.H, l.In.W, l.Out.H, l.Out.W, l.K
	inv := 1 / float32(k*k)
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
func maxpoolForward(l *Layer, T int, in, out []float32, arg []int32) {
	H, W, Ho, Wo, k := l.In.H, l.In.W, l.Out.H, l.Out.W, l.K
	for pl := 0; pl < l.In.C*T; pl++ {
		src := in[pl*H*W : (pl+1)*H*W]
		dst := out[pl*Ho*Wo : (pl+1)*Ho*Wo]
		at := arg[pl*Ho*Wo : (pl+1)*Ho*Wo]
		for oy := 0; oy < Ho; oy++ {
			for ox := 0; ox < Wo; ox++ {
				best, bi := float32(math.Inf(-1)), int32(-1)
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
func maxpoolBackward(l *Layer, T int, gout, gin []float32, arg []int32) {
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
func add(a, b, out []float32) {
	for i := range out {
		out[i] = a[i] + b[i]
	}
}

// ifPaths holds one IF layer's dL/dthresh, split by the four places the
// threshold enters (SEMANTICS.md), one entry per threshold value.
type ifPaths struct {
	Crossing, Amplitude, Reset, Init []float64
	Spikes                           float64 // spikes (SNN) or sum of y/thresh (ANN)
}

func newIFPaths(n int) ifPaths {
	return ifPaths{make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), 0}
}

// ifForward runs the IF neurons over T steps:
//
//	mem = th/2; for t: mem += x_t; d_t = mem - th; s_t = [d_t >= 0]; o_t = s_t*th; mem -= s_t*th
//
// and keeps d_t, all the backward needs (s_t is d_t >= 0).
func ifForward(l *Layer, T int, in, out, keep []float32, acc *ifPaths) {
	if spikes, ok := ifForwardSIMD(l, T, in, out, keep); ok {
		acc.Spikes += float64(spikes)
		return
	}
	hw := l.In.H * l.In.W
	var spikes int
	for c := 0; c < l.In.C; c++ {
		th := l.Thresh[0]
		if len(l.Thresh) > 1 {
			th = l.Thresh[c]
		}
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
func ifBackward(l *Layer, T int, gamma float32, gout, gin, keep, gd []float32, acc *ifPaths) {
	inv := 1 / (gamma * gamma)
	if gd == nil {
		if sums, ok := ifBackwardSIMD(l, T, gamma, inv, gout, gin, keep); ok {
			for c := 0; c < l.In.C; c++ {
				k := 0
				if len(l.Thresh) > 1 {
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
		th := l.Thresh[0]
		if len(l.Thresh) > 1 {
			th, k = l.Thresh[c], c
		}
		base := c * T * hw
		var cross, amp, reset, init float64
		for p := 0; p < hw; p++ {
			var gm float32
			var cr, am, re float32
			for t := T - 1; t >= 0; t-- {
				i := base + t*hw + p
				d, go_ := keep[i], gout[i]
				var g float32
				if d >= 0 {
					am += go_
					re -= gm
				}
				if a := gamma - abs32(d); a > 0 {
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
func annForward(l *Layer, L int, in, out, keep []float32, acc *ifPaths) {
	hw := l.In.H * l.In.W
	fl := float32(L)
	var rate float64
	for c := 0; c < l.In.C; c++ {
		th := l.Thresh[0]
		if len(l.Thresh) > 1 {
			th = l.Thresh[c]
		}
		for i := c * hw; i < (c+1)*hw; i++ {
			x := in[i]
			keep[i] = x
			z := min(max(x/th, 0), 1)
			q := float32(math.Floor(float64(z*fl+0.5))) / fl
			out[i] = q * th
			rate += float64(q)
		}
	}
	acc.Spikes += rate
}

// annBackward: the floor is straight-through and clamp passes its bounds, so
// dy/dx = [0 <= x/th <= 1] and dy/dth = q/L - [0 <= x/th <= 1]*x/th.
func annBackward(l *Layer, L int, gout, gin, keep []float32, acc *ifPaths) {
	hw := l.In.H * l.In.W
	fl := float32(L)
	for c := 0; c < l.In.C; c++ {
		k := 0
		th := l.Thresh[0]
		if len(l.Thresh) > 1 {
			th, k = l.Thresh[c], c
		}
		var g float64
		for i := c * hw; i < (c+1)*hw; i++ {
			x, go_ := keep[i], gout[i]
			z := x / th
			q := float32(math.Floor(float64(min(max(z, 0), 1)*fl+0.5))) / fl
			gth := go_ * q
			if z >= 0 && z <= 1 {
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

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }
