package snn_test

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/fixture"
)

// TestCurveAgainstPyTorch: one 16-step forward run of the fixture VGG16
// gives, at T = 1, 4, 6 and 8, the loss and accuracy PyTorch computed in
// runs of that many steps (cases.json; gamma does not touch the forward),
// to the tolerance of TestAgainstPyTorch.
func TestCurveAgainstPyTorch(t *testing.T) {
	cs := loadCases(t)
	var run *snn.Result
	checked := map[int]bool{}
	for _, c := range cs {
		if c.Ckpt != "vgg16_c10.pth" || c.Data != "c10.bin" || c.T == 0 || c.L != 4 {
			continue
		}
		if run == nil {
			long := c
			long.T = 16
			run = runCaseIn(t, "testdata", long, snn.Options{Curve: true, ForwardOnly: true})
			if len(run.Curve) != 16 {
				t.Fatalf("a curve of %d points for T=16", len(run.Curve))
			}
		}
		p := run.Curve[c.T-1]
		if p.T != c.T || math.Abs(p.Loss-c.Want.Loss)/c.Want.Loss > 1e-4 || p.Accuracy != c.Want.Accuracy {
			t.Errorf("T=%d: curve point %+v, PyTorch loss %.6f accuracy %g (%s)", c.T, p, c.Want.Loss, c.Want.Accuracy, c.Name)
		}
		checked[c.T] = true
	}
	if len(checked) < 3 {
		t.Fatalf("only %d step counts of the fixture VGG16 in cases.json: %v", len(checked), checked)
	}
}

// TestCurvePrefix: in float64, each point of a 6-step curve equals the run
// of that many steps (the first t steps of a run are the t-step run), on a
// VGG and on the full-width ResNet20, whose residual adds and save layers
// repeat the input at every step.
func TestCurvePrefix(t *testing.T) {
	cs, err := fixture.F64Cases("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.T == 0 {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			long := c
			long.T = 6
			curve := runCaseIn(t, "testdata", long, snn.Options{Curve: true, ForwardOnly: true, F64: true}).Curve
			for _, T := range []int{1, 2, 6} {
				short := c
				short.T = T
				r := runCaseIn(t, "testdata", short, snn.Options{ForwardOnly: true, F64: true})
				if p := curve[T-1]; math.Abs(p.Loss-r.Loss) > 1e-12*r.Loss || p.Accuracy != r.Accuracy {
					t.Errorf("T=%d: curve %+v, a %d-step run loss %.15g accuracy %g", T, p, T, r.Loss, r.Accuracy)
				}
			}
		})
	}
	if err := (snn.Options{T: 0, L: 4, Gamma: 1, Curve: true}).Check(); err == nil {
		t.Error("a curve in ANN mode was accepted")
	}
}

// TestCurveMerge: Merge weighs each part's curve by its images, as it does
// the loss: parts of the first 3 and of all 8 images give (3a + 8b)/11 at
// every T (in float64, to rounding), and the accuracies join by counts.
func TestCurveMerge(t *testing.T) {
	c, err := fixture.Find("testdata", "c10_T8_g1")
	if err != nil {
		t.Fatal(err)
	}
	opt := snn.Options{Curve: true, ForwardOnly: true, F64: true}
	whole := runCaseIn(t, "testdata", *c, opt)
	first := *c
	first.N = 3
	a := runCaseIn(t, "testdata", first, opt)
	m, err := snn.Merge([]*snn.Result{a, whole})
	if err != nil {
		t.Fatal(err)
	}
	n := float64(3 + c.N)
	for k, p := range m.Curve {
		want := (3*a.Curve[k].Loss + float64(c.N)*whole.Curve[k].Loss) / n
		acc := (3*a.Curve[k].Accuracy + float64(c.N)*whole.Curve[k].Accuracy) / n
		if math.Abs(p.Loss-want) > 1e-12*want || math.Abs(p.Accuracy-acc) > 1e-12 || p.T != k+1 {
			t.Errorf("T=%d: merged %+v, want loss %.15g accuracy %g", p.T, p, want, acc)
		}
	}
}

// TestCurve64AgainstPyTorch: -curve 64's one 64-step run against PyTorch's
// 64 separate runs of 1 to 64 steps (tools/ref/make_curve_fixtures.py), on
// the fixture VGG16 and ResNet20: in float64 every point's loss within
// 1e-12 relative and its accuracy equal; in float32 the loss within 1e-4
// relative, as TestAgainstPyTorch, and the accuracy equal.
func TestCurve64AgainstPyTorch(t *testing.T) {
	b, err := os.ReadFile("testdata/curve_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct {
			Name, Ckpt, Data, Precision string
			N, Tmax                     int
			Curve                       []snn.CurvePoint
		}
	}
	if err := json.Unmarshal(b, &f); err != nil || len(f.Cases) == 0 {
		t.Fatalf("curve_cases.json: %v, %d cases", err, len(f.Cases))
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			f64 := c.Precision == "float64"
			tol := 1e-4
			if f64 {
				tol = 1e-12
			}
			fc := fixture.Case{Name: c.Name, Ckpt: c.Ckpt, Data: c.Data, N: c.N, T: c.Tmax, L: 4, Gamma: 1, Norm: "cifar10"}
			got := runCaseIn(t, "testdata", fc, snn.Options{Curve: true, ForwardOnly: true, F64: f64}).Curve
			if len(got) != len(c.Curve) {
				t.Fatalf("%d points, PyTorch %d", len(got), len(c.Curve))
			}
			worst := 0.0
			for k, w := range c.Curve {
				g := got[k]
				d := math.Abs(g.Loss-w.Loss) / w.Loss
				worst = max(worst, d)
				if g.T != w.T || d > tol || g.Accuracy != w.Accuracy {
					t.Errorf("T=%d: loss %.15g accuracy %g, PyTorch's %d-step run %.15g %g", w.T, g.Loss, g.Accuracy, w.T, w.Loss, w.Accuracy)
				}
			}
			t.Logf("%d points: loss within %.2g relative of PyTorch's runs, accuracies equal", len(got), worst)
		})
	}
}
