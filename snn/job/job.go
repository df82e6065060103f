// Package job turns the files a researcher has (a checkpoint and an image
// batch, as bytes) into a network and its input, with errors that name the
// file. The CLI and the page both start here.
package job

import (
	"context"
	"fmt"
	"slices"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/pth"
)

// Checkpoint reads a torch.save file and recognises its network.
func Checkpoint(name string, b []byte) (*snn.Net, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%s: empty file", name)
	}
	sd, err := pth.Load(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	net, err := snn.Load(sd)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return net, nil
}

// Batch is the images a run uses, as bytes and as the model's input.
type Batch struct {
	Pixels     []uint8   // n images, CHW each; nil when the file holds normalised floats
	X          []float32 // the model's input: Pixels normalised with Norm, or the file's floats
	Labels     []int     // -1: no label (the engine then takes the predicted class's loss)
	Norm       snn.Norm  // "none" for normalised floats
	Total      int       // images in the file
	Indices    []int     // the images' positions in the file
	Names      []string  // the images' file names, for PNG/JPEG files; else nil
	Format     string    // what the file was read as, e.g. "CIFAR python batch", "uint8 [10 32 32 3]"
	Member     string    // the member read, for a release archive
	Unlabelled int       // images without a label
}

// Images decodes a batch file and takes images offset..offset+n-1 (fewer
// when the file ends first), normalised with the preset norm ("auto" picks it
// from the model's class count).
func Images(name string, b []byte, net *snn.Net, offset, n int, norm string) (*Batch, error) {
	return Inputs([]File{{Name: name, Data: b}}, net, "", Choice{Offset: offset, N: n}, norm)
}

// Inputs decodes the data files (see Decode; member: the archive member),
// takes the chosen images and makes them the model's input: uint8 pixels are
// normalised with the preset norm ("auto" picks it from the model's class
// count), floats are taken as already normalised.
func Inputs(files []File, net *snn.Net, member string, c Choice, norm string) (*Batch, error) {
	if err := c.check(net, norm); err != nil {
		return nil, err
	}
	d, err := Decode(files, net, member)
	if err != nil {
		return nil, err
	}
	return Choose(d, DataName(files), net, c, norm)
}

// DataName names the data files in messages: the file, or "k images".
func DataName(files []File) string {
	if len(files) == 1 {
		return files[0].Name
	}
	return fmt.Sprintf("%d images", len(files))
}

func (c Choice) check(net *snn.Net, norm string) error {
	if _, err := snn.NormFor(norm, net.Arch.Classes); err != nil && norm != "" && norm != "auto" {
		return err
	}
	if c.Indices == nil && c.N < 1 {
		return fmt.Errorf("n is %d: at least one image is needed", c.N)
	}
	if c.Indices == nil && !c.Random && c.Offset < 0 {
		return fmt.Errorf("offset is %d: it must be 0 or more", c.Offset)
	}
	return nil
}

// Choose takes the chosen images of decoded data files (named name in
// messages) as Inputs does; the page decodes a file once and chooses from
// it for every run.
func Choose(d *Decoded, name string, net *snn.Net, c Choice, norm string) (*Batch, error) {
	if err := c.check(net, norm); err != nil {
		return nil, err
	}
	classes := net.Arch.Classes
	in := net.Arch.Input
	if d.C != in[0] || d.H != in[1] || d.W != in[2] {
		return nil, fmt.Errorf("%s: images are %dx%dx%d, the model takes %dx%dx%d%s", name, d.C, d.H, d.W, in[0], in[1], in[2], sizeHint(d, in))
	}
	idx, err := c.Pick(d.N)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	sz := d.C * d.H * d.W
	bt := &Batch{Total: d.N, Indices: idx, Format: d.Format, Member: d.Member, Labels: make([]int, len(idx))}
	for k, i := range idx {
		bt.Labels[k] = d.Labels[i]
		if d.Labels[i] < 0 {
			bt.Unlabelled++
		}
		if d.Names != nil {
			bt.Names = append(bt.Names, d.Names[i])
		}
	}
	if d.X != nil {
		if norm != "" && norm != "auto" && norm != "none" {
			return nil, fmt.Errorf("%s holds floats, taken as already normalised: normalisation %s does not apply (use auto or none)", name, norm)
		}
		bt.Norm, _ = snn.NormFor("none", classes)
		bt.X = gather(d.X, idx, sz)
		return bt, nil
	}
	nm, err := snn.NormFor(norm, classes)
	if err != nil {
		return nil, err
	}
	bt.Norm = nm
	bt.Pixels = gather(d.Pixels, idx, sz)
	bt.X = nm.Normalize(bt.Pixels, d.C, d.H*d.W)
	return bt, nil
}

// RunParts runs the images idx of d (named name in messages) on net, at
// most size at a time, one part after the other (each on every core), and
// merges the parts' results: the loss and gradients are means over images
// and snn.Merge weighs each part by its images, so that a run of thousands
// keeps only one part's normalised images in memory. progress, when set,
// hears the images done over all parts; each, when set, sees every part's
// batch after its run. The CLI and the page run all their images this way.
func RunParts(ctx context.Context, net *snn.Net, d *Decoded, name string, idx []int, size int, norm string, opt snn.Options,
	progress func(done, total int, p snn.Progress), each func(*Batch)) (*snn.Result, error) {
	if size < 1 {
		return nil, fmt.Errorf("parts of %d images: want at least 1", size)
	}
	var res *snn.Result
	for lo := 0; lo < len(idx); lo += size {
		b, err := Choose(d, name, net, Choice{Indices: idx[lo:min(lo+size, len(idx))]}, norm)
		if err != nil {
			return nil, err
		}
		o := opt
		if progress != nil {
			// A run with a spread counts its part's images once a run.
			k := len(b.Labels)
			o.Progress = func(p snn.Progress) { progress(lo+p.Image*k/max(p.Images, 1), len(idx), p) }
		}
		r, err := net.Run(ctx, b.X, b.Labels, o)
		if err != nil {
			return nil, err
		}
		if res == nil {
			res = r
		} else if res, err = snn.Merge([]*snn.Result{res, r}); err != nil {
			return nil, err
		}
		if each != nil {
			each(b)
		}
	}
	if res == nil {
		return nil, fmt.Errorf("%s: no images chosen", name)
	}
	return res, nil
}

// gather copies the images idx of size sz out of all (a run of consecutive
// images stays a sub-slice of all).
func gather[T any](all []T, idx []int, sz int) []T {
	if len(idx) > 0 && idx[len(idx)-1]-idx[0] == len(idx)-1 && slices.IsSorted(idx) {
		return all[idx[0]*sz : (idx[len(idx)-1]+1)*sz]
	}
	out := make([]T, 0, len(idx)*sz)
	for _, i := range idx {
		out = append(out, all[i*sz:(i+1)*sz]...)
	}
	return out
}

// sizeHint explains a size mismatch between the model and the images.
func sizeHint(d *Decoded, in [3]int) string {
	switch {
	case d.Names != nil:
		return ""
	case d.H == 32 && d.W == 32 && in[1] >= 64:
		return ": an ImageNet-size model with CIFAR-size images; give images of the model's size, or PNG/JPEG files, which are resized"
	case in[1] == 32 && in[2] == 32 && d.H > 32:
		return ": a CIFAR-size model with larger images; give 32x32 images, or PNG/JPEG files, which are resized"
	case d.C != in[0]:
		return fmt.Sprintf(": %d channels, the model %d", d.C, in[0])
	}
	return ": arrays and batches are not resized; PNG/JPEG files are"
}
