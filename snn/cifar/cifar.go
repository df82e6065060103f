// Package cifar reads CIFAR-10 and CIFAR-100 batches, in the binary release
// format (.bin) and in the python release format (a pickled dict), from a
// byte slice, so that it also runs in WebAssembly without a file system.
package cifar

import (
	"errors"
	"fmt"
)

// Batch is a set of images as bytes, CHW per image, images one after another.
type Batch struct {
	N, C, H, W int
	Pixels     []uint8 // N*C*H*W, channel-major per image (R plane, G plane, B plane), as CIFAR stores them
	Labels     []int   // N labels (for CIFAR-100: the fine label)
}

const (
	side      = 32
	imageSize = 3 * side * side // bytes of one image: 1024 R, 1024 G, 1024 B
	rec10     = 1 + imageSize   // CIFAR-10 record: label, pixels
	rec100    = 2 + imageSize   // CIFAR-100 record: coarse label, fine label, pixels
)

// Decode reads a CIFAR-10 or CIFAR-100 test/train batch in either the binary release format (.bin)
// or the python release format (a Python 2 cPickle, as in cifar-10-batches-py/test_batch), telling them
// apart by content. classes is the model's class count (10 or 100, or 0 when unknown) and is used to
// choose between the two binary record sizes when the length fits both, and to check labels.
func Decode(b []byte, classes int) (*Batch, error) {
	if len(b) == 0 {
		return nil, errors.New("empty file")
	}
	// A pickle of protocol 2 or later starts with the PROTO opcode 0x80; a
	// binary batch starts with a label, which is below 100.
	if b[0] == 0x80 {
		return decodePickle(b, classes)
	}
	return decodeBinary(b, classes)
}

func decodeBinary(b []byte, classes int) (*Batch, error) {
	if len(b) == 0 {
		return nil, errors.New("no records: the file is empty") // zero records would fit both sizes
	}
	fits10, fits100 := len(b)%rec10 == 0, len(b)%rec100 == 0
	var rec int
	switch {
	case fits10 && fits100: // every multiple of 3073*3074 bytes
		rec = rec10
		if classes == 100 {
			rec = rec100
		}
	case fits10:
		rec = rec10
	case fits100:
		rec = rec100
	default:
		if len(b) > rec100 {
			// Records and then a part of one: a batch cut short.
			return nil, fmt.Errorf("cut off, or not a CIFAR binary batch: size %d bytes is not a whole number of CIFAR-10 (%d-byte) or CIFAR-100 (%d-byte) records", len(b), rec10, rec100)
		}
		return nil, fmt.Errorf("size %d bytes is not a whole number of CIFAR-10 (%d-byte) or CIFAR-100 (%d-byte) records", len(b), rec10, rec100)
	}
	n := len(b) / rec
	bt := newBatch(n)
	for i := range n {
		r := b[i*rec : (i+1)*rec]
		bt.Labels[i] = int(r[rec-imageSize-1]) // the fine label for CIFAR-100
		copy(bt.Pixels[i*imageSize:(i+1)*imageSize], r[rec-imageSize:])
	}
	if err := checkLabels(bt.Labels, classes); err != nil {
		return nil, err
	}
	return bt, nil
}

func newBatch(n int) *Batch {
	return &Batch{
		N: n, C: 3, H: side, W: side,
		Pixels: make([]uint8, n*imageSize),
		Labels: make([]int, n),
	}
}

func checkLabels(labels []int, classes int) error {
	for i, l := range labels {
		if l < 0 {
			return fmt.Errorf("record %d has negative label %d", i, l)
		}
		if classes > 0 && l >= classes {
			return fmt.Errorf("record %d has label %d, but the model has %d classes", i, l, classes)
		}
	}
	return nil
}
