package cifar

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The fixtures are written by tools/ref/make_cifar_fixtures.py, with numpy
// and Python's pickle, never by this package.

type expectedSet struct {
	Files   []string
	Classes int
	N       int
	Labels  []int
	Pixels  []byte // base64 in the JSON
}

func readExpected(t testing.TB) map[string]expectedSet {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sets map[string]expectedSet
	if err := json.Unmarshal(b, &sets); err != nil {
		t.Fatal(err)
	}
	return sets
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFixtures(t *testing.T) {
	sets := readExpected(t)
	if len(sets) != 2 {
		t.Fatalf("expected.json has %d sets, want 2", len(sets))
	}
	for name, set := range sets {
		if len(set.Pixels) != set.N*imageSize || len(set.Labels) != set.N {
			t.Fatalf("%s: expected.json is inconsistent", name)
		}
		for _, file := range set.Files {
			for _, classes := range []int{set.Classes, 0} {
				bt, err := Decode(readFixture(t, file), classes)
				if err != nil {
					t.Errorf("%s (classes %d): %v", file, classes, err)
					continue
				}
				if bt.N != set.N || bt.C != 3 || bt.H != 32 || bt.W != 32 {
					t.Errorf("%s: got N, C, H, W = %d, %d, %d, %d, want %d, 3, 32, 32", file, bt.N, bt.C, bt.H, bt.W, set.N)
				}
				if !slices.Equal(bt.Labels, set.Labels) {
					t.Errorf("%s: labels %v, want %v", file, bt.Labels, set.Labels)
				}
				if !bytes.Equal(bt.Pixels, set.Pixels) {
					t.Errorf("%s: pixels differ from the expected ones", file)
				}
			}
		}
	}
}

// A length that fits both record sizes is told apart by the class count.
func TestAmbiguousLength(t *testing.T) {
	b := make([]byte, rec10*rec100)
	for _, tc := range []struct{ classes, n int }{{100, rec10}, {10, rec100}, {0, rec100}} {
		bt, err := Decode(b, tc.classes)
		if err != nil {
			t.Fatalf("classes %d: %v", tc.classes, err)
		}
		if bt.N != tc.n {
			t.Errorf("classes %d: got %d records, want %d", tc.classes, bt.N, tc.n)
		}
	}
}

func TestErrors(t *testing.T) {
	py2 := readFixture(t, "cifar10_py2.pkl")
	// replace patches one spot of the CIFAR-10 python fixture, which must be there once.
	replace := func(old, new string) []byte {
		if bytes.Count(py2, []byte(old)) != 1 {
			t.Fatalf("%q is not in the fixture exactly once", old)
		}
		return bytes.Replace(py2, []byte(old), []byte(new), 1)
	}
	for _, tc := range []struct {
		name    string
		b       []byte
		classes int
		want    string
	}{
		{"empty", nil, 10, "empty file"},
		{"odd length", make([]byte, 5000), 10, "cut off, or not a CIFAR binary batch: size 5000 bytes is not a whole number of CIFAR-10 (3073-byte) or CIFAR-100 (3074-byte) records"},
		{"short", make([]byte, 2000), 10, "size 2000 bytes is not a whole number of CIFAR-10 (3073-byte) or CIFAR-100 (3074-byte) records"},
		{"label too big", readFixture(t, "cifar10.bin"), 9, "record 0 has label 9, but the model has 9 classes"},
		{"fine label too big", readFixture(t, "cifar100.bin"), 10, "record 0 has label"},
		{"fine label too big in pickle", readFixture(t, "cifar100_py2.pkl"), 10, "has label"},
		{"fine label too big in protocol 4", readFixture(t, "cifar100_p4.pkl"), 10, "has label"},
		{"short buffer", readFixture(t, "bad_buflen.pkl"), 10, "pixel buffer has 3000 bytes, the shape needs 1*3072"},
		{"label count", readFixture(t, "bad_labelcount.pkl"), 10, "pickle has 2 labels, want 1, one per image"},
		{"os.system", readFixture(t, "bad_os_system.pkl"), 10, `pickle refers to "posix.system", which is not allowed`},
		{"os.system by STACK_GLOBAL", readFixture(t, "bad_os_system_p4.pkl"), 10, `pickle refers to "posix.system", which is not allowed`},
		{"dtype", replace("U\x02u1", "U\x02i1"), 10, `pixel dtype is "i1", want u1 (uint8)`},
		{"shape", replace("K\x04M\x00\x0c\x86", "K\x03M\x00\x0c\x86"), 10, "pixel buffer has 12288 bytes, the shape needs 3*3072"},
		{"image shape", replace("K\x04M\x00\x0c\x86", "K\x04M\x00\x06\x86"), 10, "pixel array has shape [4 1536]"},
		{"fortran", replace("\x89T\x00\x30", "\x88T\x00\x30"), 10, "fortran order"},
		{"no labels", replace("U\x06labels", "U\x06lebals"), 10, "pickle has no labels or fine_labels"},
		{"no data", replace("U\x04data", "U\x04date"), 10, "pickle has no data"},
		{"label type", replace("]q\t(K\t", "]q\t(N"), 10, "record 0 has label None, want an int"},
		{"foreign global", replace("cnumpy\ndtype\n", "cnumpy\ndtypf\n"), 10, `pickle refers to "numpy.dtypf"`},
		{"not a dict", []byte("\x80\x02K\x01."), 10, "pickle holds an int, want a dict"},
		{"no STOP", []byte("\x80\x02}"), 10, "pickle is truncated"},
		{"unknown opcode", []byte("\x80\x02\xff."), 10, "unsupported opcode 0xff"},
		{"text opcode", []byte("\x80\x02I1\n."), 10, "unsupported opcode 0x49"},
		{"empty long", []byte("\x80\x02\x8a\x00."), 10, "empty long"},
		{"odd dict items", []byte("\x80\x02}(K\x01u."), 10, "odd number of dict items"},
		{"underflow", []byte("\x80\x02R."), 10, "stack underflow"},
		{"no mark", []byte("\x80\x02]e."), 10, "no MARK"},
		{"deep", []byte("\x80\x02" + strings.Repeat("(", 100) + "."), 10, "nests deeper"},
		{"huge bytes", []byte("\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7f."), 10, "pickle is truncated"},
		{"huge string", []byte("\x80\x02T\xff\xff\xff\x7f."), 10, "pickle is truncated"},
		{"huge frame", []byte("\x80\x04\x95\x00\x00\x00\x00\x00\x01\x00\x00N."), 10, "pickle is truncated"},
		// gopickle resolves these itself before asking FindClass.
		{"gopickle's own class", []byte("\x80\x02ccollections\nOrderedDict\n)R."), 10, `"collections.OrderedDict", which is not allowed`},
		{"gopickle's own class by STACK_GLOBAL", []byte("\x80\x04\x8c\x08copy_reg\x8c\x0e_reconstructor\x93."), 10, `"copy_reg._reconstructor", which is not allowed`},
		{"computed class name", []byte("\x80\x04C\x02os\x8c\x06system\x93."), 10, "computed string"},
		{"codecs other encoding", []byte("\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x05\x00\x00\x00utf_8\x86R."), 10, "_codecs.encode is allowed only as encode(str, 'latin1')"},
		{"codecs not latin-1", []byte("\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00\xc4\x80X\x06\x00\x00\x00latin1\x86R."), 10, "not latin-1"},
	} {
		bt, err := Decode(tc.b, tc.classes)
		if err == nil {
			t.Errorf("%s: got a batch of %d, want an error", tc.name, bt.N)
			continue
		}
		msg := err.Error()
		if !strings.Contains(strings.ToLower(msg), strings.ToLower(tc.want)) {
			t.Errorf("%s: error %q, want it to contain %q", tc.name, msg, tc.want)
		}
		if strings.Contains(msg, "\n") || msg != strings.ToLower(msg[:1])+msg[1:] {
			t.Errorf("%s: error %q is not one lower-case line", tc.name, msg)
		}
	}
}

// Every truncation of every fixture is an error, except binary files cut at
// a whole number of records, and none panics.
func TestTruncations(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		if strings.HasSuffix(path, ".json") {
			continue
		}
		b := readFixture(t, filepath.Base(path))
		for n := 0; n < len(b); n = nextCut(n, len(b)) {
			bt, err := Decode(b[:n], 0)
			if err != nil {
				continue
			}
			if strings.HasSuffix(path, ".bin") && (n%rec10 == 0 || n%rec100 == 0) {
				checkBatch(t, bt)
				continue
			}
			t.Errorf("%s cut to %d bytes: got a batch of %d, want an error", path, n, bt.N)
		}
	}
}

// nextCut steps through every length near the start and end of a file, and
// some hundreds in between.
func nextCut(n, size int) int {
	if n < 600 || n > size-600 {
		return n + 1
	}
	return n + 37
}

func checkBatch(t *testing.T, bt *Batch) {
	t.Helper()
	if bt.N <= 0 || bt.C != 3 || bt.H != 32 || bt.W != 32 ||
		len(bt.Pixels) != bt.N*bt.C*bt.H*bt.W || len(bt.Labels) != bt.N {
		t.Fatalf("inconsistent batch: N, C, H, W = %d, %d, %d, %d, %d pixels, %d labels",
			bt.N, bt.C, bt.H, bt.W, len(bt.Pixels), len(bt.Labels))
	}
}

// A 4-dimensional array decodes like the usual (N, 3072) one.
func TestShape4D(t *testing.T) {
	py2 := readFixture(t, "cifar10_py2.pkl")
	// (4, 3072) becomes (4, 3, 32, 32): MARK ints TUPLE replaces the TUPLE2.
	old := []byte("(K\x01K\x04M\x00\x0c\x86")
	new := []byte("(K\x01(K\x04K\x03K K t")
	if bytes.Count(py2, old) != 1 {
		t.Fatal("shape not found in the fixture")
	}
	bt, err := Decode(bytes.Replace(py2, old, new, 1), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := readExpected(t)["cifar10"]
	if !bytes.Equal(bt.Pixels, want.Pixels) || !slices.Equal(bt.Labels, want.Labels) {
		t.Error("4-dimensional array decodes differently")
	}
}

// FuzzDecode feeds both formats through the content sniffing; FuzzBinary
// and FuzzPickleBatch each drive one reader directly, seeded with its own
// fixtures.
func FuzzDecode(f *testing.F) { fuzzBatches(f, Decode, func([]byte) bool { return true }) }

func FuzzBinary(f *testing.F) {
	fuzzBatches(f, decodeBinary, func(b []byte) bool { return len(b) > 0 && b[0] != 0x80 })
}

func FuzzPickleBatch(f *testing.F) {
	fuzzBatches(f, decodePickle, func(b []byte) bool { return len(b) > 0 && b[0] == 0x80 })
}

func fuzzBatches(f *testing.F, decode func([]byte, int) (*Batch, error), seed func([]byte) bool) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range files {
		if strings.HasSuffix(path, ".json") {
			continue
		}
		b := readFixture(f, filepath.Base(path))
		if !seed(b) {
			continue
		}
		f.Add(b, 10)
		f.Add(b, 100)
	}
	f.Add(binary.LittleEndian.AppendUint32([]byte("\x80\x02T"), 1<<31-1), 0)
	f.Fuzz(func(t *testing.T, b []byte, classes int) {
		bt, err := decode(b, classes)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is not one line", err)
			}
			return
		}
		checkBatch(t, bt)
	})
}

// TestLatin1: _codecs.encode(text, 'latin1') gives each code point up to 0xff
// as its byte (the text as Go's UTF-8 encoder writes it), and refuses text
// that is not latin-1 or not UTF-8.
func TestLatin1(t *testing.T) {
	var text strings.Builder
	var want []byte
	for i := range 256 {
		text.WriteRune(rune(i))
		want = append(want, byte(i))
	}
	got, err := encode{}.Call(text.String(), "latin1")
	if err != nil || !bytes.Equal(got.([]byte), want) {
		t.Errorf("the 256 code points: got %v, %v", got, err)
	}
	for _, bad := range []string{"\xc2", "a\xc2b", "\xc1\x81", "\xc4\x80", "\u0100", "\x80", "\xbf", "\xff", "\xc3\xc3"} {
		if got, err := (encode{}).Call(bad, "latin1"); err == nil {
			t.Errorf("%q: got %v, want an error", bad, got)
		}
	}
}
