// Package job turns the files a researcher has (a checkpoint and an image
// batch, as bytes) into a network and its input, with errors that name the
// file. The CLI and the page both start here.
package job

import (
	"fmt"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/cifar"
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
	Pixels []uint8   // n images, CHW each
	X      []float32 // the same, normalised
	Labels []int
	Norm   snn.Norm
	Total  int // images in the file
}

// Images decodes a batch file and takes images offset..offset+n-1 (fewer
// when the file ends first), normalised with the preset norm ("auto" picks it
// from the model's class count).
func Images(name string, b []byte, net *snn.Net, offset, n int, norm string) (*Batch, error) {
	nm, err := snn.NormFor(norm, net.Arch.Classes)
	if err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, fmt.Errorf("n is %d: at least one image is needed", n)
	}
	if offset < 0 {
		return nil, fmt.Errorf("offset is %d: it must be 0 or more", offset)
	}
	d, err := cifar.Decode(b, net.Arch.Classes)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	in := net.Arch.Input
	if d.C != in[0] || d.H != in[1] || d.W != in[2] {
		return nil, fmt.Errorf("%s: images are %dx%dx%d, the model takes %dx%dx%d", name, d.C, d.H, d.W, in[0], in[1], in[2])
	}
	if offset >= d.N {
		return nil, fmt.Errorf("%s: offset %d, but the file holds %d images", name, offset, d.N)
	}
	end := min(offset+n, d.N)
	sz := d.C * d.H * d.W
	px := d.Pixels[offset*sz : end*sz]
	return &Batch{
		Pixels: px,
		X:      nm.Normalize(px, d.C, d.H*d.W),
		Labels: d.Labels[offset:end],
		Norm:   nm,
		Total:  d.N,
	}, nil
}
