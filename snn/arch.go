package snn

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/spikegrad/spikegrad/snn/pth"
)

// Module is one entry of an architecture description: a module of the
// network, in order, named by its state_dict prefix. The facts a state_dict
// lacks (kernel stride and padding, pooling) are written here.
type Module struct {
	Kind   string `json:"kind"`             // conv, bn, if, linear, avgpool, flatten
	Key    string `json:"key,omitempty"`    // state_dict prefix, e.g. "layer1.0"
	Stride int    `json:"stride,omitempty"` // conv, avgpool
	Pad    int    `json:"pad,omitempty"`    // conv
	Kernel int    `json:"kernel,omitempty"` // avgpool (conv kernels come from the weights)
}

// Arch is an architecture description: the input size and the modules in order.
type Arch struct {
	Name    string   `json:"name"`
	Input   [3]int   `json:"input"` // C, H, W
	Classes int      `json:"classes"`
	Modules []Module `json:"modules"`
}

// Params is a state dict with keys in the spelling the engine uses:
// thresholds are `<module>.thresh` (older checkpoints say `up`).
type Params map[string]*pth.Tensor

// ifBuffers are per-IF buffers some forks save; they carry nothing we need.
var ifBuffers = map[string]bool{"spike_count": true, "time_count": true}

// NewParams renames `<m>.up` to `<m>.thresh` and drops the extra per-IF
// buffers, so that every later step sees one spelling.
func NewParams(sd *pth.StateDict) Params {
	p := make(Params, len(sd.Keys))
	for _, k := range sd.Keys {
		t := sd.Tensors[k]
		if prefix, ok := strings.CutSuffix(k, ".up"); ok {
			k = prefix + ".thresh"
		}
		if i := strings.LastIndexByte(k, '.'); i >= 0 && ifBuffers[k[i+1:]] {
			continue
		}
		p[k] = t
	}
	return p
}

var (
	vggFeature = regexp.MustCompile(`^layer([1-5])\.(\d+)\.([a-z_]+)$`)
	vggHead    = regexp.MustCompile(`^classifier\.(\d+)\.([a-z_]+)$`)
)

// RecogniseVGG reads a QCFS VGG (layer1..layer5 of conv/BN/IF/Dropout, each
// ending in AvgPool2d(2), then Flatten/Linear/IF/Dropout/.../Linear) from the
// key names and shapes. Widths, depth and class count come from the shapes.
func RecogniseVGG(p Params) (*Arch, error) {
	type entry struct {
		block, index int
		key          string
	}
	seen := map[string]bool{}
	var mods []entry
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var block, index int
		var prefix string
		if m := vggFeature.FindStringSubmatch(k); m != nil {
			block, _ = strconv.Atoi(m[1])
			index, _ = strconv.Atoi(m[2])
			prefix = "layer" + m[1] + "." + m[2]
		} else if m := vggHead.FindStringSubmatch(k); m != nil {
			block = 6
			index, _ = strconv.Atoi(m[1])
			prefix = "classifier." + m[1]
		} else {
			return nil, fmt.Errorf("not a QCFS VGG: unexpected key %q", k)
		}
		if !seen[prefix] {
			seen[prefix] = true
			mods = append(mods, entry{block, index, prefix})
		}
	}
	if len(mods) == 0 {
		return nil, fmt.Errorf("not a QCFS VGG: no tensors")
	}
	sort.Slice(mods, func(i, j int) bool {
		if mods[i].block != mods[j].block {
			return mods[i].block < mods[j].block
		}
		return mods[i].index < mods[j].index
	})

	a := &Arch{Name: "vgg", Input: [3]int{3, 32, 32}}
	block := 1
	convs := 0
	for _, e := range mods {
		for block < e.block {
			if block <= 5 {
				a.Modules = append(a.Modules, Module{Kind: "avgpool", Kernel: 2, Stride: 2})
			}
			block++
			if block == 6 {
				a.Modules = append(a.Modules, Module{Kind: "flatten"})
			}
		}
		kind, err := moduleKind(p, e.key)
		if err != nil {
			return nil, fmt.Errorf("not a QCFS VGG: %v", err)
		}
		if e.block <= 5 && kind == "linear" || e.block == 6 && (kind == "conv" || kind == "bn") {
			return nil, fmt.Errorf("not a QCFS VGG: %s is a %s layer in the wrong place", e.key, kind)
		}
		m := Module{Kind: kind, Key: e.key}
		if kind == "conv" {
			w := p[e.key+".weight"]
			if w.Shape[2] != 3 || w.Shape[3] != 3 {
				return nil, fmt.Errorf("not a QCFS VGG: %s.weight has shape %v, want a 3x3 kernel", e.key, w.Shape)
			}
			m.Stride, m.Pad = 1, 1
			convs++
		}
		a.Modules = append(a.Modules, m)
	}
	if block != 6 {
		return nil, fmt.Errorf("not a QCFS VGG: no classifier.* keys")
	}
	switch convs {
	case 8, 10, 13, 16:
		a.Name = fmt.Sprintf("vgg%d", convs+3)
	default:
		return nil, fmt.Errorf("not a QCFS VGG: %d convolutions (VGG11/13/16/19 have 8/10/13/16)", convs)
	}
	// The head's first Linear tells the input size: Cx1x1 for CIFAR, Cx7x7 for ImageNet.
	lastC := 0
	for _, m := range a.Modules {
		if m.Kind == "conv" {
			lastC = p[m.Key+".weight"].Shape[0]
		}
		if m.Kind != "linear" {
			continue
		}
		switch in := p[m.Key+".weight"].Shape[1]; in {
		case lastC:
		case lastC * 49:
			a.Input = [3]int{3, 224, 224}
		default:
			return nil, fmt.Errorf("not a QCFS VGG: %s.weight has %d inputs, want %d (CIFAR, %dx1x1) or %d (ImageNet, %dx7x7)",
				m.Key, in, lastC, lastC, lastC*49, lastC)
		}
		break
	}
	last := a.Modules[len(a.Modules)-1]
	if last.Kind != "linear" {
		return nil, fmt.Errorf("not a QCFS VGG: the network ends in %s (%s), not a Linear", last.Key, last.Kind)
	}
	a.Classes = p[last.Key+".weight"].Shape[0]
	return a, nil
}

// moduleKind tells a module's kind from its keys and weight shape.
func moduleKind(p Params, prefix string) (string, error) {
	w := p[prefix+".weight"]
	switch {
	case p[prefix+".thresh"] != nil:
		return "if", nil
	case w == nil:
		return "", fmt.Errorf("%s has neither a weight nor a thresh", prefix)
	case len(w.Shape) == 4:
		return "conv", nil
	case len(w.Shape) == 2:
		return "linear", nil
	case len(w.Shape) == 1 && p[prefix+".running_mean"] != nil && p[prefix+".running_var"] != nil:
		return "bn", nil
	}
	return "", fmt.Errorf("%s.weight has shape %v, which is not a conv, BatchNorm or Linear weight", prefix, w.Shape)
}
