package snn

// matmul sets c = a*b, a m x k, b k x n, c m x n, row-major. In WebAssembly
// gonum runs its pure-Go loops; our packed 4x4 kernel beat them under node
// (gemm_test.go, BenchmarkGemm*).
func matmul(m, n, k int, a []float32, aT bool, b, c []float32) {
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
