package job

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/demo"
)

// The data fixtures belong to the readers' packages and are written by
// tools/inputs/make_input_fixtures.py from numpy, PIL and torch.
func read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func net(t testing.TB, name string) *snn.Net {
	t.Helper()
	if name == "" {
		n, err := Checkpoint(demo.CheckpointName, demo.Checkpoint)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n, err := Checkpoint(name, read(t, "../testdata/"+name))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Every format reads, with its images and labels where the fixture says.
func TestFormats(t *testing.T) {
	c10, c100 := net(t, ""), net(t, "vgg16_c100_up_legacy.pth")
	for _, c := range []struct {
		file   string
		net    *snn.Net
		member string
		n      int
		labels []int
		float  bool
		format string
	}{
		{"../cifar/testdata/archives/cifar-10-python.tar.gz", c10, "", 3, nil, false, "CIFAR release archive, member test_batch"},
		{"../cifar/testdata/archives/cifar-10-binary.tar.gz", c10, "data_batch_2.bin", 1, nil, false, "member data_batch_2.bin"},
		{"../cifar/testdata/archives/cifar-100-python.tar.gz", c100, "train", 2, nil, false, "member train"},
		{"../npy/testdata/u8_nhwc.npy", c10, "", 2, []int{-1, -1}, false, "uint8 [2 32 32 3]"},
		{"../npy/testdata/u8_nchw.npy", c10, "", 2, []int{-1, -1}, false, "uint8 [2 3 32 32]"},
		{"../npy/testdata/f32_nchw.npy", c10, "", 1, []int{-1}, true, "float32 [1 3 32 32]"},
		{"../npy/testdata/stored.npz", c10, "", 2, []int{3, 8}, false, "npz uint8 [2 32 32 3]"},
		{"../npy/testdata/deflated.npz", c10, "", 2, []int{3, 8}, false, "npz uint8 [2 3 32 32]"},
		{"../npy/testdata/positional.npz", c10, "", 2, []int{-1, -1}, false, "npz uint8"},
		{"../pth/testdata/tensors/u8_nchw.pt", c10, "", 3, []int{1, 0, 9}, false, "torch uint8 [3 3 32 32]"},
		{"../pth/testdata/tensors/u8_nhwc_legacy.pt", c10, "", 2, []int{1, 0}, false, "torch uint8 [2 32 32 3]"},
		{"../pth/testdata/tensors/u8_strided.pt", c10, "", 2, []int{0, 9}, false, "torch uint8 [2 3 32 32]"},
		{"../pth/testdata/tensors/no_labels.pt", c10, "", 1, []int{-1}, false, "torch uint8"},
		{"../picture/testdata/cat_003.png", c10, "", 1, []int{3}, false, "PNG/JPEG"},
		{"../picture/testdata/wide_grad_64x48.png", c10, "", 1, []int{-1}, false, "PNG/JPEG"},
		{"../testdata/c10_test_batch", c10, "", 8, nil, false, "CIFAR python batch"},
		{"../testdata/c10.bin", c10, "", 8, nil, false, "CIFAR binary batch"},
	} {
		name := filepath.Base(c.file)
		b, err := Inputs([]File{{Name: name, Data: read(t, c.file)}}, c.net, c.member, Choice{N: 100}, "auto")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(b.Labels) != c.n || len(b.X) != c.n*3*32*32 || (b.Pixels == nil) != c.float || !strings.Contains(b.Format, c.format) {
			t.Errorf("%s: %d labels, %d inputs, pixels %v, format %q; want %d images, floats %v, format %q",
				name, len(b.Labels), len(b.X), b.Pixels != nil, b.Format, c.n, c.float, c.format)
		}
		if c.labels != nil && !slices.Equal(b.Labels, c.labels) {
			t.Errorf("%s: labels %v, want %v", name, b.Labels, c.labels)
		}
		if c.float && b.Norm.Name != "none" {
			t.Errorf("%s: norm %s for floats", name, b.Norm.Name)
		}
	}
}

// NHWC and NCHW arrays of the same images, the torch dict and the archive
// agree pixel for pixel; the PNG of an image agrees with it too.
func TestSamePixels(t *testing.T) {
	c10 := net(t, "")
	get := func(path string) *Batch {
		b, err := Inputs([]File{{Name: path, Data: read(t, path)}}, c10, "", Choice{N: 10}, "auto")
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	nhwc, nchw, npz := get("../npy/testdata/u8_nhwc.npy"), get("../npy/testdata/u8_nchw.npy"), get("../npy/testdata/stored.npz")
	if !bytes.Equal(nhwc.Pixels, nchw.Pixels) || !bytes.Equal(npz.Pixels, nchw.Pixels) {
		t.Error("NHWC and NCHW arrays of the same images differ once read")
	}
	legacy, strided, whole := get("../pth/testdata/tensors/u8_nhwc_legacy.pt"), get("../pth/testdata/tensors/u8_strided.pt"), get("../pth/testdata/tensors/u8_nchw.pt")
	if !bytes.Equal(legacy.Pixels, whole.Pixels[:2*3072]) || !bytes.Equal(strided.Pixels, whole.Pixels[3072:]) {
		t.Error("torch NHWC, strided and NCHW tensors of the same images differ once read")
	}
}

func TestChoice(t *testing.T) {
	c10 := net(t, "")
	data := read(t, "../testdata/c10.bin")
	all, err := Inputs([]File{{Name: "c10.bin", Data: data}}, c10, "", Choice{N: 8}, "auto")
	if err != nil {
		t.Fatal(err)
	}
	idx, err := ParseIndices("6, 1,3-4")
	if err != nil || !slices.Equal(idx, []int{6, 1, 3, 4}) {
		t.Fatalf("ParseIndices: %v, %v", idx, err)
	}
	b, err := Inputs([]File{{Name: "c10.bin", Data: data}}, c10, "", Choice{Indices: idx}, "auto")
	if err != nil {
		t.Fatal(err)
	}
	for k, i := range idx {
		if b.Labels[k] != all.Labels[i] || !bytes.Equal(b.Pixels[k*3072:(k+1)*3072], all.Pixels[i*3072:(i+1)*3072]) {
			t.Errorf("image %d (index %d) is not the file's image %d", k, i, i)
		}
	}
	r1, err1 := Choice{N: 3, Random: true, Seed: 7}.Pick(8)
	r2, err2 := Choice{N: 3, Random: true, Seed: 7}.Pick(8)
	r3, _ := Choice{N: 3, Random: true, Seed: 8}.Pick(1000)
	if err1 != nil || err2 != nil || !slices.Equal(r1, r2) || len(r1) != 3 || !slices.IsSorted(r1) || slices.Compact(slices.Clone(r1))[2] != r1[2] {
		t.Errorf("random picks %v and %v from one seed", r1, r2)
	}
	if r, _ := (Choice{N: 20, Random: true, Seed: 1}).Pick(8); !slices.Equal(r, []int{0, 1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("20 random of 8: %v", r)
	}
	if slices.Equal(r1, r3) {
		t.Errorf("seeds 7 and 8 picked the same %v", r1)
	}
	// The draws must cover the file: over many seeds, every image is chosen.
	seen := make([]bool, 8)
	for s := range uint64(64) {
		r, _ := Choice{N: 1, Random: true, Seed: s}.Pick(8)
		seen[r[0]] = true
	}
	if slices.Contains(seen, false) {
		t.Errorf("64 seeds never picked some of 8 images: %v", seen)
	}
	for _, c := range []struct {
		c    Choice
		want string
	}{
		{Choice{Indices: []int{8}}, "c10.bin: index 8, but the file holds 8 images (0 to 7)"},
		{Choice{N: 0}, "n is 0: at least one image is needed"},
		{Choice{N: 1, Offset: -1}, "offset is -1: it must be 0 or more"},
		{Choice{N: 1, Offset: 8}, "c10.bin: offset 8, but the file holds 8 images"},
		{Choice{N: 1, Offset: 2, Random: true}, "choose an offset or random images, not both"},
	} {
		if _, err := Inputs([]File{{Name: "c10.bin", Data: data}}, c10, "", c.c, "auto"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.c, err, c.want)
		}
	}
	for _, s := range []string{"", "a", "3-1", "-2", "1,,x", "0-99999999"} {
		if _, err := ParseIndices(s); err == nil {
			t.Errorf("ParseIndices(%q) did not fail", s)
		}
	}
}

// Several images at once, each resized and labelled from its name.
func TestImageFiles(t *testing.T) {
	var files []File
	for _, n := range []string{"cat_003.png", "airplane/1.png", "class_207.jpg", "tall_grad_20x30.png"} {
		files = append(files, File{Name: n, Data: read(t, "../picture/testdata/"+n)})
	}
	b, err := Inputs(files, net(t, ""), "", Choice{N: 10}, "auto")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Labels, []int{3, 0, -1, -1}) || b.Unlabelled != 2 || len(b.Names) != 4 || b.Names[1] != "airplane/1.png" {
		t.Errorf("labels %v, %d unlabelled, names %v", b.Labels, b.Unlabelled, b.Names)
	}
	// An ImageNet model takes them too, resized to 224x224, with class 207.
	b, err = Inputs(files, net(t, "vgg16_imagenet.pth"), "", Choice{N: 10}, "auto")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Labels, []int{-1, -1, 207, -1}) || len(b.X) != 4*3*224*224 {
		t.Errorf("ImageNet model: labels %v, %d inputs", b.Labels, len(b.X))
	}
	files = append(files, File{Name: "labels.npy", Data: read(t, "../npy/testdata/labels.npy")})
	if _, err := Inputs(files, net(t, ""), "", Choice{N: 10}, "auto"); err == nil || err.Error() != "labels.npy: not a PNG or JPEG image (several files are read as images; other formats go one at a time)" {
		t.Errorf("a .npy among images: %v", err)
	}
}

func TestDataErrors(t *testing.T) {
	c10, imagenet := net(t, ""), net(t, "vgg16_imagenet.pth")
	big := []byte(strings.Repeat("x", 100))
	for _, c := range []struct {
		file   string
		b      []byte
		net    *snn.Net
		member string
		norm   string
		want   string
	}{
		{"../testdata/c10.bin", nil, imagenet, "", "auto", "c10.bin: images are 3x32x32, the model takes 3x224x224: an ImageNet-size model with CIFAR-size images; give images of the model's size, or PNG/JPEG files, which are resized"},
		{"../npy/testdata/f64_16.npy", nil, c10, "", "auto", "f64_16.npy: images are 3x16x16, the model takes 3x32x32: arrays and batches are not resized; PNG/JPEG files are"},
		{"../npy/testdata/bad_rank3.npy", nil, c10, "", "auto", "bad_rank3.npy: array has shape [2 28 28], want uint8 [N 32 32 3] or [N 3 32 32], or float [N 3 H W] already normalised"},
		{"../npy/testdata/bad_int16.npy", nil, c10, "", "auto", "bad_int16.npy: array is int16: want uint8 pixels, or float32/float64 already normalised"},
		{"../npy/testdata/bad_fortran.npy", nil, c10, "", "auto", "bad_fortran.npy: Fortran-order arrays are not supported"},
		{"../npy/testdata/f32_nchw.npy", nil, c10, "", "cifar10", "f32_nchw.npy holds floats, taken as already normalised: normalisation cifar10 does not apply (use auto or none)"},
		{"../pth/testdata/tensors/bad_rank3.pt", nil, c10, "", "auto", "bad_rank3.pt: tensor images has shape [1 32 32], want"},
		{"../pth/testdata/tensors/bad_label_count.pt", nil, c10, "", "auto", "bad_label_count.pt: labels have shape [3], want [2] for the 2 images"},
		{"../testdata/vgg16_c10.pth", nil, c10, "", "auto", "vgg16_c10.pth: no tensor called images among"},
		{"../cifar/testdata/archives/cifar-100-binary.tar.gz", nil, c10, "", "auto", "cifar-100-binary.tar.gz: member cifar-100-binary/test.bin: record"},
		{"../cifar/testdata/archives/cifar-10-binary.tar.gz", nil, c10, "nope", "auto", `cifar-10-binary.tar.gz: no member "nope" in the archive`},
		{"../testdata/c10.bin", nil, c10, "test", "auto", "c10.bin: a member (test) was asked for, but this is not a tar.gz archive"},
		{"x.npz", big, c10, "", "auto", "x.npz: not a npz file: its content is not recognised"},
		{"photo.jpg", big, c10, "", "auto", "photo.jpg: not a jpg file: its content is not recognised"},
		{"empty", []byte{}, c10, "", "auto", "empty: empty file"},
		{"trunc.png", read(t, "../picture/testdata/cat_003.png")[:100], c10, "", "auto", "trunc.png: bad png image"},
		// A zip keeps its directory at its end: a cut one is said to be cut.
		{"cut.pth", read(t, "../testdata/vgg16_c10.pth")[:100000], c10, "", "auto", "cut.pth: the file is cut off, and it is a PyTorch checkpoint: it goes in the other box"},
		{"cut.npz", append([]byte("PK\x03\x04"), big...), c10, "", "auto", "cut.npz: the file is cut off or damaged: its zip directory, at the end, is missing"},
	} {
		b := c.b
		if b == nil {
			b = read(t, c.file)
		}
		name := filepath.Base(c.file)
		_, err := Inputs([]File{{Name: name, Data: b}}, c.net, c.member, Choice{N: 4}, c.norm)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
}

// An archive streams from a reader as it does from bytes.
func TestStream(t *testing.T) {
	path := "../cifar/testdata/archives/cifar-10-python.tar.gz"
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c10 := net(t, "")
	a, err := Inputs([]File{{Name: "a.tar.gz", R: f}}, c10, "", Choice{N: 10}, "auto")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Inputs([]File{{Name: "a.tar.gz", Data: read(t, path)}}, c10, "", Choice{N: 10}, "auto")
	if err != nil || !bytes.Equal(a.Pixels, b.Pixels) || !slices.Equal(a.Labels, b.Labels) {
		t.Errorf("streamed and in-memory archives differ: %v", err)
	}
}

// FuzzInputs feeds any bytes to the whole data path (format detection and
// every reader) as one file; the fuzzer may rename it too.
func FuzzInputs(f *testing.F) {
	for _, p := range []string{"../npy/testdata/u8_nhwc.npy", "../npy/testdata/deflated.npz", "../pth/testdata/tensors/u8_nchw.pt",
		"../pth/testdata/tensors/u8_nhwc_legacy.pt", "../picture/testdata/cat_003.png", "../picture/testdata/class_207.jpg",
		"../cifar/testdata/archives/cifar-100-binary.tar.gz", "../testdata/c10.bin"} {
		f.Add(filepath.Base(p), read(f, p))
	}
	c10 := net(f, "")
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		bt, err := Inputs([]File{{Name: name, Data: b}}, c10, "", Choice{N: 4}, "auto")
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("two lines: %q", err)
			}
			return
		}
		if len(bt.X) != len(bt.Labels)*3*32*32 {
			t.Fatalf("%d labels, %d inputs", len(bt.Labels), len(bt.X))
		}
	})
}
