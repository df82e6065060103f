package job

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// folderFixture is snn/testdata/imagefolder/expected.json, written by
// tools/ref/make_imagefolder_fixtures.py with torchvision's own ImageFolder
// and transforms.Compose([Resize(256), CenterCrop(224)]).
type folderFixture struct {
	Classes    []string
	ClassToIdx map[string]int `json:"class_to_idx"`
	Samples    []struct {
		Path          string
		Label         int
		Width, Height int
		Crop          string
	}
	ILSVRC map[string]int `json:"ilsvrc_index"`
}

const folderDir = "../testdata/imagefolder"

// treeFiles reads the fixture's val/ folder as the CLI names a folder's
// files ("val/<path under it>"), in a shuffled order: the order is
// ImageFolder's, whatever order the files come in.
func treeFiles(t *testing.T) ([]File, folderFixture) {
	t.Helper()
	var fx folderFixture
	if err := json.Unmarshal(read(t, folderDir+"/expected.json"), &fx); err != nil {
		t.Fatal(err)
	}
	var files []File
	root := filepath.Join(folderDir, "val")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files = append(files, File{Name: "val/" + filepath.ToSlash(rel), Data: read(t, p)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	return files, fx
}

// TestImageFolder: the folder's images come in ImageFolder's order with
// ImageFolder's labels (torchvision's, in the fixture), and each is resized
// as transforms.Resize(256) and CenterCrop(224) resize it. The PNG (decoded
// exactly) is within 1 of torchvision's crop, every pixel: PIL rounds to
// uint8 between its horizontal and vertical passes and keeps 22-bit
// fixed-point weights, we keep float32 and round once. The JPEGs also go
// through Go's JPEG decoder, which rounds the colour transform and upsamples
// 4:2:0 chroma otherwise than libjpeg, which shows at the sharp coloured
// edges: measured max 30 and 23, mean 0.48 and 0.49 (bound 48 and 1).
func TestImageFolder(t *testing.T) {
	files, fx := treeFiles(t)
	n := net(t, "resnet18_imagenet.pth")
	d, err := Decode(files, n, "")
	if err != nil {
		t.Fatal(err)
	}
	if d.N != len(fx.Samples) {
		t.Fatalf("%d images, ImageFolder %d", d.N, len(fx.Samples))
	}
	if !strings.Contains(d.Format, "ImageFolder") || !strings.Contains(d.Format, "256") {
		t.Errorf("format %q does not say ImageFolder and 256", d.Format)
	}
	for i, s := range fx.Samples {
		if d.Names[i] != "val/"+s.Path || d.Labels[i] != s.Label {
			t.Errorf("image %d: %s label %d, ImageFolder: %s label %d", i, d.Names[i], d.Labels[i], s.Path, s.Label)
		}
		if s.Crop == "" {
			continue
		}
		img, err := png.Decode(bytes.NewReader(read(t, folderDir+"/"+s.Crop)))
		if err != nil {
			t.Fatal(err)
		}
		want := rgbPlanes(img)
		got := d.Pixels[i*3*224*224 : (i+1)*3*224*224]
		mx, mean := diff(got, want)
		t.Logf("%s (%dx%d): max %d, mean %.3f from torchvision's Resize(256)+CenterCrop(224)", s.Path, s.Width, s.Height, mx, mean)
		limit, limitMean := 48, 1.0
		if strings.HasSuffix(s.Path, ".png") {
			limit, limitMean = 1, 0.5
		}
		if mx > limit || mean > limitMean {
			t.Errorf("%s: pixels differ from torchvision's by up to %d, %.3f on average (allowed %d, %.2f)", s.Path, mx, mean, limit, limitMean)
		}
	}
}

// TestLabelsFile: with a labels file the synsets take their ILSVRC-2012
// indices, not their order in the folder; given among the files (the
// page's way) or apart (-labels).
func TestLabelsFile(t *testing.T) {
	files, fx := treeFiles(t)
	n := net(t, "resnet18_imagenet.pth")
	lb := read(t, folderDir+"/labels.txt")
	labels, err := ParseLabels("labels.txt", lb, 1000)
	if err != nil {
		t.Fatal(err)
	}
	a, err := DecodeLabels(files, n, "", labels)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Decode(append(files, File{Name: "val/labels.txt", Data: lb}), n, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*Decoded{a, b} {
		for i, s := range fx.Samples {
			syn := strings.Split(s.Path, "/")[0]
			if d.Labels[i] != fx.ILSVRC[syn] {
				t.Errorf("%s: label %d, want %s's index %d", d.Names[i], d.Labels[i], syn, fx.ILSVRC[syn])
			}
		}
	}
	// By file name, as the ImageNet validation labels are usually given.
	byFile := fmt.Sprintf("ILSVRC2012_val_00000003.JPEG 7\nILSVRC2012_val_00000117.png 8\n")
	l2, _ := ParseLabels("val.txt", []byte(byFile), 1000)
	if _, err := DecodeLabels(files, n, "", l2); err == nil || !strings.Contains(err.Error(), "neither its folder nor its name is in the labels file") {
		t.Errorf("an image missing from the labels file: %v", err)
	}
	one := []File{files[0], files[1]}
	for _, f := range files {
		if strings.HasSuffix(f.Name, "00000003.JPEG") || strings.HasSuffix(f.Name, "00000117.png") {
			one = append(one, f)
		}
	}
	d, err := DecodeLabels(one[2:], n, "", l2)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range d.Names {
		want := map[bool]int{true: 7, false: 8}[strings.HasSuffix(name, ".JPEG")]
		if d.Labels[i] != want {
			t.Errorf("%s: label %d, want %d", name, d.Labels[i], want)
		}
	}
	for _, c := range []struct{ text, want string }{
		{"n01440764 0\nn01440764 1\n", "line 2: n01440764 is given twice"},
		{"n01440764\n", "line 1: want \"name index\""},
		{"n01440764 1000\n", "class index \"1000\": want 0 to 999"},
		{"# nothing\n\n", "no \"name index\" lines"},
	} {
		if _, err := ParseLabels("l.txt", []byte(c.text), 1000); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
}

// The folders that named their labels before keep them: CIFAR class names
// (a subset: cat/ and dog/ are 3 and 5, not ImageFolder's 0 and 1) and
// class numbers (207/, not its place among sorted strings). Images beside
// the class folders, or more class folders than classes, are not a tree
// or refused.
func TestFolderRules(t *testing.T) {
	img := read(t, "../picture/testdata/cat_003.png")
	c10 := net(t, "")
	d, err := Decode([]File{{Name: "pets/dog/a.png", Data: img}, {Name: "pets/cat/b.png", Data: img}}, c10, "")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(d.Labels) != "[5 3]" || strings.Contains(d.Format, "ImageFolder") {
		t.Errorf("cat/ dog/: labels %v (%s), want [5 3] by CIFAR name", d.Labels, d.Format)
	}
	d, err = Decode([]File{{Name: "x/7/a.png", Data: img}, {Name: "x/10/b.png", Data: img}}, c10, "")
	if err != nil || fmt.Sprint(d.Labels) != "[7 -1]" {
		t.Errorf("7/ 10/ with 10 classes: %v %v, want [7 -1]", d.Labels, err)
	}
	d, err = Decode([]File{{Name: "x/b/a.png", Data: img}, {Name: "x/a/b.png", Data: img}, {Name: "x/a/c/d.png", Data: img}, {Name: "x/a/c.png", Data: img}}, c10, "")
	if err != nil || fmt.Sprint(d.Labels) != "[0 0 0 1]" || fmt.Sprint(d.Names) != "[x/a/b.png x/a/c.png x/a/c/d.png x/b/a.png]" {
		t.Errorf("a/ b/: %v %v %v, want ImageFolder's order and labels", d.Names, d.Labels, err)
	}
	d, err = Decode([]File{{Name: "x/b/a.png", Data: img}, {Name: "x/a.png", Data: img}}, c10, "")
	if err != nil || strings.Contains(d.Format, "ImageFolder") {
		t.Errorf("an image beside the class folders: %v %v, want no tree", d.Format, err)
	}
	d, err = Decode([]File{{Name: "imagenet/val/n01/a.png", Data: img}, {Name: "imagenet/val/n02/b.png", Data: img}}, c10, "")
	if err != nil || strings.Contains(d.Format, "ImageFolder") || fmt.Sprint(d.Labels) != "[-1 -1]" {
		t.Errorf("one class folder (val/): %v %v %v, want no tree", d.Labels, d.Format, err)
	}
	var many []File
	for i := range 11 {
		many = append(many, File{Name: fmt.Sprintf("x/s%02d/a.png", i), Data: img})
	}
	if _, err := Decode(many, c10, ""); err == nil || !strings.Contains(err.Error(), "11 class folders") {
		t.Errorf("11 class folders, 10 classes: %v", err)
	}
}

func rgbPlanes(img image.Image) []uint8 {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	out := make([]uint8, 3*w*h)
	for y := range h {
		for x := range w {
			c0, c1, c2, _ := img.At(r.Min.X+x, r.Min.Y+y).RGBA()
			i := y*w + x
			out[i], out[w*h+i], out[2*w*h+i] = uint8(c0>>8), uint8(c1>>8), uint8(c2>>8)
		}
	}
	return out
}

func diff(a, b []uint8) (int, float64) {
	mx, s := 0, 0
	for i := range a {
		d := max(int(a[i])-int(b[i]), int(b[i])-int(a[i]))
		mx, s = max(mx, d), s+d
	}
	return mx, float64(s) / float64(len(a))
}
