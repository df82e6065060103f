package snn

import "github.com/spikegrad/spikegrad/snn/kern"

// After the first IF layer every layer's input is spikes times a threshold
// (or their pooled averages): mostly zeros. The sparse forwards below visit
// only the nonzero inputs and add the weight row each one touches into a
// channels-last accumulator, so their cost follows the firing rate instead of
// the layer size. WT is the weight transposed to [K][Cout] (K = ci,ky,kx for
// a convolution, the input feature for a Linear), made once by Build.

// sparseBelow is the input density under which the sparse forward pays
// (measured on VGG16 layers: the dense product wins above about one half).
const sparseBelow = 0.5

func density[E kern.Float](x []E) float64 {
	nz := 0
	for _, v := range x {
		if v != 0 {
			nz++
		}
	}
	return float64(nz) / float64(len(x))
}

// convForwardSparse is convForward for a sparse input; acc is scratch of
// T*Ho*Wo*Cout values.
func convForwardSparse[E kern.Float](l *Layer, T int, in, out, acc []E) {
	H, W, Ho, Wo, C, k := l.In.H, l.In.W, l.Out.H, l.Out.W, l.Out.C, l.K
	w := wts[E](l)
	n := T * Ho * Wo
	acc = acc[:n*C]
	for p := 0; p < n; p++ {
		copy(acc[p*C:(p+1)*C], w.B)
	}
	if kern.SparseConv(in, w.WT, acc, l.In.C, T, H, W, Ho, Wo, C, k, l.Stride, l.Pad) {
		kern.Transpose(out, acc, n, C)
		return
	}
	// The taps of each input row and column, found once: (ky, oy) with
	// iy + pad - ky = oy*stride inside the output, and the same for x. The
	// loops below then do no division per nonzero input.
	rows, cols := taps(H, Ho, k, l.Stride, l.Pad), taps(W, Wo, k, l.Stride, l.Pad)
	for ci := 0; ci < l.In.C; ci++ {
		for t := 0; t < T; t++ {
			plane := in[(ci*T+t)*H*W : (ci*T+t+1)*H*W]
			for iy := 0; iy < H; iy++ {
				for ix, v := range plane[iy*W : (iy+1)*W] {
					if v == 0 {
						continue
					}
					for _, ty := range rows[iy] {
						for _, tx := range cols[ix] {
							r := (ci*k+ty.k)*k + tx.k
							o := (t*Ho+ty.o)*Wo + tx.o
							kern.Axpy(acc[o*C:(o+1)*C], w.WT[r*C:(r+1)*C], v)
						}
					}
				}
			}
		}
	}
	kern.Transpose(out, acc, n, C)
}

// tap is a kernel offset k that takes an input position to output position o.
type tap struct{ k, o int }

// taps lists, for each of n input positions, the kernel offsets that land on
// one of no outputs (stride and padding as a convolution's).
func taps(n, no, k, stride, pad int) [][]tap {
	out := make([][]tap, n)
	for i := range out {
		for kk := 0; kk < k; kk++ {
			if o := i + pad - kk; o >= 0 && o%stride == 0 && o/stride < no {
				out[i] = append(out[i], tap{kk, o / stride})
			}
		}
	}
	return out
}

// linearForwardSparse is linearForward for a sparse input; acc is scratch of T*Out values.
func linearForwardSparse[E kern.Float](l *Layer, T int, in, out, acc []E) {
	C, K := l.Out.C, l.In.Size()
	w := wts[E](l)
	acc = acc[:T*C]
	for t := 0; t < T; t++ {
		copy(acc[t*C:(t+1)*C], w.B)
	}
	// A linear layer is a 1x1 convolution of a 1x1 input with K channels.
	if kern.SparseConv(in, w.WT, acc, K, T, 1, 1, 1, 1, C, 1, 1, 0) {
		kern.Transpose(out, acc, T, C)
		return
	}
	for t := 0; t < T; t++ {
		a := acc[t*C : (t+1)*C]
		for i := 0; i < K; i++ {
			if v := in[i*T+t]; v != 0 {
				kern.Axpy(a, w.WT[i*C:(i+1)*C], v)
			}
		}
	}
	kern.Transpose(out, acc, T, C)
}
