package npy

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The fixtures and expected.json are written by
// tools/inputs/make_input_fixtures.py: shapes, dtypes and the SHA-256 of the
// little-endian C-order bytes as numpy reads them back.
type expectation struct {
	Shape  []int
	DType  string
	SHA256 string
	Values []int
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func check(t *testing.T, name string, a *Array, want expectation) {
	t.Helper()
	sum := sha256.Sum256(a.Data)
	if !slices.Equal(a.Shape, want.Shape) || a.DType != want.DType || hex.EncodeToString(sum[:]) != want.SHA256 {
		t.Errorf("%s: %s %v (data equal: %v), want %s %v", name, a.DType, a.Shape, hex.EncodeToString(sum[:]) == want.SHA256, want.DType, want.Shape)
	}
	if want.Values != nil {
		v, err := a.Ints()
		if err != nil || !slices.Equal(v, want.Values) {
			t.Errorf("%s: values %v, %v, want %v", name, v, err, want.Values)
		}
	}
}

func TestFixtures(t *testing.T) {
	var exp map[string]expectation
	if err := json.Unmarshal(readFile(t, "expected.json"), &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp) < 10 {
		t.Fatalf("expected.json has %d arrays", len(exp))
	}
	for key, want := range exp {
		file, array, inZip := strings.Cut(key, ":")
		b := readFile(t, file)
		if !inZip {
			a, err := Decode(b)
			if err != nil {
				t.Errorf("%s: %v", file, err)
				continue
			}
			check(t, key, a, want)
			continue
		}
		z, err := OpenNPZ(b)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		a, err := z.Array(array)
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		check(t, key, a, want)
	}
}

func TestFloats(t *testing.T) {
	a, err := Decode(readFile(t, "f64_16.npy"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := a.Float32s()
	if err != nil || len(f) != 3*16*16 {
		t.Fatalf("%d values, %v", len(f), err)
	}
	if _, err := a.Ints(); err == nil {
		t.Error("Ints of a float64 array")
	}
}

// npyFile makes a .npy file with the given header dict and data.
func npyFile(dict string, data []byte) []byte {
	h := dict + strings.Repeat(" ", 63-(10+len(dict))%64) + "\n"
	b := []byte(Magic + "\x01\x00")
	b = append(b, byte(len(h)), byte(len(h)>>8))
	return append(append(b, h...), data...)
}

func TestErrors(t *testing.T) {
	u8 := readFile(t, "u8_nchw.npy")
	v2 := []byte(Magic + "\x02\x00\x00\x01\x00\x00")
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"bad_fortran.npy", nil, "Fortran-order arrays are not supported"},
		{"bad_big_endian.npy", nil, "big-endian arrays (>f4) are not supported"},
		{"bad_object.npy", nil, "object arrays (pickled Python objects) are not supported"},
		{"empty", []byte{}, "not a .npy file"},
		{"magic only", []byte(Magic), "truncated .npy header"},
		{"version 9", []byte(Magic + "\x09\x00\x10\x00"), ".npy format version 9 is not supported"},
		{"long header", v2, "truncated .npy header: 256 bytes announced, 0 present"},
		{"cut data", u8[:len(u8)-1], "truncated: a uint8 array of shape [2 3 32 32] needs 6144 bytes, the file has 6143"},
		{"extra data", append(bytes.Clone(u8), 0), "1 bytes after the uint8 array of shape [2 3 32 32]"},
		{"lying shape", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 3, 224, 224), }", make([]byte, 16)),
			"truncated: a float32 array of shape [100000 3 224 224] needs 60211200000 bytes, the file has 16"},
		{"overflowing shape", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (999999999999999, 999999999999999, 99999), }", nil), "is too large"},
		{"complex", npyFile("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", make([]byte, 8)), `dtype "<c8" is not supported`},
		{"structured", npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", make([]byte, 4)), "structured dtypes are not supported"},
		{"no shape", npyFile("{'descr': '<f4', 'fortran_order': False, }", nil), "descr, fortran_order or shape missing"},
		{"bad shape", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", nil), "bad .npy header: shape holds something other than a size"},
		{"not a dict", npyFile("[1, 2]", nil), "bad .npy header: not a dict"},
		{"npz: not a zip", append([]byte("PK\x03\x04"), u8...), "not an .npz file"},
	} {
		b := c.b
		if b == nil {
			b = readFile(t, c.name)
		}
		var err error
		if strings.HasPrefix(c.name, "npz") {
			_, err = OpenNPZ(b)
		} else {
			_, err = Decode(b)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
	// A Python 2 shape, (2L, 3L), reads.
	a, err := Decode(npyFile("{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 3L), }", make([]byte, 6)))
	if err != nil || !slices.Equal(a.Shape, []int{2, 3}) {
		t.Errorf("Python 2 shape: %v, %v", a, err)
	}
}

func TestTruncated(t *testing.T) {
	for _, name := range []string{"u8_nhwc.npy", "labels.npy", "stored.npz", "deflated.npz"} {
		b := readFile(t, name)
		for n := 0; n < len(b); n += 37 {
			var err error
			if strings.HasSuffix(name, ".npz") {
				var z *NPZ
				if z, err = OpenNPZ(b[:n]); err == nil {
					for _, a := range z.Names {
						if _, err = z.Array(a); err != nil {
							break
						}
					}
				}
			} else {
				_, err = Decode(b[:n])
			}
			if err == nil {
				t.Errorf("%s cut to %d bytes: read", name, n)
			}
		}
	}
}

// A zip entry may declare any size, and a deflated one may unpack to more
// than it declares: neither is trusted.
func TestNPZBomb(t *testing.T) {
	zeros := func(declared uint64, n int) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "images.npy", Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(npyFile("{'descr': '|u1', 'fortran_order': False, 'shape': (1000000000,), }", nil))
		chunk := make([]byte, 1<<20)
		for range n {
			w.Write(chunk)
		}
		zw.Close()
		b := buf.Bytes()
		if declared > 0 { // rewrite the sizes in the central directory
			i := bytes.LastIndex(b, []byte("PK\x01\x02"))
			le := func(off int, v uint32) {
				b[off], b[off+1], b[off+2], b[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
			}
			le(i+24, uint32(declared))
		}
		return b
	}
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"declares 8 MiB, holds 64 MiB", zeros(8<<20, 64), "zip entry images.npy: corrupt, or unpacks to more than the 8388608 bytes it declares"},
		{"declares 1.1 GiB", zeros(1100<<20, 1), "zip entry images.npy: 1153433600 bytes, more than the 1024 MiB allowed"},
	} {
		z, err := OpenNPZ(c.b)
		if err == nil {
			_, err = z.Array("images")
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"u8_nhwc.npy", "f32_nchw.npy", "f64_16.npy", "labels.npy", "bad_fortran.npy", "bad_big_endian.npy", "bad_rank3.npy", "bad_object.npy"} {
		f.Add(readFile(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Decode(b)
		if err != nil {
			return
		}
		if size := dtypes[""+shortCode(a.DType)].size; a.Len()*size != len(a.Data) {
			t.Fatalf("%s %v with %d bytes", a.DType, a.Shape, len(a.Data))
		}
		a.Ints()
		a.Float32s()
	})
}

func shortCode(name string) string {
	for code, dt := range dtypes {
		if dt.name == name {
			return code
		}
	}
	return ""
}

func FuzzNPZ(f *testing.F) {
	for _, name := range []string{"stored.npz", "deflated.npz", "positional.npz"} {
		f.Add(readFile(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		z, err := OpenNPZ(b)
		if err != nil {
			return
		}
		for _, name := range z.Names {
			z.Array(name)
		}
	})
}
