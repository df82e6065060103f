package snn

import (
	"strings"
	"testing"

	"github.com/spikegrad/spikegrad/snn/pth"
)

func tensor(shape ...int) *pth.Tensor {
	n := 1
	for _, s := range shape {
		n *= s
	}
	d := make([]float32, n)
	for i := range d {
		d[i] = 1
	}
	return &pth.Tensor{Shape: shape, Data: d}
}

func dict(kv ...any) *pth.StateDict {
	sd := &pth.StateDict{Tensors: map[string]*pth.Tensor{}}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		sd.Keys = append(sd.Keys, k)
		sd.Tensors[k] = kv[i+1].(*pth.Tensor)
	}
	return sd
}

// TestNotRecognised: a checkpoint that does not fit gets an error naming the
// first key or shape that does not.
func TestNotRecognised(t *testing.T) {
	for _, c := range []struct {
		sd   *pth.StateDict
		want string
	}{
		{dict("conv1.0.weight", tensor(64, 3, 3, 3), "fc.weight", tensor(10, 512)), "conv1.2 (IF)"},
		{dict("features.0.weight", tensor(64, 3, 3, 3), "fc.weight", tensor(10, 512)), `"features.0.weight"`},
		{dict(), "(none)"},
		{dict("layer1.0.weight", tensor(4, 3, 3, 3), "layer1.0.bias", tensor(4), "layer1.2.thresh", tensor(1),
			"features.0.weight", tensor(4, 4, 3, 3)), `"features.0.weight"`},
		{dict("layer1.0.weight", tensor(4, 3, 5, 5), "classifier.1.weight", tensor(10, 4)), "3x3"},
		{dict("layer1.0.weight", tensor(4, 3, 3, 3), "layer1.2.thresh", tensor(1), "classifier.1.weight", tensor(10, 4)), "convolutions"},
	} {
		_, err := Load(c.sd)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %s", c.sd.Keys, err, c.want)
		}
	}
}

// TestThreshMustBePositive: a zero or negative threshold would divide by zero
// in ANN mode and make every neuron fire in SNN mode: refuse it.
func TestThreshMustBePositive(t *testing.T) {
	a := &Arch{Input: [3]int{1, 1, 1}, Modules: []Module{{Kind: "flatten"}, {Kind: "linear", Key: "fc"}, {Kind: "if", Key: "act"}, {Kind: "linear", Key: "out"}}}
	p := Params{"fc.weight": tensor(2, 1), "act.thresh": &pth.Tensor{Shape: []int{1}, Data: []float32{0}}, "out.weight": tensor(2, 2)}
	if _, err := Build(a, p); err == nil || !strings.Contains(err.Error(), "act.thresh") {
		t.Errorf("error %v", err)
	}
}
