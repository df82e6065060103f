package snn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/spikegrad/spikegrad/snn/pth"
)

// Shape is one activation: C channels of H x W. In memory an activation over
// T steps is [C][T][H*W]: the steps of a channel are adjacent, so a
// convolution runs over all steps as one matrix product.
type Shape struct{ C, H, W int }

// Size is the number of values of one step.
func (s Shape) Size() int { return s.C * s.H * s.W }

// Layer is one step of the network as the engine runs it. BatchNorm is folded
// into the convolution before it and Dropout is gone (eval mode).
type Layer struct {
	Kind    string // conv, linear, if, avgpool, maxpool, flatten, save, add
	Name    string // state_dict prefix (IF layers are reported by it)
	In, Out Shape
	K       int       // conv kernel, pooling window
	Stride  int       // conv, pooling
	Pad     int       // conv, maxpool
	Thresh  []float32 // if: one value, or one per channel
	Tap     int       // add: the index of its save layer
	Sub     []Layer   // add: the shortcut's layers, run on the saved activation
	after   string    // " (after NAME)" for a layer without a name of its own (Label)
	// w holds a conv's or linear's parameters and their working copies in
	// each precision (weights.go); copies of the Layer share it.
	w *weights
}

// Label names the layer for progress: its state_dict prefix, or for a
// layer without parameters (pool, flatten, save, add) its kind after the
// layer before it, e.g. "avgpool (after layer1.6)".
func (l *Layer) Label() string {
	if l.Name != "" {
		return l.Name
	}
	return l.Kind + l.after
}

// Net is a network ready to run.
type Net struct {
	Arch   *Arch
	Layers []Layer
}

// IFLayers returns the indices of the IF layers in network order.
func (n *Net) IFLayers() []int {
	var ix []int
	for i, l := range n.Layers {
		if l.Kind == "if" {
			ix = append(ix, i)
		}
	}
	return ix
}

// Build makes a Net from an architecture description and its parameters,
// checking every shape against the description as it goes. Every network,
// recognised or described by hand, is built here.
func Build(a *Arch, p Params) (*Net, error) {
	for _, v := range a.Input {
		if v < 1 || v > 4096 {
			return nil, fmt.Errorf("input size %v: each of C, H, W must be between 1 and 4096", a.Input)
		}
	}
	b := &builder{p: p, saves: map[string]int{}}
	layers, out, err := b.modules(a.Modules, Shape{a.Input[0], a.Input[1], a.Input[2]}, false, nil)
	if err != nil {
		return nil, err
	}
	n := &Net{Arch: a, Layers: layers}
	if len(n.IFLayers()) == 0 {
		return nil, fmt.Errorf("the network has no IF layer")
	}
	if last := n.Layers[len(n.Layers)-1]; last.Kind != "linear" {
		return nil, fmt.Errorf("the network ends in %s, not in a Linear layer", last.Kind)
	}
	if a.Classes == 0 {
		a.Classes = out.C
	} else if a.Classes != out.C {
		return nil, fmt.Errorf("the description says %d classes, the last Linear layer has %d outputs", a.Classes, out.C)
	}
	return n, nil
}

// builder turns modules into layers; saves maps a save's name to its layer
// index, for the adds that refer to it.
type builder struct {
	p     Params
	saves map[string]int
}

// modules builds a list of modules from the input shape cur. top is nil for
// the network's own list; an add's shortcut modules are built with top set
// to the layers so far (they may not save, add or hold an IF). Each kind
// with weights or checks of its own is built by a function of its own.
func (b *builder) modules(mods []Module, cur Shape, flat bool, top []Layer) ([]Layer, Shape, error) {
	var ls []Layer
	prev := func() string {
		for _, all := range [][]Layer{ls, top} {
			for i := len(all) - 1; i >= 0; i-- {
				if all[i].Name != "" {
					return all[i].Name
				}
			}
		}
		return "the input"
	}
	for i := 0; i < len(mods); i++ {
		m := mods[i]
		l := Layer{Kind: m.Kind, Name: m.Key, In: cur}
		if l.Name == "" {
			l.after = " (after " + prev() + ")"
		}
		var err error
		switch m.Kind {
		case "conv":
			bn := ""
			if i+1 < len(mods) && mods[i+1].Kind == "bn" {
				i++
				bn = mods[i].Key
			}
			err = b.conv(&l, m, bn, flat)
		case "bn":
			err = fmt.Errorf("%s: BatchNorm must follow a convolution", m.Key)
		case "linear":
			err = b.linear(&l, m, flat)
		case "if":
			err = b.neuron(&l, m, top != nil)
		case "avgpool", "maxpool":
			err = pool(&l, m, flat, prev)
		case "adaptiveavgpool":
			// AdaptiveAvgPool2d((1, 1)): the mean of each channel's plane.
			if flat || cur.H != cur.W {
				return nil, cur, fmt.Errorf("adaptiveavgpool after %s: the input is %dx%d, want a square plane", prev(), cur.H, cur.W)
			}
			l.Kind, l.K, l.Stride = "avgpool", cur.H, cur.H
			l.Out = Shape{cur.C, 1, 1}
		case "flatten":
			flat = true
			l.Out = Shape{cur.Size(), 1, 1}
		case "save":
			if top != nil {
				return nil, cur, fmt.Errorf("save %q inside a shortcut", m.Name)
			}
			if m.Name == "" {
				return nil, cur, fmt.Errorf("a save after %s has no name", prev())
			}
			if _, dup := b.saves[m.Name]; dup {
				return nil, cur, fmt.Errorf("save %q appears twice", m.Name)
			}
			b.saves[m.Name] = len(ls)
			l.Out = cur
		case "add":
			if top != nil {
				return nil, cur, fmt.Errorf("add inside a shortcut")
			}
			tap, ok := b.saves[m.From]
			if !ok {
				return nil, cur, fmt.Errorf("add after %s: no earlier save named %q", prev(), m.From)
			}
			sub, sc, err := b.modules(m.Modules, ls[tap].Out, flat, ls)
			if err != nil {
				return nil, cur, err
			}
			if sc != cur {
				return nil, cur, fmt.Errorf("add after %s: the shortcut from %q gives %dx%dx%d, the main path %dx%dx%d",
					prev(), m.From, sc.C, sc.H, sc.W, cur.C, cur.H, cur.W)
			}
			l.Tap, l.Sub, l.Out = tap, sub, cur
		default:
			err = fmt.Errorf("unknown module kind %q", m.Kind)
		}
		if err != nil {
			return nil, cur, err
		}
		ls = append(ls, l)
		cur = l.Out
	}
	return ls, cur, nil
}

// param is the checkpoint's tensor key, of the given shape when one is given.
func (b *builder) param(key string, shape ...int) (*pth.Tensor, error) {
	t := b.p[key]
	if t == nil {
		return nil, fmt.Errorf("missing %s", key)
	}
	if shape != nil && !sameShape(t.Shape, shape) {
		return nil, fmt.Errorf("%s has shape %v, want %v", key, t.Shape, shape)
	}
	return t, nil
}

// bias is key's bias, when the checkpoint has one (nil else).
func (b *builder) bias(key string, n int) ([]float32, error) {
	t := b.p[key+".bias"]
	if t == nil {
		return nil, nil
	}
	if !sameShape(t.Shape, []int{n}) {
		return nil, fmt.Errorf("%s.bias has shape %v, want [%d]", key, t.Shape, n)
	}
	return t.Data, nil
}

// conv builds convolution l from module m on input l.In, with the BatchNorm
// named bn (when not "") folded into it.
func (b *builder) conv(l *Layer, m Module, bn string, flat bool) error {
	cur := l.In
	if flat {
		return fmt.Errorf("%s: convolution after flatten", m.Key)
	}
	w, err := b.param(m.Key + ".weight")
	if err != nil {
		return err
	}
	if len(w.Shape) != 4 || w.Shape[1] != cur.C || w.Shape[2] != w.Shape[3] {
		return fmt.Errorf("%s.weight has shape %v, want [* %d k k] (input has %d channels)", m.Key, w.Shape, cur.C, cur.C)
	}
	cout, k := w.Shape[0], w.Shape[2]
	stride := max(m.Stride, 1)
	if m.Pad < 0 || m.Pad >= k {
		return fmt.Errorf("%s: padding %d for a %dx%d kernel", m.Key, m.Pad, k, k)
	}
	l.K, l.Stride, l.Pad = k, stride, m.Pad
	if cur.H+2*m.Pad < k || cur.W+2*m.Pad < k {
		return fmt.Errorf("%s: a %dx%d input is too small for a %dx%d kernel", m.Key, cur.H, cur.W, k, k)
	}
	l.Out = slide(cout, cur, k, stride, m.Pad)
	bias, err := b.bias(m.Key, cout)
	if err != nil {
		return err
	}
	var norm *[4][]float32
	if bn != "" {
		norm = new([4][]float32)
		for i, name := range []string{"weight", "bias", "running_mean", "running_var"} {
			t, err := b.param(bn+"."+name, cout)
			if err != nil {
				return err
			}
			norm[i] = t.Data
		}
	}
	l.w = newWeights(cout, w.Data, bias, norm)
	return nil
}

// linear builds Linear layer l from module m on the flattened input l.In.
func (b *builder) linear(l *Layer, m Module, flat bool) error {
	w, err := b.param(m.Key + ".weight")
	if err != nil {
		return err
	}
	if !flat {
		return fmt.Errorf("%s: Linear before flatten", m.Key)
	}
	if len(w.Shape) != 2 || w.Shape[1] != l.In.Size() {
		return fmt.Errorf("%s.weight has shape %v, want [* %d]", m.Key, w.Shape, l.In.Size())
	}
	l.Out = Shape{w.Shape[0], 1, 1}
	bias, err := b.bias(m.Key, w.Shape[0])
	if err != nil {
		return err
	}
	l.w = newWeights(w.Shape[0], w.Data, bias, nil)
	return nil
}

// neuron builds IF layer l from module m: one threshold, or one per channel.
func (b *builder) neuron(l *Layer, m Module, inShortcut bool) error {
	if inShortcut {
		return fmt.Errorf("%s: an IF layer inside a shortcut is not supported", m.Key)
	}
	t, err := b.param(m.Key + ".thresh")
	if err != nil {
		return err
	}
	if len(t.Data) != 1 && len(t.Data) != l.In.C {
		return fmt.Errorf("%s.thresh has shape %v, want [1] or [%d]", m.Key, t.Shape, l.In.C)
	}
	for _, v := range t.Data {
		if !(v > 0) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%s.thresh is %g: a threshold must be positive and finite", m.Key, v)
		}
	}
	l.Thresh = append([]float32(nil), t.Data...)
	l.Out = l.In
	return nil
}

// pool builds pooling layer l from module m; prev names the layer before,
// for errors.
func pool(l *Layer, m Module, flat bool, prev func() string) error {
	cur := l.In
	if flat {
		return fmt.Errorf("%s after flatten", m.Kind)
	}
	k := max(m.Kernel, 1)
	stride := m.Stride
	if stride <= 0 {
		stride = k
	}
	pad := m.Pad
	if m.Kind == "avgpool" {
		pad = 0 // not supported: QCFS's AvgPool2d(2) has none
	}
	if pad < 0 || 2*pad > k {
		return fmt.Errorf("%s after %s: padding %d for a %dx%d window", m.Kind, prev(), pad, k, k)
	}
	l.K, l.Stride, l.Pad = k, stride, pad
	if cur.H+2*pad < k || cur.W+2*pad < k {
		return fmt.Errorf("%s after %s: a %dx%d input is smaller than the %dx%d window", m.Kind, prev(), cur.H, cur.W, k, k)
	}
	l.Out = slide(cur.C, cur, k, stride, pad)
	return nil
}

// slide is the shape of c channels of a k x k window's outputs over in,
// rounded down as PyTorch's convolutions and pools round.
func slide(c int, in Shape, k, stride, pad int) Shape {
	return Shape{c, (in.H+2*pad-k)/stride + 1, (in.W+2*pad-k)/stride + 1}
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ParseArch reads an architecture description (the JSON form of Arch; see
// the README). Unknown fields are refused: a misspelt "stride" would
// otherwise be a silent default.
func ParseArch(b []byte) (*Arch, error) {
	if len(b) > 1<<20 {
		return nil, fmt.Errorf("architecture description of %d bytes: more than 1 MiB is not a description", len(b))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var a Arch
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("architecture description: %v", err)
	}
	if len(a.Modules) == 0 {
		return nil, fmt.Errorf("architecture description: no modules")
	}
	return &a, nil
}

// LoadArch builds a network from a checkpoint's tensors and an architecture
// description, for layouts Load does not recognise.
func LoadArch(sd *pth.StateDict, a *Arch) (*Net, error) {
	return Build(a, NewParams(sd))
}

// Load recognises and builds a network from a checkpoint's tensors.
func Load(sd *pth.StateDict) (*Net, error) {
	p := NewParams(sd)
	var a *Arch
	var err error
	switch {
	case p["layer1.0.weight"] != nil || p["classifier.1.weight"] != nil:
		a, err = RecogniseVGG(p)
	case p["conv1.0.weight"] != nil && p["fc.weight"] != nil:
		a, err = RecogniseResNet(p)
	default:
		first := "(none)"
		if len(sd.Keys) > 0 {
			first = sd.Keys[0]
		}
		return nil, fmt.Errorf("unrecognised architecture: first key %q is not in a known layout (QCFS VGG: layer1.0.weight ..., QCFS ResNet: conv1.0.weight ... fc.weight)", strings.TrimSpace(first))
	}
	if err != nil {
		return nil, err
	}
	return Build(a, p)
}
