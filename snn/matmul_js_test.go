package snn

import "testing"

// TestSIMDRuns: node and browsers run WebAssembly SIMD, so the products go
// through the SIMD module there (TestGemm checks them through matmul).
func TestSIMDRuns(t *testing.T) {
	simd.once.Do(simdInit)
	if !simd.ok {
		t.Fatal("the WebAssembly SIMD module did not start: products fall back to the Go kernel")
	}
}
