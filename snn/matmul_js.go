package snn

import (
	_ "embed"
	"sync"
	"syscall/js"
	"unsafe"
)

// simdModule is snn/simd/gemm.wat compiled (make simd): a matrix product in
// WebAssembly SIMD, which Go's js/wasm port does not emit.
//
//go:embed simd/gemm.wasm
var simdModule []byte

// simd is that module's instance, made at the first product; ok is false
// where the host cannot run it (then the Go kernel below runs).
var simd struct {
	once                                                   sync.Once
	ok                                                     bool
	mem, gemm, sconv, col2im, iffwd, ifbwd, pool2, unpool2 js.Value
	// bytes is the Uint8Array constructor, looked up once: every js.Value
	// made costs a finalizer, and a run makes views by the thousand.
	bytes js.Value
}

func simdInit() {
	defer func() {
		if recover() != nil { // a JavaScript exception: no SIMD here
			simd.ok = false
		}
	}()
	wa := js.Global().Get("WebAssembly")
	if wa.Type() != js.TypeObject {
		return
	}
	simd.bytes = js.Global().Get("Uint8Array")
	u := simd.bytes.New(len(simdModule))
	js.CopyBytesToJS(u, simdModule)
	if !wa.Call("validate", u).Bool() {
		return
	}
	inst := wa.Get("Instance").New(wa.Get("Module").New(u), js.ValueOf(map[string]any{}))
	ex := inst.Get("exports")
	simd.mem, simd.gemm, simd.sconv, simd.col2im = ex.Get("mem"), ex.Get("gemm"), ex.Get("sconv"), ex.Get("col2im")
	simd.iffwd, simd.ifbwd = ex.Get("iffwd"), ex.Get("ifbwd")
	simd.pool2, simd.unpool2 = ex.Get("pool2"), ex.Get("unpool2")
	simd.ok = true
}

// simdReady starts the module at the first call and says whether it runs.
func simdReady() bool {
	simd.once.Do(simdInit)
	return simd.ok
}

// simdMin is the smallest product (m*n*k) worth the copies into the module.
const simdMin = 1 << 15

// matmul sets c = a*b, a m x k (stored k x m when aT), b k x n, c m x n,
// row-major: in the SIMD module where the host runs it (4-6x the Go kernel
// under node, BenchmarkGemm*), else in our packed 4x4 kernel, which beat
// gonum's pure-Go loops in WebAssembly.
func matmul(m, n, k int, a []float32, aT bool, b, c []float32) {
	if simdReady() && k > 0 && m*n*k >= simdMin {
		simdGemm(m, n, k, a, aT, b, c)
		return
	}
	na := k * ((m + 3) &^ 3)
	p := pack(na + k*((n+3)&^3))
	gemm(m, n, k, a, aT, b, c, (*p)[:na], (*p)[na:])
	packs.Put(p)
}

// simdProduct lays a (as rows) and b out in the module's memory, padded to
// the kernel's 4 rows and 8 columns, and runs gemm, leaving the product there:
// rows of n8 floats from float offset off; the memory holds extra floats
// from offset end. Nothing in it yields, so no other goroutine meets the
// module's memory half-written.
func simdProduct(m, n, k int, a []float32, aT bool, b []float32, extra int) (buf js.Value, off, n8, end int) {
	m4 := (m + 3) &^ 3
	n8 = (n + 7) &^ 7
	na, nb := m4*k, k*n8
	p := pack(na + nb)
	sa, sb := (*p)[:na], (*p)[na:]
	if aT {
		transpose(sa, a, k, m)
	} else {
		copy(sa, a[:m*k])
	}
	clear(sa[m*k:])
	for q := 0; q < k; q++ {
		row := sb[q*n8 : (q+1)*n8]
		copy(row, b[q*n:(q+1)*n])
		clear(row[n:])
	}
	end = na + nb + m4*n8
	buf = simdMemory(end + extra)
	toSIMD(buf, 0, *p)
	packs.Put(p)
	simd.gemm.Invoke(m4, n8, k, 0, 4*na, 4*(na+nb))
	return buf, na + nb, n8, end
}

func simdGemm(m, n, k int, a []float32, aT bool, b, c []float32) {
	if aT && m*k > (m+k)*n {
		// A transposed a (a linear layer's weights against T columns) is
		// the larger matrix: make c's transpose, b'a, from a as it is
		// stored; each number is the same sum in the same order.
		p := pack(n*k + n*m)
		bt, ct := (*p)[:n*k], (*p)[n*k:]
		transpose(bt, b, k, n)
		simdGemm(n, m, k, bt, false, a, ct)
		transpose(c, ct, n, m)
		packs.Put(p)
		return
	}
	buf, off, n8, _ := simdProduct(m, n, k, a, aT, b, 0)
	if n8 == n {
		fromSIMD(buf, off, c[:m*n])
		return
	}
	for i := 0; i < m; i++ {
		fromSIMD(buf, off+i*n8, c[i*n:(i+1)*n])
	}
}

// convBackwardSIMD is convBackward in the SIMD module: the product, then
// col2im on it there, so that only the input's gradient (K*K times smaller
// than the product) is copied back. False when the module cannot take it.
func convBackwardSIMD(l *Layer, T int, gout, gin []float32) bool {
	n, kk := T*l.Out.H*l.Out.W, l.In.C*l.K*l.K
	if !simdReady() || kk*n*l.Out.C < simdMin {
		return false
	}
	size := T * l.In.Size()
	buf, off, n8, g := simdProduct(kk, n, l.Out.C, l.WT, false, gout, size)
	simd.col2im.Invoke(4*off, n8, 4*g, l.In.C, T, l.In.H, l.In.W, l.Out.H, l.Out.W, l.K, l.Stride, l.Pad)
	fromSIMD(buf, g, gin[:size])
	return true
}

// sconvSIMD is convForwardSparse's accumulation (acc holds the bias on entry)
// in the SIMD module: the Go loop spends its time in axpy, four floats at a
// time there. False when the module cannot take it.
func sconvSIMD(l *Layer, T int, in, acc []float32) bool {
	C := l.Out.C
	if !simdReady() || C%4 != 0 {
		return false
	}
	nin, nw, nacc := T*l.In.Size(), len(l.WT), T*l.Out.Size()
	buf := simdMemory(nin + nw + nacc)
	toSIMD(buf, 0, in[:nin])
	toSIMD(buf, nin, l.WT)
	toSIMD(buf, nin+nw, acc[:nacc])
	simd.sconv.Invoke(0, 4*nin, 4*(nin+nw), l.In.C, T, l.In.H, l.In.W, l.Out.H, l.Out.W, C, l.K, l.Stride, l.Pad)
	fromSIMD(buf, nin+nw, acc[:nacc])
	return true
}

// ifForwardSIMD is ifForward in the SIMD module, four neurons at a time:
// the Go loop's numbers bit for bit (TestSIMDIF). It returns the spikes,
// or false when the module cannot take the layer (a plane of neurons not a
// multiple of 4, as after a linear layer).
func ifForwardSIMD(l *Layer, T int, in, out, keep []float32) (int, bool) {
	hw := l.In.H * l.In.W
	if !simdReady() || hw%4 != 0 {
		return 0, false
	}
	n := l.In.C * T * hw
	buf := simdMemory(3*n + len(l.Thresh))
	toSIMD(buf, 0, in[:n])
	toSIMD(buf, 3*n, l.Thresh)
	spikes := simd.iffwd.Invoke(0, 4*n, 8*n, 12*n, threshStride(l), l.In.C, T, hw).Int()
	fromSIMD(buf, n, out[:n])
	fromSIMD(buf, 2*n, keep[:n])
	return spikes, true
}

// ifBackwardSIMD is ifBackward (without a Detail) in the SIMD module, as
// ifForwardSIMD. It returns each channel's four path sums (crossing,
// amplitude, reset, init), or false when the module cannot take the layer.
func ifBackwardSIMD(l *Layer, T int, gamma, inv float32, gout, gin, keep []float32) ([]float64, bool) {
	hw := l.In.H * l.In.W
	if !simdReady() || hw%4 != 0 {
		return nil, false
	}
	n := l.In.C * T * hw
	at := (3*n + len(l.Thresh) + 1) &^ 1 // the sums, 8-byte aligned
	sums := make([]float64, 4*l.In.C)
	buf := simdMemory(at + 2*len(sums))
	toSIMD(buf, 0, gout[:n])
	toSIMD(buf, n, keep[:n])
	toSIMD(buf, 3*n, l.Thresh)
	simd.ifbwd.Invoke(0, 8*n, 4*n, 12*n, threshStride(l), 4*at, l.In.C, T, hw, gamma, inv)
	fromSIMD(buf, 2*n, gin[:n])
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(sums))), 8*len(sums))
	js.CopyBytesToGo(b, simd.bytes.New(buf, 4*at, len(b)))
	return sums, true
}

// pool2SIMD says whether the SIMD module takes average pooling layer l:
// 2x2 windows, stride 2, rows of a multiple of 8 (VGG's larger planes).
func pool2SIMD(l *Layer) bool {
	return simdReady() && l.K == 2 && l.Stride == 2 && l.Pad == 0 && l.In.H%2 == 0 && l.In.W%8 == 0
}

// avgpoolForwardSIMD is avgpoolForward in the SIMD module, four outputs at
// a time: the Go loop's numbers bit for bit (TestSIMDPool).
func avgpoolForwardSIMD(l *Layer, T int, in, out []float32) bool {
	return pool2SIMD(l) && poolSIMD(simd.pool2, l, T, in[:T*l.In.Size()], out[:T*l.Out.Size()])
}

// avgpoolBackwardSIMD is avgpoolBackward in the SIMD module, as avgpoolForwardSIMD.
func avgpoolBackwardSIMD(l *Layer, T int, gout, gin []float32) bool {
	return pool2SIMD(l) && poolSIMD(simd.unpool2, l, T, gout[:T*l.Out.Size()], gin[:T*l.In.Size()])
}

// poolSIMD runs the module's pool2 or unpool2 for layer l from src to dst.
func poolSIMD(kernel js.Value, l *Layer, T int, src, dst []float32) bool {
	buf := simdMemory(len(src) + len(dst))
	toSIMD(buf, 0, src)
	kernel.Invoke(0, 4*len(src), l.In.C*T, l.In.H, l.In.W, 0.25)
	fromSIMD(buf, len(src), dst)
	return true
}

// threshStride is the byte step between the module's thresholds: 0 for one
// threshold for the layer, 4 for one per channel.
func threshStride(l *Layer) int {
	if len(l.Thresh) > 1 {
		return 4
	}
	return 0
}

// simdMemory grows the module's memory to hold n floats and returns its
// buffer (growing detaches the old one).
func simdMemory(n int) js.Value {
	if have := simd.mem.Get("buffer").Get("byteLength").Int(); have < 4*n {
		simd.mem.Call("grow", (4*n-have+65535)/65536)
	}
	return simd.mem.Get("buffer")
}

// toSIMD and fromSIMD copy floats to and from the module's memory at a float offset.
func toSIMD(buf js.Value, off int, s []float32) {
	js.CopyBytesToJS(simd.bytes.New(buf, 4*off, 4*len(s)), floatBytes(s))
}

func fromSIMD(buf js.Value, off int, s []float32) {
	js.CopyBytesToGo(floatBytes(s), simd.bytes.New(buf, 4*off, 4*len(s)))
}

// floatBytes is s's memory as bytes (both sides of the copy are little-endian).
func floatBytes(s []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 4*len(s))
}
