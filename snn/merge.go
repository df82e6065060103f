package snn

import (
	"fmt"
	"math"
)

// Merge joins the results of runs over disjoint parts of one batch, given
// in the batch's image order, into the result of the whole batch: the loss,
// gradients, paths and firing rates are means over images, so each part's
// mean is turned back into its sum (times its images), the sums added and
// divided once by all the images, as one run divides its sum; accuracies
// join through the parts' counts of labelled images and correct ones. The
// page splits a batch across Web Workers this way, the CLI a long run across
// batches, and `spikegrad merge` a sharded run's parts. The sums are made
// in another order than one run's, so the result agrees with it to float
// rounding (about 1e-16 relative in float64), not bit for bit.
func Merge(parts []*Result) (*Result, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("merge: no results")
	}
	first := parts[0]
	r := &Result{T: first.T, L: first.L, Gamma: first.Gamma, Precision: first.Precision, SpreadRuns: first.SpreadRuns}
	for i, p := range parts {
		if p.N < 1 || p.T != first.T || p.L != first.L || p.Gamma != first.Gamma || len(p.Layers) != len(first.Layers) ||
			p.Precision != first.Precision || p.SpreadRuns != first.SpreadRuns {
			return nil, fmt.Errorf("merge: part %d (n=%d, T=%d, L=%d, gamma=%g, %d layers, %s, %d spread runs) does not match part 0",
				i, p.N, p.T, p.L, p.Gamma, len(p.Layers), p.Precision, p.SpreadRuns)
		}
		if p.Unlabeled < 0 || p.Unlabeled > p.N {
			return nil, fmt.Errorf("merge: part %d has %d unlabelled images of %d", i, p.Unlabeled, p.N)
		}
		r.N += p.N
		r.Unlabeled += p.Unlabeled
		r.Pred = append(r.Pred, p.Pred...)
	}
	N := float64(r.N)
	for _, p := range parts {
		r.Loss += p.Loss * float64(p.N)
		labeled, correct := p.N-p.Unlabeled, p.Correct
		if p.Labeled != labeled {
			// A result without the counts (older JSON): the accuracy is
			// correct/labeled, which rounds back to the count exactly.
			correct = int(math.Round(p.Accuracy * float64(labeled)))
		}
		r.Labeled += labeled
		r.Correct += correct
	}
	r.Loss /= N
	if r.Labeled > 0 {
		r.Accuracy = float64(r.Correct) / float64(r.Labeled)
	}
	if first.Curve != nil {
		// Each point as the loss and accuracy above: sums and counts.
		r.Curve = make([]CurvePoint, len(first.Curve))
		for t := range r.Curve {
			right := 0.0
			for i, p := range parts {
				if len(p.Curve) != len(first.Curve) {
					return nil, fmt.Errorf("merge: part %d has a curve of %d points, part 0 of %d", i, len(p.Curve), len(first.Curve))
				}
				r.Curve[t].Loss += p.Curve[t].Loss * float64(p.N)
				right += math.Round(p.Curve[t].Accuracy * float64(p.N-p.Unlabeled))
			}
			r.Curve[t].T, r.Curve[t].Loss = first.Curve[t].T, r.Curve[t].Loss/N
			if r.Labeled > 0 {
				r.Curve[t].Accuracy = right / float64(r.Labeled)
			}
		}
	}
	for j, fl := range first.Layers {
		l := LayerResult{Name: fl.Name, Thresh: fl.Thresh}
		if fl.GradPaths != nil {
			l.GradPaths = &GradPaths{}
		}
		for i, p := range parts {
			pl := p.Layers[j]
			if pl.Name != fl.Name || len(pl.Grad) != len(fl.Grad) || (pl.GradPaths == nil) != (fl.GradPaths == nil) ||
				len(pl.GradRuns) != len(fl.GradRuns) {
				return nil, fmt.Errorf("merge: part %d's layer %d (%s) does not match part 0's (%s)", i, j, pl.Name, fl.Name)
			}
			w := float64(p.N)
			l.FiringRate += pl.FiringRate * w
			l.NearThreshold += pl.NearThreshold
			l.Grad = addScaled(l.Grad, pl.Grad, w)
			if l.GradRuns == nil && pl.GradRuns != nil {
				l.GradRuns = make([][]float64, len(pl.GradRuns))
			}
			for k, g := range pl.GradRuns {
				l.GradRuns[k] = addScaled(l.GradRuns[k], g, w)
			}
			if gp := pl.GradPaths; gp != nil {
				l.GradPaths.Crossing = addScaled(l.GradPaths.Crossing, gp.Crossing, w)
				l.GradPaths.Amplitude = addScaled(l.GradPaths.Amplitude, gp.Amplitude, w)
				l.GradPaths.Reset = addScaled(l.GradPaths.Reset, gp.Reset, w)
				l.GradPaths.Init = addScaled(l.GradPaths.Init, gp.Init, w)
			}
		}
		l.FiringRate /= N
		scale(l.Grad, N)
		for _, g := range l.GradRuns {
			scale(g, N)
		}
		if gp := l.GradPaths; gp != nil {
			scale(gp.Crossing, N)
			scale(gp.Amplitude, N)
			scale(gp.Reset, N)
			scale(gp.Init, N)
		}
		if l.GradRuns != nil {
			l.fillSpread()
		}
		r.Layers = append(r.Layers, l)
	}
	return r, nil
}

// addScaled returns dst + w*src, making dst when it is nil (a forward-only
// run has no gradients: nil stays nil).
func addScaled(dst, src []float64, w float64) []float64 {
	if src == nil {
		return dst
	}
	if dst == nil {
		dst = make([]float64, len(src))
	}
	for i, v := range src {
		dst[i] += v * w
	}
	return dst
}

// scale divides v by d in place.
func scale(v []float64, d float64) {
	for i := range v {
		v[i] /= d
	}
}
