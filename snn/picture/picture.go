// Package picture reads PNG and JPEG images into a model's input size, and
// their labels from their file and folder names, from memory, so that it also
// runs in WebAssembly.
//
// An image is resized so that it covers the input (its short side to the
// input's side, torchvision's Resize(size)) and centre-cropped
// (CenterCrop). The resampling is PIL's Image.BILINEAR: a triangle filter
// widened by the scale when shrinking (antialiased, like Image.resize and
// torchvision on PIL images), computed in float32 and rounded once.
package picture

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
)

// MaxPixels bounds an image's width x height, checked on its header before
// it is decoded: a 33-megapixel photo decodes to 134 MB, and a header may
// claim any size.
const MaxPixels = 1 << 25

// Format tells a PNG or JPEG file by its first bytes ("" for neither).
func Format(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return "jpeg"
	}
	return ""
}

// Decode reads a PNG or JPEG image as its RGB pixels, channel-major (R plane,
// G plane, B plane), with its width and height. Alpha is dropped, as PIL's
// convert("RGB") does; 16-bit samples keep their high byte.
func Decode(b []byte) (pix []uint8, w, h int, err error) {
	f := Format(b)
	if f == "" {
		return nil, 0, 0, errors.New("not a PNG or JPEG image")
	}
	defer func() {
		// The decoders are not ours: whatever they may panic on is bad input.
		if r := recover(); r != nil {
			pix, w, h, err = nil, 0, 0, fmt.Errorf("malformed %s image", f)
		}
	}()
	var cfg image.Config
	if f == "png" {
		cfg, err = png.DecodeConfig(bytes.NewReader(b))
	} else {
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(b))
	}
	if err != nil {
		return nil, 0, 0, fmt.Errorf("bad %s image: %v", f, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxPixels/cfg.Height {
		return nil, 0, 0, fmt.Errorf("%s image of %dx%d pixels: more than the %d megapixels allowed", f, cfg.Width, cfg.Height, MaxPixels>>20)
	}
	var img image.Image
	if f == "png" {
		img, err = png.Decode(bytes.NewReader(b))
	} else {
		img, err = jpeg.Decode(bytes.NewReader(b))
	}
	if err != nil {
		return nil, 0, 0, fmt.Errorf("bad %s image: %v", f, err)
	}
	return planes(img), cfg.Width, cfg.Height, nil
}

// planes converts an image to RGB planes.
func planes(img image.Image) []uint8 {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	n := w * h
	pix := make([]uint8, 3*n)
	set := func(i int, c0, c1, c2 uint8) { pix[i], pix[n+i], pix[2*n+i] = c0, c1, c2 }
	switch m := img.(type) {
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				c := m.YCbCrAt(r.Min.X+x, r.Min.Y+y)
				r, g, b := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
				set(y*w+x, r, g, b)
			}
		}
	case *image.Gray:
		for y := range h {
			for x := range w {
				v := m.GrayAt(r.Min.X+x, r.Min.Y+y).Y
				set(y*w+x, v, v, v)
			}
		}
	case *image.NRGBA:
		for y := range h {
			for x := range w {
				c := m.NRGBAAt(r.Min.X+x, r.Min.Y+y)
				set(y*w+x, c.R, c.G, c.B)
			}
		}
	default:
		for y := range h {
			for x := range w {
				c := color.NRGBA64Model.Convert(img.At(r.Min.X+x, r.Min.Y+y)).(color.NRGBA64)
				set(y*w+x, uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8))
			}
		}
	}
	return pix
}

// Fit resizes RGB planes of w x h so that they cover outW x outH (the scale
// of the side that needs more) and crops the centre, as torchvision's
// Resize(size) then CenterCrop(size) on a square input. An image already of
// the input's size is returned as it is.
func Fit(pix []uint8, w, h, outW, outH int) []uint8 {
	if w == outW && h == outH {
		return pix
	}
	sw, sh := float64(outW)/float64(w), float64(outH)/float64(h)
	nw, nh := outW, outH
	if sw >= sh {
		nh = max(outH, int(float64(h)*sw))
	} else {
		nw = max(outW, int(float64(w)*sh))
	}
	return resizeCrop(pix, w, h, nw, nh, outW, outH)
}

// ShortSide is torchvision's Resize(short) then CenterCrop((outH, outW)) on
// RGB planes of w x h: the short side to short, the long side to
// int(short * long / short_side), then the centre outW x outH (short must
// be at least both; transforms.Resize(256), CenterCrop(224) is ImageNet's
// evaluation transform).
func ShortSide(pix []uint8, w, h, short, outW, outH int) []uint8 {
	nw, nh := short, short
	if w <= h {
		nh = int(float64(short) * float64(h) / float64(w))
	} else {
		nw = int(float64(short) * float64(w) / float64(h))
	}
	return resizeCrop(pix, w, h, max(nw, outW), max(nh, outH), outW, outH)
}

// resizeCrop resizes w x h planes to nw x nh with PIL's bilinear filter and
// keeps the centre outW x outH (computing only those outputs).
func resizeCrop(pix []uint8, w, h, nw, nh, outW, outH int) []uint8 {
	// torchvision's CenterCrop: int(round((size - crop) / 2.0)), Python's round.
	left := int(math.RoundToEven(float64(nw-outW) / 2))
	top := int(math.RoundToEven(float64(nh-outH) / 2))

	hw := weights(w, nw, left, outW)
	vw := weights(h, nh, top, outH)
	out := make([]uint8, 3*outW*outH)
	row := make([]float32, outW*h) // one plane, resized horizontally
	for c := range 3 {
		src := pix[c*w*h : (c+1)*w*h]
		for y := range h {
			for x, k := range hw {
				var s float32
				for j, wt := range k.w {
					s += wt * float32(src[y*w+k.first+j])
				}
				row[y*outW+x] = s
			}
		}
		dst := out[c*outW*outH : (c+1)*outW*outH]
		for y, k := range vw {
			for x := range outW {
				var s float32
				for j, wt := range k.w {
					s += wt * row[(k.first+j)*outW+x]
				}
				dst[y*outW+x] = uint8(min(max(math.Round(float64(s)), 0), 255))
			}
		}
	}
	return out
}

// kernel is one output sample's source span and weights.
type kernel struct {
	first int
	w     []float32
}

// weights are PIL's bilinear weights (ImagingResample's precompute_coeffs)
// from in samples to out, for outputs from..from+n-1 only.
func weights(in, out, from, n int) []kernel {
	scale := float64(in) / float64(out)
	fscale := max(scale, 1)
	support := fscale // the triangle's support is 1, widened when shrinking
	ks := make([]kernel, n)
	for i := range ks {
		center := (float64(from+i) + 0.5) * scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), in)
		w := make([]float64, hi-lo)
		var sum float64
		for j := range w {
			x := math.Abs((float64(lo+j) - center + 0.5) / fscale)
			if x < 1 {
				w[j] = 1 - x
			}
			sum += w[j]
		}
		k := kernel{first: lo, w: make([]float32, len(w))}
		for j := range w {
			if sum > 0 {
				k.w[j] = float32(w[j] / sum)
			}
		}
		ks[i] = k
	}
	return ks
}
