package snn_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/demo"
	"github.com/spikegrad/spikegrad/snn/job"
)

func benchRun(b *testing.B, ckName string, ck []byte, dataName string, data []byte, n, workers int, forwardOnly bool) {
	benchRunF64(b, ckName, ck, dataName, data, n, workers, forwardOnly, false)
}

// benchRunF64 is benchRun in float64 (Options.F64) when f64 is true.
func benchRunF64(b *testing.B, ckName string, ck []byte, dataName string, data []byte, n, workers int, forwardOnly, f64 bool) {
	net, err := job.Checkpoint(ckName, ck)
	if err != nil {
		b.Fatal(err)
	}
	batch, err := job.Images(dataName, data, net, 0, n, "auto")
	if err != nil {
		b.Fatal(err)
	}
	opt := snn.Options{T: 8, L: 4, Gamma: 1, Workers: workers, ForwardOnly: forwardOnly, F64: f64}
	if f64 {
		// The float64 weights are made at the first float64 run: once a
		// network, not timed (float32's are made with the network).
		if _, err := net.Run(context.Background(), batch.X[:len(batch.X)/len(batch.Labels)], batch.Labels[:1], opt); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		if _, err := net.Run(context.Background(), batch.X, batch.Labels, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N*len(batch.Labels)), "s/image")
}

// BenchmarkDemo: the embedded demo, 32 images, T=8, one worker.
func BenchmarkDemo(b *testing.B) {
	benchRun(b, demo.CheckpointName, demo.Checkpoint, demo.BatchName, demo.Batch, 32, 1, false)
}

// BenchmarkDemoF64: BenchmarkDemo in float64 (Options.F64, the exact mode).
func BenchmarkDemoF64(b *testing.B) {
	benchRunF64(b, demo.CheckpointName, demo.Checkpoint, demo.BatchName, demo.Batch, 32, 1, false, true)
}

// BenchmarkDemoForwardF64: BenchmarkDemoForward in float64.
func BenchmarkDemoForwardF64(b *testing.B) {
	benchRunF64(b, demo.CheckpointName, demo.Checkpoint, demo.BatchName, demo.Batch, 32, 1, true, true)
}

// BenchmarkDemoForward: a threshold slider's re-run (forward only) of the demo.
func BenchmarkDemoForward(b *testing.B) {
	benchRun(b, demo.CheckpointName, demo.Checkpoint, demo.BatchName, demo.Batch, 32, 1, true)
}

// BenchmarkVGG16: the full-width workload made by `make bench`
// ($SPIKEGRAD_BENCH, default ~/.cache/spikegrad-bench), 2 images, one worker.
func BenchmarkVGG16(b *testing.B) { benchVGG16(b, 2, 1, false) }

// BenchmarkVGG16F64: BenchmarkVGG16 in float64 (Options.F64).
func BenchmarkVGG16F64(b *testing.B) { benchVGG16F64(b, 2, 1, false, true) }

// BenchmarkVGG16Forward: a slider's re-run (forward only) of the full-width
// VGG16 at n=8, all cores.
func BenchmarkVGG16Forward(b *testing.B) { benchVGG16(b, 8, 0, true) }

func benchVGG16(b *testing.B, n, workers int, forwardOnly bool) {
	benchVGG16F64(b, n, workers, forwardOnly, false)
}

func benchVGG16F64(b *testing.B, n, workers int, forwardOnly, f64 bool) {
	dir := os.Getenv("SPIKEGRAD_BENCH")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "spikegrad-bench")
	}
	ck, err := os.ReadFile(filepath.Join(dir, "vgg16_full.pth"))
	if err != nil {
		b.Skip("no full-width checkpoint: run `make bench` once")
	}
	data, err := os.ReadFile(filepath.Join(dir, "batch.bin"))
	if err != nil {
		b.Skip(err)
	}
	benchRunF64(b, "vgg16_full.pth", ck, "batch.bin", data, n, workers, forwardOnly, f64)
}
