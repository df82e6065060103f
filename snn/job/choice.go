package job

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Choice says which images of a data file a run uses: Indices when set,
// else N images at random when Random is set, else N images from Offset.
type Choice struct {
	Offset  int
	N       int
	Random  bool
	Seed    uint64
	Indices []int
}

// maxIndices bounds a list of indices, ranges included.
const maxIndices = 1 << 20

// ParseIndices reads a list of image indices such as "3,7,10-12" (ranges
// inclusive).
func ParseIndices(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.Atoi(strings.TrimSpace(hi))
		}
		if err1 != nil || err2 != nil || a < 0 || b < a {
			return nil, fmt.Errorf("indices %q: %q is not an index or a range like 10-12", clipText(s), clipText(part))
		}
		if b-a >= maxIndices-len(out) {
			return nil, fmt.Errorf("indices %q: more than %d images", clipText(s), maxIndices)
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("indices %q: no index", clipText(s))
	}
	return out, nil
}

func clipText(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Pick returns the positions of the chosen images in a file of total images.
//
// Random draws min(N, total) distinct images with a partial Fisher-Yates
// shuffle driven by PCG-DXSM (math/rand/v2's NewPCG(Seed, 0); swap position
// i with i + (a draw below total-i, by rejection, without modulo bias)), and returns
// them in increasing order: the same seed always gives the same images.
func (c Choice) Pick(total int) ([]int, error) {
	switch {
	case c.Indices != nil:
		for _, i := range c.Indices {
			if i < 0 || i >= total {
				return nil, fmt.Errorf("index %d, but the file holds %d images (0 to %d)", i, total, total-1)
			}
		}
		return slices.Clone(c.Indices), nil
	case c.N < 1:
		return nil, fmt.Errorf("n is %d: at least one image is needed", c.N)
	case c.Random:
		if c.Offset != 0 {
			return nil, errors.New("choose an offset or random images, not both")
		}
		n := min(c.N, total)
		src := rand.NewPCG(c.Seed, 0)
		perm := make([]int, total)
		for i := range perm {
			perm[i] = i
		}
		for i := range n {
			j := i + int(below(src, uint64(total-i)))
			perm[i], perm[j] = perm[j], perm[i]
		}
		out := perm[:n:n]
		slices.Sort(out)
		return out, nil
	case c.Offset < 0:
		return nil, fmt.Errorf("offset is %d: it must be 0 or more", c.Offset)
	case c.Offset >= total:
		return nil, fmt.Errorf("offset %d, but the file holds %d images", c.Offset, total)
	}
	end := min(c.Offset+c.N, total)
	out := make([]int, 0, end-c.Offset)
	for i := c.Offset; i < end; i++ {
		out = append(out, i)
	}
	return out, nil
}

// below returns a uniform number in [0, m), m > 0, from src alone, by
// rejecting the 2^64 mod m lowest outputs.
func below(src *rand.PCG, m uint64) uint64 {
	threshold := -m % m
	for {
		if x := src.Uint64(); x >= threshold {
			return x % m
		}
	}
}
