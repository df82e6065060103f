package kern

import (
	_ "embed"
	"fmt"
	"runtime"
	"sync"
	"syscall/js"
	"unsafe"
)

// simdModule is snn/kern/simd/gemm.wat compiled (make simd): a matrix product in
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
	// The float64 twins (gemm64, ...): f64x2, two values a vector.
	gemm64, sconv64, col2im64, iffwd64, ifbwd64 js.Value
	pool2_64, unpool2_64, transpose64, panels64 js.Value
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
	simd.gemm64, simd.sconv64, simd.col2im64 = ex.Get("gemm64"), ex.Get("sconv64"), ex.Get("col2im64")
	simd.iffwd64, simd.ifbwd64 = ex.Get("iffwd64"), ex.Get("ifbwd64")
	simd.pool2_64, simd.unpool2_64 = ex.Get("pool2_64"), ex.Get("unpool2_64")
	simd.transpose64, simd.panels64 = ex.Get("transpose64"), ex.Get("panels64")
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

// Gemm sets c = a*b, a m x k (stored k x m when aT), b k x n, c m x n,
// row-major: in the SIMD module where the host runs it (float32 4-6x the Go
// kernel under node, float64 in its f64x2 twin; BenchmarkGemm*), else in our
// packed 4x4 kernel, which beat gonum's pure-Go loops in WebAssembly.
func Gemm[E Float](m, n, k int, a []E, aT bool, b, c []E) {
	if simdReady() && k > 0 && m*n*k >= simdMin {
		simdGemm(m, n, k, a, aT, b, c)
		return
	}
	na := k * ((m + 3) &^ 3)
	p := pack[E](na + k*((n+3)&^3))
	gemm(m, n, k, a, aT, b, c, (*p)[:na], (*p)[na:])
	unpack(p)
}

// simdProduct runs the module's gemm (float32) or gemm64 (float64) for
// a*b: a and b padded to the kernel's 4 rows and nq columns (8
// float32s or 4 float64s) in p where they are not already (else read in
// place), the product c, rows of nq-padded width nw, in dst when it is the
// whole of it, else in p. Give p back with unpack once c is read.
func simdProduct[E Float](m, n, k int, a []E, aT bool, b, dst []E) (p *[]E, c []E, nw int) {
	nq := 2 * lanes[E]()
	m4 := (m + 3) &^ 3
	nw = (n + nq - 1) / nq * nq
	na, nb, nc := m4*k, k*nw, m4*nw
	if !aT && m4 == m {
		na = 0
	}
	if nw == n && nq == 8 {
		nb = 0
	}
	if nw == n && len(dst) >= nc {
		nc = 0
	}
	p = pack[E](na + nb + nc)
	sa, sb, c := a, b, dst
	if na > 0 {
		sa = (*p)[:na]
		if aT {
			Transpose(sa, a, k, m)
		} else {
			copy(sa, a[:m*k])
		}
		clear(sa[m*k:])
	}
	if nq == 4 {
		// gemm64 reads b in panels of 4 columns, [nw/4][k][4].
		sb = (*p)[na : na+nb]
		packPanels(sb, b, n, k)
	} else if nb > 0 {
		sb = (*p)[na : na+nb]
		for q := 0; q < k; q++ {
			row := sb[q*nw : (q+1)*nw]
			copy(row, b[q*n:(q+1)*n])
			clear(row[n:])
		}
	}
	if nc > 0 {
		c = (*p)[na+nb : na+nb+nc]
	}
	f := pick[E](simd.gemm, simd.gemm64)
	f.Invoke(m4, nw, k, addr(sa, m4*k), addr(sb, k*nw), addr(c, m4*nw))
	runtime.KeepAlive(sa)
	runtime.KeepAlive(sb)
	return p, c, nw
}

// packPanels lays b (k x n float64s) out as panels of 4 columns,
// [n4/4][k][4] (n4 = n rounded up to 4, the columns past n zero), in dst:
// the module's panels64.
func packPanels[E Float](dst, b []E, n, k int) {
	n4 := (n + 3) &^ 3
	simd.panels64.Invoke(addr(dst, k*n4), addr(b, k*n), n, k)
}

func simdGemm[E Float](m, n, k int, a []E, aT bool, b, c []E) {
	if aT && m*k > (m+k)*n {
		// A transposed a (a linear layer's weights against T columns) is
		// the larger matrix: make c's transpose, b'a, from a as it is
		// stored; each number is the same sum in the same order.
		p := pack[E](n*k + n*m)
		bt, ct := (*p)[:n*k], (*p)[n*k:]
		Transpose(bt, b, k, n)
		simdGemm(n, m, k, bt, false, a, ct)
		Transpose(c, ct, n, m)
		unpack(p)
		return
	}
	p, prod, nw := simdProduct(m, n, k, a, aT, b, c[:m*n])
	if unsafe.SliceData(prod) != unsafe.SliceData(c) {
		for i := 0; i < m; i++ {
			copy(c[i*n:(i+1)*n], prod[i*nw:])
		}
	}
	unpack(p)
}

// ConvBackward is a convolution's input gradient in the SIMD module: gin =
// col2im(wt·gout), wt the weight transposed to [cin*k*k][cout] (col2im64
// and gemm64 for float64). False when the module cannot take it (then the
// caller runs Gemm and its col2im).
func ConvBackward[E Float](wt, gout, gin []E, cout, cin, T, H, W, Ho, Wo, k, stride, pad int) bool {
	n, kk := T*Ho*Wo, cin*k*k
	if !simdReady() || kk*n*cout < simdMin {
		return false
	}
	p, col, nw := simdProduct(kk, n, cout, wt, false, gout, nil)
	f := pick[E](simd.col2im, simd.col2im64)
	f.Invoke(addr(col, kk*nw), nw, addr(gin, T*cin*H*W), cin, T, H, W, Ho, Wo, k, stride, pad)
	runtime.KeepAlive(col)
	unpack(p)
	return true
}

// SparseConv is a sparse convolution forward's accumulation in the SIMD
// module: for every nonzero input, its weight row added into the
// channels-last acc ([T*Ho*Wo][C], holding the bias on entry), in the Go
// loop's order. A linear layer is a 1x1 convolution of a 1x1 input. False
// when the module cannot take it (C not a multiple of 4 values, 2 in
// float64: one vector).
func SparseConv[E Float](in, wt, acc []E, cin, T, H, W, Ho, Wo, C, k, stride, pad int) bool {
	if !simdReady() {
		return false
	}
	if C%lanes[E]() != 0 {
		return false
	}
	f := pick[E](simd.sconv, simd.sconv64)
	f.Invoke(addr(in, cin*T*H*W), addr(wt, cin*k*k*C), addr(acc, T*Ho*Wo*C), cin, T, H, W, Ho, Wo, C, k, stride, pad)
	return true
}

// lanes is the number of E in one of the module's vectors: 4 float32s or
// 2 float64s.
func lanes[E Float]() int {
	if is32[E]() {
		return 4
	}
	return 2
}

// pick is the module's float32 kernel f32 or its float64 twin f64, as E.
func pick[E Float](f32, f64 js.Value) js.Value {
	if is32[E]() {
		return f32
	}
	return f64
}

// IFForward runs C channels of hw IF neurons over T steps ([C][T][hw]) in
// the SIMD module, four neurons at a time (two in float64): the Go loop's
// numbers bit for bit (TestSIMDIF). th holds one threshold or one per
// channel. It returns the spikes, or false when the module cannot take the
// layer (hw not a multiple of 4, or 2, as after a linear layer).
func IFForward[E Float](in, out, keep, th []E, C, T, hw int) (int, bool) {
	if !simdReady() || hw%lanes[E]() != 0 {
		return 0, false
	}
	n := C * T * hw
	f := pick[E](simd.iffwd, simd.iffwd64)
	spikes := f.Invoke(addr(in, n), addr(out, n), addr(keep, n), addr(th, len(th)), threshStride(th), C, T, hw).Int()
	return spikes, true
}

// IFBackward is IFForward's backward in the SIMD module. It returns each
// channel's four path sums (crossing, amplitude, reset, init), or false
// when the module cannot take the layer.
func IFBackward[E Float](gout, gin, keep, th []E, C, T, hw int, gamma, inv E) ([]float64, bool) {
	if !simdReady() || hw%lanes[E]() != 0 {
		return nil, false
	}
	n := C * T * hw
	sums := make([]float64, 4*C)
	f := pick[E](simd.ifbwd, simd.ifbwd64)
	f.Invoke(addr(gout, n), addr(gin, n), addr(keep, n), addr(th, len(th)), threshStride(th), addr(sums, len(sums)),
		C, T, hw, float64(gamma), float64(inv))
	return sums, true
}

// pool2 says whether the SIMD module takes 2x2, stride-2 average pooling of
// H x W planes of E: rows of a multiple of 8 float32s or 4 float64s (VGG's
// larger planes).
func pool2[E Float](H, W int) bool {
	return simdReady() && H%2 == 0 && W%(2*lanes[E]()) == 0
}

// AvgPool2 is 2x2, stride-2 average pooling of planes H x W planes in the
// SIMD module, four outputs at a time (two in float64): the Go loop's
// numbers bit for bit (TestSIMDPool). False when the module cannot take it.
func AvgPool2[E Float](in, out []E, planes, H, W int) bool {
	if !pool2[E](H, W) {
		return false
	}
	f := pick[E](simd.pool2, simd.pool2_64)
	f.Invoke(addr(in, planes*H*W), addr(out, planes*H*W/4), planes, H, W, 0.25)
	return true
}

// AvgUnpool2 is AvgPool2's backward.
func AvgUnpool2[E Float](gout, gin []E, planes, H, W int) bool {
	if !pool2[E](H, W) {
		return false
	}
	f := pick[E](simd.unpool2, simd.unpool2_64)
	f.Invoke(addr(gout, planes*H*W/4), addr(gin, planes*H*W), planes, H, W, 0.25)
	return true
}

// transposeFast is Transpose in the SIMD module, 4x4 blocks of float32 or
// 2x2 of float64 at a time (TestSIMDTranspose), for r and c multiples of
// the block and a matrix worth the call: the sparse forwards turn every
// output channels-first with it.
func transposeFast[E Float](dst, src []E, r, c int) bool {
	q := lanes[E]()
	if r%q != 0 || c%q != 0 || r*c < 1024 || !simdReady() {
		return false
	}
	f := pick[E](simd.transpose, simd.transpose64)
	f.Invoke(addr(dst, r*c), addr(src, r*c), r, c)
	return true
}

// threshStride is the byte step between the module's thresholds: 0 for one
// threshold for the layer, else one value's size (one per channel).
func threshStride[E Float](th []E) int {
	if len(th) > 1 {
		return int(unsafe.Sizeof(th[0]))
	}
	return 0
}

// SIMD sends the kernels to the SIMD module (on) or to the Go loops, and
// says which they went to before: tests compare the two.
func SIMD(on bool) (was bool) {
	simdReady()
	was, simd.ok = simd.ok, on
	return was
}
