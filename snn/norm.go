package snn

import "fmt"

// Norm is a per-channel input normalisation: (pixel/255 - Mean) / Std.
type Norm struct {
	Name      string
	Mean, Std [3]float32
}

// Norms are the presets researchers train with (QCFS's exact CIFAR-100 values).
var Norms = []Norm{
	{"cifar10", [3]float32{0.4914, 0.4822, 0.4465}, [3]float32{0.2023, 0.1994, 0.2010}},
	{"cifar100", [3]float32{129.3 / 255, 124.1 / 255, 112.4 / 255}, [3]float32{68.2 / 255, 65.4 / 255, 70.4 / 255}},
	{"imagenet", [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}},
	{"none", [3]float32{0, 0, 0}, [3]float32{1, 1, 1}},
}

// NormFor returns the preset called name; "auto" (or "") picks it from the
// model's class count: 10 -> cifar10, 100 -> cifar100, 1000 -> imagenet.
func NormFor(name string, classes int) (Norm, error) {
	if name == "" || name == "auto" {
		switch classes {
		case 10:
			name = "cifar10"
		case 100:
			name = "cifar100"
		case 1000:
			name = "imagenet"
		default:
			return Norm{}, fmt.Errorf("no normalisation preset for a %d-class model: choose one with -norm (cifar10, cifar100, imagenet, none)", classes)
		}
	}
	for _, n := range Norms {
		if n.Name == name {
			return n, nil
		}
	}
	return Norm{}, fmt.Errorf("unknown normalisation %q (want auto, cifar10, cifar100, imagenet or none)", name)
}

// Normalize turns n images of c x hw bytes (channel-major) into the model's input.
func (nm Norm) Normalize(pix []uint8, c, hw int) []float32 {
	x := make([]float32, len(pix))
	for i, v := range pix {
		ch := (i / hw) % c
		x[i] = (float32(v)/255 - nm.Mean[ch]) / nm.Std[ch]
	}
	return x
}
