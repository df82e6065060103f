package pth

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// unpickle decodes the pickle at the start of b and returns its value and
// length. Only allow-listed classes are resolved; persistentLoad resolves
// storage references (nil: none expected).
func unpickle(b []byte, persistentLoad func(any) (any, error)) (any, int, error) {
	n, err := pickleLen(b)
	if err != nil {
		return nil, 0, err
	}
	// Errors of our callbacks stop gopickle and are already worded for the
	// user; other errors are gopickle's own, about the pickle's structure.
	var own error
	u := pickle.NewUnpickler(bytes.NewReader(b[:n]))
	u.FindClass = func(module, name string) (any, error) {
		v, err := findClass(module, name)
		own = err
		return v, err
	}
	if persistentLoad != nil {
		u.PersistentLoad = func(pid any) (any, error) {
			v, err := persistentLoad(pid)
			own = err
			return v, err
		}
	}
	v, err := u.Load()
	switch {
	case own != nil:
		return nil, 0, own
	case err != nil:
		return nil, 0, fmt.Errorf("bad pickle: %s", clip(err.Error()))
	}
	return v, n, nil
}

// findClass resolves the classes and functions a state dict pickle uses and
// refuses everything else. (gopickle itself resolves collections.OrderedDict
// and two harmless helpers, __builtin__.object and copy_reg._reconstructor,
// before asking.)
func findClass(module, name string) (any, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return rebuildTensor{}, nil
	case "torch._utils._rebuild_parameter":
		return rebuildParameter{}, nil
	}
	if dt := dtypes[name]; module == "torch" && dt != nil {
		return dt, nil
	}
	return nil, fmt.Errorf("refusing to load class %s", clip(module+"."+name))
}

// rebuildTensor is torch._utils._rebuild_tensor_v2(storage, storage_offset,
// size, stride, requires_grad, backward_hooks[, metadata]).
type rebuildTensor struct{}

func (rebuildTensor) Call(args ...any) (any, error) {
	if len(args) < 4 {
		return nil, errors.New("bad _rebuild_tensor_v2 arguments")
	}
	st, ok1 := args[0].(*storage)
	offset, ok2 := args[1].(int)
	shape, ok3 := ints(args[2])
	stride, ok4 := ints(args[3])
	if !ok1 || !ok2 || !ok3 || !ok4 || len(shape) != len(stride) {
		return nil, errors.New("bad _rebuild_tensor_v2 arguments")
	}
	return &tensorRef{st: st, offset: offset, shape: shape, stride: stride}, nil
}

// rebuildParameter is torch._utils._rebuild_parameter(data, requires_grad,
// backward_hooks): to us a Parameter is its tensor.
type rebuildParameter struct{}

func (rebuildParameter) Call(args ...any) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("bad _rebuild_parameter arguments")
	}
	t, ok := args[0].(*tensorRef)
	if !ok {
		return nil, errors.New("bad _rebuild_parameter arguments")
	}
	return t, nil
}

// ints converts a pickled tuple of ints.
func ints(v any) ([]int, bool) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, false
	}
	out := make([]int, t.Len())
	for i := range out {
		if out[i], ok = t.Get(i).(int); !ok {
			return nil, false
		}
	}
	return out, true
}

// pickleOp describes an opcode: the argument after it and its effect on the stack.
type pickleOp struct {
	fixed     int // the argument is this many bytes,
	lenBytes  int // or a little-endian length of this many bytes, then that many bytes,
	lines     int // or this many newline-terminated lines
	mark      int // 1: pushes a mark; -1: first takes the items above the top mark, and the mark
	pop, push int // then pops and pushes this many items
}

// pickleOps are the opcodes gopickle implements, protocols 0 to 5.
var pickleOps = map[byte]pickleOp{
	'(':  {mark: 1},                     // MARK
	'.':  {pop: 1},                      // STOP
	'0':  {pop: 1},                      // POP (gopickle: or the top mark, if nothing is above it)
	'1':  {mark: -1},                    // POP_MARK
	'2':  {pop: 1, push: 2},             // DUP
	'F':  {lines: 1, push: 1},           // FLOAT
	'I':  {lines: 1, push: 1},           // INT
	'J':  {fixed: 4, push: 1},           // BININT
	'K':  {fixed: 1, push: 1},           // BININT1
	'L':  {lines: 1, push: 1},           // LONG
	'M':  {fixed: 2, push: 1},           // BININT2
	'N':  {push: 1},                     // NONE
	'P':  {lines: 1, push: 1},           // PERSID
	'Q':  {pop: 1, push: 1},             // BINPERSID
	'R':  {pop: 2, push: 1},             // REDUCE
	'S':  {lines: 1, push: 1},           // STRING
	'T':  {lenBytes: 4, push: 1},        // BINSTRING
	'U':  {lenBytes: 1, push: 1},        // SHORT_BINSTRING
	'V':  {lines: 1, push: 1},           // UNICODE
	'X':  {lenBytes: 4, push: 1},        // BINUNICODE
	'a':  {pop: 2, push: 1},             // APPEND
	'b':  {pop: 2, push: 1},             // BUILD
	'c':  {lines: 2, push: 1},           // GLOBAL
	'd':  {mark: -1, push: 1},           // DICT
	'}':  {push: 1},                     // EMPTY_DICT
	'e':  {mark: -1, pop: 1, push: 1},   // APPENDS
	'g':  {lines: 1, push: 1},           // GET
	'h':  {fixed: 1, push: 1},           // BINGET
	'i':  {lines: 2, mark: -1, push: 1}, // INST
	'j':  {fixed: 4, push: 1},           // LONG_BINGET
	'l':  {mark: -1, push: 1},           // LIST
	']':  {push: 1},                     // EMPTY_LIST
	'o':  {mark: -1, push: 1},           // OBJ
	'p':  {lines: 1, pop: 1, push: 1},   // PUT
	'q':  {fixed: 1, pop: 1, push: 1},   // BINPUT
	'r':  {fixed: 4, pop: 1, push: 1},   // LONG_BINPUT
	's':  {pop: 3, push: 1},             // SETITEM
	't':  {mark: -1, push: 1},           // TUPLE
	')':  {push: 1},                     // EMPTY_TUPLE
	'u':  {mark: -1, pop: 1, push: 1},   // SETITEMS
	'G':  {fixed: 8, push: 1},           // BINFLOAT
	0x80: {fixed: 1},                    // PROTO
	0x81: {pop: 2, push: 1},             // NEWOBJ
	0x82: {fixed: 1, push: 1},           // EXT1
	0x83: {fixed: 2, push: 1},           // EXT2
	0x84: {fixed: 4, push: 1},           // EXT4
	0x85: {pop: 1, push: 1},             // TUPLE1
	0x86: {pop: 2, push: 1},             // TUPLE2
	0x87: {pop: 3, push: 1},             // TUPLE3
	0x88: {push: 1},                     // NEWTRUE
	0x89: {push: 1},                     // NEWFALSE
	0x8a: {lenBytes: 1, push: 1},        // LONG1
	0x8b: {lenBytes: 4, push: 1},        // LONG4
	'B':  {lenBytes: 4, push: 1},        // BINBYTES
	'C':  {lenBytes: 1, push: 1},        // SHORT_BINBYTES
	0x8c: {lenBytes: 1, push: 1},        // SHORT_BINUNICODE
	0x8d: {lenBytes: 8, push: 1},        // BINUNICODE8
	0x8e: {lenBytes: 8, push: 1},        // BINBYTES8
	0x8f: {push: 1},                     // EMPTY_SET
	0x90: {mark: -1, pop: 1, push: 1},   // ADDITEMS
	0x91: {mark: -1, push: 1},           // FROZENSET
	0x92: {pop: 3, push: 1},             // NEWOBJ_EX
	0x93: {pop: 2, push: 1},             // STACK_GLOBAL
	0x94: {pop: 1, push: 1},             // MEMOIZE
	0x95: {fixed: 8},                    // FRAME
	0x96: {lenBytes: 8, push: 1},        // BYTEARRAY8
	0x97: {push: 1},                     // NEXT_BUFFER
	0x98: {},                            // READONLY_BUFFER (a no-op in gopickle)
}

// maxMarks bounds the nesting of marks: gopickle allocates for each, and no
// checkpoint nests deeper than a few levels.
const maxMarks = 1000

// pickleLen returns the length of the pickle at the start of b, through its
// STOP opcode. It walks the opcodes and tracks the stack's shape as gopickle
// will, so that gopickle then never allocates more than the bytes present (it
// allocates lengths before reading them) nor meets the malformed pickles it
// panics on: unknown opcodes, empty longs, odd dict items.
func pickleLen(b []byte) (int, error) {
	stack := []int{0} // the number of items above each mark, innermost last
	for i := 0; i < len(b); {
		code := b[i]
		op, ok := pickleOps[code]
		if !ok {
			return 0, fmt.Errorf("bad pickle: unknown opcode 0x%02x", code)
		}
		i++

		for range op.lines {
			j := bytes.IndexByte(b[i:], '\n')
			if j < 0 {
				return 0, errTruncated
			}
			i += j + 1
		}
		size := op.fixed
		if n := op.lenBytes; n > 0 {
			if len(b)-i < n {
				return 0, errTruncated
			}
			var length uint64
			for k := n - 1; k >= 0; k-- {
				length = length<<8 | uint64(b[i+k])
			}
			i += n
			if length > uint64(len(b)-i) {
				return 0, errTruncated
			}
			if length == 0 && (code == 0x8a || code == 0x8b) { // CPython never writes an empty long
				return 0, errors.New("bad pickle: empty long")
			}
			size = int(length)
		}
		if len(b)-i < size {
			return 0, errTruncated
		}
		if code == 0x95 && binary.LittleEndian.Uint64(b[i:]) > uint64(len(b)-i-size) {
			return 0, errTruncated // a frame longer than the rest
		}
		i += size

		top := len(stack) - 1
		switch {
		case op.mark > 0:
			if len(stack) > maxMarks {
				return 0, errors.New("bad pickle: nested too deeply")
			}
			stack = append(stack, 0)
			continue
		case op.mark < 0:
			if top == 0 {
				return 0, errors.New("bad pickle: no mark")
			}
			if (code == 'd' || code == 'u') && stack[top]%2 != 0 {
				return 0, errors.New("bad pickle: odd number of dict items")
			}
			stack = stack[:top]
			top--
		case code == '0' && stack[top] == 0 && top > 0:
			stack = stack[:top]
			continue
		}
		if stack[top] < op.pop {
			return 0, errors.New("bad pickle: stack underflow")
		}
		stack[top] += op.push - op.pop
		if code == '.' {
			return i, nil
		}
	}
	return 0, errTruncated
}

var errTruncated = errors.New("truncated pickle")
