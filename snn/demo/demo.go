// Package demo embeds spikegrad's demo network and data, so the tool can run
// without any downloads.
//
// The files are written by tools/ref/train_demo.py: a slim QCFS VGG16
// (width 1/8, hidden 512, 10 classes, learnable per-layer thresholds, L=4)
// trained in ANN mode on a synthetic 10-class image set drawn by
// tools/ref/synth.py (filled circles, rings, squares, stripes, ...), not on
// CIFAR. The batch is 32 held-out images of that set in the CIFAR-10 binary
// format (1 label byte, then 3072 pixel bytes: R, G and B planes), to be
// normalised with the CIFAR-10 mean and standard deviation.
package demo

import (
	_ "embed"
	"strings"
)

// File names of the embedded checkpoint and batch.
const (
	CheckpointName = "vgg16_demo.pth"
	BatchName      = "demo_batch.bin"
)

// Checkpoint is the PyTorch state dict (torch.save zip format, float32).
//
//go:embed vgg16_demo.pth
var Checkpoint []byte

// Batch holds the held-out images in CIFAR-10 binary format.
//
//go:embed demo_batch.bin
var Batch []byte

//go:embed classes.txt
var classesTxt string

// Classes are the names of the 10 classes, indexed by label.
var Classes = parseClasses(classesTxt)

func parseClasses(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}
