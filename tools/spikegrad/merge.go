package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/job"
)

// partFile is one shard's -json output.
type partFile struct {
	name string
	res  snn.Result
	info runInfo
	idx  []int
}

// runMerge is `spikegrad merge [-json] [-html FILE] part*.json`: it joins
// the -json outputs of the shards of one run into that run's result,
// refusing parts that were not made with the same checkpoint, data, images,
// settings and shard count, and a missing or repeated shard.
func runMerge(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("spikegrad merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: spikegrad merge [-json] [-html FILE] part*.json   (the -json outputs of spikegrad -shard i/n, every shard once)")
		fs.PrintDefaults()
	}
	asJSON := fs.Bool("json", false, "print one JSON object (the fields of spikegrad -json, with shards and indices)")
	lang := fs.String("lang", "en", "table and report language: en|zh")
	htmlOut := fs.String("html", "", "also write a standalone HTML report with the charts to `FILE`")
	echartsJS := fs.String("echarts", "", "ECharts bundle `file` to inline in the -html report (default: from npm ci / make site)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("merge: bad flags (see spikegrad merge -h)")
	}
	if *lang != "en" && *lang != "zh" {
		return fmt.Errorf("merge: -lang %q: want en or zh", *lang)
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("merge: no files: give every shard's -json output, e.g. spikegrad merge part*.json")
	}
	echarts, err := reportECharts(*htmlOut, *echartsJS)
	if err != nil {
		return err
	}
	var parts []*partFile
	for _, name := range fs.Args() {
		p, err := readPart(name)
		if err != nil {
			return err
		}
		parts = append(parts, p)
	}
	res, info, err := mergeParts(parts)
	if err != nil {
		return err
	}
	if *htmlOut != "" {
		f, err := os.Create(*htmlOut)
		if err != nil {
			return fileError(*htmlOut, err)
		}
		err = writeReport(f, res, info.Checkpoint, info.Data, *lang, echarts)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %v", *htmlOut, err)
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			*snn.Result
			runInfo
		}{res, info})
	}
	printTable(stdout, res, info.Checkpoint, info.Data, labels[*lang])
	return nil
}

// readPart reads one shard's -json output.
func readPart(name string) (*partFile, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fileError(name, err)
	}
	p := &partFile{name: name}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&p.res); err != nil {
		return nil, fmt.Errorf("%s: not spikegrad -json output: %v", name, err)
	}
	if err := json.Unmarshal(b, &p.info); err != nil {
		return nil, fmt.Errorf("%s: not spikegrad -json output: %v", name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: more than one JSON object (one shard's spikegrad -json output a file)", name)
	}
	if p.info.Shard == nil || p.info.ChosenSHA256 == "" || p.info.CheckpointSHA256 == "" || p.info.Indices == "" {
		return nil, fmt.Errorf("%s: not a shard's output (no shard, indices or sha256 fields): make it with spikegrad -shard i/n -json", name)
	}
	if p.res.N < 1 || len(p.res.Layers) == 0 || p.res.Labeled+p.res.Unlabeled != p.res.N {
		return nil, fmt.Errorf("%s: a shard's output without its images or layers (n=%d, labeled=%d, unlabeled=%d, %d layers)",
			name, p.res.N, p.res.Labeled, p.res.Unlabeled, len(p.res.Layers))
	}
	if s := p.info.Shard; s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return nil, fmt.Errorf("%s: shard %s is not one of 0/n .. (n-1)/n", name, s)
	}
	if p.idx, err = job.ParseIndices(p.info.Indices); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(p.idx) != p.res.N {
		return nil, fmt.Errorf("%s: %d indices for n=%d images", name, len(p.idx), p.res.N)
	}
	return p, nil
}

// mergeParts checks that the parts are every shard of one run, once, and
// joins them in shard order.
func mergeParts(parts []*partFile) (*snn.Result, runInfo, error) {
	a := parts[0]
	for _, p := range parts[1:] {
		if err := sameRun(a, p); err != nil {
			return nil, runInfo{}, err
		}
	}
	n := a.info.Shard.Count
	byShard := make([]*partFile, n)
	for _, p := range parts {
		i := p.info.Shard.Index
		if q := byShard[i]; q != nil {
			if q.name == p.name {
				return nil, runInfo{}, fmt.Errorf("%s: given twice (shard %s): give each shard once", p.name, p.info.Shard)
			}
			return nil, runInfo{}, fmt.Errorf("%s: shard %s again (%s has it too): give each shard once", p.name, p.info.Shard, q.name)
		}
		byShard[i] = p
	}
	var missing []string
	for i, p := range byShard {
		if p == nil {
			missing = append(missing, fmt.Sprintf("%d/%d", i, n))
		}
	}
	if len(missing) > 0 {
		var have []string
		for _, p := range parts {
			have = append(have, p.name)
		}
		return nil, runInfo{}, fmt.Errorf("merge: shard %s missing (have %s): give every shard's -json output", strings.Join(missing, ", "), strings.Join(have, " "))
	}
	var all []int
	var rs []*snn.Result
	for _, p := range byShard {
		lo, hi := p.info.Shard.bounds(a.info.Chosen)
		if p.res.N != hi-lo {
			return nil, runInfo{}, fmt.Errorf("%s: shard %s holds %d images, but %d chosen images give it %d", p.name, p.info.Shard, p.res.N, a.info.Chosen, hi-lo)
		}
		all = append(all, p.idx...)
		rs = append(rs, &p.res)
	}
	if indicesHash(all) != a.info.ChosenSHA256 {
		return nil, runInfo{}, fmt.Errorf("merge: the shards' images, in shard order, are not the %d images chosen (chosen_sha256 %.12s...): the parts come from different runs", a.info.Chosen, a.info.ChosenSHA256)
	}
	res, err := snn.Merge(rs)
	if err != nil {
		return nil, runInfo{}, err
	}
	info := a.info
	info.Shard, info.Shards, info.Indices = nil, n, formatIndices(all)
	return res, info, nil
}

// sameRun refuses a part q made otherwise than part p, naming q's file and
// the first thing that differs.
func sameRun(p, q *partFile) error {
	type field struct {
		what   string
		pv, qv any
	}
	pi, qi, pr, qr := p.info, q.info, p.res, q.res
	for _, f := range []field{
		{"checkpoint (sha256)", fmt.Sprintf("%s (%.12s...)", pi.Checkpoint, pi.CheckpointSHA256), fmt.Sprintf("%s (%.12s...)", qi.Checkpoint, qi.CheckpointSHA256)},
		{"data", pi.Data, qi.Data},
		{"data member", pi.Member, qi.Member},
		{"images in the data", pi.DataImages, qi.DataImages},
		{"T", pr.T, qr.T},
		{"L", pr.L, qr.L},
		{"gamma", pr.Gamma, qr.Gamma},
		{"norm", pi.Norm, qi.Norm},
		{"precision", pr.Precision, qr.Precision},
		{"quantiser", quantiserName(pi.Quantiser), quantiserName(qi.Quantiser)},
		{"curve points (-curve)", len(pr.Curve), len(qr.Curve)},
		{"spread runs", pr.SpreadRuns, qr.SpreadRuns},
		{"shard count", pi.Shard.Count, qi.Shard.Count},
		{"images chosen", fmt.Sprintf("%d (sha256 %.12s...)", pi.Chosen, pi.ChosenSHA256), fmt.Sprintf("%d (sha256 %.12s...)", qi.Chosen, qi.ChosenSHA256)},
		{"IF layers", layerNames(&pr, &qr), layerNames(&qr, &pr)},
	} {
		if f.what == "checkpoint (sha256)" {
			// The same bytes under another path (a node's local copy) join.
			if pi.CheckpointSHA256 == qi.CheckpointSHA256 {
				continue
			}
		}
		if fmt.Sprint(f.pv) != fmt.Sprint(f.qv) {
			return fmt.Errorf("%s: %s %v, but %s has %v: parts of one run only", q.name, f.what, f.qv, p.name, f.pv)
		}
	}
	return nil
}

// layerNames names r's IF layers where they differ from o's: the count,
// or the first layer (with its threshold count) that differs.
func layerNames(r, o *snn.Result) string {
	if len(r.Layers) != len(o.Layers) {
		return fmt.Sprintf("%d IF layers", len(r.Layers))
	}
	for j, l := range r.Layers {
		if ol := o.Layers[j]; ol.Name != l.Name || len(ol.Thresh) != len(l.Thresh) {
			return fmt.Sprintf("IF layer %d %s[%d]", j, l.Name, len(l.Thresh))
		}
	}
	return "the same IF layers"
}
