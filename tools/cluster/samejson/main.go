// Command samejson checks that two spikegrad -json outputs (a merge of
// shards and one run) hold the same numbers: the counts exactly, the loss
// to -tol of itself and every layer's thresholds, gradients, paths and
// firing rate to -tol of that layer's largest value. make cluster-test
// uses it.
//
//	go run ./tools/cluster/samejson -tol 1e-12 merged.json one.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"

	"github.com/spikegrad/spikegrad/snn"
)

func main() {
	tol := flag.Float64("tol", 1e-12, "largest relative gap allowed")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: samejson [-tol 1e-12] merged.json one.json")
		os.Exit(2)
	}
	var r [2]snn.Result
	for i, name := range flag.Args() {
		b, err := os.ReadFile(name)
		if err == nil {
			err = json.Unmarshal(b, &r[i])
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "samejson: %s: %v\n", name, err)
			os.Exit(1)
		}
	}
	worst, values, err := compare(&r[0], &r[1])
	if err == nil && worst > *tol {
		err = fmt.Errorf("worst gap %.3g relative, over the tolerance %.0e", worst, *tol)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "samejson: %s against %s: %v\n", flag.Arg(0), flag.Arg(1), err)
		os.Exit(1)
	}
	fmt.Printf("same numbers: n=%d, accuracy %g (%d/%d), loss %.17g vs %.17g, %d values, worst gap %.2g relative (tolerance %.0e)\n",
		r[0].N, r[0].Accuracy, r[0].Correct, r[0].Labeled, r[0].Loss, r[1].Loss, values, worst, *tol)
}

func compare(a, b *snn.Result) (float64, int, error) {
	if a.N != b.N || a.Correct != b.Correct || a.Labeled != b.Labeled || a.Unlabeled != b.Unlabeled || a.Accuracy != b.Accuracy ||
		a.T != b.T || a.L != b.L || a.Gamma != b.Gamma || a.Precision != b.Precision || len(a.Layers) != len(b.Layers) {
		return 0, 0, fmt.Errorf("n=%d correct=%d/%d T=%d L=%d gamma=%g %s %d layers against n=%d correct=%d/%d T=%d L=%d gamma=%g %s %d layers",
			a.N, a.Correct, a.Labeled, a.T, a.L, a.Gamma, a.Precision, len(a.Layers), b.N, b.Correct, b.Labeled, b.T, b.L, b.Gamma, b.Precision, len(b.Layers))
	}
	worst, values := math.Abs(a.Loss-b.Loss)/math.Abs(b.Loss), 1
	for j, bl := range b.Layers {
		al := a.Layers[j]
		if al.Name != bl.Name || al.NearThreshold != bl.NearThreshold || (al.GradPaths == nil) != (bl.GradPaths == nil) {
			return 0, 0, fmt.Errorf("layer %d: %s (near %d) against %s (near %d)", j, al.Name, al.NearThreshold, bl.Name, bl.NearThreshold)
		}
		pairs := [][2][]float64{{al.Grad, bl.Grad}, {al.Thresh, bl.Thresh}, {{al.FiringRate}, {bl.FiringRate}}}
		if bl.GradPaths != nil {
			x, y := al.GradPaths, bl.GradPaths
			pairs = append(pairs, [2][]float64{x.Crossing, y.Crossing}, [2][]float64{x.Amplitude, y.Amplitude},
				[2][]float64{x.Reset, y.Reset}, [2][]float64{x.Init, y.Init})
		}
		for _, p := range pairs {
			if len(p[0]) != len(p[1]) {
				return 0, 0, fmt.Errorf("layer %s: %d values against %d", bl.Name, len(p[0]), len(p[1]))
			}
			var largest float64
			for _, v := range p[1] {
				largest = max(largest, math.Abs(v))
			}
			for e := range p[1] {
				values++
				if d := math.Abs(p[0][e] - p[1][e]); d > 0 {
					worst = max(worst, d/largest)
				}
			}
		}
	}
	return worst, values, nil
}
