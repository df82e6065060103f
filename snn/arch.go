package snn

import (
	"encoding/json"
	"fmt"
	"sort"
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

// The keys are read by splitting them at their dots, not by regular
// expressions: in WebAssembly the regexp package's first use is costly
// (the browser compiles its hot loops a second time, in every worker).

// digits reports whether s is a decimal number, and its value.
func digits(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = 10*n + int(s[i]-'0')
	}
	return n, true
}

// attr reports whether s is a tensor's name within its module: a-z and _.
func attr(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < 'a' || s[i] > 'z') && s[i] != '_' {
			return false
		}
	}
	return s != ""
}

// stage reads a ResNet stage's name, conv2_x .. conv5_x.
func stage(s string) (int, bool) {
	if len(s) == len("conv2_x") && strings.HasPrefix(s, "conv") && strings.HasSuffix(s, "_x") && s[4] >= '2' && s[4] <= '5' {
		return int(s[4] - '0'), true
	}
	return 0, false
}

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
		// A ResNet block's IF under its older name (relu, not act).
		if f := strings.SplitN(k, ".", 4); len(f) == 4 && f[2] == "relu" {
			if _, ok := stage(f[0]); ok {
				if _, ok := digits(f[1]); ok {
					k = f[0] + "." + f[1] + ".act." + f[3]
				}
			}
		}
		if i := strings.LastIndexByte(k, '.'); i >= 0 && ifBuffers[k[i+1:]] {
			continue
		}
		p[k] = t
	}
	return p
}

// vggKey reads a QCFS VGG key, layer<1-5>.<i>.<attr> or
// classifier.<i>.<attr> (block 6), and its module's prefix.
func vggKey(k string) (block, index int, prefix string, ok bool) {
	f := strings.Split(k, ".")
	if len(f) != 3 || !attr(f[2]) {
		return 0, 0, "", false
	}
	index, ok = digits(f[1])
	switch {
	case !ok:
	case f[0] == "classifier":
		block = 6
	case len(f[0]) == len("layer1") && strings.HasPrefix(f[0], "layer") && f[0][5] >= '1' && f[0][5] <= '5':
		block = int(f[0][5] - '0')
	default:
		ok = false
	}
	return block, index, f[0] + "." + f[1], ok
}

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
		block, index, prefix, ok := vggKey(k)
		if !ok {
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
		if block, _, _, ok := vggKey(k); ok && block <= 5 && strings.HasSuffix(k, ".running_mean") {
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

// resKey reads a QCFS ResNet key: a block's, conv<2-5>_x.<i>.<part>.<attr>
// with part residual_function.<j>, shortcut.<j> or act (kind "block"); the
// stem's, conv1.<i>.<attr> (kind "stem", st 0); the head's, fc.<attr>.
func resKey(k string) (kind string, st, ix int, part string) {
	f := strings.Split(k, ".")
	switch {
	case len(f) == 2 && f[0] == "fc" && attr(f[1]):
		return "head", 0, 0, ""
	case len(f) == 3 && f[0] == "conv1" && attr(f[2]):
		if i, ok := digits(f[1]); ok {
			return "stem", 0, i, ""
		}
	case len(f) == 4 && f[2] == "act" && attr(f[3]), len(f) == 5 && (f[2] == "residual_function" || f[2] == "shortcut") && attr(f[4]):
		st, ok1 := stage(f[0])
		ix, ok2 := digits(f[1])
		if len(f) == 5 {
			_, ok := digits(f[3])
			ok2 = ok2 && ok
		}
		if ok1 && ok2 {
			return "block", st, ix, f[2]
		}
	}
	return "", 0, 0, ""
}

// RecogniseResNet reads a QCFS ResNet (Models/ResNet.py: stem conv1.{0 conv,
// 1 BN, 2 IF}; stages conv2_x.. of BasicBlocks residual_function.{0 conv,
// 1 BN, 2 IF, 3 conv, 4 BN} plus an optional shortcut.{0 conv1x1, 1 BN},
// joined by an IF named act; then global average pooling and fc) from its
// keys and shapes. The earlier code's ResNet50/101/152 have BottleNeck
// blocks instead: residual_function.{0 conv1x1, 1 BN, 2 IF, 3 conv3x3 with
// the block's stride, 4 BN, 5 IF, 6 conv1x1 to 4x the width, 7 BN}. The
// first stage keeps the resolution, each later one halves it in its first
// block (a BottleNeck in its 3x3 convolution). QCFS's ImageNet ResNet
// keeps the CIFAR 3x3 stem and takes 224x224 images (told by 1000
// classes); a 7x7 stem is the torchvision one: stride 2, padding 3, then
// MaxPool2d(3, 2, 1).
func RecogniseResNet(p Params) (*Arch, error) {
	type block struct {
		stage, index int
		join, short  bool
		rf           map[int]bool // residual_function indices present
	}
	blocks := map[[2]int]*block{}
	stem := map[int]bool{}
	for _, k := range sortedKeys(p) {
		switch kind, st, ix, part := resKey(k); kind {
		case "block":
			b := blocks[[2]int{st, ix}]
			if b == nil {
				b = &block{stage: st, index: ix}
				blocks[[2]int{st, ix}] = b
			}
			switch part {
			case "act":
				b.join = true
			case "shortcut":
				b.short = true
			case "residual_function":
				if b.rf == nil {
					b.rf = map[int]bool{}
				}
				j, _ := digits(strings.Split(k, ".")[3])
				b.rf[j] = true
			}
		case "stem":
			stem[ix] = true
		case "head":
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
	// BottleNeck blocks have a third convolution, residual_function.6.
	bottleneck := len(order) > 0 && order[0].rf[6]
	first := 0
	counts := map[int]int{}
	for n, b := range order {
		if b.rf[6] != bottleneck || !bottleneck && len(b.rf) != 5 || bottleneck && len(b.rf) != 8 {
			return nil, fmt.Errorf("not a QCFS ResNet: conv%d_x.%d.residual_function is neither a BasicBlock's (0-4) nor a BottleNeck's (0-7) like the first block's", b.stage, b.index)
		}
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
		rf := pre + ".residual_function."
		if bottleneck {
			a.Modules = append(a.Modules,
				Module{Kind: "save", Name: pre},
				Module{Kind: "conv", Key: rf + "0", Stride: 1},
				Module{Kind: "bn", Key: rf + "1"},
				Module{Kind: "if", Key: rf + "2"},
				Module{Kind: "conv", Key: rf + "3", Stride: stride, Pad: 1},
				Module{Kind: "bn", Key: rf + "4"},
				Module{Kind: "if", Key: rf + "5"},
				Module{Kind: "conv", Key: rf + "6", Stride: 1},
				Module{Kind: "bn", Key: rf + "7"},
				add,
				Module{Kind: "if", Key: pre + ".act"},
			)
			continue
		}
		a.Modules = append(a.Modules,
			Module{Kind: "save", Name: pre},
			Module{Kind: "conv", Key: rf + "0", Stride: stride, Pad: 1},
			Module{Kind: "bn", Key: rf + "1"},
			Module{Kind: "if", Key: rf + "2"},
			Module{Kind: "conv", Key: rf + "3", Stride: 1, Pad: 1},
			Module{Kind: "bn", Key: rf + "4"},
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
	if bottleneck {
		a.Name = fmt.Sprintf("resnet%d", 2+3*len(order)) // three a BottleNeck
	}
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

// moduleFields are the fields each kind of module takes: required ones
// true, optional ones false ("kind" aside).
var moduleFields = map[string]map[string]bool{
	"conv":            {"key": true, "stride": false, "pad": false},
	"bn":              {"key": true},
	"if":              {"key": true},
	"linear":          {"key": true},
	"avgpool":         {"kernel": true, "stride": false},
	"maxpool":         {"kernel": true, "stride": false, "pad": false},
	"adaptiveavgpool": {},
	"flatten":         {},
	"save":            {"name": true},
	"add":             {"from": true, "modules": false},
}

// CheckArchFields checks an architecture description's modules field by
// field, as its JSON says them: every field a kind does not take is refused,
// and so is every required field missing, every key or name that is not a
// string, and every stride or kernel below 1 and pad below 0 (which the
// builder would otherwise take as its defaults). Errors name the module by
// its index (an add's own modules as 7.modules[0]).
func CheckArchFields(b []byte) error {
	var doc struct {
		Modules []map[string]json.RawMessage `json:"modules"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("architecture description: %v", err)
	}
	return checkModules(doc.Modules, "")
}

func checkModules(mods []map[string]json.RawMessage, prefix string) error {
	for i, m := range mods {
		where := fmt.Sprintf("module %s%d", prefix, i)
		if prefix != "" {
			where += "]"
		}
		var kind string
		if raw, ok := m["kind"]; !ok || json.Unmarshal(raw, &kind) != nil {
			return fmt.Errorf("architecture description: %s has no kind", where)
		}
		fields, ok := moduleFields[kind]
		if !ok {
			kinds := make([]string, 0, len(moduleFields))
			for k := range moduleFields {
				kinds = append(kinds, k)
			}
			sort.Strings(kinds)
			return fmt.Errorf("architecture description: %s: unknown kind %q (kinds: %s)", where, kind, strings.Join(kinds, ", "))
		}
		where += " (" + kind + ")"
		names := make([]string, 0, len(m))
		for f := range m {
			names = append(names, f)
		}
		sort.Strings(names)
		for _, f := range names {
			if _, ok := fields[f]; !ok && f != "kind" {
				return fmt.Errorf("architecture description: %s: %s does not take %q (it takes %s)", where, kind, f, takes(fields))
			}
		}
		for _, f := range fieldNames(fields) {
			raw, ok := m[f]
			if !ok {
				if fields[f] {
					return fmt.Errorf("architecture description: %s: no %q (%s takes %s)", where, f, kind, takes(fields))
				}
				continue
			}
			switch f {
			case "key", "name", "from":
				var s string
				if json.Unmarshal(raw, &s) != nil || s == "" {
					return fmt.Errorf("architecture description: %s: %s must be a name, not %s", where, f, raw)
				}
			case "stride", "kernel", "pad":
				var n int
				low := 1
				if f == "pad" {
					low = 0
				}
				if json.Unmarshal(raw, &n) != nil || n < low {
					return fmt.Errorf("architecture description: %s: %s must be a whole number of at least %d, not %s", where, f, low, raw)
				}
			case "modules":
				var sub []map[string]json.RawMessage
				if err := json.Unmarshal(raw, &sub); err != nil {
					return fmt.Errorf("architecture description: %s: modules must be a list of modules", where)
				}
				if err := checkModules(sub, fmt.Sprintf("%s%d.modules[", prefix, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func fieldNames(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// takes lists a kind's fields for a message.
func takes(fields map[string]bool) string {
	if len(fields) == 0 {
		return "no fields"
	}
	var out []string
	for _, f := range fieldNames(fields) {
		if !fields[f] {
			f += " (optional)"
		}
		out = append(out, f)
	}
	return strings.Join(out, ", ")
}
