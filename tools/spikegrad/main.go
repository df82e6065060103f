// Command spikegrad prints, for a QCFS ANN-to-SNN checkpoint and a batch of
// images, every IF layer's threshold and the gradient of the loss with respect
// to it (SNN mode, T=8, L=4, gamma=1 by default).
//
//	spikegrad -ckpt vgg16_wd[0.0005].pth -data cifar-10-batches-py/test_batch -n 32
//
// With no -ckpt and -data it runs the embedded demo network and batch.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/demo"
	"github.com/spikegrad/spikegrad/snn/job"
)

func main() {
	defer func() {
		// A bug must still end in one line, not a stack dump over the user's terminal.
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "spikegrad: internal error: %v\n", r)
			os.Exit(1)
		}
	}()
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "spikegrad: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "merge" {
		return runMerge(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("spikegrad", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ckpt := fs.String("ckpt", "", "checkpoint `file` (torch.save of a QCFS state_dict); default: the embedded demo")
	archFile := fs.String("arch", "", "architecture description `file` (JSON, see the README) for a layout that is not recognised")
	printArch := fs.Bool("print-arch", false, "print the network's architecture description (JSON) and exit")
	data := fs.String("data", "", "image data `file` or folder: CIFAR batch or release .tar.gz, .npy/.npz, torch.save'd {images, labels}, PNG/JPEG, a folder of PNG/JPEG; default: the embedded demo batch")
	n := fs.Int("n", 32, "use `N` images (from -offset, or at random with -random)")
	part := fs.Int("batch", 256, "run more than this many `images` in parts of this size, summing the gradients over all (memory stays bounded; a progress bar on stderr)")
	offset := fs.Int("offset", 0, "first image to use")
	random := fs.String("random", "", "use -n images chosen at random with this `seed` (an unsigned integer)")
	indices := fs.String("indices", "", "use these images, e.g. `3,7,10-12`")
	shardFlag := fs.String("shard", "", "run only part `i/n` of the chosen images (i from 0; default: the Slurm array task's); join the parts' -json with spikegrad merge")
	member := fs.String("member", "", "batch to read from a CIFAR release .tar.gz, e.g. `data_batch_3` (default: the test batch)")
	labelsFile := fs.String("labels", "", "labels `file`: \"name index\" a line, for class folders (or image files) not in class order")
	quantiser := fs.String("quantiser", "if", "ANN mode's (-T 0) activation: if (the later QCFS code's IF) or myfloor (the earlier code's MyFloor)")
	T := fs.Int("T", 8, "time steps (0: ANN mode)")
	L := fs.Int("L", 4, "quantisation levels")
	gamma := fs.Float64("gamma", 1.0, "surrogate gradient width")
	norm := fs.String("norm", "auto", "normalisation: auto|cifar10|cifar100|imagenet|none")
	f64 := fs.Bool("f64", false, "compute in float64 end to end: the exact gradients, where float32 rounding can flip a spike and a gradient's sign")
	spread := fs.Int("spread", 0, "also run `K` copies whose weights each differ by at most one float32 ulp, and report per threshold the range of the gradient and whether its sign held")
	curve := fs.Int("curve", 0, "also give the accuracy and loss of the output averaged over T steps for every T up to `TMAX` (one forward run of TMAX steps: the conversion curve)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	lang := fs.String("lang", "en", "table and report language: en|zh")
	htmlOut := fs.String("html", "", "also write a standalone HTML report with the charts to `FILE`")
	fd := fs.Bool("fd", false, "also print \"surrogate gradient vs finite difference: same sign?\" for every IF layer")
	fdStep := fs.Float64("fd-step", 1e-2, "finite-difference step, as a `fraction` of each layer's mean threshold")
	echartsJS := fs.String("echarts", "", "ECharts bundle `file` to inline in the -html report (default: from npm ci / make site)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("bad flags (see -h)")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags go before files: -ckpt FILE -data FILE)", fs.Arg(0))
	}
	if *lang != "en" && *lang != "zh" {
		return fmt.Errorf("-lang %q: want en or zh", *lang)
	}
	opt := snn.Options{T: *T, L: *L, Gamma: *gamma, F64: *f64, Spread: *spread, Quantiser: *quantiser}
	if err := opt.Check(); err != nil {
		return err
	}
	if *part < 1 {
		return fmt.Errorf("-batch %d: want at least 1 image a part", *part)
	}
	if *fd && (!(*fdStep > 0) || *fdStep >= 1) {
		return fmt.Errorf("-fd-step %g: want a fraction of the threshold between 0 and 1", *fdStep)
	}
	// Found before the run, so a missing bundle does not cost a run.
	echarts, err := reportECharts(*htmlOut, *echartsJS)
	if err != nil {
		return err
	}

	ckName, ckBytes := demo.CheckpointName, demo.Checkpoint
	if *ckpt != "" {
		b, err := os.ReadFile(*ckpt)
		if err != nil {
			return fileError(*ckpt, err)
		}
		ckName, ckBytes = *ckpt, b
	}
	choice := job.Choice{Offset: *offset, N: *n}
	if *random != "" {
		seed, err := strconv.ParseUint(*random, 10, 64)
		if err != nil {
			return fmt.Errorf("-random %q: want a seed, an unsigned integer", *random)
		}
		choice.Random, choice.Seed = true, seed
	}
	if *indices != "" {
		idx, err := job.ParseIndices(*indices)
		if err != nil {
			return fmt.Errorf("-indices: %v", err)
		}
		choice.Indices = idx
	}
	dataName := demo.BatchName
	files := []job.File{{Name: demo.BatchName, Data: demo.Batch}}
	if *data != "" {
		dataName = *data
		var closeAll func()
		var err error
		if files, closeAll, err = dataFiles(*data); err != nil {
			return err
		}
		defer closeAll()
	}
	net, err := job.Checkpoint(ckName, ckBytes)
	if *archFile != "" {
		desc, rerr := os.ReadFile(*archFile)
		if rerr != nil {
			return fileError(*archFile, rerr)
		}
		net, err = job.CheckpointArch(ckName, ckBytes, *archFile, desc)
	}
	if err != nil {
		return err
	}
	if *printArch {
		return writeArch(stdout, net.Arch)
	}
	var labelMap job.Labels
	if *labelsFile != "" {
		b, err := os.ReadFile(*labelsFile)
		if err != nil {
			return fileError(*labelsFile, err)
		}
		if labelMap, err = job.ParseLabels(*labelsFile, b, net.Arch.Classes); err != nil {
			return err
		}
	}
	d, err := job.DecodeLabels(files, net, *member, labelMap)
	if err != nil {
		return err
	}
	idx, err := choice.Pick(d.N)
	if err != nil {
		return fmt.Errorf("%s: %v", dataName, err)
	}
	if choice.Indices == nil && len(idx) < *n {
		fmt.Fprintf(stderr, "spikegrad: %s holds %d images; using all of them\n", dataName, len(idx))
	}
	chosen := idx
	idx, sh, err := pickShard(*shardFlag, os.Getenv, idx, stderr)
	if err != nil {
		return err
	}
	if sh != nil && *fd {
		return fmt.Errorf("-fd does not join across shards: run it without -shard (or outside a Slurm array)")
	}
	if *fd && len(idx) > *part {
		return fmt.Errorf("-fd re-runs the whole batch per layer: use at most -batch (%d) images with it", *part)
	}
	// More images than a part: one part after another, with a progress bar.
	var progress func(done, total int, p snn.Progress)
	bar := progressBar(stderr, len(idx), time.Now())
	if len(idx) > *part {
		progress = func(done, _ int, _ snn.Progress) { bar(done) }
	}
	var batch *job.Batch // the last part's: the only one when -fd runs
	res, err := job.RunParts(context.Background(), net, d, dataName, idx, *part, *norm, opt, progress,
		func(b *job.Batch) { batch = b })
	if err != nil {
		return err
	}
	if progress != nil {
		bar(len(idx))
		fmt.Fprintln(stderr)
	}
	if res.Unlabeled > 0 {
		fmt.Fprintf(stderr, "spikegrad: %d of %d images have no label: their loss and gradients are those of the predicted class\n", res.Unlabeled, res.N)
	}
	var fds []snn.FD
	if *fd {
		if fds, err = net.FiniteDiff(context.Background(), batch.X, batch.Labels, opt, *fdStep, nil, res); err != nil {
			return err
		}
	}
	if *curve > 0 {
		// One forward run to TMAX: its first t steps are the t-step run.
		copt := opt
		copt.T, copt.Curve, copt.ForwardOnly, copt.Spread = *curve, true, true, 0
		if err := copt.Check(); err != nil {
			return fmt.Errorf("-curve %d: %v", *curve, err)
		}
		cr, err := job.RunParts(context.Background(), net, d, dataName, idx, *part, *norm, copt, nil, nil)
		if err != nil {
			return err
		}
		res.Curve = cr.Curve
	}
	// The report after the curve, which it draws.
	if *htmlOut != "" {
		f, err := os.Create(*htmlOut)
		if err != nil {
			return fileError(*htmlOut, err)
		}
		err = writeReport(f, res, ckName, dataName, *lang, echarts)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %v", *htmlOut, err)
		}
	}
	if *asJSON {
		info := runInfo{Checkpoint: ckName, Data: dataName, Member: batch.Member, DataImages: d.N, Norm: batch.Norm.Name, Chosen: len(chosen),
			Quantiser: quantiserName(*quantiser)}
		if sh != nil {
			info.CheckpointSHA256, info.ChosenSHA256 = fileSHA256(ckBytes), indicesHash(chosen)
			info.Shard, info.Indices = sh, formatIndices(idx)
		}
		return json.NewEncoder(stdout).Encode(struct {
			*snn.Result
			runInfo
			FD []snn.FD `json:"fd,omitempty"`
		}{res, info, fds})
	}
	printTable(stdout, res, ckName, dataName, labels[*lang])
	printCurve(stdout, res, labels[*lang])
	if *fd {
		printFD(stdout, fds, res, *fdStep, fdLabels[*lang])
	}
	return nil
}

// progressBar returns a function that redraws, at most ten times a second
// and always at the end, "[####----] done/total images, elapsed, left".
func progressBar(w io.Writer, total int, t0 time.Time) func(done int) {
	var last time.Time
	return func(done int) {
		now := time.Now()
		if done < total && now.Sub(last) < 100*time.Millisecond {
			return
		}
		last = now
		const width = 30
		k := width * done / total
		el := now.Sub(t0).Seconds()
		left := "?"
		if done > 0 {
			left = fmt.Sprintf("%.0f s", el*float64(total-done)/float64(done))
		}
		fmt.Fprintf(w, "\rspikegrad: [%s%s] %d/%d images, %.0f s, %s left ", strings.Repeat("#", k), strings.Repeat("-", width-k), done, total, el, left)
	}
}

// dataFiles opens -data: a file (read as a stream, so that a release
// archive is not held whole in memory), or a folder, whose PNG/JPEG files
// (in subfolders too, named by their path under it for their labels) are
// read in name order.
func dataFiles(name string) ([]job.File, func(), error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, nil, fileError(name, err)
	}
	if !st.IsDir() {
		f, err := os.Open(name)
		if err != nil {
			return nil, nil, fileError(name, err)
		}
		return []job.File{{Name: name, R: f}}, func() { f.Close() }, nil
	}
	var files []job.File
	err = filepath.WalkDir(name, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return fileError(p, err)
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".png", ".jpg", ".jpeg":
		default:
			return nil
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return fileError(p, err)
		}
		rel, _ := filepath.Rel(name, p)
		// The folder's own name counts too: cat/ given alone labels its images.
		files = append(files, job.File{Name: filepath.ToSlash(filepath.Join(filepath.Base(filepath.Clean(name)), rel)), Data: b})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("%s: a folder without PNG or JPEG images", name)
	}
	slices.SortFunc(files, func(a, b job.File) int { return strings.Compare(a.Name, b.Name) })
	return files, func() {}, nil
}

// fileError turns an os error into "FILE: problem" without Go's "open" prefix.
func fileError(name string, err error) error {
	switch {
	case os.IsNotExist(err):
		return fmt.Errorf("%s: no such file", name)
	case os.IsPermission(err):
		return fmt.Errorf("%s: permission denied", name)
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", name, pe.Err)
	}
	return fmt.Errorf("%s: %v", name, err)
}

// words are the table's labels, in the researchers' own terms.
type words struct {
	model, data, loss, acc, title, layer, shape, params, thresh, grad, norm, mean, paths, found, T, L, gamma, n string
	precision, spread, rangeOf, held, flipped, near, curve                                                      string
}

var labels = map[string]words{
	"en": {"Checkpoint", "Data", "Loss", "Accuracy", "IF layer thresholds and gradients", "IF layer threshold",
		"shape", "parameters", "threshold", "gradient", "gradient norm", "gradient mean",
		"paths (crossing / amplitude / reset / init)", "%d IF layer thresholds found", "time steps (T)", "quantisation levels (L)", "gamma", "images",
		"precision", "sign robustness: the checkpoint and %d copies whose weights differ by at most one float32 ulp",
		"gradient range", "sign held in every run", "SIGN NOT ROBUST: it changed between runs", "neuron-steps within float32 rounding of the threshold",
		"accuracy and loss of the output averaged over the first T steps (one forward run)"},
	"zh": {"模型", "数据", "损失", "准确率", "IF层阈值参数和梯度信息", "IF层阈值",
		"形状", "参数数量", "阈值", "梯度值", "梯度范数", "梯度均值",
		"梯度路径 (穿越 / 幅值 / 重置 / 初始)", "总共找到 %d 个IF层阈值参数", "时间步数(T)", "量化级别(L)", "gamma参数", "图像数",
		"精度", "符号稳健性: 原检查点及 %d 个权重各相差不超过一个 float32 ulp 的副本",
		"梯度范围", "每次运行符号均不变", "符号不稳健: 各次运行符号不同", "距阈值在 float32 舍入以内的神经元步数",
		"前 T 个时间步平均输出的准确率和损失 (一次前向运行)"},
}

// printTable mirrors the printout of the researchers' own PyTorch script.
func printTable(w io.Writer, r *snn.Result, ckpt, data string, l words) {
	rule := strings.Repeat("=", 80)
	fmt.Fprintf(w, "%s: %s\n%s: %s (%s: %d)\n", l.model, ckpt, l.data, data, l.n, r.N)
	fmt.Fprintf(w, "%s: %s, %s: %d, %s: %g, %s: %s\n", l.T, mode(r.T), l.L, r.L, l.gamma, r.Gamma, l.precision, r.Precision)
	if r.SpreadRuns > 0 {
		fmt.Fprintf(w, l.spread+"\n", r.SpreadRuns-1)
	}
	fmt.Fprintf(w, "%s: %.6f\n%s: %.4f\n", l.loss, r.Loss, l.acc, r.Accuracy)
	fmt.Fprintf(w, "%s\n%s\n%s\n", rule, l.title, rule)
	for _, ly := range r.Layers {
		var sq, sum float64
		for _, g := range ly.Grad {
			sq += g * g
			sum += g
		}
		fmt.Fprintf(w, "%s: %s.thresh\n", l.layer, ly.Name)
		fmt.Fprintf(w, "  %s: [%d], %s: %d\n", l.shape, len(ly.Thresh), l.params, len(ly.Thresh))
		fmt.Fprintf(w, "  %s: %s\n", l.thresh, values(ly.Thresh))
		fmt.Fprintf(w, "  %s: %s\n", l.grad, values(ly.Grad))
		fmt.Fprintf(w, "  %s: %.6f, %s: %.6f\n", l.norm, math.Sqrt(sq), l.mean, sum/float64(len(ly.Grad)))
		if p := ly.GradPaths; p != nil {
			fmt.Fprintf(w, "  %s: %s / %s / %s / %s\n", l.paths, values(p.Crossing), values(p.Amplitude), values(p.Reset), values(p.Init))
		}
		if ly.SignStable != nil {
			held := l.held
			if slices.Contains(ly.SignStable, false) {
				held = l.flipped
			}
			fmt.Fprintf(w, "  %s: %s .. %s, %s\n", l.rangeOf, values(ly.GradMin), values(ly.GradMax), held)
		}
		fmt.Fprintf(w, "  %s: %d\n", l.near, ly.NearThreshold)
		fmt.Fprintln(w, strings.Repeat("-", 60))
	}
	fmt.Fprintf(w, l.found+"\n", len(r.Layers))
	fmt.Fprintln(w, rule)
}

// printCurve prints the conversion curve, the run's own T marked.
func printCurve(w io.Writer, r *snn.Result, l words) {
	if len(r.Curve) == 0 {
		return
	}
	fmt.Fprintf(w, "%s\n%6s %10s %10s\n", l.curve, "T", l.acc, l.loss)
	for _, p := range r.Curve {
		mark := ""
		if p.T == r.T {
			mark = " <"
		}
		fmt.Fprintf(w, "%6d %10.4f %10.6f%s\n", p.T, p.Accuracy, p.Loss, mark)
	}
}

func mode(T int) string {
	if T == 0 {
		return "0 (ANN)"
	}
	return fmt.Sprint(T)
}

// values prints one value as a number and several as a list.
func values(v []float64) string {
	if len(v) == 1 {
		return fmt.Sprintf("%.6f", v[0])
	}
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.6f", x)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// writeArch prints a description as the README shows it: one module a line.
func writeArch(w io.Writer, a *snn.Arch) error {
	h, err := json.Marshal(struct {
		Name    string `json:"name"`
		Input   [3]int `json:"input"`
		Classes int    `json:"classes,omitempty"`
	}{a.Name, a.Input, a.Classes})
	if err != nil {
		return err
	}
	var b strings.Builder
	b.Write(h[:len(h)-1])
	b.WriteString(`,"modules":[` + "\n")
	for i, m := range a.Modules {
		line, err := json.Marshal(m)
		if err != nil {
			return err
		}
		b.WriteString("  ")
		b.Write(line)
		if i < len(a.Modules)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]}\n")
	_, err = io.WriteString(w, b.String())
	return err
}
