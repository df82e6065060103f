package snn

// After the first IF layer every layer's input is spikes times a threshold
// (or their pooled averages): mostly zeros. The sparse forwards below visit
// only the nonzero inputs and add the weight row each one touches into a
// channels-last accumulator, so their cost follows the firing rate instead of
// the layer size. WT is the weight transposed to [K][Cout] (K = ci,ky,kx for
// a convolution, the input feature for a Linear), made once by Build.

// sparseBelow is the input density under which the sparse forward pays
// (measured on VGG16 layers: the dense product wins above about one half).
const sparseBelow = 0.5

func density(x []float32) float64 {
	nz := 0
	for _, v := range x {
		if v != 0 {
			nz++
		}
	}
	return float64(nz) / float64(len(x))
}

// axpy adds a*x to y (len(y) == len(x)): 32 at a time with FMA where the
// CPU has it, then four at a time.
func axpy(y, x []float32, a float32) {
	x = x[:len(y)]
	i := 0
	if haveFMA && len(y) >= 32 {
		i = len(y) &^ 31
		axpy32(&y[0], &x[0], i, a)
	}
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

// convForwardSparse is convForward for a sparse input; acc is scratch of
// T*Ho*Wo*Cout values.
func convForwardSparse(l *Layer, T int, in, out, acc []float32) {
	H, W, Ho, Wo, C, k := l.In.H, l.In.W, l.Out.H, l.Out.W, l.Out.C, l.K
	n := T * Ho * Wo
	acc = acc[:n*C]
	for p := 0; p < n; p++ {
		copy(acc[p*C:(p+1)*C], l.B)
	}
	if sconvSIMD(l, T, in, acc) {
		transpose(out, acc, n, C)
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
							axpy(acc[o*C:(o+1)*C], l.WT[r*C:(r+1)*C], v)
						}
					}
				}
			}
		}
	}
	transpose(out, acc, n, C)
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
func linearForwardSparse(l *Layer, T int, in, out, acc []float32) {
	C, K := l.Out.C, l.In.Size()
	acc = acc[:T*C]
	for t := 0; t < T; t++ {
		copy(acc[t*C:(t+1)*C], l.B)
	}
	if slinearSIMD(l, T, in, acc) {
		transpose(out, acc, T, C)
		return
	}
	for t := 0; t < T; t++ {
		a := acc[t*C : (t+1)*C]
		for i := 0; i < K; i++ {
			if v := in[i*T+t]; v != 0 {
				axpy(a, l.WT[i*C:(i+1)*C], v)
			}
		}
	}
	transpose(out, acc, T, C)
}

// transpose writes the r x c matrix src into dst as c x r, in tiles that
// stay in cache.
func transpose(dst, src []float32, r, c int) {
	if transposeSIMD(dst, src, r, c) {
		return
	}
	if haveFMA && r%8 == 0 && c%8 == 0 && r > 0 && c > 0 {
		// AVX 8x8 blocks (kernel_amd64.s); the shapes of conv outputs.
		dst, src = dst[:r*c], src[:r*c]
		for i := 0; i < r; i += 8 {
			for j := 0; j < c; j += 8 {
				transpose8x8(&dst[j*r+i], r, &src[i*c+j], c)
			}
		}
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
