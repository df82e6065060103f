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
// lacks (kernel stride and padding, pooling, flatten, residual joins) are
// written here. A residual join is a pair: "save" keeps the activation at
// that point under Name, and a later "add" adds to the current activation
// the saved one, passed through its own Modules (a shortcut convolution and
// BatchNorm) when it has any.
type Module struct {
	Kind    string   `json:"kind"`              // conv, bn, if, linear, avgpool, maxpool, adaptiveavgpool, flatten, save, add
	Key     string   `json:"key,omitempty"`     // state_dict prefix, e.g. "layer1.0"
	Stride  int      `json:"stride,omitempty"`  // conv, avgpool, maxpool (pools: default the kernel)
	Pad     int      `json:"pad,omitempty"`     // conv, maxpool
	Kernel  int      `json:"kernel,omitempty"`  // avgpool, maxpool (conv kernels come from the weights)
	Name    string   `json:"name,omitempty"`    // save: the name an add refers to
	From    string   `json:"from,omitempty"`    // add: the save it adds
	Modules []Module `json:"modules,omitempty"` // add: the shortcut's modules (none: identity)
}

// Arch is an architecture description: the input size and the modules in
// order. Classes may be left 0: the last Linear layer says it.
type Arch struct {
	Name    string   `json:"name"`
	Input   [3]int   `json:"input"` // C, H, W
	Classes int      `json:"classes,omitempty"`
	Modules []Module `json:"modules"`
}

// Params is a state dict with keys in the spelling the engine uses:
// thresholds are `<module>.thresh` (older checkpoints say `up`).
type Params map[string]*pth.Tensor

// ifBuffers are per-IF buffers some forks save; they carry nothing we need.
var ifBuffers = map[string]bool{"spike_count": true, "time_count": true}

// oldJoin is a ResNet block's IF under its older name (relu, not act).
var oldJoin = regexp.MustCompile(`^(conv[2-5]_x\.\d+)\.relu\.`)

// NewParams renames `<m>.up` to `<m>.thresh` and a ResNet block's
// `conv2_x.0.relu` to `conv2_x.0.act` (SEMANTICS.md: report the new names),
// and drops the extra per-IF buffers, so that every later step sees one
// spelling.
func NewParams(sd *pth.StateDict) Params {
	p := make(Params, len(sd.Keys))
	for _, k := range sd.Keys {
		t := sd.Tensors[k]
		if prefix, ok := strings.CutSuffix(k, ".up"); ok {
			k = prefix + ".thresh"
		}
		k = oldJoin.ReplaceAllString(k, "$1.act.")
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
// ending in AvgPool2d(2), or MaxPool2d(2) when there is no BN, then Flatten/Linear/IF/Dropout/.../Linear) from the
// key names and shapes. Widths, depth and class count come from the shapes.
func RecogniseVGG(p Params) (*Arch, error) {
	type entry struct {
		block, index int
		key          string
	}
	seen := map[string]bool{}
	var mods []entry
	for _, k := range sortedKeys(p) {
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

	// QCFS's VGG without BatchNorm (VGG_woBN) pools by MaxPool2d(2, 2).
	pool := "maxpool"
	for k := range p {
		if vggFeature.MatchString(k) && strings.HasSuffix(k, ".running_mean") {
			pool = "avgpool"
			break
		}
	}
	a := &Arch{Name: "vgg", Input: [3]int{3, 32, 32}}
	block := 1
	convs := 0
	for _, e := range mods {
		for block < e.block {
			if block <= 5 {
				a.Modules = append(a.Modules, Module{Kind: pool, Kernel: 2, Stride: 2})
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

var (
	resStem  = regexp.MustCompile(`^conv1\.(\d+)\.([a-z_]+)$`)
	resBlock = regexp.MustCompile(`^conv([2-5])_x\.(\d+)\.(residual_function\.\d+|shortcut\.\d+|act)\.([a-z_]+)$`)
	resHead  = regexp.MustCompile(`^fc\.([a-z_]+)$`)
)

// RecogniseResNet reads a QCFS ResNet (Models/ResNet.py: stem conv1.{0 conv,
// 1 BN, 2 IF}; stages conv2_x.. of BasicBlocks residual_function.{0 conv,
// 1 BN, 2 IF, 3 conv, 4 BN} plus an optional shortcut.{0 conv1x1, 1 BN},
// joined by an IF named act; then global average pooling and fc) from its
// keys and shapes. The first stage keeps the resolution, each later one
// halves it in its first block. QCFS's ImageNet ResNet keeps the CIFAR 3x3
// stem and takes 224x224 images (told by 1000 classes); a 7x7 stem is the
// torchvision one: stride 2, padding 3, then MaxPool2d(3, 2, 1).
func RecogniseResNet(p Params) (*Arch, error) {
	type block struct {
		stage, index int
		join, short  bool
	}
	blocks := map[[2]int]*block{}
	stem := map[int]bool{}
	for _, k := range sortedKeys(p) {
		switch m := resBlock.FindStringSubmatch(k); {
		case m != nil:
			st, _ := strconv.Atoi(m[1])
			ix, _ := strconv.Atoi(m[2])
			b := blocks[[2]int{st, ix}]
			if b == nil {
				b = &block{stage: st, index: ix}
				blocks[[2]int{st, ix}] = b
			}
			switch {
			case m[3] == "act":
				b.join = true
			case strings.HasPrefix(m[3], "shortcut."):
				b.short = true
			}
		case resStem.MatchString(k):
			i, _ := strconv.Atoi(resStem.FindStringSubmatch(k)[1])
			stem[i] = true
		case resHead.MatchString(k):
		default:
			return nil, fmt.Errorf("not a QCFS ResNet: unexpected key %q", k)
		}
	}
	w := p["conv1.0.weight"]
	if w == nil || len(w.Shape) != 4 || !stem[1] || !stem[2] {
		return nil, fmt.Errorf("not a QCFS ResNet: want a stem conv1.0 (conv), conv1.1 (BN), conv1.2 (IF)")
	}
	if p["fc.weight"] == nil {
		return nil, fmt.Errorf("not a QCFS ResNet: no fc.weight")
	}
	order := make([]*block, 0, len(blocks))
	for _, b := range blocks {
		order = append(order, b)
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].stage != order[j].stage {
			return order[i].stage < order[j].stage
		}
		return order[i].index < order[j].index
	})
	a := &Arch{Input: [3]int{3, 32, 32}}
	switch k := w.Shape[2]; k {
	case 3:
		a.Modules = append(a.Modules, Module{Kind: "conv", Key: "conv1.0", Stride: 1, Pad: 1})
	case 7:
		a.Input = [3]int{3, 224, 224}
		a.Modules = append(a.Modules, Module{Kind: "conv", Key: "conv1.0", Stride: 2, Pad: 3})
	default:
		return nil, fmt.Errorf("not a QCFS ResNet: conv1.0.weight has shape %v, want a 3x3 (CIFAR) or 7x7 (ImageNet) kernel", w.Shape)
	}
	a.Modules = append(a.Modules, Module{Kind: "bn", Key: "conv1.1"}, Module{Kind: "if", Key: "conv1.2"})
	if f := p["fc.weight"]; len(f.Shape) == 2 && f.Shape[0] == 1000 {
		a.Input = [3]int{3, 224, 224}
	}
	if w.Shape[2] == 7 {
		a.Modules = append(a.Modules, Module{Kind: "maxpool", Kernel: 3, Stride: 2, Pad: 1})
	}
	first := 0
	counts := map[int]int{}
	for n, b := range order {
		if n > 0 && b.stage != order[n-1].stage+1 && b.stage != order[n-1].stage {
			return nil, fmt.Errorf("not a QCFS ResNet: stage conv%d_x follows conv%d_x", b.stage, order[n-1].stage)
		}
		if b.index != counts[b.stage] {
			return nil, fmt.Errorf("not a QCFS ResNet: conv%d_x.%d is missing", b.stage, counts[b.stage])
		}
		counts[b.stage]++
		if first == 0 {
			first = b.stage
		}
		if !b.join {
			return nil, fmt.Errorf("not a QCFS ResNet: conv%d_x.%d has no act (IF) after its sum", b.stage, b.index)
		}
		pre := fmt.Sprintf("conv%d_x.%d", b.stage, b.index)
		stride := 1
		if b.index == 0 && b.stage != first {
			stride = 2
		}
		add := Module{Kind: "add", From: pre}
		if b.short {
			add.Modules = []Module{{Kind: "conv", Key: pre + ".shortcut.0", Stride: stride}, {Kind: "bn", Key: pre + ".shortcut.1"}}
		}
		a.Modules = append(a.Modules,
			Module{Kind: "save", Name: pre},
			Module{Kind: "conv", Key: pre + ".residual_function.0", Stride: stride, Pad: 1},
			Module{Kind: "bn", Key: pre + ".residual_function.1"},
			Module{Kind: "if", Key: pre + ".residual_function.2"},
			Module{Kind: "conv", Key: pre + ".residual_function.3", Stride: 1, Pad: 1},
			Module{Kind: "bn", Key: pre + ".residual_function.4"},
			add,
			Module{Kind: "if", Key: pre + ".act"},
		)
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("not a QCFS ResNet: no conv2_x blocks")
	}
	a.Modules = append(a.Modules, Module{Kind: "adaptiveavgpool"}, Module{Kind: "flatten"}, Module{Kind: "linear", Key: "fc"})
	a.Classes = p["fc.weight"].Shape[0]
	a.Name = fmt.Sprintf("resnet%d", 2+2*len(order)) // two convolutions a block, the stem and fc
	return a, nil
}

func sortedKeys(p Params) []string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
