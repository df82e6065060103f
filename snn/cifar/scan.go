package cifar

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Limits on a pickle's structure. A real batch nests 3 deep, and a
// 50000-image training batch takes 200k opcodes, 500k once re-saved by Python 3.
// They bound what gopickle allocates for a hostile file, which is up to a
// few hundred bytes per opcode.
const (
	maxDepth = 32
	maxOps   = 1 << 21
	maxName  = 256 // longest string remembered as a possible class name
)

type argKind uint8

const (
	argNone  argKind = iota
	arg1             // 1 byte
	arg2             // 2 bytes
	arg4             // 4 bytes
	arg8             // 8 bytes
	argLines         // two lines ending in '\n': GLOBAL's module and name
	argLen1          // 1-byte length, then that many bytes
	argLen4          // 4-byte little-endian length, then that many bytes
	argLen8          // 8-byte little-endian length, then that many bytes
)

// argSize is the size of a fixed argument, or of a counted argument's length.
var argSize = [...]int{arg1: 1, arg2: 2, arg4: 4, arg8: 8, argLen1: 1, argLen4: 4, argLen8: 8}

type opInfo struct {
	arg  argKind
	mark bool // first takes every item above the topmost MARK
	pop  int  // then takes this many items
	push int  // and leaves this many
	str  bool // pushes its argument as a Go string
}

// ops are the opcodes gopickle may run: those Python writes, at protocol 2
// and later, for dicts, lists, tuples, strings, bytes, numbers and objects
// rebuilt by a call. Protocol 0 text opcodes, persistent ids, extensions,
// NEWOBJ, sets and out-of-band buffers have no place in a CIFAR batch.
var ops = map[byte]opInfo{
	0x80: {arg: arg1},                        // PROTO
	0x95: {arg: arg8},                        // FRAME
	'.':  {pop: 1},                           // STOP
	'(':  {},                                 // MARK
	'N':  {push: 1},                          // NONE
	0x88: {push: 1},                          // NEWTRUE
	0x89: {push: 1},                          // NEWFALSE
	'J':  {arg: arg4, push: 1},               // BININT
	'K':  {arg: arg1, push: 1},               // BININT1
	'M':  {arg: arg2, push: 1},               // BININT2
	0x8a: {arg: argLen1, push: 1},            // LONG1
	0x8b: {arg: argLen4, push: 1},            // LONG4
	'G':  {arg: arg8, push: 1},               // BINFLOAT
	'U':  {arg: argLen1, push: 1, str: true}, // SHORT_BINSTRING
	'T':  {arg: argLen4, push: 1, str: true}, // BINSTRING
	0x8c: {arg: argLen1, push: 1, str: true}, // SHORT_BINUNICODE
	'X':  {arg: argLen4, push: 1, str: true}, // BINUNICODE
	0x8d: {arg: argLen8, push: 1, str: true}, // BINUNICODE8
	'C':  {arg: argLen1, push: 1},            // SHORT_BINBYTES
	'B':  {arg: argLen4, push: 1},            // BINBYTES
	0x8e: {arg: argLen8, push: 1},            // BINBYTES8
	'}':  {push: 1},                          // EMPTY_DICT
	']':  {push: 1},                          // EMPTY_LIST
	')':  {push: 1},                          // EMPTY_TUPLE
	't':  {mark: true, push: 1},              // TUPLE
	0x85: {pop: 1, push: 1},                  // TUPLE1
	0x86: {pop: 2, push: 1},                  // TUPLE2
	0x87: {pop: 3, push: 1},                  // TUPLE3
	'a':  {pop: 2, push: 1},                  // APPEND
	'e':  {mark: true, pop: 1, push: 1},      // APPENDS
	's':  {pop: 3, push: 1},                  // SETITEM
	'u':  {mark: true, pop: 1, push: 1},      // SETITEMS
	'q':  {arg: arg1},                        // BINPUT
	'r':  {arg: arg4},                        // LONG_BINPUT
	0x94: {},                                 // MEMOIZE
	'h':  {arg: arg1, push: 1},               // BINGET
	'j':  {arg: arg4, push: 1},               // LONG_BINGET
	'c':  {arg: argLines, push: 1},           // GLOBAL
	0x93: {pop: 2, push: 1},                  // STACK_GLOBAL
	'R':  {pop: 2, push: 1},                  // REDUCE
	'b':  {pop: 2, push: 1},                  // BUILD
}

// slot is a stack or memo item as scan sees it: only short strings are
// known, so that STACK_GLOBAL's class can be checked.
type slot struct {
	s     string
	known bool
}

// scan walks a pickle's opcodes without running them, tracking the stack as
// gopickle will. gopickle allocates whatever a length field says before
// reading, panics on some malformed streams, and resolves a few classes of
// its own before asking FindClass; so it runs only a pickle that scan
// found complete, well formed, and referring to allowed classes only.
func scan(b []byte) error {
	var (
		stack []slot
		marks []int // stack heights at each open MARK
		memo  = map[int]slot{}
	)
	for pos, nops := 0, 0; pos < len(b); nops++ {
		if nops == maxOps {
			return fmt.Errorf("pickle has more than %d opcodes", maxOps)
		}
		at, code := pos, b[pos]
		op, ok := ops[code]
		if !ok {
			return fmt.Errorf("pickle has unsupported opcode 0x%02x at byte %d", code, at)
		}
		pos++

		// The argument.
		var arg []byte
		var lines [2][]byte
		n := -1 // length of a counted argument
		switch op.arg {
		case arg1, arg2, arg4, arg8:
			size := argSize[op.arg]
			if len(b)-pos < size {
				return errTruncated
			}
			arg = b[pos : pos+size]
		case argLen1, argLen4, argLen8:
			size := argSize[op.arg]
			if len(b)-pos < size {
				return errTruncated
			}
			var l uint64
			for i := size - 1; i >= 0; i-- {
				l = l<<8 | uint64(b[pos+i])
			}
			if l > uint64(len(b)-pos-size) {
				return errTruncated
			}
			n = int(l)
			arg = b[pos : pos+size+n]
		case argLines:
			rest := b[pos:]
			for i := range lines {
				j := bytes.IndexByte(rest, '\n')
				if j < 0 {
					return errTruncated
				}
				lines[i], rest = rest[:j], rest[j+1:]
			}
			arg = b[pos : len(b)-len(rest)]
		}
		pos += len(arg)

		// The stack.
		base := 0
		if len(marks) > 0 {
			base = marks[len(marks)-1]
		}
		if op.mark {
			if len(marks) == 0 {
				return fmt.Errorf("malformed pickle: no MARK for opcode at byte %d", at)
			}
			if code == 'u' && (len(stack)-base)%2 != 0 {
				return fmt.Errorf("malformed pickle: odd number of dict items at byte %d", at)
			}
			stack, marks = stack[:base], marks[:len(marks)-1]
			base = 0
			if len(marks) > 0 {
				base = marks[len(marks)-1]
			}
		}
		if len(stack)-base < op.pop {
			return fmt.Errorf("malformed pickle: stack underflow at byte %d", at)
		}
		popped := stack[len(stack)-op.pop:]
		stack = stack[:len(stack)-op.pop]

		var top slot // what the opcode pushes, if it pushes a known string
		switch code {
		case '.': // STOP
			return nil
		case '(': // MARK
			if len(marks) == maxDepth {
				return fmt.Errorf("pickle nests deeper than %d", maxDepth)
			}
			marks = append(marks, len(stack))
		case 0x95: // FRAME: opcodes follow as usual, but gopickle copies the frame first
			if binary.LittleEndian.Uint64(arg) > uint64(len(b)-pos) {
				return errTruncated
			}
		case 0x8a, 0x8b: // LONG1, LONG4: gopickle panics on the empty encoding of 0
			if n == 0 {
				return fmt.Errorf("pickle has an empty long at byte %d", at)
			}
		case 'q', 'r', 0x94: // BINPUT, LONG_BINPUT, MEMOIZE
			if len(stack) == base {
				return fmt.Errorf("malformed pickle: memo of empty stack at byte %d", at)
			}
			i := len(memo)
			if code != 0x94 {
				i = int(index(arg))
			}
			memo[i] = stack[len(stack)-1]
		case 'h', 'j': // BINGET, LONG_BINGET
			top = memo[int(index(arg))]
		case 'c': // GLOBAL
			if _, err := findClass(string(lines[0]), string(lines[1])); err != nil {
				return err
			}
		case 0x93: // STACK_GLOBAL
			if !popped[0].known || !popped[1].known {
				return fmt.Errorf("pickle names a class by a computed string at byte %d", at)
			}
			if _, err := findClass(popped[0].s, popped[1].s); err != nil {
				return err
			}
		}
		if op.str && n <= maxName {
			top = slot{s: string(arg[len(arg)-n:]), known: true}
		}
		for range op.push {
			stack = append(stack, top)
		}
	}
	return errTruncated
}

var errTruncated = formatError("the file is cut off: its pickle is truncated")

// index decodes a memo index of 1 or 4 little-endian bytes.
func index(b []byte) uint32 {
	if len(b) == 1 {
		return uint32(b[0])
	}
	return binary.LittleEndian.Uint32(b)
}
