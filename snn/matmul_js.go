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
	once      sync.Once
	ok        bool
	mem, gemm js.Value
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
	u := js.Global().Get("Uint8Array").New(len(simdModule))
	js.CopyBytesToJS(u, simdModule)
	if !wa.Call("validate", u).Bool() {
		return
	}
	inst := wa.Get("Instance").New(wa.Get("Module").New(u), js.ValueOf(map[string]any{}))
	simd.mem, simd.gemm = inst.Get("exports").Get("mem"), inst.Get("exports").Get("gemm")
	simd.ok = true
}

// simdMin is the smallest product (m*n*k) worth the copies into the module.
const simdMin = 1 << 15

// matmul sets c = a*b, a m x k (stored k x m when aT), b k x n, c m x n,
// row-major: in the SIMD module where the host runs it (4-6x the Go kernel
// under node, BenchmarkGemm*), else in our packed 4x4 kernel, which beat
// gonum's pure-Go loops in WebAssembly.
func matmul(m, n, k int, a []float32, aT bool, b, c []float32) {
	simd.once.Do(simdInit)
	if simd.ok && k > 0 && m*n*k >= simdMin {
		simdGemm(m, n, k, a, aT, b, c)
		return
	}
	need := k*((m+3)&^3) + k*((n+3)&^3)
	p, _ := packs.Get().(*[]float32)
	if p == nil || cap(*p) < need {
		s := make([]float32, need)
		p = &s
	}
	buf := (*p)[:need]
	gemm(m, n, k, a, aT, b, c, buf[:k*((m+3)&^3)], buf[k*((m+3)&^3):])
	packs.Put(p)
}

// simdGemm lays a (as rows) and b out in the module's memory, padded to the
// kernel's 4 rows and 8 columns, runs it and copies the product back. Nothing
// in it yields, so no other goroutine meets the module's memory half-written.
func simdGemm(m, n, k int, a []float32, aT bool, b, c []float32) {
	m4, n8 := (m+3)&^3, (n+7)&^7
	na, nb, nc := m4*k, k*n8, m4*n8
	p, _ := packs.Get().(*[]float32)
	if p == nil || cap(*p) < na+nb+nc {
		s := make([]float32, na+nb+nc)
		p = &s
	}
	st := (*p)[:na+nb+nc]
	sa, sb, sc := st[:na], st[na:na+nb], st[na+nb:]
	if aT {
		for q := 0; q < k; q++ {
			for i, v := range a[q*m : (q+1)*m] {
				sa[i*k+q] = v
			}
		}
	} else {
		copy(sa, a[:m*k])
	}
	clear(sa[m*k:])
	for q := 0; q < k; q++ {
		row := sb[q*n8 : (q+1)*n8]
		copy(row, b[q*n:(q+1)*n])
		clear(row[n:])
	}
	if have, need := simd.mem.Get("buffer").Get("byteLength").Int(), 4*(na+nb+nc); have < need {
		simd.mem.Call("grow", (need-have+65535)/65536)
	}
	u8 := js.Global().Get("Uint8Array")
	buf := simd.mem.Get("buffer") // after any grow: growing detaches the old buffer
	js.CopyBytesToJS(u8.New(buf, 0, 4*(na+nb)), floatBytes(st[:na+nb]))
	simd.gemm.Invoke(m4, n8, k, 0, 4*na, 4*(na+nb))
	out := u8.New(buf, 4*(na+nb), 4*nc)
	if m4 == m && n8 == n {
		js.CopyBytesToGo(floatBytes(c[:m*n]), out)
	} else {
		js.CopyBytesToGo(floatBytes(sc), out)
		for i := 0; i < m; i++ {
			copy(c[i*n:(i+1)*n], sc[i*n8:i*n8+n])
		}
	}
	packs.Put(p)
}

// floatBytes is s's memory as bytes (both sides of the copy are little-endian).
func floatBytes(s []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 4*len(s))
}
