// Package npy reads numpy arrays saved with np.save (.npy) and np.savez or
// np.savez_compressed (.npz) from memory, so that it also runs in
// WebAssembly. Only little-endian, C-order arrays of numbers are read; every
// shape is checked against the bytes present before anything is allocated.
package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spikegrad/spikegrad/snn/internal/zipread"
)

// Array is a numpy array as stored: its elements, little-endian, in C order.
type Array struct {
	Shape []int
	DType string // numpy's name: uint8, int64, float32, ...
	Data  []byte
}

// Magic starts every .npy file.
const Magic = "\x93NUMPY"

// dtypes are the numpy type codes read, without their byte-order character.
var dtypes = map[string]struct {
	name string
	size int
}{
	"u1": {"uint8", 1}, "i1": {"int8", 1}, "b1": {"bool", 1},
	"u2": {"uint16", 2}, "i2": {"int16", 2},
	"u4": {"uint32", 4}, "i4": {"int32", 4},
	"u8": {"uint64", 8}, "i8": {"int64", 8},
	"f4": {"float32", 4}, "f8": {"float64", 8},
}

// Decode reads a .npy file. The array's data is b's own bytes, not a copy.
func Decode(b []byte) (*Array, error) {
	if !bytes.HasPrefix(b, []byte(Magic)) {
		return nil, errors.New("not a .npy file")
	}
	if len(b) < 10 {
		return nil, errors.New("truncated .npy header")
	}
	major := b[6]
	var hlen, off int
	switch major {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, errors.New("truncated .npy header")
		}
		hlen, off = int(binary.LittleEndian.Uint32(b[8:])), 12
	default:
		return nil, fmt.Errorf(".npy format version %d is not supported", major)
	}
	if hlen > len(b)-off {
		return nil, fmt.Errorf("truncated .npy header: %d bytes announced, %d present", hlen, len(b)-off)
	}
	h, err := parseHeader(string(b[off : off+hlen]))
	if err != nil {
		return nil, fmt.Errorf("bad .npy header: %v", err)
	}
	if h.fortran {
		return nil, errors.New("Fortran-order arrays are not supported (save np.ascontiguousarray(a))")
	}
	descr := h.descr
	order, code := descr[:min(1, len(descr))], descr[min(1, len(descr)):]
	dt, ok := dtypes[code]
	switch {
	case code == "O":
		return nil, errors.New("object arrays (pickled Python objects) are not supported")
	case !ok || !strings.Contains("<|=>", order) || order == "":
		return nil, fmt.Errorf("dtype %q is not supported (want uint8, an integer type, float32 or float64)", zipread.Clip(descr))
	case order == ">" && dt.size > 1:
		return nil, fmt.Errorf("big-endian arrays (%s) are not supported: save a.astype(a.dtype.newbyteorder('<'))", descr)
	}
	numel := 1
	for _, d := range h.shape {
		if d < 0 {
			return nil, fmt.Errorf("bad shape %v", h.shape)
		}
		if d > 0 && numel > math.MaxInt/dt.size/d {
			return nil, fmt.Errorf("shape %v is too large", h.shape)
		}
		numel *= d
	}
	data := b[off+hlen:]
	if need := numel * dt.size; need != len(data) {
		if need > len(data) {
			return nil, fmt.Errorf("truncated: a %s array of shape %v needs %d bytes, the file has %d", dt.name, h.shape, need, len(data))
		}
		return nil, fmt.Errorf("%d bytes after the %s array of shape %v", len(data)-need, dt.name, h.shape)
	}
	return &Array{Shape: h.shape, DType: dt.name, Data: data[:len(data):len(data)]}, nil
}

// Len is the number of elements.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Ints returns the elements of an integer (or bool) array.
func (a *Array) Ints() ([]int, error) {
	n := a.Len()
	out := make([]int, n)
	d := a.Data
	for i := range out {
		switch a.DType {
		case "uint8", "bool":
			out[i] = int(d[i])
		case "int8":
			out[i] = int(int8(d[i]))
		case "uint16":
			out[i] = int(binary.LittleEndian.Uint16(d[2*i:]))
		case "int16":
			out[i] = int(int16(binary.LittleEndian.Uint16(d[2*i:])))
		case "uint32":
			out[i] = int(binary.LittleEndian.Uint32(d[4*i:]))
		case "int32":
			out[i] = int(int32(binary.LittleEndian.Uint32(d[4*i:])))
		case "int64", "uint64":
			v := binary.LittleEndian.Uint64(d[8*i:])
			if a.DType == "uint64" && v > math.MaxInt64 || int64(v) < math.MinInt32 || int64(v) > math.MaxInt32 {
				return nil, fmt.Errorf("value %d at %d is out of range", int64(v), i)
			}
			out[i] = int(int64(v))
		default:
			return nil, fmt.Errorf("a %s array, want integers", a.DType)
		}
	}
	return out, nil
}

// Float32s returns the elements of a float32 or float64 array as float32.
func (a *Array) Float32s() ([]float32, error) {
	n := a.Len()
	out := make([]float32, n)
	switch a.DType {
	case "float32":
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(a.Data[4*i:]))
		}
	case "float64":
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(a.Data[8*i:])))
		}
	default:
		return nil, fmt.Errorf("a %s array, want float32 or float64", a.DType)
	}
	return out, nil
}

type header struct {
	descr   string
	fortran bool
	shape   []int
}

// parseHeader reads the Python dict literal numpy writes:
// {'descr': '<f4', 'fortran_order': False, 'shape': (10, 3, 32, 32), }
func parseHeader(s string) (*header, error) {
	p := &lit{s: strings.TrimRight(s, " \n\x00")}
	h := &header{}
	var have [3]bool
	if !p.eat('{') {
		return nil, errors.New("not a dict")
	}
	for !p.eat('}') {
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if !p.eat(':') {
			return nil, errors.New("no ':' after a key")
		}
		switch key {
		case "descr":
			if h.descr, err = p.str(); err != nil {
				return nil, fmt.Errorf("descr: %v (structured dtypes are not supported)", err)
			}
			have[0] = true
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
			default:
				return nil, errors.New("fortran_order is not True or False")
			}
			have[1] = true
		case "shape":
			if h.shape, err = p.tuple(); err != nil {
				return nil, err
			}
			have[2] = true
		default:
			return nil, fmt.Errorf("unknown key %q", zipread.Clip(key))
		}
		if !p.eat(',') && !p.peek('}') {
			return nil, errors.New("no ',' between items")
		}
	}
	if p.i != len(p.s) {
		return nil, errors.New("text after the dict")
	}
	if !have[0] || !have[1] || !have[2] {
		return nil, errors.New("descr, fortran_order or shape missing")
	}
	if len(h.shape) > 32 {
		return nil, errors.New("more than 32 dimensions")
	}
	return h, nil
}

// lit walks a Python literal.
type lit struct {
	s string
	i int
}

func (p *lit) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *lit) peek(c byte) bool {
	p.space()
	return p.i < len(p.s) && p.s[p.i] == c
}

func (p *lit) eat(c byte) bool {
	if p.peek(c) {
		p.i++
		return true
	}
	return false
}

func (p *lit) word(w string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *lit) str() (string, error) {
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != '\'' && p.s[p.i] != '"' {
		return "", errors.New("want a string")
	}
	q := p.s[p.i]
	j := strings.IndexByte(p.s[p.i+1:], q)
	if j < 0 {
		return "", errors.New("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+j]
	p.i += j + 2
	return v, nil
}

// tuple reads a tuple of ints, as (), (5,), (10, 3, 32, 32) or, from
// Python 2, (10L, 3L).
func (p *lit) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, errors.New("shape is not a tuple")
	}
	shape := []int{}
	for !p.eat(')') {
		p.space()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		v, err := strconv.Atoi(p.s[p.i:j])
		if err != nil || j-p.i > 15 {
			return nil, errors.New("shape holds something other than a size")
		}
		shape = append(shape, v)
		p.i = j
		if p.i < len(p.s) && p.s[p.i] == 'L' {
			p.i++
		}
		if !p.eat(',') && !p.peek(')') {
			return nil, errors.New("no ',' between sizes")
		}
		if len(shape) > 32 {
			return nil, errors.New("more than 32 dimensions")
		}
	}
	return shape, nil
}
