package snn

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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

// TestKeyNames: the key readers accept exactly what these patterns (the
// readers' spec) match, and read the same numbers and names.
func TestKeyNames(t *testing.T) {
	var (
		vggFeature = regexp.MustCompile(`^layer([1-5])\.(\d+)\.([a-z_]+)$`)
		vggHead    = regexp.MustCompile(`^classifier\.(\d+)\.([a-z_]+)$`)
		resStem    = regexp.MustCompile(`^conv1\.(\d+)\.([a-z_]+)$`)
		resBlock   = regexp.MustCompile(`^conv([2-5])_x\.(\d+)\.(residual_function\.\d+|shortcut\.\d+|act)\.([a-z_]+)$`)
		resHead    = regexp.MustCompile(`^fc\.([a-z_]+)$`)
		oldJoin    = regexp.MustCompile(`^(conv[2-5]_x\.\d+)\.relu\.`)
	)
	keys := []string{
		"layer1.0.weight", "layer5.12.running_mean", "layer6.0.weight", "layer0.0.weight", "layer1.x.weight",
		"layer1.0.Weight", "layer1.0.weight.x", "layer1.0", "layer1..weight", "layer12.0.weight", "layers1.0.weight",
		"classifier.1.weight", "classifier.7.thresh", "classifier.a.bias", "classifier.1", "classifier.1.up_",
		"conv1.0.weight", "conv1.2.thresh", "conv1.x.weight", "conv1.0.0.weight",
		"conv2_x.0.residual_function.0.weight", "conv5_x.1.shortcut.1.running_var", "conv3_x.0.act.thresh",
		"conv6_x.0.act.thresh", "conv1_x.0.act.thresh", "conv2_x.0.residual_function.x.weight", "conv2_x.0.relu.up",
		"conv2_x.0.relu.thresh", "conv2_x.a.relu.thresh", "conv2_x.0.relu.", "conv2_x.0.relu", "conv22_x.0.relu.up",
		"conv2_x.0.shortcut.weight", "conv2_x.0.act.1.thresh", "conv2_x.01.act.thresh",
		"fc.weight", "fc.bias", "fc.0.weight", "fc", "module.fc.weight", "+1", "layer1.+1.weight", "",
	}
	num := func(s string) int {
		n, _ := strconv.Atoi(s)
		return n
	}
	for _, k := range keys {
		block, index, prefix, ok := vggKey(k)
		switch m, h := vggFeature.FindStringSubmatch(k), vggHead.FindStringSubmatch(k); {
		case m != nil:
			if !ok || block != num(m[1]) || index != num(m[2]) || prefix != "layer"+m[1]+"."+m[2] {
				t.Errorf("vggKey(%q) = %d, %d, %q, %v; want %s, %s", k, block, index, prefix, ok, m[1], m[2])
			}
		case h != nil:
			if !ok || block != 6 || index != num(h[1]) || prefix != "classifier."+h[1] {
				t.Errorf("vggKey(%q) = %d, %d, %q, %v; want 6, %s", k, block, index, prefix, ok, h[1])
			}
		case ok:
			t.Errorf("vggKey(%q) accepts a key the pattern does not", k)
		}
		kind, st, ix, part := resKey(k)
		switch m, s := resBlock.FindStringSubmatch(k), resStem.FindStringSubmatch(k); {
		case m != nil:
			if kind != "block" || st != num(m[1]) || ix != num(m[2]) || part != strings.SplitN(m[3], ".", 2)[0] {
				t.Errorf("resKey(%q) = %q, %d, %d, %q; want block %s, %s, %s", k, kind, st, ix, part, m[1], m[2], m[3])
			}
		case s != nil:
			if kind != "stem" || ix != num(s[1]) {
				t.Errorf("resKey(%q) = %q, %d; want stem %s", k, kind, ix, s[1])
			}
		case resHead.MatchString(k):
			if kind != "head" {
				t.Errorf("resKey(%q) = %q, want head", k, kind)
			}
		case kind != "":
			t.Errorf("resKey(%q) = %q, a key the patterns do not accept", k, kind)
		}
		p := NewParams(&pth.StateDict{Keys: []string{k}, Tensors: map[string]*pth.Tensor{k: tensor(1)}})
		want := oldJoin.ReplaceAllString(strings.TrimSuffix(k, ".up")+map[bool]string{true: ".thresh"}[strings.HasSuffix(k, ".up")], "$1.act.")
		if _, got := p[want]; !got {
			t.Errorf("NewParams renamed %q to %v, want %q", k, p, want)
		}
	}
}

// TestArchFields: a description is refused, with the module's index, for a
// field its kind does not take, a required field missing, and a stride,
// kernel or pad the builder would have replaced by a default; every
// description of snn/testdata (each as PyTorch's module tree says) passes.
func TestArchFields(t *testing.T) {
	for _, c := range []struct{ modules, want string }{
		{`{"kind": "avgpool"}`, `module 0 (avgpool): no "kernel"`},
		{`{"kind": "maxpool", "stride": 2}`, `module 0 (maxpool): no "kernel"`},
		{`{"kind": "avgpool", "kernel": 2, "pad": 1}`, `module 0 (avgpool): avgpool does not take "pad"`},
		{`{"kind": "conv", "key": "a", "stride": 0}`, `module 0 (conv): stride must be a whole number of at least 1, not 0`},
		{`{"kind": "conv", "key": "a", "stride": -1}`, `module 0 (conv): stride must be`},
		{`{"kind": "maxpool", "kernel": 2, "pad": -1}`, `module 0 (maxpool): pad must be a whole number of at least 0`},
		{`{"kind": "flatten"}, {"kind": "if", "key": "a", "stride": 1}`, `module 1 (if): if does not take "stride"`},
		{`{"kind": "conv"}`, `module 0 (conv): no "key"`},
		{`{"kind": "conv", "key": ""}`, `module 0 (conv): key must be a name`},
		{`{"kind": "save"}`, `module 0 (save): no "name"`},
		{`{"kind": "add", "from": "x", "modules": [{"kind": "bn", "key": "b", "pad": 1}]}`, `module 0.modules[0] (bn): bn does not take "pad"`},
		{`{"kind": "pool", "kernel": 2}`, `module 0: unknown kind "pool"`},
		{`{"key": "a"}`, `module 0 has no kind`},
	} {
		err := CheckArchFields([]byte(`{"name": "x", "input": [3, 32, 32], "modules": [` + c.modules + `]}`))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.modules, err, c.want)
		}
	}
	files, err := filepath.Glob(filepath.Join("testdata", "arch", "*.arch.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no descriptions in testdata/arch: %v", err)
	}
	files = append(files, filepath.Join("testdata", "vgg16.arch.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckArchFields(b); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
