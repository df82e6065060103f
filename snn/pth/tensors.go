package pth

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Typed is a tensor with its element type kept: images saved as uint8 must
// stay distinguishable from normalised floats, and int64 labels exact.
type Typed struct {
	Shape  []int
	DType  string    // torch's name: uint8, bool, int8, int16, int32, int64, float16, bfloat16, float32, float64
	Bytes  []uint8   // the elements of a uint8 or bool tensor
	Ints   []int64   // of an int8, int16, int32 or int64 tensor
	Floats []float32 // of a floating-point tensor, as torch's .float()
}

// Len is the number of elements.
func (t *Typed) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// LoadTensors reads the tensors at the top level of a torch.save'd dict (such
// as {'images': ..., 'labels': ...}), in file order, keeping their types.
// Values that are not tensors are skipped.
func LoadTensors(b []byte) (keys []string, tensors map[string]*Typed, err error) {
	obj, err := decode(b)
	if err != nil {
		return nil, nil, err
	}
	items, ok := dictItems(obj)
	if !ok {
		return nil, nil, errors.New("the file's top level is not a dict")
	}
	refs := make(map[string]*tensorRef)
	for _, it := range items {
		name, ok := it.Key.(string)
		t, isTensor := it.Value.(*tensorRef)
		if !ok || !isTensor {
			continue
		}
		if refs[name] == nil {
			keys = append(keys, name)
		}
		refs[name] = t
	}
	if len(keys) == 0 {
		return nil, nil, errors.New("no tensors in the dict")
	}
	// As in stateDict: views may repeat their storage, within a few times its size.
	budget := 1 << 20
	counted := make(map[*storage]bool)
	tensors = make(map[string]*Typed, len(keys))
	for _, name := range keys {
		t := refs[name]
		if !counted[t.st] {
			counted[t.st] = true
			budget += 4 * t.st.numel
		}
		tt, err := t.typed(&budget)
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %s: %s", clip(name), clip(err.Error()))
		}
		tensors[name] = tt
	}
	return keys, tensors, nil
}

func (t *tensorRef) typed(budget *int) (*Typed, error) {
	n, data, err := t.view(budget)
	if err != nil {
		return nil, err
	}
	dt := t.st.dt
	out := &Typed{Shape: append([]int{}, t.shape...), DType: dt.name}
	switch dt.name {
	case "uint8", "bool":
		out.Bytes = make([]uint8, n)
		t.walk(n, data, func(i int, e []byte) { out.Bytes[i] = e[0] })
	case "int8":
		out.Ints = make([]int64, n)
		t.walk(n, data, func(i int, e []byte) { out.Ints[i] = int64(int8(e[0])) })
	case "int16":
		out.Ints = make([]int64, n)
		t.walk(n, data, func(i int, e []byte) { out.Ints[i] = int64(int16(binary.LittleEndian.Uint16(e))) })
	case "int32":
		out.Ints = make([]int64, n)
		t.walk(n, data, func(i int, e []byte) { out.Ints[i] = int64(int32(binary.LittleEndian.Uint32(e))) })
	case "int64":
		out.Ints = make([]int64, n)
		t.walk(n, data, func(i int, e []byte) { out.Ints[i] = int64(binary.LittleEndian.Uint64(e)) })
	default:
		out.Floats = make([]float32, n)
		t.walk(n, data, func(i int, e []byte) { out.Floats[i] = dt.decode(e) })
	}
	if dt.name == "bool" {
		for i, v := range out.Bytes {
			out.Bytes[i] = min(v, 1) // torch reads any nonzero byte as True
		}
	}
	return out, nil
}
