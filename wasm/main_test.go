//go:build js && wasm

package main

import (
	"encoding/base64"
	"fmt"
	"math"
	"strings"
	"syscall/js"
	"testing"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/demo"
	"github.com/spikegrad/spikegrad/snn/fixture"
)

// demoRunner loads the demo and returns a function that runs settings on it.
func demoRunner(t *testing.T) func(set string) map[string]any {
	if _, err := loadDemo(nil); err != nil {
		t.Fatal(err)
	}
	return func(set string) map[string]any {
		out, err := runJob(set, js.Undefined())
		if err != nil {
			t.Fatal(err)
		}
		return out.(map[string]any)
	}
}

// TestRunInParts: a run taken in parts (as a run of thousands of images is)
// gives the one-part run's numbers, and pixels only for the images asked.
func TestRunInParts(t *testing.T) {
	run := demoRunner(t)
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

// TestRunShares: runs with part i of parts take consecutive shares of the
// chosen images (random ones included), which together are the whole run's,
// with pixels only for the first images of the whole; a share of none
// answers without a result.
func TestRunShares(t *testing.T) {
	run := demoRunner(t)
	whole := run(`{"n": 12, "seed": 7}`)
	var idx []int
	var results []*snn.Result
	pixels := 0
	for i := range 5 {
		out := run(fmt.Sprintf(`{"n": 12, "seed": 7, "part": %d, "parts": 5, "pixels": 4}`, i))
		idx = append(idx, out["indices"].([]int)...)
		results = append(results, out["result"].(*snn.Result))
		px, _ := base64.StdEncoding.DecodeString(out["pixels"].(string))
		pixels += len(px)
	}
	if fmt.Sprint(idx) != fmt.Sprint(whole["indices"]) {
		t.Fatalf("the parts took images %v, the whole run %v", idx, whole["indices"])
	}
	if pixels != 4*3*32*32 {
		t.Errorf("the parts sent %d bytes of pixels, want 4 images' (%d)", pixels, 4*3*32*32)
	}
	merged, err := snn.Merge(results)
	if err != nil {
		t.Fatal(err)
	}
	a := whole["result"].(*snn.Result)
	if worst, largest := fixture.GradGap(merged, a); merged.N != 12 || worst > 1e-5*largest {
		t.Errorf("the parts merged: n %d, worst gradient %.3g of the largest |grad| from the whole run's", merged.N, worst/largest)
	}
	if out := run(`{"n": 2, "part": 2, "parts": 3}`); out["result"] != nil || len(out["indices"].([]int)) != 0 {
		t.Errorf("part 3 of 3 of 2 images: %v, want no images and no result", out)
	}
	if _, err := runJob(`{"n": 2, "part": 3, "parts": 3}`, js.Undefined()); err == nil {
		t.Error("part 4 of 3: no error")
	}
}

// uint8Array copies b into a new JavaScript Uint8Array.
func uint8Array(b []byte) js.Value {
	u := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u, b)
	return u
}

// TestRefusedBatch: a data file the engine refuses changes nothing it holds
// (the next run is the one before it, on the same files and ids), and a run
// naming other files than the engine holds is refused.
func TestRefusedBatch(t *testing.T) {
	run := demoRunner(t)
	before := run(`{"n": 4}`)
	bad := []any{js.ValueOf([]any{"checkpoint.pth"}), js.ValueOf([]any{uint8Array([]byte("PK\x03\x04 not a batch"))}), js.ValueOf("data#2")}
	args := make([]js.Value, len(bad))
	for i, a := range bad {
		args[i] = a.(js.Value)
	}
	if _, err := loadBatch(args); err == nil || !strings.Contains(err.Error(), "checkpoint.pth") {
		t.Fatalf("a bad data file: error %v, want one naming it", err)
	}
	if dataID != "demo" || dataName != demo.BatchName {
		t.Errorf("after a refused file the engine holds %q (%s)", dataID, dataName)
	}
	after := run(`{"n": 4, "ckpt_id": "demo", "data_id": "demo"}`)
	a, b := before["result"].(*snn.Result), after["result"].(*snn.Result)
	if a.Loss != b.Loss || after["data"] != before["data"] {
		t.Errorf("after a refused file: loss %g on %v, before %g on %v", b.Loss, after["data"], a.Loss, before["data"])
	}
	if _, err := runJob(`{"n": 4, "data_id": "data#2"}`, js.Undefined()); err == nil || !strings.Contains(err.Error(), "not run") {
		t.Errorf("a run naming data the engine does not hold: error %v", err)
	}
	if _, err := runJob(`{"n": 4, "ckpt_id": "ckpt#1"}`, js.Undefined()); err == nil || !strings.Contains(err.Error(), "not run") {
		t.Errorf("a run naming a checkpoint the engine does not hold: error %v", err)
	}
}
