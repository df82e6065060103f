package snn_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/fixture"
	"github.com/spikegrad/spikegrad/snn/job"
)

func loadCases(t testing.TB) []fixture.Case {
	cs, err := fixture.Cases("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// runCase loads a case's files the way the CLI does and runs the engine.
func runCase(t testing.TB, c fixture.Case, workers int) *snn.Result {
	t.Helper()
	return runCaseIn(t, "testdata", c, snn.Options{Workers: workers})
}

// runCaseIn runs a case whose files are in dir with opt's precision, spread
// and workers and the case's T, L and gamma.
func runCaseIn(t testing.TB, dir string, c fixture.Case, opt snn.Options) *snn.Result {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	net, err := job.Checkpoint(c.Ckpt, read(c.Ckpt))
	if c.Arch != "" {
		net, err = job.CheckpointArch(c.Ckpt, read(c.Ckpt), c.Arch, read(c.Arch))
	}
	if err != nil {
		t.Fatal(err)
	}
	var x []float32
	var labels []int
	if strings.HasSuffix(c.Data, ".u8") {
		nm, err := snn.NormFor(c.Norm, net.Arch.Classes)
		if err != nil {
			t.Fatal(err)
		}
		in := net.Arch.Input
		x, labels = nm.Normalize(read(c.Data), in[0], in[1]*in[2]), c.Labels
	} else {
		b, err := job.Images(c.Data, read(c.Data), net, 0, c.N, c.Norm)
		if err != nil {
			t.Fatal(err)
		}
		x, labels = b.X, b.Labels
	}
	opt.T, opt.L, opt.Gamma = c.T, c.L, c.Gamma
	r, err := net.Run(context.Background(), x, labels, opt)
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	return r
}

// TestAgainstPyTorch compares every number of every fixture case with PyTorch's.
func TestAgainstPyTorch(t *testing.T) {
	for _, c := range loadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			comparePyTorch(t, c, runCase(t, c, 0))
		})
	}
}

// TestDescription: the VGG16 described by hand (the README's example) runs
// the fixture's checkpoint to PyTorch's numbers, like the recognised one.
func TestDescription(t *testing.T) {
	c, err := fixture.Find("testdata", "c10_T8_g1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Ckpt != "vgg16_c10.pth" {
		t.Fatalf("case c10_T8_g1 runs %s, the description is of vgg16_c10.pth", c.Ckpt)
	}
	c.Arch = "vgg16.arch.json"
	comparePyTorch(t, *c, runCase(t, *c, 0))
}

// comparePyTorch checks every number of a run against PyTorch's. SNN mode:
// gradients within 2e-3 of the run's largest |grad| (a float32 sum in
// another order can flip a spike sitting on its threshold), loss within 1e-4
// relative. ANN mode: the floor makes float32 gradients order-dependent, so
// loss 1e-3 relative and gradients 0.2 of the largest |grad|.
func comparePyTorch(t *testing.T, c fixture.Case, got *snn.Result) {
	t.Helper()
	want := c.Want
	lossTol, gradTol := 1e-4, 2e-3
	if c.T == 0 {
		lossTol, gradTol = 1e-3, 0.2
	}
	if d := math.Abs(got.Loss-want.Loss) / math.Abs(want.Loss); d > lossTol {
		t.Errorf("loss %.6f, PyTorch %.6f (rel diff %.2g)", got.Loss, want.Loss, d)
	}
	if got.Accuracy != want.Accuracy {
		t.Errorf("accuracy %.4f, PyTorch %.4f", got.Accuracy, want.Accuracy)
	}
	if len(got.Layers) != len(want.Layers) {
		t.Fatalf("%d IF layers, PyTorch %d", len(got.Layers), len(want.Layers))
	}
	scale := 0.0
	for _, l := range want.Layers {
		for _, g := range l.Grad {
			scale = math.Max(scale, math.Abs(g))
		}
	}
	if scale == 0 {
		t.Fatal("fixture has all-zero gradients: it cannot tell anything")
	}
	worst := 0.0
	for i, w := range want.Layers {
		g := got.Layers[i]
		if g.Name != w.Name {
			t.Errorf("layer %d is %q, PyTorch %q", i, g.Name, w.Name)
		}
		check := func(what string, a, b []float64, tol float64) {
			if len(a) != len(b) {
				t.Errorf("%s %s: %d values, PyTorch %d", w.Name, what, len(a), len(b))
				return
			}
			for k := range a {
				d := math.Abs(a[k] - b[k])
				worst = math.Max(worst, d/scale)
				if d > tol {
					t.Errorf("%s %s[%d] = %.6g, PyTorch %.6g (diff %.2g, tol %.2g)", w.Name, what, k, a[k], b[k], d, tol)
				}
			}
		}
		check("thresh", g.Thresh, w.Thresh, 0)
		check("grad", g.Grad, w.Grad, gradTol*scale)
		if math.Abs(g.FiringRate-w.FiringRate) > 2e-3 {
			t.Errorf("%s firing rate %.5f, PyTorch %.5f", w.Name, g.FiringRate, w.FiringRate)
		}
		if (g.GradPaths == nil) != (w.GradPaths == nil) {
			t.Errorf("%s: grad_paths present %v, PyTorch %v", w.Name, g.GradPaths != nil, w.GradPaths != nil)
			continue
		}
		if w.GradPaths != nil {
			check("crossing", g.GradPaths.Crossing, w.GradPaths.Crossing, gradTol*scale)
			check("amplitude", g.GradPaths.Amplitude, w.GradPaths.Amplitude, gradTol*scale)
			check("reset", g.GradPaths.Reset, w.GradPaths.Reset, gradTol*scale)
			check("init", g.GradPaths.Init, w.GradPaths.Init, gradTol*scale)
		}
	}
	t.Logf("largest |grad| %.4g, worst difference %.2g of it, loss %.6f vs %.6f", scale, worst, got.Loss, want.Loss)
}

// TestWorkersDoNotChangeResults: images are summed in image order, so the
// number of workers cannot change a single bit.
func TestWorkersDoNotChangeResults(t *testing.T) {
	c := loadCases(t)[0]
	a, _ := json.Marshal(runCase(t, c, 1))
	b, _ := json.Marshal(runCase(t, c, 3))
	if string(a) != string(b) {
		t.Errorf("1 worker and 3 workers differ:\n%s\n%s", a, b)
	}
}

// TestUnlabelled: an image without a label (-1) is run as if labelled with
// the class the network predicts for it, and counts out of the accuracy.
func TestUnlabelled(t *testing.T) {
	c := loadCases(t)[0]
	net, err := job.Checkpoint(c.Ckpt, mustRead(t, c.Ckpt))
	if err != nil {
		t.Fatal(err)
	}
	b, err := job.Images(c.Data, mustRead(t, c.Data), net, 0, 8, c.Norm)
	if err != nil {
		t.Fatal(err)
	}
	opt := snn.Options{T: c.T, L: c.L, Gamma: c.Gamma}
	labelled, err := net.Run(context.Background(), b.X, b.Labels, opt)
	if err != nil {
		t.Fatal(err)
	}
	none := make([]int, len(b.Labels))
	for i := range none {
		none[i] = -1
	}
	got, err := net.Run(context.Background(), b.X, none, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got.Unlabeled != len(none) || got.Accuracy != 0 || got.Labeled != 0 || got.Correct != 0 {
		t.Errorf("unlabeled %d, accuracy %g, labeled %d, correct %d; want %d, 0, 0 and 0", got.Unlabeled, got.Accuracy, got.Labeled, got.Correct, len(none))
	}
	want, err := net.Run(context.Background(), b.X, labelled.Pred, opt)
	if err != nil {
		t.Fatal(err)
	}
	if want.Accuracy != 1 {
		t.Fatalf("labelled with its own predictions, accuracy %g", want.Accuracy)
	}
	if want.Labeled != len(none) || want.Correct != len(none) {
		t.Errorf("labelled with its own predictions: labeled %d, correct %d; want %d", want.Labeled, want.Correct, len(none))
	}
	got.Unlabeled, got.Accuracy, got.Labeled, got.Correct = 0, 1, len(none), len(none)
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("without labels:\n%s\nlabelled with the predictions:\n%s", g, w)
	}
	if labelled.Loss < want.Loss {
		t.Errorf("loss with the true labels %g, with the predicted ones %g: the predicted class should be the easier", labelled.Loss, want.Loss)
	}
}

func mustRead(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMerge: a batch run in parts and merged agrees with PyTorch's run of the
// whole batch, as the page's Web Workers and the CLI's batches rely on.
func TestMerge(t *testing.T) {
	for _, name := range []string{"c10_T8_g1", "c10_ann"} {
		c, err := fixture.Find("testdata", name)
		if err != nil {
			t.Fatal(err)
		}
		net, err := job.Checkpoint(c.Ckpt, mustRead(t, c.Ckpt))
		if err != nil {
			t.Fatal(err)
		}
		opt := snn.Options{T: c.T, L: c.L, Gamma: c.Gamma}
		var parts []*snn.Result
		for _, cut := range [][2]int{{0, 3}, {3, c.N - 3}} { // offset, n
			b, err := job.Images(c.Data, mustRead(t, c.Data), net, cut[0], cut[1], c.Norm)
			if err != nil {
				t.Fatal(err)
			}
			r, err := net.Run(context.Background(), b.X, b.Labels, opt)
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, r)
		}
		got, err := snn.Merge(parts)
		if err != nil {
			t.Fatal(err)
		}
		if got.N != c.N {
			t.Errorf("%s: merged n %d, want %d", name, got.N, c.N)
		}
		t.Run(name, func(t *testing.T) { comparePyTorch(t, *c, got) })
	}
}

// TestRecognised: every fixture checkpoint is recognised as the module tree
// PyTorch printed for it (snn/testdata/arch/, written by
// tools/ref/make_arch_fixtures.py from the model's own modules).
func TestRecognised(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range loadCases(t) {
		stem, ok := strings.CutSuffix(c.Ckpt, ".pth")
		desc := filepath.Join("arch", stem+".arch.json")
		if !ok || seen[stem] {
			continue
		}
		seen[stem] = true
		want, err := os.ReadFile(filepath.Join("testdata", desc))
		if os.IsNotExist(err) {
			continue
		}
		t.Run(stem, func(t *testing.T) {
			wa, err := snn.ParseArch(want)
			if err != nil {
				t.Fatal(err)
			}
			net, err := job.Checkpoint(c.Ckpt, mustRead(t, c.Ckpt))
			if err != nil {
				t.Fatal(err)
			}
			g, _ := json.Marshal(net.Arch)
			w, _ := json.Marshal(wa)
			if string(g) != string(w) {
				t.Errorf("recognised\n%s\nPyTorch's module tree\n%s", g, w)
			}
		})
	}
	if len(seen) < 10 {
		t.Errorf("only %d checkpoints with module trees", len(seen))
	}
}
