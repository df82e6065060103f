package job

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"strings"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/cifar"
	"github.com/spikegrad/spikegrad/snn/npy"
	"github.com/spikegrad/spikegrad/snn/picture"
	"github.com/spikegrad/spikegrad/snn/pth"
)

// File is a data file as the user gave it. Name is its name, or its path
// under the folder given (image labels may come from folder names). Data is
// its content; when Data is nil, R is read instead, so that a 170 MB release
// archive streams from disk. Inflated says that R gives the decompressed
// bytes of a gzip file (the page has the browser inflate a release archive:
// natively, not in WebAssembly); it is read as the tar inside.
type File struct {
	Name     string
	Data     []byte
	R        io.Reader
	Inflated bool
}

// Decoded is what a data file holds, before the images for a run are chosen.
type Decoded struct {
	N, C, H, W int
	Pixels     []uint8   // N uint8 images, CHW each; nil when X is set
	X          []float32 // N already normalised images, CHW each; nil when Pixels is set
	Labels     []int     // N labels; -1: none
	Names      []string  // per image, for PNG/JPEG files; else nil
	Format     string    // what the file was read as, for the user
	Member     string    // the archive member read, for archives
}

// legacyMagic starts a torch.save file of the legacy format: the pickled
// magic number 0x1950a86a20f9469cfc6c.
var legacyMagic = []byte("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19")

// Decode reads the data files of a run for net: one batch, archive, array or
// torch.save'd dict, or any number of PNG/JPEG images (resized to the model's
// input; a folder of class folders read as torchvision's ImageFolder reads
// it, see folderTree). The format is told by content. member names the batch
// to read in a release archive ("" the test batch). Among several files, a
// .txt file is a labels file (ParseLabels). Errors are one line naming the file.
func Decode(files []File, net *snn.Net, member string) (*Decoded, error) {
	return DecodeLabels(files, net, member, nil)
}

// DecodeLabels is Decode with the images' labels from a labels file
// (-labels FILE) when labels is not nil.
func DecodeLabels(files []File, net *snn.Net, member string, labels Labels) (*Decoded, error) {
	if len(files) == 0 {
		return nil, errors.New("no data file")
	}
	classes, in := net.Arch.Classes, net.Arch.Input
	if len(files) > 1 {
		var imgs []File
		for _, f := range files {
			if !isLabelsFile(f.Name) {
				imgs = append(imgs, f)
				continue
			}
			b, err := readAll(f)
			if err != nil {
				return nil, err
			}
			if labels != nil {
				return nil, fmt.Errorf("%s: a second labels file", f.Name)
			}
			if labels, err = ParseLabels(f.Name, b, classes); err != nil {
				return nil, err
			}
		}
		if len(imgs) == 0 {
			return nil, errors.New("a labels file and no images")
		}
		return images(imgs, classes, in, labels)
	}
	if labels != nil {
		// One image file: its labels come from the labels file too.
		if f := files[0]; picture.Format(f.Data) != "" || f.Data == nil && isImageName(f.Name) {
			return images(files, classes, in, labels)
		}
		return nil, fmt.Errorf("%s: a labels file names PNG/JPEG images or their folders; this is not one", files[0].Name)
	}
	f := files[0]
	var head []byte
	var r io.Reader
	if f.Data != nil || f.R == nil {
		head = f.Data
	} else {
		// Enough of the stream to tell its format (a tar header is 512 bytes).
		head = make([]byte, 512)
		n, err := io.ReadFull(f.R, head)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return nil, fmt.Errorf("%s: %v", f.Name, err)
		}
		head = head[:n]
		r = io.MultiReader(bytes.NewReader(head), f.R)
	}
	if len(head) == 0 {
		return nil, fmt.Errorf("%s: empty file", f.Name)
	}
	archive := f.Inflated || cifar.IsGzip(head) || len(head) >= 262 && string(head[257:262]) == "ustar"
	if archive {
		if r == nil {
			r = bytes.NewReader(f.Data)
		}
		bt, m, err := cifar.ReadArchive(r, member, classes)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f.Name, err)
		}
		d := fromBatch(bt)
		d.Member, d.Format = m, "CIFAR release archive, member "+path.Base(m)
		return d, nil
	}
	if member != "" {
		return nil, fmt.Errorf("%s: a member (%s) was asked for, but this is not a tar.gz archive", f.Name, member)
	}
	b := f.Data
	if b == nil {
		var err error
		if b, err = io.ReadAll(r); err != nil {
			return nil, fmt.Errorf("%s: %v", f.Name, err)
		}
	}
	d, err := decodeBytes(f.Name, b, classes, in)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", f.Name, err)
	}
	return d, nil
}

func decodeBytes(name string, b []byte, classes int, in [3]int) (*Decoded, error) {
	ext := strings.ToLower(path.Ext(name))
	switch {
	case picture.Format(b) != "":
		return images([]File{{Name: name, Data: b}}, classes, in, nil)
	case bytes.HasPrefix(b, []byte(npy.Magic)):
		a, err := npy.Decode(b)
		if err != nil {
			return nil, err
		}
		return fromArrays("array", a, nil, classes, in)
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		if _, err := zip.NewReader(bytes.NewReader(b), int64(len(b))); err != nil && !errors.Is(err, zip.ErrInsecurePath) {
			return nil, cutZip(b)
		}
		if ext != ".npz" && isTorchZip(b) {
			return torchDict(b, classes, in)
		}
		return npzArrays(b, classes, in)
	case bytes.HasPrefix(b, legacyMagic):
		return torchDict(b, classes, in)
	}
	switch ext {
	case ".png", ".jpg", ".jpeg", ".npy", ".npz", ".pt", ".pth", ".gz", ".tgz", ".tar":
		return nil, fmt.Errorf("not a %s file: its content is not recognised", ext[1:])
	}
	bt, err := cifar.Decode(b, classes)
	if err != nil {
		return nil, err
	}
	d := fromBatch(bt)
	d.Format = "CIFAR binary batch"
	if b[0] == 0x80 {
		d.Format = "CIFAR python batch"
	}
	return d, nil
}

func fromBatch(bt *cifar.Batch) *Decoded {
	return &Decoded{N: bt.N, C: bt.C, H: bt.H, W: bt.W, Pixels: bt.Pixels, Labels: bt.Labels}
}

// isTorchZip says whether a zip is a torch.save file (<dir>/data.pkl).
// cutZip explains a zip file without its directory, which a zip keeps at
// its end: the file is cut off (or damaged), and a first entry named
// .../data.pkl says it is a torch.save checkpoint.
func cutZip(b []byte) error {
	const nameAt = 30 // a local file header's fixed part
	if len(b) >= nameAt {
		n := int(b[26]) | int(b[27])<<8
		if len(b) >= nameAt+n && strings.HasSuffix(string(b[nameAt:nameAt+n]), "/data.pkl") {
			return errors.New("the file is cut off, and it is a PyTorch checkpoint: it goes in the other box")
		}
	}
	return errors.New("the file is cut off or damaged: its zip directory, at the end, is missing")
}

func isTorchZip(b []byte) bool {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return false
	}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/data.pkl") {
			return true
		}
	}
	return false
}

// ImageNetResize is the short side images are resized to, before the
// centre crop, for a 224x224 model: torchvision's ImageNet evaluation
// transform, Resize(256) then CenterCrop(224).
const ImageNetResize = 256

// images decodes PNG/JPEG files, each resized and centre-cropped to the
// model's input, labelled from its name, its class folder in an ImageFolder
// tree (folderTree), or labels when not nil.
func images(files []File, classes int, in [3]int, labels Labels) (*Decoded, error) {
	c, h, w := in[0], in[1], in[2]
	if c != 3 {
		return nil, fmt.Errorf("the model takes %d channels: PNG/JPEG images give 3", c)
	}
	short := 0 // the short side before the crop; 0: the input's (Fit)
	how := fmt.Sprintf("resized (bilinear) and centre-cropped to %dx%d", w, h)
	if w == 224 && h == 224 {
		short = ImageNetResize
		how = fmt.Sprintf("short side resized to %d (bilinear), centre-cropped to 224x224", short)
	}
	d := &Decoded{N: len(files), C: 3, H: h, W: w, Pixels: make([]uint8, 0, len(files)*3*h*w),
		Format: "PNG/JPEG, " + how}
	var tree []int
	if ordered, ls, names, ok := folderTree(files, classes); ok {
		if len(names) > classes && labels == nil {
			return nil, fmt.Errorf("%s: %d class folders (ImageFolder's labels, in sorted order: 0 %s .. %d %s), but the model has %d classes: give a labels file",
				strings.SplitN(files[0].Name, "/", 2)[0], len(names), names[0], len(names)-1, names[len(names)-1], classes)
		}
		files, tree = ordered, ls
		d.Format = fmt.Sprintf("image folder of %d class folders (ImageFolder: labels by sorted folder name), PNG/JPEG, %s", len(names), how)
	}
	if labels != nil {
		d.Format += ", labels from the labels file"
	}
	for i, f := range files {
		b, err := readAll(f)
		if err != nil {
			return nil, err
		}
		if picture.Format(b) == "" {
			if len(files) > 1 {
				return nil, fmt.Errorf("%s: not a PNG or JPEG image (several files are read as images; other formats go one at a time)", f.Name)
			}
			return nil, errors.New("not a PNG or JPEG image")
		}
		px, iw, ih, err := picture.Decode(b)
		if err != nil {
			if len(files) > 1 {
				return nil, fmt.Errorf("%s: %v", f.Name, err)
			}
			return nil, err
		}
		if short > 0 && (iw != w || ih != h) {
			// An image already of the input's size is taken as cropped.
			px = picture.ShortSide(px, iw, ih, short, w, h)
		} else {
			px = picture.Fit(px, iw, ih, w, h)
		}
		d.Pixels = append(d.Pixels, px...)
		label := picture.Label(f.Name, classes)
		if tree != nil {
			label = tree[i]
		}
		if labels != nil {
			k, ok := labelFrom(labels, f.Name)
			if !ok {
				return nil, fmt.Errorf("%s: neither its folder nor its name is in the labels file", f.Name)
			}
			label = k
		}
		d.Labels = append(d.Labels, label)
		d.Names = append(d.Names, f.Name)
	}
	return d, nil
}

// labelNames are the arrays labels are taken from, by preference.
var labelNames = []string{"labels", "y", "label", "targets", "fine_labels"}

// imageNames are the arrays images are taken from, by preference.
var imageNames = []string{"images", "x", "X", "data", "inputs", "arr_0"}

func npzArrays(b []byte, classes int, in [3]int) (*Decoded, error) {
	z, err := npy.OpenNPZ(b)
	if err != nil {
		return nil, err
	}
	var imName, lbName string
	for _, n := range labelNames {
		if z.Has(n) {
			lbName = n
			break
		}
	}
	for _, n := range imageNames {
		if z.Has(n) {
			imName = n
			break
		}
	}
	if imName == "" {
		var others []string
		for _, n := range z.Names {
			if n != lbName {
				others = append(others, n)
			}
		}
		if len(others) != 1 {
			return nil, fmt.Errorf("no array called images (or x, data) among %s", strings.Join(z.Names, ", "))
		}
		imName = others[0]
	}
	im, err := z.Array(imName)
	if err != nil {
		return nil, err
	}
	var lb *npy.Array
	if lbName != "" {
		if lb, err = z.Array(lbName); err != nil {
			return nil, err
		}
	}
	d, err := fromArrays("array "+imName, im, lb, classes, in)
	if err != nil {
		return nil, err
	}
	d.Format = "npz " + d.Format
	return d, nil
}

// fromArrays reads images (and labels) from numpy arrays.
func fromArrays(what string, im, lb *npy.Array, classes int, in [3]int) (*Decoded, error) {
	var floats func() ([]float32, error)
	if im.DType == "float32" || im.DType == "float64" {
		floats = im.Float32s
	} else if im.DType != "uint8" {
		return nil, fmt.Errorf("%s is %s: want uint8 pixels, or float32/float64 already normalised", what, im.DType)
	}
	d, err := fromImages(what, im.Shape, im.Data, floats, in)
	if err != nil {
		return nil, err
	}
	d.Format = fmt.Sprintf("%s %v", im.DType, im.Shape)
	if lb == nil {
		return d, noLabels(d)
	}
	l, err := lb.Ints()
	if err != nil {
		return nil, fmt.Errorf("labels: %v", err)
	}
	return d, setLabels(d, lb.Shape, l, classes)
}

// torchDict reads a torch.save'd {'images': tensor, 'labels': tensor}.
func torchDict(b []byte, classes int, in [3]int) (*Decoded, error) {
	keys, ts, err := pth.LoadTensors(b)
	if err != nil {
		return nil, err
	}
	var im, lb *pth.Typed
	for _, n := range imageNames {
		if im = ts[n]; im != nil {
			break
		}
	}
	for _, n := range labelNames {
		if lb = ts[n]; lb != nil {
			break
		}
	}
	if im == nil {
		some := keys
		if len(some) > 3 {
			some = append(slices.Clip(some[:3]), fmt.Sprintf("... (%d tensors)", len(keys)))
		}
		return nil, fmt.Errorf("no tensor called images among %s: a checkpoint? it goes in the other box", strings.Join(some, ", "))
	}
	var floats func() ([]float32, error)
	switch {
	case im.Floats != nil:
		floats = func() ([]float32, error) { return im.Floats, nil }
	case im.DType != "uint8":
		return nil, fmt.Errorf("tensor images is %s: want uint8 pixels, or floats already normalised", im.DType)
	}
	d, err := fromImages("tensor images", im.Shape, im.Bytes, floats, in)
	if err != nil {
		return nil, err
	}
	d.Format = fmt.Sprintf("torch %s %v", im.DType, im.Shape)
	if lb == nil {
		return d, noLabels(d)
	}
	if lb.Ints == nil {
		return nil, fmt.Errorf("tensor labels is %s: want integers", lb.DType)
	}
	l := make([]int, len(lb.Ints))
	for i, v := range lb.Ints {
		if v < math.MinInt32 || v > math.MaxInt32 {
			return nil, fmt.Errorf("label %d of image %d is out of range", v, i)
		}
		l[i] = int(v)
	}
	return d, setLabels(d, lb.Shape, l, classes)
}

func noLabels(d *Decoded) error {
	d.Labels = make([]int, d.N)
	for i := range d.Labels {
		d.Labels[i] = -1
	}
	return nil
}

func setLabels(d *Decoded, shape, l []int, classes int) error {
	if len(shape) != 1 || shape[0] != d.N {
		return fmt.Errorf("labels have shape %v, want [%d] for the %d images", shape, d.N, d.N)
	}
	for i, v := range l {
		if v < -1 || classes > 0 && v >= classes {
			return fmt.Errorf("label %d of image %d, but the model has %d classes (-1: no label)", v, i, classes)
		}
	}
	d.Labels = l
	return nil
}

// fromImages reads images of uint8 [N,C,H,W] or [N,H,W,C] (data, C = the
// model's channels), or of floats [N,C,H,W] (floats non-nil).
func fromImages(what string, shape []int, data []byte, floats func() ([]float32, error), in [3]int) (*Decoded, error) {
	c := in[0]
	want := func() error {
		return fmt.Errorf("%s has shape %v, want uint8 [N %d %d %d] or [N %d %d %d], or float [N %d H W] already normalised",
			what, shape, in[1], in[2], c, c, in[1], in[2], c)
	}
	if len(shape) != 4 || shape[0] == 0 {
		return nil, want()
	}
	n := shape[0]
	d := &Decoded{N: n, C: c}
	if floats != nil {
		if shape[1] != c {
			return nil, want()
		}
		d.H, d.W = shape[2], shape[3]
		x, err := floats()
		if err != nil {
			return nil, err
		}
		for i, v := range x {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("%s: value %v in image %d", what, v, i/(c*d.H*d.W))
			}
		}
		d.X = x
		return d, nil
	}
	switch {
	case shape[1] == c: // NCHW, as stored
		d.H, d.W = shape[2], shape[3]
		d.Pixels = data
	case shape[3] == c: // NHWC, as images are usually held: to CHW
		d.H, d.W = shape[1], shape[2]
		hw := d.H * d.W
		d.Pixels = make([]uint8, len(data))
		for i := range n {
			img, out := data[i*hw*c:(i+1)*hw*c], d.Pixels[i*hw*c:(i+1)*hw*c]
			for p := range hw {
				for ch := range c {
					out[ch*hw+p] = img[p*c+ch]
				}
			}
		}
	default:
		return nil, want()
	}
	return d, nil
}

// readAll is a file's bytes: Data, or R read to its end.
func readAll(f File) ([]byte, error) {
	if f.Data != nil || f.R == nil {
		return f.Data, nil
	}
	b, err := io.ReadAll(f.R)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", f.Name, err)
	}
	return b, nil
}

// isImageName says whether a file's name ends as a PNG or JPEG file's does.
func isImageName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}
