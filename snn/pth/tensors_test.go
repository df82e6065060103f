package pth

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// testdata/tensors is written by tools/inputs/make_input_fixtures.py: dicts of
// images and labels saved by torch.save, and what torch.load reads back
// (shape, dtype, SHA-256 of the contiguous tensor's bytes, int64 values).
type typedExpectation struct {
	Shape  []int
	DType  string
	SHA256 string
	Values []int64
}

func TestTensors(t *testing.T) {
	var exp map[string]map[string]typedExpectation
	if err := json.Unmarshal(readFile(t, "tensors/expected.json"), &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp) < 5 {
		t.Fatalf("expected.json has %d files", len(exp))
	}
	for file, want := range exp {
		keys, tensors, err := LoadTensors(readFile(t, filepath.Join("tensors", file)))
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if len(keys) != len(want) {
			t.Errorf("%s: keys %v, want %d", file, keys, len(want))
		}
		for k, w := range want {
			got := tensors[k]
			if got == nil {
				t.Errorf("%s: no tensor %s", file, k)
				continue
			}
			var b []byte
			switch {
			case got.Bytes != nil:
				b = got.Bytes
			case got.Ints != nil:
				for _, v := range got.Ints {
					b = binary.LittleEndian.AppendUint64(b, uint64(v))
				}
			default:
				for _, v := range got.Floats {
					b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
				}
			}
			sum := sha256.Sum256(b)
			if !slices.Equal(got.Shape, w.Shape) || got.DType != w.DType ||
				got.Len() != len(got.Bytes)+len(got.Ints)+len(got.Floats) || hex.EncodeToString(sum[:]) != w.SHA256 {
				t.Errorf("%s %s: %s %v (data equal: %v), want %s %v", file, k, got.DType, got.Shape,
					hex.EncodeToString(sum[:]) == w.SHA256, w.DType, w.Shape)
			}
			if w.Values != nil && !slices.Equal(got.Ints, w.Values) {
				t.Errorf("%s %s: %v, want %v", file, k, got.Ints, w.Values)
			}
		}
	}
}

func TestTensorsRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"tensors/bad_list.pt", nil, "the file's top level is not a dict"},
		{"tensors/bad_no_tensors.pt", nil, "no tensors in the dict"},
		{"random", []byte("hello"), "not a PyTorch checkpoint: unknown format"},
		{"bad_short_storage.pt", nil, "truncated: storage 0 needs 432 bytes, file has 50"},
		{"bad_view.pt", nil, "tensor w: view (offset 2, shape [3], stride [1]) reaches outside its storage of 4 elements"},
	} {
		b := c.b
		if b == nil {
			b = readFile(t, c.name)
		}
		_, _, err := LoadTensors(b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
	for _, name := range []string{"u8_nchw.pt", "u8_nhwc_legacy.pt"} {
		b := readFile(t, filepath.Join("tensors", name))
		for n := 0; n < len(b); n += 53 {
			if _, _, err := LoadTensors(b[:n]); err == nil || strings.Contains(err.Error(), "panic") {
				t.Errorf("%s cut to %d bytes: %v", name, n, err)
			}
		}
	}
}

func tensorFixtures(f *testing.F) {
	for _, name := range []string{"u8_nchw.pt", "u8_nhwc_legacy.pt", "u8_strided.pt", "f32_16.pt", "no_labels.pt", "bad_rank3.pt"} {
		f.Add(readFile(f, filepath.Join("tensors", name)))
	}
}

func FuzzLoadTensors(f *testing.F) {
	tensorFixtures(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, tensors, err := LoadTensors(b)
		if err != nil {
			return
		}
		for _, k := range keys {
			tt := tensors[k]
			if n := tt.Len(); n != len(tt.Bytes)+len(tt.Ints)+len(tt.Floats) {
				t.Fatalf("%s: shape %v with %d values", k, tt.Shape, len(tt.Bytes)+len(tt.Ints)+len(tt.Floats))
			}
		}
	})
}

// FuzzLegacy mutates checkpoints in the legacy (non-zip) format only, whose
// reader walks several pickles and raw storages.
func FuzzLegacy(f *testing.F) {
	for _, name := range fixtures(f) {
		if strings.Contains(name, "legacy") && !strings.Contains(name, "tar") {
			f.Add(readFile(f, name))
		}
	}
	f.Add(readFile(f, "tensors/u8_nhwc_legacy.pt"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != 0x80 {
			return
		}
		Load(b)
		LoadTensors(b)
	})
}

// FuzzPickle mutates the pickles of the zip-format checkpoints alone, with
// storages that hold no data.
func FuzzPickle(f *testing.F) {
	for _, name := range fixtures(f) {
		b := readFile(f, name)
		if strings.HasSuffix(name, ".pkl") {
			f.Add(b)
			continue
		}
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			continue
		}
		for _, zf := range zr.File {
			if strings.HasSuffix(zf.Name, "/data.pkl") {
				if p, err := readEntry(zf, b); err == nil {
					f.Add(bytes.Clone(p))
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		defer func() {
			// Load recovers from what gopickle may still panic on; here only
			// a panic of ours (pickleLen, the callbacks) is a failure.
			if r := recover(); r != nil && !strings.Contains(string(debug.Stack()), "gopickle") {
				t.Fatalf("panic: %v", r)
			}
		}()
		obj, _, err := unpickle(b, func(pid any) (any, error) {
			dt, key, numel, err := storageRef(pid, 5)
			if err != nil {
				return nil, err
			}
			return newStorage(dt, key, numel)
		})
		if err == nil {
			stateDict(obj)
		}
	})
}
