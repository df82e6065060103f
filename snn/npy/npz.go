package npy

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/spikegrad/spikegrad/snn/internal/zipread"
)

// maxNPZ bounds the bytes an .npz may unpack to, all arrays read together:
// CIFAR-10's training set as float32 is 614 MB. More is a decompression bomb
// or nothing a browser tab could hold.
var maxNPZ uint64 = 1 << 30

// NPZ is an opened .npz archive; arrays are read on demand.
type NPZ struct {
	Names []string // the arrays, in archive order ("arr_0" for positional ones)
	files map[string]*zip.File
	b     []byte
	read  uint64 // bytes unpacked so far
}

// OpenNPZ lists the arrays of an .npz file without reading them.
func OpenNPZ(b []byte) (*NPZ, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("not an .npz file: %v", err)
	}
	z := &NPZ{files: make(map[string]*zip.File), b: b}
	for _, f := range zr.File {
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok || z.files[name] != nil {
			continue
		}
		z.Names = append(z.Names, name)
		z.files[name] = f
	}
	if len(z.Names) == 0 {
		return nil, errors.New("not an .npz file: no .npy arrays in the zip")
	}
	return z, nil
}

// Has says whether the archive holds an array called name.
func (z *NPZ) Has(name string) bool { return z.files[name] != nil }

// Array reads the array called name.
func (z *NPZ) Array(name string) (*Array, error) {
	f := z.files[name]
	if f == nil {
		return nil, fmt.Errorf("no array %q", zipread.Clip(name))
	}
	b, err := zipread.Entry(f, z.b, maxNPZ-z.read)
	if err != nil {
		return nil, err
	}
	z.read += uint64(len(b))
	a, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("array %s: %v", zipread.Clip(name), err)
	}
	return a, nil
}
