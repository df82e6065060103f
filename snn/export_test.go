package snn

// Axpy is axpy, for benchmarks in snn_test.
var Axpy = axpy
