package pth

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The fixtures and expected.json are written by tools/ref/make_pth_fixtures.py
// from PyTorch: expected values are PyTorch's .float() of what it loads.
type expectation struct {
	Keys    []string
	Tensors map[string]struct {
		Shape []int
		Bits  []uint32
	}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func expectations(t testing.TB) map[string]expectation {
	var exp map[string]expectation
	if err := json.Unmarshal(readFile(t, "expected.json"), &exp); err != nil {
		t.Fatal(err)
	}
	return exp
}

// fixtures returns the names of all checkpoint fixtures, loadable or not.
func fixtures(t testing.TB) []string {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && e.Name() != "expected.json" {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestFixtures(t *testing.T) {
	exp := expectations(t)
	if len(exp) < 20 {
		t.Fatalf("expected.json has only %d fixtures", len(exp))
	}
	for name, want := range exp {
		t.Run(name, func(t *testing.T) {
			sd, err := Load(readFile(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(sd.Keys, want.Keys) {
				t.Fatalf("keys %q, want %q", sd.Keys, want.Keys)
			}
			if len(sd.Tensors) != len(want.Keys) {
				t.Errorf("%d tensors, want %d", len(sd.Tensors), len(want.Keys))
			}
			for _, k := range want.Keys {
				got, w := sd.Tensors[k], want.Tensors[k]
				if got == nil {
					t.Errorf("%s: missing", k)
					continue
				}
				if !reflect.DeepEqual(got.Shape, w.Shape) || len(got.Data) != len(w.Bits) {
					t.Errorf("%s: shape %v with %d values, want %v with %d", k, got.Shape, len(got.Data), w.Shape, len(w.Bits))
					continue
				}
				for i, v := range got.Data {
					if math.Float32bits(v) != w.Bits[i] {
						t.Errorf("%s[%d] = %v (%#08x), want %v (%#08x)", k, i, v, math.Float32bits(v),
							math.Float32frombits(w.Bits[i]), w.Bits[i])
						break
					}
				}
			}
		})
	}
}

func TestRefused(t *testing.T) {
	emptyZip := func(names ...string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, n := range names {
			w, _ := zw.Create(n)
			w.Write([]byte("x"))
		}
		zw.Close()
		return buf.Bytes()
	}
	random := make([]byte, 5000)
	rand.New(rand.NewSource(1)).Read(random)

	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"bad_os_system.pt", nil, "refusing to load class posix.system"}, // os.system pickles as posix.system
		{"bad_eval.pkl", nil, "refusing to load class builtins.eval"},
		{"bad_getattr.pkl", nil, "refusing to load class __builtin__.getattr"},
		{"bad_legacy_tar.pt", nil, "legacy tar checkpoints are not supported"},
		{"bad_short_storage.pt", nil, "truncated: storage 0 needs 432 bytes, file has 50"},
		{"bad_big_endian.pt", nil, `unsupported byte order "big"`},
		{"bad_numel.pt", nil, "truncated: storage 0 needs 4398046511104 bytes, file has 16"},
		{"bad_view.pt", nil, "tensor w: view (offset 2, shape [3], stride [1]) reaches outside its storage of 4 elements"},
		{"empty", []byte{}, "not a PyTorch checkpoint: unknown format"},
		{"random", random, "not a PyTorch checkpoint: unknown format"},
		{"random zip", append([]byte("PK\x03\x04"), random...), "the file is cut off: it starts as a zip (a PyTorch checkpoint) but its end is missing"},
		{"random pickle", append([]byte{0x80}, random...), "bad pickle"},
		{"odd dict", []byte("\x80\x02(K\x01d."), "bad pickle: odd number of dict items"},
		{"empty long", []byte("\x80\x02\x8a\x00."), "bad pickle: empty long"},
		{"opcode 0xff", []byte("\x80\x02\xff."), "bad pickle: unknown opcode 0xff"},
		{"deep marks", append([]byte{0x80, 2}, bytes.Repeat([]byte("("), 5000)...), "bad pickle: nested too deeply"},
		{"huge frame", []byte("\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7fN."), "truncated pickle"},
		{"huge string", []byte("\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7f."), "truncated pickle"},
		{"zip without data.pkl", emptyZip("archive/version"), "not a PyTorch checkpoint (no data.pkl in zip)"},
		{"torchscript", emptyZip("m/data.pkl", "m/constants.pkl"), "torchscript archives are not supported"},
	} {
		b := c.b
		if b == nil {
			b = readFile(t, c.name)
		}
		sd, err := Load(b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, %v; want error %q", c.name, sd, err, c.want)
		}
	}
}

// gopickle panics on a bytes key in an OrderedDict (it hashes a slice), which
// the walk in pickleLen cannot see: Load must turn that into an error.
func TestRecoveredPanic(t *testing.T) {
	_, err := Load([]byte("\x80\x03ccollections\nOrderedDict\n)RC\x01xNs."))
	if err == nil || !strings.Contains(err.Error(), "malformed checkpoint: panic: hash of unhashable type") {
		t.Errorf("got %v", err)
	}
}

// A zip header may declare any size: it must bound the read, not the allocation.
func TestLyingZipSize(t *testing.T) {
	for _, method := range []uint16{zip.Store, zip.Deflate} {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "archive/data.pkl", Method: method,
			CompressedSize64: 3, UncompressedSize64: 1 << 50})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("\x80\x02N"))
		zw.Close()
		if _, err := Load(buf.Bytes()); err == nil || !strings.Contains(err.Error(), "zip entry archive/data.pkl") {
			t.Errorf("method %d: got %v", method, err)
		}
	}
}

// Every prefix of a fixture is a broken file: Load must say so, without
// having to recover from a panic.
func TestTruncated(t *testing.T) {
	for _, name := range fixtures(t) {
		b := readFile(t, name)
		for n := 0; n < len(b); n += 97 {
			checkBroken(t, name, b[:n])
		}
		checkBroken(t, name, b[:len(b)-1])
	}
}

func TestRandomBytes(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, name := range fixtures(t) {
		b := readFile(t, name)
		for range 50 {
			c := bytes.Clone(b)
			for range 1 + rng.Intn(4) {
				c[rng.Intn(len(c))] = byte(rng.Intn(256))
			}
			if _, err := Load(c); err != nil && strings.Contains(err.Error(), "panic") {
				t.Errorf("%s corrupted: %v", name, err)
			}
		}
	}
	for n := range 300 {
		b := make([]byte, n)
		rng.Read(b)
		checkBroken(t, "random", b)
	}
}

func checkBroken(t *testing.T, name string, b []byte) {
	t.Helper()
	sd, err := Load(b)
	if err == nil {
		t.Errorf("%s cut to %d bytes: loaded %d tensors", name, len(b), len(sd.Keys))
	} else if strings.Contains(err.Error(), "panic") || strings.Contains(err.Error(), "\n") {
		t.Errorf("%s cut to %d bytes: %q", name, len(b), err)
	}
}

func FuzzLoad(f *testing.F) {
	for _, name := range fixtures(f) {
		f.Add(readFile(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := Load(b)
		if err != nil {
			return
		}
		if len(sd.Keys) != len(sd.Tensors) {
			t.Fatalf("%d keys, %d tensors", len(sd.Keys), len(sd.Tensors))
		}
		for _, k := range sd.Keys {
			tensor := sd.Tensors[k]
			n := 1
			for _, d := range tensor.Shape {
				n *= d
			}
			if n != len(tensor.Data) {
				t.Fatalf("%s: shape %v with %d values", k, tensor.Shape, len(tensor.Data))
			}
		}
	})
}

// TestCutOff: a checkpoint cut short anywhere says that it is cut off.
func TestCutOff(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "vgg16_c10.pth"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1000, len(b) / 2, len(b) - 30} {
		_, err := Load(b[:n])
		if err == nil || !strings.Contains(err.Error(), "cut off") {
			t.Errorf("the first %d of %d bytes: %v, want an error saying it is cut off", n, len(b), err)
		}
	}
}
