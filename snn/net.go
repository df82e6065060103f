package snn

import (
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
	Kind    string // conv, linear, if, avgpool, flatten
	Name    string // state_dict prefix (IF layers are reported by it)
	In, Out Shape
	K       int       // conv kernel, avgpool window
	Stride  int       // conv, avgpool
	Pad     int       // conv
	W, B    []float32 // conv [Cout][Cin*K*K], linear [Out][In]
	WT      []float32 // W transposed, [Cin*K*K][Cout] or [In][Out], for sparse inputs
	Thresh  []float32 // if: one value, or one per channel
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
// checking every shape against the description as it goes.
func Build(a *Arch, p Params) (*Net, error) {
	n := &Net{Arch: a}
	cur := Shape{a.Input[0], a.Input[1], a.Input[2]}
	flat := false
	param := func(key string, shape ...int) (*pth.Tensor, error) {
		t := p[key]
		if t == nil {
			return nil, fmt.Errorf("missing %s", key)
		}
		if shape != nil && !sameShape(t.Shape, shape) {
			return nil, fmt.Errorf("%s has shape %v, want %v", key, t.Shape, shape)
		}
		return t, nil
	}
	for i := 0; i < len(a.Modules); i++ {
		m := a.Modules[i]
		l := Layer{Kind: m.Kind, Name: m.Key, In: cur}
		switch m.Kind {
		case "conv":
			if flat {
				return nil, fmt.Errorf("%s: convolution after flatten", m.Key)
			}
			w, err := param(m.Key + ".weight")
			if err != nil {
				return nil, err
			}
			if len(w.Shape) != 4 || w.Shape[1] != cur.C || w.Shape[2] != w.Shape[3] {
				return nil, fmt.Errorf("%s.weight has shape %v, want [* %d k k] (input has %d channels)", m.Key, w.Shape, cur.C, cur.C)
			}
			cout, k := w.Shape[0], w.Shape[2]
			stride := max(m.Stride, 1)
			l.K, l.Stride, l.Pad = k, stride, m.Pad
			l.Out = Shape{cout, (cur.H+2*m.Pad-k)/stride + 1, (cur.W+2*m.Pad-k)/stride + 1}
			if l.Out.H <= 0 || l.Out.W <= 0 {
				return nil, fmt.Errorf("%s: a %dx%d input is too small for a %dx%d kernel", m.Key, cur.H, cur.W, k, k)
			}
			l.W = append([]float32(nil), w.Data...)
			l.B = make([]float32, cout)
			if b := p[m.Key+".bias"]; b != nil {
				if !sameShape(b.Shape, []int{cout}) {
					return nil, fmt.Errorf("%s.bias has shape %v, want [%d]", m.Key, b.Shape, cout)
				}
				copy(l.B, b.Data)
			}
			if i+1 < len(a.Modules) && a.Modules[i+1].Kind == "bn" {
				i++
				if err := foldBN(&l, a.Modules[i].Key, param); err != nil {
					return nil, err
				}
			}
		case "bn":
			return nil, fmt.Errorf("%s: BatchNorm must follow a convolution", m.Key)
		case "linear":
			w, err := param(m.Key + ".weight")
			if err != nil {
				return nil, err
			}
			if !flat {
				return nil, fmt.Errorf("%s: Linear before flatten", m.Key)
			}
			if len(w.Shape) != 2 || w.Shape[1] != cur.Size() {
				return nil, fmt.Errorf("%s.weight has shape %v, want [* %d]", m.Key, w.Shape, cur.Size())
			}
			l.Out = Shape{w.Shape[0], 1, 1}
			l.W = w.Data
			l.B = make([]float32, w.Shape[0])
			if b := p[m.Key+".bias"]; b != nil {
				if !sameShape(b.Shape, []int{w.Shape[0]}) {
					return nil, fmt.Errorf("%s.bias has shape %v, want [%d]", m.Key, b.Shape, w.Shape[0])
				}
				copy(l.B, b.Data)
			}
		case "if":
			t, err := param(m.Key + ".thresh")
			if err != nil {
				return nil, err
			}
			if len(t.Data) != 1 && len(t.Data) != cur.C {
				return nil, fmt.Errorf("%s.thresh has shape %v, want [1] or [%d]", m.Key, t.Shape, cur.C)
			}
			for _, v := range t.Data {
				if !(v > 0) || math.IsInf(float64(v), 0) {
					return nil, fmt.Errorf("%s.thresh is %g: a threshold must be positive and finite", m.Key, v)
				}
			}
			l.Thresh = append([]float32(nil), t.Data...)
			l.Out = cur
		case "avgpool":
			k := max(m.Kernel, 1)
			stride := max(m.Stride, k)
			l.K, l.Stride = k, stride
			l.Out = Shape{cur.C, (cur.H-k)/stride + 1, (cur.W-k)/stride + 1}
			if cur.H < k || cur.W < k {
				return nil, fmt.Errorf("avgpool after %s: a %dx%d input is smaller than the %dx%d window", prevName(n), cur.H, cur.W, k, k)
			}
		case "flatten":
			flat = true
			l.Out = Shape{cur.Size(), 1, 1}
		default:
			return nil, fmt.Errorf("unknown module kind %q", m.Kind)
		}
		if l.Kind == "conv" || l.Kind == "linear" {
			l.WT = make([]float32, len(l.W))
			transpose(l.WT, l.W, l.Out.C, len(l.W)/l.Out.C)
		}
		n.Layers = append(n.Layers, l)
		cur = l.Out
	}
	if len(n.IFLayers()) == 0 {
		return nil, fmt.Errorf("the network has no IF layer")
	}
	if last := n.Layers[len(n.Layers)-1]; last.Kind != "linear" {
		return nil, fmt.Errorf("the network ends in %s, not in a Linear layer", last.Kind)
	}
	return n, nil
}

// foldBN folds eval-mode BatchNorm into the convolution: y = (conv+b-mean)*g/sqrt(var+eps)+beta.
func foldBN(l *Layer, key string, param func(string, ...int) (*pth.Tensor, error)) error {
	c := l.Out.C
	var ts [4]*pth.Tensor
	for i, name := range []string{"weight", "bias", "running_mean", "running_var"} {
		t, err := param(key+"."+name, c)
		if err != nil {
			return err
		}
		ts[i] = t
	}
	per := len(l.W) / c
	for o := 0; o < c; o++ {
		s := ts[0].Data[o] / float32(math.Sqrt(float64(ts[3].Data[o])+1e-5))
		for j := range per {
			l.W[o*per+j] *= s
		}
		l.B[o] = (l.B[o]-ts[2].Data[o])*s + ts[1].Data[o]
	}
	return nil
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

func prevName(n *Net) string {
	for i := len(n.Layers) - 1; i >= 0; i-- {
		if n.Layers[i].Name != "" {
			return n.Layers[i].Name
		}
	}
	return "the input"
}

// Load recognises and builds a network from a checkpoint's tensors.
func Load(sd *pth.StateDict) (*Net, error) {
	p := NewParams(sd)
	var a *Arch
	var err error
	switch {
	case p["layer1.0.weight"] != nil || p["classifier.1.weight"] != nil:
		a, err = RecogniseVGG(p)
	default:
		first := "(none)"
		if len(sd.Keys) > 0 {
			first = sd.Keys[0]
		}
		return nil, fmt.Errorf("unrecognised architecture: first key %q is not in a known layout (QCFS VGG: layer1.0.weight ...)", strings.TrimSpace(first))
	}
	if err != nil {
		return nil, err
	}
	return Build(a, p)
}
