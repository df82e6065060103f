//go:build js && wasm

// Command wasm is the engine for the page: built with GOOS=js GOARCH=wasm it
// runs inside a Web Worker (web/worker.js) and exposes globalThis.spikegrad:
//
//	loadDemo()                      -> JSON {ckpt, data, classes, layers, images, description, held}
//	loadCheckpoint(name, Uint8Array[, description[, id]]) -> Promise of JSON {ckpt, arch, classes, layers, input,
//	                                    description, held, batchError}
//	                                    (description: an architecture description, JSON text, for a
//	                                    layout that is not recognised; the reply's is the one used)
//	loadBatch([names], [files][, id]) -> Promise of JSON {data, bytes, images, format, member, unlabelled, held};
//	                                    files are Files (Blobs), read in slices at each decode, or
//	                                    Uint8Arrays; several at once for PNG/JPEG images
//	run(settingsJSON, onProgress)    -> Promise of JSON {result, pred, labels, pixels, classNames,
//	                                    indices, names, format, member, unlabelled}
//	charts(resultJSON, lang)         -> JSON {thresh, grad, paths, rate} (ECharts options)
//	curve(settingsJSON, onProgress)  -> as run, forward only to settings.curve steps (T_max, default
//	                                    64) with result.curve: [{T, loss, accuracy}] for every T <= T_max
//	merge(resultsJSON)               -> JSON result: the runs of consecutive parts of a batch, joined
//	                                    (the page splits a run across one worker per core: settings
//	                                    "part" and "parts" make a run take only its share of the
//	                                    chosen images; a share of none answers without a result)
//
// A load is decoded and checked before it replaces what the engine holds,
// so that a refused file changes nothing; id is the page's name for the
// file ("demo" for the demo's), which every reply reports in held and which
// a run's or teaching call's settings.ckpt_id and .data_id must match.
//
// For the teaching views (snn/teach.go), with the run's settings plus
// "thresh" (every IF layer's thresholds, replacing the checkpoint's) where
// it applies:
//
//	forward(settingsJSON)            -> Promise of JSON {result, seconds} (no gradients)
//	detail(settingsJSON)             -> Promise of JSON {result, seconds} with result.detail;
//	                                    settings.detail = {layer, image, neuron}
//	finiteDiff(settingsJSON)         -> Promise of JSON {fd, seconds}; settings.fd_step
//	                                    (fraction of each layer's mean threshold), .fd_layers,
//	                                    .base (the run's result, for its gradients; else run)
//	descend(settingsJSON)            -> Promise of JSON {steps, seconds}; settings.lr, .steps
//	lineSearch(settingsJSON)         -> Promise of JSON {search, seconds}: snn.LineSearch from
//	                                    settings.lr, .steps, .tries, .base (as finiteDiff's)
//
// Every call answers {"error": "one line"} instead of throwing, and a panic in
// Go becomes such a line too, so the worker never dies with the engine.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"syscall/js"
	"time"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/chart"
	"github.com/spikegrad/spikegrad/snn/cifar"
	"github.com/spikegrad/spikegrad/snn/demo"
	"github.com/spikegrad/spikegrad/snn/job"
)

// The loaded checkpoint and data files; a run uses both. The files are
// decoded once for the network and archive member they were decoded for.
// ckptID and dataID are the page's names for the files it gave ("demo" for
// the demo's): a run or teaching call that names others is refused, so that
// no worker computes on other files than the page shows. A file that is
// refused changes none of these.
var (
	net      *snn.Net
	ckptName string
	ckptID   string
	sources  []source
	dataName string
	dataID   string
	isDemo   bool
	decoded  struct {
		d      *job.Decoded
		net    *snn.Net
		member string
	}
)

// settings are the page's inputs, with the CLI's defaults.
type settings struct {
	N      int `json:"n"`
	Offset int `json:"offset"`
	// Member names the batch to read in a release archive ("": the test
	// batch); Seed, when set, chooses n images at random; Indices, when not
	// empty, lists the images ("3,7,10-12") instead.
	Member  string  `json:"member"`
	Seed    *uint64 `json:"seed"`
	Indices string  `json:"indices"`
	T       int     `json:"T"`
	L       int     `json:"L"`
	Gamma   float64 `json:"gamma"`
	Norm    string  `json:"norm"`
	// Precision is "float32" (the default) or "float64", the exact mode;
	// Spread adds that many nudged-weight runs (snn.Options.Spread).
	Precision string `json:"precision"`
	Spread    int    `json:"spread"`
	// Curve, when above 0, makes the run a forward-only one of that many
	// steps with the conversion curve (snn.Options.Curve): what the "curve"
	// call does with the run's settings.
	Curve int `json:"curve"`
	// Quantiser is ANN mode's activation: "if" (the default) or "myfloor"
	// (snn.Options.Quantiser).
	Quantiser string `json:"quantiser"`
	// The teaching views' own.
	Thresh   [][]float64 `json:"thresh"`
	Detail   *snn.Detail `json:"detail"`
	FDStep   float64     `json:"fd_step"`
	FDLayers []int       `json:"fd_layers"`
	Base     *snn.Result `json:"base"` // finiteDiff: the run at these settings, for its gradients
	LR       float64     `json:"lr"`
	Steps    int         `json:"steps"`
	Tries    int         `json:"tries"` // lineSearch: learning rates to try
	// Pixels is how many of the run's images to send back as pixels, for
	// thumbnails (-1, the default: all); of a part's, counted from the first
	// image of the whole.
	Pixels int `json:"pixels"`
	// Part of Parts: the run takes the part-th of parts consecutive shares
	// of the chosen images (the first len%parts shares one image more).
	Part  int `json:"part"`
	Parts int `json:"parts"`
	// CkptID and DataID, when set, are the files the page means: the call
	// is refused when this engine holds others.
	CkptID string `json:"ckpt_id"`
	DataID string `json:"data_id"`
}

// share is settings s's part of the chosen images idx, and where it starts.
func share(idx []int, s *settings) ([]int, int) {
	if s.Parts < 2 {
		return idx, 0
	}
	q, r := len(idx)/s.Parts, len(idx)%s.Parts
	from := s.Part*q + min(s.Part, r) // the shares before: r of them one longer
	n := q
	if s.Part < r {
		n++
	}
	return idx[from : from+n], from
}

func main() {
	api := map[string]any{
		"loadDemo":       js.FuncOf(guard(loadDemo)),
		"loadCheckpoint": js.FuncOf(async(loadCheckpoint)),
		"loadBatch":      js.FuncOf(async(loadBatch)),
		"run":            js.FuncOf(async(run)),
		"charts":         js.FuncOf(guard(charts)),
		"curve":          js.FuncOf(async(curve)),
		"merge":          js.FuncOf(guard(merge)),
		"forward":        js.FuncOf(async(teach("forward"))),
		"detail":         js.FuncOf(async(teach("detail"))),
		"finiteDiff":     js.FuncOf(async(teach("finiteDiff"))),
		"descend":        js.FuncOf(async(teach("descend"))),
		"lineSearch":     js.FuncOf(async(teach("lineSearch"))),
	}
	js.Global().Set("spikegrad", js.ValueOf(api))
	select {}
}

// guard turns an error or a panic into {"error": ...}.
func guard(f func(args []js.Value) (any, error)) func(js.Value, []js.Value) any {
	return func(_ js.Value, args []js.Value) (out any) {
		defer func() {
			if r := recover(); r != nil {
				out = errorJSON(fmt.Errorf("internal error: %v", r))
			}
		}()
		v, err := f(args)
		if err != nil {
			return errorJSON(err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return errorJSON(err)
		}
		return string(b)
	}
}

func errorJSON(err error) string {
	b, _ := json.Marshal(map[string]string{"error": err.Error()})
	return string(b)
}

func bytesArg(args []js.Value, i int) ([]byte, error) {
	if len(args) <= i || args[i].Type() != js.TypeObject {
		return nil, fmt.Errorf("argument %d: want a Uint8Array", i+1)
	}
	b := make([]byte, args[i].Get("length").Int())
	js.CopyBytesToGo(b, args[i])
	return b, nil
}

func strArg(args []js.Value, i int) string {
	if len(args) <= i || args[i].Type() != js.TypeString {
		return ""
	}
	return args[i].String()
}

func netInfo() map[string]any {
	var names []string
	for _, i := range net.IFLayers() {
		names = append(names, net.Layers[i].Name)
	}
	return map[string]any{"ckpt": ckptName, "arch": net.Arch.Name, "classes": net.Arch.Classes, "layers": names, "input": net.Arch.Input,
		"description": net.Arch, "held": held()}
}

// held says which of the page's files this engine holds.
func held() map[string]string {
	return map[string]string{"ckpt": ckptID, "data": dataID}
}

func loadDemo(args []js.Value) (any, error) {
	n, err := job.Checkpoint(demo.CheckpointName, demo.Checkpoint)
	if err != nil {
		return nil, err
	}
	ss := []source{{name: demo.BatchName, data: demo.Batch}}
	d, err := decodeFor(ss, n, "")
	if err != nil {
		return nil, err
	}
	net, ckptName, ckptID, isDemo = n, demo.CheckpointName, "demo", true
	setSources(ss, "demo", d, "")
	info := netInfo()
	info["data"] = dataName
	info["images"] = d.N
	info["format"] = d.Format
	info["bytes"] = len(demo.Batch)
	return info, nil
}

func loadCheckpoint(args []js.Value) (any, error) {
	name := strArg(args, 0)
	b, err := bytesArg(args, 1)
	if err != nil {
		return nil, err
	}
	var n *snn.Net
	if desc := strArg(args, 2); desc != "" {
		n, err = job.CheckpointArch(name, b, "the architecture description", []byte(desc))
	} else {
		n, err = job.Checkpoint(name, b)
	}
	if err != nil {
		return nil, err
	}
	net, ckptName, ckptID, isDemo = n, name, strArg(args, 3), false
	info := netInfo()
	// The batch this engine holds, read for the new network: a batch that
	// does not fit it is said now (the run would refuse it).
	if sources != nil {
		if _, err := decode(""); err != nil {
			info["batchError"] = err.Error()
		}
	}
	return info, nil
}

func loadBatch(args []js.Value) (any, error) {
	if len(args) < 2 || !args[0].InstanceOf(js.Global().Get("Array")) || !args[1].InstanceOf(js.Global().Get("Array")) ||
		args[0].Length() != args[1].Length() || args[0].Length() == 0 {
		return nil, fmt.Errorf("loadBatch: want [names] and as many files")
	}
	var ss []source
	total := 0
	for i := range args[0].Length() {
		src, err := sourceOf(args[0].Index(i).String(), args[1].Index(i))
		if err != nil {
			return nil, err
		}
		ss = append(ss, src)
		if src.data != nil {
			total += len(src.data)
		} else {
			total += src.blob.Get("size").Int()
		}
	}
	if net == nil {
		return nil, fmt.Errorf("loadBatch: no network to read the images for")
	}
	// Decoded and checked against the network before it replaces anything,
	// so that a refused file leaves this engine as it was.
	member := strArg(args, 3)
	d, err := decodeFor(ss, net, member)
	if err != nil {
		return nil, err
	}
	setSources(ss, strArg(args, 2), d, member)
	isDemo = false
	unlabelled := 0
	for _, l := range d.Labels {
		if l < 0 {
			unlabelled++
		}
	}
	return map[string]any{"data": dataName, "bytes": total, "images": d.N, "format": d.Format, "member": d.Member,
		"unlabelled": unlabelled, "held": held()}, nil
}

// setSources makes ss the loaded data (the page's id for it), decoded as d
// for the loaded network and member.
func setSources(ss []source, id string, d *job.Decoded, member string) {
	sources, dataName, dataID = ss, job.DataName(filesOf(ss)), id
	decoded.d, decoded.net, decoded.member = d, net, member
}

// filesOf opens sources for one decode (a Blob is read anew).
func filesOf(ss []source) []job.File {
	fs := make([]job.File, len(ss))
	for i, s := range ss {
		fs[i] = s.file()
	}
	return fs
}

// decodeFor decodes sources for network n and checks that their images fit
// it: what a run would refuse, said when the file is loaded.
func decodeFor(ss []source, n *snn.Net, member string) (*job.Decoded, error) {
	d, err := job.Decode(filesOf(ss), n, member)
	if err != nil {
		return nil, err
	}
	if d.N > 0 {
		if _, err := job.Choose(d, job.DataName(filesOf(ss)), n, job.Choice{N: 1}, "auto"); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// decode decodes the loaded files for the loaded network, once per network
// and member.
func decode(member string) (*job.Decoded, error) {
	if decoded.d != nil && decoded.net == net && decoded.member == member {
		return decoded.d, nil
	}
	decoded.d = nil
	d, err := decodeFor(sources, net, member)
	if err != nil {
		return nil, err
	}
	decoded.d, decoded.net, decoded.member = d, net, member
	return d, nil
}

// run is a Promise (see async); the worker is busy until it ends, and the
// page cancels by ending the worker.
func run(args []js.Value) (any, error) {
	var progress js.Value
	if len(args) > 1 && args[1].Type() == js.TypeFunction {
		progress = args[1]
	}
	return runJob(strArg(args, 0), progress)
}

// choose reads the page's settings over the defaults in s and picks the
// images they ask for: their places in the loaded data, decoded.
func choose(set string, s *settings) (snn.Options, *job.Decoded, []int, error) {
	if net == nil || sources == nil {
		return snn.Options{}, nil, nil, fmt.Errorf("load a checkpoint and a batch first")
	}
	if err := json.Unmarshal([]byte(set), s); err != nil {
		return snn.Options{}, nil, nil, fmt.Errorf("settings: %v", err)
	}
	if err := checkHeld(s); err != nil {
		return snn.Options{}, nil, nil, err
	}
	if s.Precision != "" && s.Precision != "float32" && s.Precision != "float64" {
		return snn.Options{}, nil, nil, fmt.Errorf("precision %q: want float32 or float64", s.Precision)
	}
	opt := snn.Options{T: s.T, L: s.L, Gamma: s.Gamma, F64: s.Precision == "float64", Spread: s.Spread, Quantiser: s.Quantiser}
	if s.Curve > 0 {
		// One forward run to Curve steps: its first t steps are the t-step run.
		opt.T, opt.Curve, opt.ForwardOnly, opt.Spread = s.Curve, true, true, 0
	}
	if err := opt.Check(); err != nil {
		return snn.Options{}, nil, nil, err
	}
	c := job.Choice{Offset: s.Offset, N: s.N}
	if s.Seed != nil {
		// The page says so next to the field: a seed replaces the first image.
		c.Random, c.Seed, c.Offset = true, *s.Seed, 0
	}
	if s.Indices != "" {
		ix, err := job.ParseIndices(s.Indices)
		if err != nil {
			return snn.Options{}, nil, nil, err // "indices \"...\": ..." says what it is about
		}
		c.Indices = ix
	}
	d, err := decode(s.Member)
	if err != nil {
		return snn.Options{}, nil, nil, err
	}
	idx, err := c.Pick(d.N)
	if err != nil {
		return snn.Options{}, nil, nil, fmt.Errorf("%s: %v", dataName, err)
	}
	return opt, d, idx, nil
}

// checkHeld refuses settings that name other files than this engine holds.
func checkHeld(s *settings) error {
	if s.CkptID != "" && s.CkptID != ckptID {
		return fmt.Errorf("this worker holds checkpoint %s (%q), not %q: not run", ckptName, ckptID, s.CkptID)
	}
	if s.DataID != "" && s.DataID != dataID {
		return fmt.Errorf("this worker holds data %s (%q), not %q: not run", dataName, dataID, s.DataID)
	}
	return nil
}

// prepare is choose, with the chosen images normalised for the network.
func prepare(set string, s *settings) (snn.Options, *job.Batch, error) {
	opt, d, idx, err := choose(set, s)
	if err != nil {
		return opt, nil, err
	}
	b, err := job.Choose(d, dataName, net, job.Choice{Indices: idx}, s.Norm)
	return opt, b, err
}

// runPart is how many images a run normalises and runs at a time: a run of
// thousands keeps to the memory of one part (the results merge exactly as the
// workers' do).
var runPart = 256

func runJob(set string, progress js.Value) (any, error) {
	s := settings{N: 32, T: 8, L: 4, Gamma: 1, Norm: "auto", Pixels: -1}
	opt, d, idx, err := choose(set, &s)
	if err != nil {
		return nil, err
	}
	if s.Parts > 1 {
		if s.Part < 0 || s.Part >= s.Parts {
			return nil, fmt.Errorf("settings: part %d of %d", s.Part, s.Parts)
		}
		var from int
		idx, from = share(idx, &s)
		if len(idx) == 0 {
			return map[string]any{"indices": idx, "images": d.N, "held": held()}, nil
		}
		if s.Pixels >= 0 {
			s.Pixels = max(0, s.Pixels-from)
		}
	}
	last := time.Time{}
	var progressFn func(done, total int, p snn.Progress)
	if progress.Type() == js.TypeFunction {
		progressFn = func(done, total int, p snn.Progress) {
			// A message per layer would flood the page; a few per second tell enough.
			if now := time.Now(); now.Sub(last) > 100*time.Millisecond {
				last = now
				progress.Invoke(done, total, p.Layer, p.Phase)
			}
		}
	}
	t0 := time.Now()
	out := map[string]any{"indices": idx, "images": d.N, "held": held()}
	var labels []int
	var names []string
	var pixels []byte
	r, err := job.RunParts(context.Background(), net, d, dataName, idx, runPart, s.Norm, opt, progressFn, func(b *job.Batch) {
		labels, names = append(labels, b.Labels...), append(names, b.Names...)
		// Pixels for the thumbnails the page shows (settings.pixels images; -1 all).
		if per := len(b.Pixels) / len(b.Labels); s.Pixels < 0 || len(pixels) < s.Pixels*per {
			want := len(b.Pixels)
			if s.Pixels >= 0 {
				want = min(want, s.Pixels*per-len(pixels))
			}
			pixels = append(pixels, b.Pixels[:want]...)
		}
		out["format"], out["member"] = b.Format, b.Member
	})
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		names = nil
	}
	out["result"], out["pred"], out["labels"], out["names"] = r, r.Pred, labels, names
	out["pixels"] = base64.StdEncoding.EncodeToString(pixels)
	out["seconds"] = time.Since(t0).Seconds()
	out["ckpt"], out["data"] = ckptName, dataName
	out["unlabelled"] = r.Unlabeled
	if isDemo {
		out["classNames"] = demo.Classes
	} else if net.Arch.Classes == 10 {
		out["classNames"] = cifar.Classes10
	} else if net.Arch.Classes == 100 {
		out["classNames"] = cifar.Classes100
	}
	return out, nil
}

// curve is run with settings.curve (T_max, 64 when not given): the
// conversion curve of the run's images, a call of its own so that the page
// can end it as it ends the teaching views' work.
func curve(args []js.Value) (any, error) {
	set := strArg(args, 0)
	var c struct {
		Curve int `json:"curve"`
	}
	if err := json.Unmarshal([]byte(set), &c); err == nil && c.Curve <= 0 {
		var m map[string]any
		if json.Unmarshal([]byte(set), &m) == nil {
			m["curve"] = 64
			b, _ := json.Marshal(m)
			set = string(b)
		}
	}
	var progress js.Value
	if len(args) > 1 && args[1].Type() == js.TypeFunction {
		progress = args[1]
	}
	return runJob(set, progress)
}

// async makes f's answer a Promise: f runs on a goroutine, as a js.Func must
// not block, and a run or a read of a File waits.
func async(f func(args []js.Value) (any, error)) func(js.Value, []js.Value) any {
	g := guard(f)
	return func(_ js.Value, args []js.Value) any {
		var handler js.Func
		handler = js.FuncOf(func(_ js.Value, p []js.Value) any {
			resolve := p[0]
			go func() {
				resolve.Invoke(g(js.Undefined(), args))
				handler.Release()
			}()
			return nil
		})
		return js.Global().Get("Promise").New(handler)
	}
}

// teach runs one of the teaching calls on the loaded checkpoint and batch.
func teach(op string) func(args []js.Value) (any, error) {
	return func(args []js.Value) (any, error) {
		s := settings{N: 32, T: 8, L: 4, Gamma: 1, Norm: "auto", FDStep: 1e-2, LR: 0.1, Steps: 1}
		opt, b, err := prepare(strArg(args, 0), &s)
		if err != nil {
			return nil, err
		}
		// The teaching views explain the run of the checkpoint's weights: the
		// run's settings may carry the sign check's spread, which is not theirs.
		opt.Spread = 0
		m := net
		if s.Thresh != nil {
			if m, err = net.WithThresholds(s.Thresh); err != nil {
				return nil, err
			}
		}
		ctx := context.Background()
		t0 := time.Now()
		out := map[string]any{}
		switch op {
		case "forward":
			out["result"], err = m.Forward(ctx, b.X, b.Labels, opt)
		case "detail":
			if s.Detail == nil || s.T == 0 {
				return nil, fmt.Errorf("detail: needs settings.detail and T > 0")
			}
			opt.Detail = s.Detail
			out["result"], err = m.Run(ctx, b.X, b.Labels, opt)
		case "finiteDiff":
			out["fd"], err = m.FiniteDiff(ctx, b.X, b.Labels, opt, s.FDStep, s.FDLayers, s.Base)
		case "descend":
			out["steps"], err = m.Descend(ctx, b.X, b.Labels, opt, s.LR, s.Steps)
		case "lineSearch":
			out["search"], err = m.LineSearch(ctx, b.X, b.Labels, opt, s.LR, s.Steps, s.Tries, s.Base)
		}
		if err != nil {
			return nil, err
		}
		out["seconds"] = time.Since(t0).Seconds()
		return out, nil
	}
}

func merge(args []js.Value) (any, error) {
	var parts []*snn.Result
	if err := json.Unmarshal([]byte(strArg(args, 0)), &parts); err != nil {
		return nil, fmt.Errorf("merge: %v", err)
	}
	return snn.Merge(parts)
}

func charts(args []js.Value) (any, error) {
	var r snn.Result
	if err := json.Unmarshal([]byte(strArg(args, 0)), &r); err != nil {
		return nil, fmt.Errorf("charts: %v", err)
	}
	lang := strArg(args, 1)
	if lang == "" {
		lang = "en"
	}
	return chart.Options(&r, lang)
}
