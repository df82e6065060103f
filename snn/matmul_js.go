package snn

import (
	_ "embed"
	"fmt"
	"runtime"
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
	once                                              sync.Once
	ok                                                bool
	gemm, sconv, col2im, iffwd, ifbwd, pool2, unpool2 js.Value
	transpose                                         js.Value
}

func simdInit() {
	defer func() {
		if recover() != nil { // a JavaScript exception: no SIMD here
			simd.ok = false
		}
	}()
	wa := js.Global().Get("WebAssembly")
	mem := goMemory()
	if wa.Type() != js.TypeObject || mem.Type() != js.TypeObject || !mem.InstanceOf(wa.Get("Memory")) || !isGoMemory(mem) {
		return
	}
	u := js.Global().Get("Uint8Array").New(len(simdModule))
	js.CopyBytesToJS(u, simdModule)
	if !wa.Call("validate", u).Bool() {
		return
	}
	imports := js.ValueOf(map[string]any{"go": map[string]any{"mem": mem}})
	ex := wa.Get("Instance").New(wa.Get("Module").New(u), imports).Get("exports")
	simd.gemm, simd.sconv, simd.col2im = ex.Get("gemm"), ex.Get("sconv"), ex.Get("col2im")
	simd.iffwd, simd.ifbwd = ex.Get("iffwd"), ex.Get("ifbwd")
	simd.pool2, simd.unpool2 = ex.Get("pool2"), ex.Get("unpool2")
	simd.transpose = ex.Get("transpose")
	simd.ok = true
}

// goMemory is this program's linear memory, the WebAssembly.Memory that
// wasm_exec.js's Go object holds as _inst.exports.mem. syscall/js keeps that
// object as its predefined value 6 (jsGo) and does not export it; this is
// the same Value, made as the package's predefValue makes it. isGoMemory
// checks that what it found is this memory.
func goMemory() js.Value {
	var v js.Value
	const nanHead, typeFlagObject, jsGo = 0x7FF80000, 1, 6
	*(*uint64)(unsafe.Pointer(&v)) = (nanHead|typeFlagObject)<<32 | jsGo
	if inst := v.Get("_inst"); inst.Type() == js.TypeObject {
		return inst.Get("exports").Get("mem")
	}
	return js.Undefined()
}

// isGoMemory says whether mem holds, at a Go slice's address, that slice.
func isGoMemory(mem js.Value) bool {
	probe := []byte("spikegrad memory probe")
	got := make([]byte, len(probe))
	js.CopyBytesToGo(got, js.Global().Get("Uint8Array").New(mem.Get("buffer"), addr(probe, len(probe)), len(probe)))
	return string(got) == string(probe)
}

// simdSink keeps the last slice given to the module: every slice whose
// address is taken (addr) leaks to it, so the compiler allocates it on the
// heap, where it does not move, never on a goroutine's stack, which moves
// when it grows.
var simdSink unsafe.Pointer

// addr is s's address in the Go program's memory, for a kernel that reads or
// writes its first n elements: it panics, as an index out of range does, when
// s is shorter, since the kernel itself checks nothing. The caller keeps s
// alive across the call.
func addr[E any](s []E, n int) int {
	if n > len(s) {
		panic(fmt.Sprintf("snn: a SIMD kernel's operand of %d elements, want %d", len(s), n))
	}
	simdSink = unsafe.Pointer(unsafe.SliceData(s))
	return int(uintptr(simdSink))
}

// simdReady starts the module at the first call and says whether it runs.
func simdReady() bool {
	simd.once.Do(simdInit)
	return simd.ok
}

// simdMin is the smallest product (m*n*k) worth a call into the module and its padding.
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

// simdProduct runs the module's gemm for a*b (see matmul): a and b padded
// to the kernel's 4 rows and 8 columns in p where they are not already (else
// read in place), the product c, rows of n8 floats, in dst when it is the
// whole of it, else in p. Give p back with packs.Put once c is read.
func simdProduct(m, n, k int, a []float32, aT bool, b, dst []float32) (p *[]float32, c []float32, n8 int) {
	m4 := (m + 3) &^ 3
	n8 = (n + 7) &^ 7
	na, nb, nc := m4*k, k*n8, m4*n8
	if !aT && m4 == m {
		na = 0
	}
	if n8 == n {
		nb = 0
	}
	if n8 == n && len(dst) >= nc {
		nc = 0
	}
	p = pack(na + nb + nc)
	sa, sb, c := a, b, dst
	if na > 0 {
		sa = (*p)[:na]
		if aT {
			transpose(sa, a, k, m)
		} else {
			copy(sa, a[:m*k])
		}
		clear(sa[m*k:])
	}
	if nb > 0 {
		sb = (*p)[na : na+nb]
		for q := 0; q < k; q++ {
			row := sb[q*n8 : (q+1)*n8]
			copy(row, b[q*n:(q+1)*n])
			clear(row[n:])
		}
	}
	if nc > 0 {
		c = (*p)[na+nb : na+nb+nc]
	}
	simd.gemm.Invoke(m4, n8, k, addr(sa, m4*k), addr(sb, k*n8), addr(c, m4*n8))
	runtime.KeepAlive(sa)
	runtime.KeepAlive(sb)
	return p, c, n8
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
	p, prod, n8 := simdProduct(m, n, k, a, aT, b, c[:m*n])
	if unsafe.SliceData(prod) != unsafe.SliceData(c) {
		for i := 0; i < m; i++ {
			copy(c[i*n:(i+1)*n], prod[i*n8:])
		}
	}
	packs.Put(p)
}

// convBackwardSIMD is convBackward in the SIMD module: the product, then
// col2im on it, into gin. False when the module cannot take it.
func convBackwardSIMD(l *Layer, T int, gout, gin []float32) bool {
	n, kk := T*l.Out.H*l.Out.W, l.In.C*l.K*l.K
	if !simdReady() || kk*n*l.Out.C < simdMin {
		return false
	}
	p, col, n8 := simdProduct(kk, n, l.Out.C, l.WT, false, gout, nil)
	simd.col2im.Invoke(addr(col, kk*n8), n8, addr(gin, T*l.In.Size()), l.In.C, T, l.In.H, l.In.W, l.Out.H, l.Out.W, l.K, l.Stride, l.Pad)
	runtime.KeepAlive(col)
	packs.Put(p)
	return true
}

// sconvSIMD is convForwardSparse's accumulation (acc holds the bias on entry)
// in the SIMD module: the Go loop spends its time in axpy, four floats at a
// time there. False when the module cannot take it.
func sconvSIMD(l *Layer, T int, in, acc []float32) bool {
	return sconv(in, l.WT, acc, l.In.C, T, l.In.H, l.In.W, l.Out.H, l.Out.W, l.Out.C, l.K, l.Stride, l.Pad)
}

// slinearSIMD is linearForwardSparse's accumulation (acc holds the bias on
// entry) in the SIMD module: a linear layer is a 1x1 convolution of a 1x1
// input with In.Size() channels, and sconv adds the inputs in the Go loop's
// order.
func slinearSIMD(l *Layer, T int, in, acc []float32) bool {
	return sconv(in, l.WT, acc, l.In.Size(), T, 1, 1, 1, 1, l.Out.C, 1, 1, 0)
}

// sconv calls the module's sparse convolution forward, when it runs and the
// rows are whole vectors (C a multiple of 4).
func sconv(in, wt, acc []float32, cin, T, H, W, Ho, Wo, C, k, stride, pad int) bool {
	if !simdReady() || C%4 != 0 {
		return false
	}
	simd.sconv.Invoke(addr(in, cin*T*H*W), addr(wt, cin*k*k*C), addr(acc, T*Ho*Wo*C), cin, T, H, W, Ho, Wo, C, k, stride, pad)
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
	spikes := simd.iffwd.Invoke(addr(in, n), addr(out, n), addr(keep, n), addr(l.Thresh, len(l.Thresh)), threshStride(l), l.In.C, T, hw).Int()
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
	sums := make([]float64, 4*l.In.C)
	simd.ifbwd.Invoke(addr(gout, n), addr(gin, n), addr(keep, n), addr(l.Thresh, len(l.Thresh)), threshStride(l), addr(sums, len(sums)),
		l.In.C, T, hw, gamma, inv)
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
	if !pool2SIMD(l) {
		return false
	}
	simd.pool2.Invoke(addr(in, T*l.In.Size()), addr(out, T*l.Out.Size()), l.In.C*T, l.In.H, l.In.W, 0.25)
	return true
}

// avgpoolBackwardSIMD is avgpoolBackward in the SIMD module, as avgpoolForwardSIMD.
func avgpoolBackwardSIMD(l *Layer, T int, gout, gin []float32) bool {
	if !pool2SIMD(l) {
		return false
	}
	simd.unpool2.Invoke(addr(gout, T*l.Out.Size()), addr(gin, T*l.In.Size()), l.In.C*T, l.In.H, l.In.W, 0.25)
	return true
}

// transposeSIMD is transpose in the SIMD module, 4x4 blocks at a time
// (TestSIMDTranspose), for r and c multiples of 4 and a matrix worth the
// call: the sparse forwards turn every output channels-first with it.
func transposeSIMD(dst, src []float32, r, c int) bool {
	if r%4 != 0 || c%4 != 0 || r*c < 1024 || !simdReady() {
		return false
	}
	simd.transpose.Invoke(addr(dst, r*c), addr(src, r*c), r, c)
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
