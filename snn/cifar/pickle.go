package cifar

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// formatError is an error of ours about the file's content, as opposed to
// one from gopickle, which gets a prefix.
type formatError string

func (e formatError) Error() string { return string(e) }

func errorf(format string, args ...any) error {
	return formatError(fmt.Sprintf(format, args...))
}

// decodePickle reads the python release format: a dict holding the pixels
// as a numpy uint8 array under "data" and the labels as a list of ints under
// "labels" (CIFAR-10) or "fine_labels" (CIFAR-100).
func decodePickle(b []byte, classes int) (bt *Batch, err error) {
	if err := scan(b); err != nil {
		return nil, err
	}
	// scan keeps away the gopickle panics we know of; this turns any other into an error.
	defer func() {
		if r := recover(); r != nil {
			bt, err = nil, fmt.Errorf("malformed pickle: %s", clip(fmt.Sprint(r)))
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(b))
	u.FindClass = findClass
	v, err := u.Load()
	if err != nil {
		if fe := formatError(""); errors.As(err, &fe) {
			return nil, fe
		}
		return nil, fmt.Errorf("malformed pickle: %s", clip(err.Error()))
	}
	return batchFrom(v, classes)
}

func batchFrom(v any, classes int) (*Batch, error) {
	d, ok := v.(*types.Dict)
	if !ok {
		return nil, errorf("pickle holds %s, want a dict", typeName(v))
	}
	var data, labels any
	var haveData, haveLabels bool
	for _, e := range *d {
		switch keyName(e.Key) {
		case "data":
			data, haveData = e.Value, true
		case "labels":
			if !haveLabels {
				labels, haveLabels = e.Value, true
			}
		case "fine_labels": // CIFAR-100: wins over any "labels"
			labels, haveLabels = e.Value, true
		}
	}
	if !haveData {
		return nil, errorf("pickle has no data")
	}
	if !haveLabels {
		return nil, errorf("pickle has no labels or fine_labels")
	}
	arr, ok := data.(*ndarray)
	if !ok {
		return nil, errorf("data is %s, want a numpy array", typeName(data))
	}
	n, err := arr.images()
	if err != nil {
		return nil, err
	}
	list, ok := labels.(*types.List)
	if !ok {
		return nil, errorf("labels are %s, want a list", typeName(labels))
	}
	if len(*list) != n {
		return nil, errorf("pickle has %d labels, want %d, one per image", len(*list), n)
	}

	bt := newBatch(n)
	for i, l := range *list {
		x, ok := l.(int)
		if !ok {
			return nil, errorf("record %d has label %s, want an int", i, typeName(l))
		}
		bt.Labels[i] = x
	}
	if err := checkLabels(bt.Labels, classes); err != nil {
		return nil, err
	}
	copy(bt.Pixels, arr.raw)
	return bt, nil
}

// keyName returns a dict key written as str or bytes, or "" for others.
func keyName(k any) string {
	switch k := k.(type) {
	case string:
		return k
	case []byte:
		if len(k) <= 16 {
			return string(k)
		}
	}
	return ""
}

// findClass resolves the only classes a CIFAR batch refers to, to inert Go
// values: a pickle never runs code.
func findClass(module, name string) (any, error) {
	switch module + "." + name {
	case "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct": // numpy 1, numpy 2
		return reconstruct{}, nil
	case "numpy.ndarray":
		return ndarrayClass{}, nil
	case "numpy.dtype":
		return dtypeClass{}, nil
	case "_codecs.encode": // how Python 3 writes bytes at protocol 2
		return encode{}, nil
	}
	return nil, errorf("pickle refers to %q, which is not allowed", clip(module+"."+name))
}

// reconstruct is numpy's _reconstruct(numpy.ndarray, (0,), b'b'): it makes
// an empty array, which BUILD then fills in.
type reconstruct struct{}

func (reconstruct) Call(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, errorf("numpy _reconstruct takes 3 arguments, got %d", len(args))
	}
	if _, ok := args[0].(ndarrayClass); !ok {
		return nil, errorf("numpy _reconstruct of %s, want numpy.ndarray", typeName(args[0]))
	}
	return &ndarray{}, nil
}

// ndarrayClass is numpy.ndarray, only ever an argument to _reconstruct.
type ndarrayClass struct{}

type ndarray struct {
	set     bool
	shape   []int
	dtype   *dtype
	fortran bool
	raw     string
}

// PySetState takes numpy's array state: ([version,] shape, dtype, is_fortran, raw data).
func (a *ndarray) PySetState(state any) error {
	if a.set {
		return errorf("numpy array state is set twice")
	}
	t, ok := state.(*types.Tuple)
	if !ok {
		return errorf("numpy array state is %s, want a tuple", typeName(state))
	}
	s := []any(*t)
	if len(s) == 5 {
		s = s[1:]
	}
	if len(s) != 4 {
		return errorf("numpy array state has %d items, want 4 or 5", len(*t))
	}
	shape, ok := s[0].(*types.Tuple)
	if !ok {
		return errorf("numpy array shape is %s, want a tuple", typeName(s[0]))
	}
	for _, d := range *shape {
		x, ok := d.(int)
		if !ok || x < 0 {
			return errorf("numpy array shape has dimension %s", clip(fmt.Sprint(d)))
		}
		a.shape = append(a.shape, x)
	}
	if a.dtype, ok = s[1].(*dtype); !ok {
		return errorf("numpy array dtype is %s, want a numpy dtype", typeName(s[1]))
	}
	switch f := s[2].(type) {
	case bool:
		a.fortran = f
	case int:
		a.fortran = f != 0
	default:
		return errorf("numpy array fortran flag is %s, want a bool", typeName(s[2]))
	}
	switch raw := s[3].(type) {
	case string:
		a.raw = raw
	case []byte:
		a.raw = string(raw)
	default:
		return errorf("numpy array data is %s, want bytes", typeName(s[3]))
	}
	a.set = true
	return nil
}

// images checks that a holds uint8 images of 3x32x32 in C order, and
// returns how many.
func (a *ndarray) images() (int, error) {
	if !a.set {
		return 0, errorf("numpy array has no state")
	}
	if a.dtype.code != "u1" || a.dtype.structured {
		return 0, errorf("pixel dtype is %q, want u1 (uint8)", clip(a.dtype.code))
	}
	if a.fortran {
		return 0, errorf("pixel array is in Fortran order, want C order")
	}
	s := a.shape
	ok := len(s) == 2 && s[1] == imageSize ||
		len(s) == 4 && s[1] == 3 && s[2] == side && s[3] == side
	if !ok {
		return 0, errorf("pixel array has shape %s, want (N, 3072) or (N, 3, 32, 32)", clip(fmt.Sprint(s)))
	}
	n := s[0]
	if n == 0 {
		return 0, errorf("pixel array has no images")
	}
	// n is compared before it is multiplied, so that a huge n cannot overflow.
	if n > len(a.raw)/imageSize || n*imageSize != len(a.raw) {
		return 0, errorf("pixel buffer has %d bytes, the shape needs %d*%d", len(a.raw), n, imageSize)
	}
	return n, nil
}

// dtypeClass is numpy.dtype; dtype('u1', 0, 1) makes the dtype of uint8.
type dtypeClass struct{}

func (dtypeClass) Call(args ...any) (any, error) {
	if len(args) == 0 {
		return nil, errorf("numpy dtype takes a type code")
	}
	code, ok := args[0].(string)
	if !ok {
		return nil, errorf("numpy dtype type code is %s, want a str", typeName(args[0]))
	}
	return &dtype{code: code}, nil
}

type dtype struct {
	code       string
	structured bool
}

// PySetState takes numpy's dtype state: (version, byte order, subarray,
// names, fields, ...). Byte order means nothing for one byte, but a
// subarray or fields would make it other than plain uint8.
func (d *dtype) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || len(*t) < 5 {
		return errorf("numpy dtype state is %s, want a tuple of 5 or more items", typeName(state))
	}
	d.structured = t.Get(2) != nil || t.Get(3) != nil || t.Get(4) != nil
	return nil
}

// encode is _codecs.encode(text, 'latin1'), by which Python 3 pickles bytes
// at protocol 2: each byte as the code point of the same value.
type encode struct{}

func (encode) Call(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, errorf("_codecs.encode takes 2 arguments, got %d", len(args))
	}
	text, ok1 := args[0].(string)
	enc, ok2 := args[1].(string)
	if !ok1 || !ok2 || enc != "latin1" {
		return nil, errorf("_codecs.encode is allowed only as encode(str, 'latin1')")
	}
	// Code points up to 0xff are one byte of UTF-8 (ASCII) or two (0xc2 or
	// 0xc3, then a continuation byte); anything else is not latin-1, or not
	// UTF-8. Byte by byte, not rune by rune: a batch is 30 MB of this, and
	// the rune decoder is a call per byte in WebAssembly.
	out := make([]byte, len(text)) // never longer than the UTF-8 text in the file
	n := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= 0x80 {
			if (c != 0xc2 && c != 0xc3) || i+1 == len(text) || text[i+1]&0xc0 != 0x80 {
				return nil, errorf("_codecs.encode text is not latin-1")
			}
			i++
			c = (c&0x03)<<6 | text[i]&0x3f
		}
		out[n] = c
		n++
	}
	return out[:n], nil
}

// typeName names a value's Python type, for errors.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "a bool"
	case int:
		return "an int"
	case float64:
		return "a float"
	case string:
		return "a str"
	case []byte:
		return "bytes"
	case *types.Dict:
		return "a dict"
	case *types.List:
		return "a list"
	case *types.Tuple:
		return "a tuple"
	case *ndarray:
		return "a numpy array"
	case *dtype:
		return "a numpy dtype"
	case reconstruct, ndarrayClass, dtypeClass, encode:
		return "a class"
	}
	return fmt.Sprintf("a %T", v)
}

// clip keeps text from the file short and on one line in an error.
func clip(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\n", " "), "?")
}
