package snn_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/fixture"
	"github.com/spikegrad/spikegrad/snn/job"
	"github.com/spikegrad/spikegrad/snn/pth"
)

// deepCase is a case of deep_cases.json (tools/ref/make_deep_fixtures.py):
// QCFS's ResNet50/101/152 of BottleNeck blocks built by the earlier QCFS
// code and saved with MyFloor's `up` thresholds, with PyTorch's float32
// (Want) and float64 (Want64) results; Quantiser "myfloor" cases are
// MyFloor's own ANN-mode gradients.
type deepCase struct {
	fixture.Case
	ArchName  string `json:"arch_name"`
	Quantiser string `json:"quantiser"`
	// Hardened says the thresholds were moved off near-ties on the batch
	// (make_arch_fixtures.harden): only then can float32 be held to
	// engine_test.go's tolerances (the 224x224 network is not).
	Hardened bool       `json:"hardened"`
	Want64   snn.Result `json:"want64"`
}

func deepCases(t *testing.T) []deepCase {
	b, err := os.ReadFile(filepath.Join("testdata", "deep_cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Cases []deepCase }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("no cases in deep_cases.json")
	}
	return f.Cases
}

// TestDeepResNets: every BottleNeck ResNet is recognised as the network
// PyTorch ran (its name, its IF layers in order under the new names) and
// agrees with PyTorch in float32 (engine_test.go's tolerances; SNN mode
// only on hardened cases) and in float64 (f64_test.go's: 1e-9 of the
// largest |grad|, measured within 5e-14), with the case's quantiser.
func TestDeepResNets(t *testing.T) {
	for _, c := range deepCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			f32 := runCaseIn(t, "testdata", c.Case, snn.Options{Quantiser: c.Quantiser})
			if got := loadNet(t, c.Ckpt).Arch.Name; got != c.ArchName {
				t.Errorf("recognised as %s, want %s", got, c.ArchName)
			}
			for i, l := range c.Want.Layers {
				if i < len(f32.Layers) && f32.Layers[i].Name != l.Name {
					t.Fatalf("IF layer %d is %s, PyTorch's %s", i, f32.Layers[i].Name, l.Name)
				}
			}
			if c.Hardened || c.T == 0 {
				comparePyTorch(t, c.Case, f32)
			} else {
				worst, scale := fixture.GradGap(f32, &c.Want)
				t.Logf("not hardened: float32 gradients within %.2g of the largest |grad| (%.4g), loss %.6f vs PyTorch %.6f; held in float64 only",
					worst/scale, scale, f32.Loss, c.Want.Loss)
			}
			c64 := c.Case
			c64.Want = c.Want64
			compareExact(t, c64, runCaseIn(t, "testdata", c.Case, snn.Options{F64: true, Quantiser: c.Quantiser}))
		})
	}
}

// TestMyFloorQuantiser: on MyFloor's own fixture the default quantiser (the
// later code's IF, whose gradient stops at x/thresh outside [0, 1]) is far
// from PyTorch, and myfloor exact; the forwards are the same (equal loss).
// With the other quantiser's clamp, the float64 gradients are off by far more
// than compareExact's 1e-9 of the largest |grad|.
func TestMyFloorQuantiser(t *testing.T) {
	n := 0
	for _, c := range deepCases(t) {
		if c.Quantiser != "myfloor" {
			continue
		}
		n++
		got := runCaseIn(t, "testdata", c.Case, snn.Options{F64: true, Quantiser: "if"})
		worst, scale := fixture.GradGap(got, &c.Want64)
		t.Logf("%s: the IF quantiser's gradients are off MyFloor's by %.3g of the largest |grad|", c.Name, worst/scale)
		if worst < 1e-3*scale {
			t.Errorf("%s: the IF quantiser gives MyFloor's gradients (%.3g of the largest |grad|): the fixture cannot tell them apart", c.Name, worst/scale)
		}
		if d := math.Abs(got.Loss-c.Want64.Loss) / c.Want64.Loss; d > 1e-12 {
			t.Errorf("%s: loss %.17g with the IF quantiser, MyFloor's %.17g: the forwards should agree", c.Name, got.Loss, c.Want64.Loss)
		}
	}
	if n == 0 {
		t.Fatal("no myfloor case")
	}
	for _, o := range []snn.Options{{T: 8, L: 4, Gamma: 1, Quantiser: "myfloor"}, {T: 0, L: 4, Gamma: 1, Quantiser: "MyFloor"}} {
		if err := o.Check(); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: %v, want one line refusing it", o, err)
		}
	}
}

func loadNet(t *testing.T, ckpt string) *snn.Net {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", ckpt))
	if err != nil {
		t.Fatal(err)
	}
	net, err := job.Checkpoint(ckpt, b)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// A block that is neither a BasicBlock nor a BottleNeck like the first
// block is refused, naming it.
func TestBottleNeckRefused(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "resnet50_c10.pth"))
	if err != nil {
		t.Fatal(err)
	}
	sd, err := pth.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := snn.RecogniseResNet(snn.NewParams(sd)); err != nil || a.Name != "resnet50" {
		t.Fatalf("resnet50_c10.pth: %v %v", a, err)
	}
	for _, drop := range []string{"conv3_x.1.residual_function.6.weight", "conv3_x.1.residual_function.5.up"} {
		p := snn.NewParams(sd)
		delete(p, strings.Replace(drop, ".up", ".thresh", 1))
		_, err := snn.RecogniseResNet(p)
		if err == nil || !strings.Contains(err.Error(), "conv3_x.1.residual_function is neither") {
			t.Errorf("without %s: %v", drop, err)
		}
	}
}
