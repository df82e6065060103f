package picture

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The images and expected.json are written by
// tools/inputs/make_input_fixtures.py with PIL: the RGB pixels PIL decodes
// (convert("RGB")), and for the gradients PIL's bilinear resize of the short
// side to 32 then centre crop.
type expectation struct {
	Format        string
	Mode          string
	Width, Height int
	RGB           []byte // JPEG: compared within a tolerance
	RGBSHA256     string `json:"rgb_sha256"`
	Resized       []byte
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
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

func maxDiff(a, b []byte) int {
	d := 0
	for i := range a {
		d = max(d, int(a[i])-int(b[i]), int(b[i])-int(a[i]))
	}
	return d
}

func meanDiff(a, b []byte) float64 {
	s := 0
	for i := range a {
		s += max(int(a[i])-int(b[i]), int(b[i])-int(a[i]))
	}
	return float64(s) / float64(len(a))
}

func TestFixtures(t *testing.T) {
	exp := expectations(t)
	if len(exp) < 10 {
		t.Fatalf("expected.json has %d images", len(exp))
	}
	for name, e := range exp {
		pix, w, h, err := Decode(readFile(t, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if w != e.Width || h != e.Height || len(pix) != 3*w*h {
			t.Errorf("%s: %dx%d with %d bytes, want %dx%d", name, w, h, len(pix), e.Width, e.Height)
			continue
		}
		switch {
		case e.RGBSHA256 != "" && e.Mode == "I":
			// PIL clips 16-bit samples to 255 on convert("RGB"); we keep the high byte.
		case e.RGBSHA256 != "":
			if sum := sha256.Sum256(pix); hex.EncodeToString(sum[:]) != e.RGBSHA256 {
				t.Errorf("%s (%s): pixels differ from PIL's", name, e.Mode)
			}
		case e.RGB != nil:
			// Go's JPEG decoder and libjpeg round the colour transform
			// differently, and upsample subsampled chroma differently
			// (libjpeg interpolates, Go repeats), which shows at sharp edges.
			if d, m := maxDiff(pix, e.RGB), meanDiff(pix, e.RGB); name == "class_207.jpg" && d > 4 || m > 3 {
				t.Errorf("%s: pixels differ from PIL's by up to %d, %.2f on average", name, d, m)
			}
		case e.Resized != nil:
			got := Fit(pix, w, h, 32, 32)
			if d := maxDiff(got, e.Resized); d > 1 {
				t.Errorf("%s: resized pixels differ from PIL's by up to %d", name, d)
			}
		}
	}
}

// A 16-bit PNG keeps the high byte of each sample. gray16.png is the green
// plane of cat_003.png times 257 (tools/inputs/make_input_fixtures.py).
func TestGray16(t *testing.T) {
	pix, w, h, err := Decode(readFile(t, "gray16.png"))
	if err != nil {
		t.Fatal(err)
	}
	cat, _, _, err := Decode(readFile(t, "cat_003.png"))
	if err != nil {
		t.Fatal(err)
	}
	n := w * h
	if w != 32 || h != 32 || !bytes.Equal(pix[:n], cat[n:2*n]) || !bytes.Equal(pix[:n], pix[2*n:]) {
		t.Errorf("%dx%d: not the green plane of cat_003.png in all three channels", w, h)
	}
}

// Resizing to the same size changes nothing; the output has the asked size.
func TestFit(t *testing.T) {
	pix, w, h, err := Decode(readFile(t, "cat_003.png"))
	if err != nil {
		t.Fatal(err)
	}
	if got := Fit(pix, w, h, 32, 32); !bytes.Equal(got, pix) {
		t.Error("Fit to the same size changed the pixels")
	}
	for _, c := range [][4]int{{32, 32, 224, 224}, {64, 48, 32, 32}, {20, 30, 32, 32}, {7, 300, 32, 32}, {1, 1, 32, 32}} {
		p := bytes.Repeat([]byte{200}, 3*c[0]*c[1])
		got := Fit(p, c[0], c[1], c[2], c[3])
		if len(got) != 3*c[2]*c[3] || maxDiff(got, bytes.Repeat([]byte{200}, len(got))) != 0 {
			t.Errorf("%dx%d to %dx%d: %d bytes, not all 200", c[0], c[1], c[2], c[3], len(got))
		}
	}
}

// pngHeader is a PNG signature and IHDR chunk claiming w x h, then data.
func pngHeader(w, h uint32, rest []byte) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	b = binary.BigEndian.AppendUint32(b, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b = append(b, chunk...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
	return append(b, rest...)
}

func TestErrors(t *testing.T) {
	cat := readFile(t, "cat_003.png")
	jpg := readFile(t, "class_207.jpg")
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"not_an_image.png", nil, "not a PNG or JPEG image"},
		{"empty", []byte{}, "not a PNG or JPEG image"},
		{"huge png", pngHeader(100000, 100000, nil), "png image of 100000x100000 pixels: more than the 32 megapixels allowed"},
		{"zero png", pngHeader(0, 5, nil), "bad png image"},
		{"header only", pngHeader(64, 64, nil), "bad png image: unexpected EOF"},
		{"cut png", cat[:len(cat)-20], "bad png image"},
		{"cut jpeg", jpg[:len(jpg)/2], "bad jpeg image"},
		{"jpeg magic", []byte{0xff, 0xd8, 0xff, 0xe0, 0, 0}, "bad jpeg image"},
	} {
		b := c.b
		if b == nil {
			b = readFile(t, c.name)
		}
		_, _, _, err := Decode(b)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
	for n := 0; n < len(cat); n += 23 {
		if _, _, _, err := Decode(cat[:n]); err == nil {
			t.Errorf("cat_003.png cut to %d bytes: decoded", n)
		}
	}
}

func TestLabel(t *testing.T) {
	for _, c := range []struct {
		path    string
		classes int
		want    int
	}{
		{"cat_003.png", 10, 3},
		{"airplane/1.png", 10, 0},
		{"imgs/airplane/1.png", 10, 0},
		{`C:\data\truck\x.jpg`, 10, 9},
		{"Dog.JPG", 10, 5},
		{"category_1.png", 10, -1}, // "category" is not "cat"
		{"cat_and_dog.png", 10, -1},
		{"cat_and_dog/cat.png", 10, 3},
		{"maple_tree-2.jpg", 100, 47},
		{"pickup truck.png", 100, 58},
		{"tree.png", 100, -1},
		{"woman_1.png", 100, 98},
		{"cat_003.png", 100, -1}, // no cat in CIFAR-100
		{"class_207.jpg", 1000, 207},
		{"label-3.png", 10, 3},
		{"207/ILSVRC2012_val_00000001.JPEG", 1000, 207},
		{"00001.png", 1000, -1},
		{"images/00001.png", 1000, -1},
		{"class_1207.jpg", 1000, -1},
		{"1000/x.png", 1000, -1},
		{"", 10, -1},
	} {
		if got := Label(c.path, c.classes); got != c.want {
			t.Errorf("Label(%q, %d) = %d, want %d", c.path, c.classes, got, c.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for name := range expectations(f) {
		f.Add(readFile(f, name))
	}
	f.Add(pngHeader(64, 64, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		pix, w, h, err := Decode(b)
		if err != nil {
			if strings.Contains(err.Error(), "malformed") {
				t.Fatalf("a decoder panicked: %v", err)
			}
			return
		}
		if len(pix) != 3*w*h {
			t.Fatalf("%dx%d with %d bytes", w, h, len(pix))
		}
		if w*h <= 1<<16 {
			if got := Fit(pix, w, h, 32, 32); len(got) != 3*32*32 {
				t.Fatalf("Fit gave %d bytes", len(got))
			}
		}
	})
}
