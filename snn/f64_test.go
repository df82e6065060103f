package snn_test

import (
	"cmp"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/fixture"
)

// TestFloat64AgainstPyTorch: -f64 against PyTorch on model.double()
// (tools/ref/make_f64_fixtures.py) on every float64 case, the full-width
// ResNet20 built by QCFS's own code among them: every gradient and path
// within 1e-9 of the largest |grad|, the loss within 1e-12 relative.
// SPIKEGRAD_BENCH (make bench's cache) adds the full-width VGG16 and ResNet18.
func TestFloat64AgainstPyTorch(t *testing.T) {
	eachF64Case(t, func(t *testing.T, dir string, c fixture.Case) {
		got := runCaseIn(t, dir, c, snn.Options{F64: true})
		if got.Precision != "float64" {
			t.Fatalf("precision %q", got.Precision)
		}
		compareExact(t, c, got)
	})
}

// eachF64Case runs f as a subtest on every float64 case: those of testdata,
// and of make bench's cache when SPIKEGRAD_BENCH names it and it holds an
// f64_cases.json.
func eachF64Case(t *testing.T, f func(t *testing.T, dir string, c fixture.Case)) {
	dirs := []string{"testdata"}
	if d := os.Getenv("SPIKEGRAD_BENCH"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "f64_cases.json")); err == nil {
			dirs = append(dirs, d)
		} else {
			t.Logf("%s has no f64_cases.json: the full-width cases are not run", d)
		}
	}
	for _, dir := range dirs {
		cs, err := fixture.F64Cases(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			t.Run(c.Name, func(t *testing.T) { f(t, dir, c) })
		}
	}
}

func compareExact(t *testing.T, c fixture.Case, got *snn.Result) {
	t.Helper()
	want := c.Want
	if d := math.Abs(got.Loss-want.Loss) / math.Abs(want.Loss); d > 1e-12 {
		t.Errorf("loss %.17g, PyTorch float64 %.17g (rel diff %.2g)", got.Loss, want.Loss, d)
	}
	if got.Accuracy != want.Accuracy {
		t.Errorf("accuracy %g, PyTorch %g", got.Accuracy, want.Accuracy)
	}
	worst, scale := fixture.GradGap(got, &want)
	if scale == 0 {
		t.Fatal("the fixture's gradients are all zero: it cannot tell anything")
	}
	if worst > 1e-9*scale {
		t.Errorf("gradients off by %.3g of the largest |grad| (allowed 1e-9)", worst/scale)
	}
	for i, w := range want.Layers {
		g := got.Layers[i]
		if math.Abs(g.FiringRate-w.FiringRate) > 1e-12 {
			t.Errorf("%s firing rate %.15g, PyTorch %.15g", w.Name, g.FiringRate, w.FiringRate)
		}
		if w.GradPaths == nil {
			continue
		}
		for _, p := range []struct {
			name string
			a, b []float64
		}{{"crossing", g.GradPaths.Crossing, w.GradPaths.Crossing}, {"amplitude", g.GradPaths.Amplitude, w.GradPaths.Amplitude},
			{"reset", g.GradPaths.Reset, w.GradPaths.Reset}, {"init", g.GradPaths.Init, w.GradPaths.Init}} {
			for k := range p.b {
				if d := math.Abs(p.a[k] - p.b[k]); d > 1e-9*scale {
					t.Errorf("%s %s[%d] = %.12g, PyTorch float64 %.12g (%.2g of the largest |grad|)", w.Name, p.name, k, p.a[k], p.b[k], d/scale)
				}
			}
		}
	}
	t.Logf("float64: gradients within %.2g of the largest |grad|, loss %.17g", worst/scale, got.Loss)
}

// TestFloat32Spread: on the float64 cases, the float32 engine lands within
// the spread PyTorch's own float32 draws show (make_f64_fixtures.py
// measured PyTorch float32 in two summation orders and float64 with 1e-7
// weight noise; the engine's float32 is one more such draw), and -spread 8
// marks every layer whose sign that noise flipped, while every layer it
// calls stable has the float64 answer's sign.
func TestFloat32Spread(t *testing.T) {
	eachF64Case(t, func(t *testing.T, dir string, c fixture.Case) {
		if c.F32Spread == nil {
			t.Skip("no measured spread")
		}
		s := c.F32Spread
		got := runCaseIn(t, dir, c, snn.Options{Spread: 8})
		worst, scale := fixture.GradGap(got, &c.Want)
		allowed := max(s.F32.RelGradDev, s.NoMKL.RelGradDev, s.Noise.RelGradDev)
		t.Logf("float32 %.3g of the largest |grad| from float64 (PyTorch float32 %.3g, mkldnn off %.3g, 1e-7 noise %.3g); loss %.3g off",
			worst/scale, s.F32.RelGradDev, s.NoMKL.RelGradDev, s.Noise.RelGradDev, math.Abs(got.Loss-c.Want.Loss))
		// One float32 draw may land outside eight noisy ones; twice
		// the widest measured spread is what this test allows.
		if worst > 2*allowed*scale+1e-12 {
			t.Errorf("float32 lands %.3g of the largest |grad| from float64, more than twice the measured spread %.3g", worst/scale, allowed)
		}
		flipped := map[string]bool{}
		for _, n := range s.Noise.SignFlips {
			flipped[n] = true
		}
		for i, l := range got.Layers {
			stable := true
			for _, ok := range l.SignStable {
				stable = stable && ok
			}
			if flipped[l.Name] && stable {
				t.Errorf("%s: PyTorch's 1e-7 noise flips its sign, -spread 8 calls it stable (%g .. %g)", l.Name, l.GradMin, l.GradMax)
			}
			for k, g := range c.Want.Layers[i].Grad {
				if l.SignStable[k] && cmp.Compare(g, 0) != cmp.Compare(l.Grad[k], 0) {
					t.Errorf("%s: -spread 8 calls %g stable, float64 says %g", l.Name, l.Grad[k], g)
				}
			}
			if s.NearThreshold != nil {
				t.Logf("%s: near_threshold %d (PyTorch float64 %d), grad %.4g in [%.4g, %.4g]", l.Name, l.NearThreshold, s.NearThreshold[i], l.Grad[0], l.GradMin[0], l.GradMax[0])
			}
		}
	})
}
