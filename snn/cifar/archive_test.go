package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The archives and their expected.json are written by
// tools/inputs/make_input_fixtures.py with Python's tarfile, pickle and numpy.
type archiveExpectation struct {
	Default string
	Classes int
	Members map[string]struct {
		N            int
		Labels       []int
		PixelsSHA256 string `json:"pixels_sha256"`
	}
}

func readArchiveFixture(t testing.TB, name string) []byte {
	t.Helper()
	return readFixture(t, filepath.Join("archives", name))
}

func TestArchives(t *testing.T) {
	var exp map[string]archiveExpectation
	if err := json.Unmarshal(readArchiveFixture(t, "expected.json"), &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp) != 4 {
		t.Fatalf("expected.json has %d archives, want the 4 releases", len(exp))
	}
	for file, e := range exp {
		b := readArchiveFixture(t, file)
		// "" reads the test batch; every member is readable by its base name.
		for _, member := range append([]string{""}, slices.Sorted(func(yield func(string) bool) {
			for k := range e.Members {
				if !yield(k) {
					return
				}
			}
		})...) {
			want := member
			if member == "" {
				want = e.Default
			}
			m := e.Members[want]
			bt, got, err := ReadArchive(bytes.NewReader(b), member, e.Classes)
			if err != nil {
				t.Errorf("%s member %q: %v", file, member, err)
				continue
			}
			if filepath.Base(got) != want {
				t.Errorf("%s member %q: read %s, want %s", file, member, got, want)
			}
			sum := sha256.Sum256(bt.Pixels)
			if bt.N != m.N || !slices.Equal(bt.Labels, m.Labels) || hex.EncodeToString(sum[:]) != m.PixelsSHA256 {
				t.Errorf("%s member %q: %d images labelled %v, want %d labelled %v (pixels equal: %v)", file, member,
					bt.N, bt.Labels, m.N, m.Labels, hex.EncodeToString(sum[:]) == m.PixelsSHA256)
			}
		}
	}
	// By full path too, and as a plain tar.
	zr, err := gzip.NewReader(bytes.NewReader(readArchiveFixture(t, "cifar-10-binary.tar.gz")))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	bt, _, err := ReadArchive(bytes.NewReader(plain), "cifar-10-batches-bin/data_batch_2.bin", 10)
	if err != nil || bt.N != exp["cifar-10-binary.tar.gz"].Members["data_batch_2.bin"].N {
		t.Errorf("plain tar, member by path: %v, %v", bt, err)
	}
}

// tarGz makes a gzipped tar of the given headers, each followed by body
// (padded or cut to the header's size only when body is that long).
func tarGz(t testing.TB, files ...any) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for i := 0; i < len(files); i += 2 {
		h, body := files[i].(*tar.Header), files[i+1].([]byte)
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	tw.Flush() // no Close: the archive may be short on purpose
	zw.Close()
	return buf.Bytes()
}

func TestArchiveErrors(t *testing.T) {
	c10 := readArchiveFixture(t, "cifar-10-python.tar.gz")
	random := make([]byte, 3000)
	for i := range random {
		random[i] = byte(i*7919 + i>>3)
	}
	huge := tarGz(t, &tar.Header{Name: "cifar-10-batches-bin/test_batch.bin", Mode: 0o644, Size: 8 << 30, Typeflag: tar.TypeReg}, []byte{})
	short := tarGz(t, &tar.Header{Name: "cifar-10-batches-bin/test_batch.bin", Mode: 0o644, Size: 3073 * 2, Typeflag: tar.TypeReg}, make([]byte, 3073))
	for _, c := range []struct {
		name   string
		b      []byte
		member string
		want   string
	}{
		{"no batch", readArchiveFixture(t, "bad_no_batch.tar.gz"), "", "no test batch (test_batch, test_batch.bin, test, test.bin) in the archive; its files: readme.html"},
		{"no member", c10, "data_batch_9", `no member "data_batch_9" in the archive; its files: data_batch_1, data_batch_2, data_batch_3, readme.html, batches.meta, data_batch_4, data_batch_5, test_batch`},
		{"not a batch", c10, "readme.html", "member cifar-10-batches-py/readme.html: size 22 bytes is not a whole number of CIFAR-10"},
		{"wrong classes", readArchiveFixture(t, "cifar-100-binary.tar.gz"), "", "member cifar-100-binary/test.bin: record 0 has label"},
		{"empty", nil, "", "not a tar.gz archive: too short"},
		{"bad gzip", append([]byte{0x1f, 0x8b}, random...), "", "not a tar.gz archive: bad gzip header"},
		{"garbage gzip", append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3}, random...), "", "corrupt archive"},
		{"not a tar", random, "", "corrupt archive: bad tar header"},
		{"lying size", huge, "", "member cifar-10-batches-bin/test_batch.bin declares 8589934592 bytes, more than any CIFAR batch (at most 256 MiB)"},
		{"short member", short, "", "member cifar-10-batches-bin/test_batch.bin: truncated archive"},
		{"cut", c10[:len(c10)/2], "", "truncated archive"},
	} {
		bt, _, err := ReadArchive(bytes.NewReader(c.b), c.member, 10)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, %v; want error %q", c.name, bt, err, c.want)
		}
	}
}

// A prefix of an archive is broken, unless it holds the whole chosen member:
// the stream is not read past it (a release is 170 MB).
func TestArchiveTruncated(t *testing.T) {
	for _, name := range []string{"cifar-10-python.tar.gz", "cifar-100-binary.tar.gz"} {
		b := readArchiveFixture(t, name)
		whole, _, err := ReadArchive(bytes.NewReader(b), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(b); n += 61 {
			bt, _, err := ReadArchive(bytes.NewReader(b[:n]), "", 0)
			if err == nil && (!bytes.Equal(bt.Pixels, whole.Pixels) || !slices.Equal(bt.Labels, whole.Labels)) {
				t.Errorf("%s cut to %d bytes: read %d images unlike the whole archive's", name, n, bt.N)
			}
		}
	}
}

// zeros is a gzip stream of n MiB of zeros, as concatenated gzip members
// (which gzip.Reader reads as one stream), after the gzip member head.
func zeros(head []byte, mib int) io.Reader {
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	parts := []io.Reader{bytes.NewReader(head)}
	for range mib {
		parts = append(parts, bytes.NewReader(z.Bytes()))
	}
	return io.MultiReader(parts...)
}

// A member that is skipped may still be a bomb: a tar header that claims
// 64 GiB, then gzip members of zeros without end. Reading stops at the bound
// on the whole archive, here the real 1 GiB one.
func TestArchiveBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses 1 GiB")
	}
	var head bytes.Buffer
	zw := gzip.NewWriter(&head)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "junk", Mode: 0o644, Size: 64 << 30, Typeflag: tar.TypeReg})
	tw.Flush()
	zw.Close()
	_, _, err := ReadArchive(zeros(head.Bytes(), 1100), "", 10)
	if err == nil || !strings.Contains(err.Error(), "archive unpacks to more than 1024 MiB: not a CIFAR release (a decompression bomb?)") {
		t.Errorf("got %v", err)
	}
}

// The same bound on a plain tar, lowered so that the test is quick.
func TestArchiveBoundPlain(t *testing.T) {
	defer func(m int64) { maxArchive = m }(maxArchive)
	maxArchive = 1 << 20
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "junk", Mode: 0o644, Size: 2 << 20, Typeflag: tar.TypeReg})
	tw.Write(make([]byte, 2<<20))
	tw.Close()
	_, _, err := ReadArchive(&buf, "", 10)
	if err == nil || !strings.Contains(err.Error(), "archive unpacks to more than 1 MiB") {
		t.Errorf("got %v", err)
	}
}

func FuzzArchive(f *testing.F) {
	entries, err := os.ReadDir(filepath.Join("testdata", "archives"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tar.gz") {
			f.Add(readArchiveFixture(f, e.Name()), "")
		}
	}
	f.Add(readArchiveFixture(f, "cifar-10-python.tar.gz"), "data_batch_2")
	f.Fuzz(func(t *testing.T, b []byte, member string) {
		bt, name, err := ReadArchive(bytes.NewReader(b), member, 0)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("two lines: %q", err)
			}
			return
		}
		if name == "" || bt.N*bt.C*bt.H*bt.W != len(bt.Pixels) || len(bt.Labels) != bt.N {
			t.Fatalf("member %q: inconsistent batch %d %d %d %d, %d pixels, %d labels", name, bt.N, bt.C, bt.H, bt.W, len(bt.Pixels), len(bt.Labels))
		}
	})
}
