//go:build js && wasm

package main

import (
	"encoding/base64"
	"math"
	"syscall/js"
	"testing"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/fixture"
)

// TestRunInParts: a run taken in parts (as a run of thousands of images is)
// gives the one-part run's numbers, and pixels only for the images asked.
func TestRunInParts(t *testing.T) {
	if _, err := loadDemo(nil); err != nil {
		t.Fatal(err)
	}
	run := func(set string) map[string]any {
		out, err := runJob(set, js.Undefined())
		if err != nil {
			t.Fatal(err)
		}
		return out.(map[string]any)
	}
	whole := run(`{"n": 12}`)
	defer func(p int) { runPart = p }(runPart)
	runPart = 5
	parts := run(`{"n": 12, "pixels": 3}`)
	a, b := whole["result"].(*snn.Result), parts["result"].(*snn.Result)
	if a.N != 12 || b.N != 12 || math.Abs(a.Loss-b.Loss) > 1e-6*a.Loss {
		t.Fatalf("in parts of 5: n %d loss %g; at once: n %d loss %g", b.N, b.Loss, a.N, a.Loss)
	}
	// Each image's share is rounded in float32 in either, in another order:
	// within 1e-5 of the largest |grad|, as TestMerge against PyTorch.
	worst, largest := fixture.GradGap(b, a)
	if worst > 1e-5*largest {
		t.Errorf("in parts of 5, the worst gradient is %.3g of the largest |grad| away", worst/largest)
	}
	if got := len(parts["labels"].([]int)); got != 12 {
		t.Errorf("%d labels, want 12", got)
	}
	px, _ := base64.StdEncoding.DecodeString(parts["pixels"].(string))
	if len(px) != 3*3*32*32 {
		t.Errorf("%d bytes of pixels, want 3 images' (%d)", len(px), 3*3*32*32)
	}
}
