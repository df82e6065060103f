package main

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/fixture"
)

const testdata = "../../snn/testdata/"

func runCLI(args ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	err = run(args, &o, &e)
	return o.String(), e.String(), err
}

// TestJSONMatchesPyTorch: -json prints exactly one object of the documented
// schema, with PyTorch's numbers (tools/ref/make_fixtures.py, case c10_T8_g1).
func TestJSONMatchesPyTorch(t *testing.T) {
	out, _, err := runCLI("-ckpt", testdata+"vgg16_c10.pth", "-data", testdata+"c10.bin", "-n", "8", "-json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var got map[string]any
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if dec.More() {
		t.Fatal("more than one JSON value on stdout")
	}
	for _, k := range []string{"loss", "accuracy", "T", "L", "gamma", "n", "layers"} {
		if _, ok := got[k]; !ok {
			t.Errorf("missing key %q", k)
		}
	}
	c, err := fixture.Find(testdata, "c10_T8_g1")
	if err != nil {
		t.Fatal(err)
	}
	want := c.Want
	if l := got["loss"].(float64); math.Abs(l-want.Loss) > 1e-4*want.Loss {
		t.Errorf("loss %g, PyTorch %g", l, want.Loss)
	}
	layers := got["layers"].([]any)
	if len(layers) != 15 {
		t.Fatalf("%d layers, want 15", len(layers))
	}
	for i, l := range layers {
		m := l.(map[string]any)
		if m["name"] != want.Layers[i].Name {
			t.Errorf("layer %d is %v, want %s", i, m["name"], want.Layers[i].Name)
		}
		for _, k := range []string{"thresh", "grad", "grad_paths", "firing_rate"} {
			if _, ok := m[k]; !ok {
				t.Errorf("layer %d: missing %q", i, k)
			}
		}
	}
}

// TestTable prints the researcher's table, in English and in Chinese.
func TestTable(t *testing.T) {
	out, _, err := runCLI("-ckpt", testdata+"vgg16_c10.pth", "-data", testdata+"c10.bin", "-n", "4", "-lang", "zh")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"IF层阈值: layer1.2.thresh", "阈值:", "梯度值:", "梯度范数:", "梯度均值:", "时间步数(T): 8", "量化级别(L): 4", "损失:", "总共找到 15 个IF层阈值参数"} {
		if !strings.Contains(out, w) {
			t.Errorf("zh table lacks %q", w)
		}
	}
	out, _, err = runCLI("-ckpt", testdata+"vgg16_c10.pth", "-data", testdata+"c10.bin", "-n", "4", "-T", "0")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"IF layer threshold: classifier.5.thresh", "gradient norm", "time steps (T): 0 (ANN)", "15 IF layer thresholds found"} {
		if !strings.Contains(out, w) {
			t.Errorf("en table lacks %q", w)
		}
	}
}

// TestDemo: with no flags the embedded demo runs.
func TestDemo(t *testing.T) {
	out, _, err := runCLI("-json")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Loss   float64
		Layers []struct{ Thresh []float64 }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Layers) != 15 || r.Loss >= math.Log(10) {
		t.Errorf("demo: %d layers, loss %g (chance is %g)", len(r.Layers), r.Loss, math.Log(10))
	}
}

// TestBadInput: each bad input is one line that names the file, never a panic.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(testdata + "vgg16_c10.pth")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	random := make([]byte, 5000)
	rand.New(rand.NewSource(1)).Read(random)
	trunc := write("trunc.pth", good[:len(good)/2])
	rnd := write("random.pth", random)
	odd := write("odd.bin", make([]byte, 3073*2+5))
	empty := write("empty.bin", nil)
	ck, data := testdata+"vgg16_c10.pth", testdata+"c10.bin"
	for _, c := range []struct {
		args []string
		want string // in the message, besides the file
	}{
		{[]string{"-ckpt", trunc, "-data", data}, trunc},
		{[]string{"-ckpt", rnd, "-data", data}, rnd},
		{[]string{"-ckpt", ck, "-data", odd}, odd},
		{[]string{"-ckpt", ck, "-data", empty}, empty},
		{[]string{"-ckpt", filepath.Join(dir, "missing.pth"), "-data", data}, "missing.pth: no such file"},
		{[]string{"-ckpt", ck, "-data", data, "-T", "-1"}, "T is -1"},
		{[]string{"-ckpt", ck, "-data", data, "-gamma", "0"}, "gamma"},
		{[]string{"-ckpt", ck, "-data", data, "-norm", "foo"}, "foo"},
		{[]string{"-ckpt", data, "-data", data}, data},
	} {
		_, _, err := runCLI(c.args...)
		if err == nil {
			t.Errorf("%v: no error", c.args)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") || strings.Contains(msg, "panic") {
			t.Errorf("%v: message %q, want one line containing %q", c.args, msg, c.want)
		}
	}
	// Every cut of the checkpoint is an error, not a panic.
	for n := 0; n < len(good); n += len(good)/97 + 1 {
		if _, _, err := runCLI("-ckpt", write("cut.pth", good[:n]), "-data", data, "-n", "1"); err == nil {
			t.Errorf("checkpoint cut at %d bytes: no error", n)
		}
	}
}

// TestHTMLReport: -html writes one page that inlines the given ECharts bundle
// and the four charts' options, and needs nothing from the network.
func TestHTMLReport(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "echarts.min.js")
	if err := os.WriteFile(js, []byte("/*ECHARTS-BUNDLE*/"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "r.html")
	if _, _, err := runCLI("-ckpt", testdata+"vgg16_c10.pth", "-data", testdata+"c10.bin", "-n", "2", "-html", out, "-echarts", js); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, w := range []string{"/*ECHARTS-BUNDLE*/", `id="thresh"`, `id="grad"`, `id="paths"`, `id="rate"`, "classifier.5", "dL/dthresh by path"} {
		if !strings.Contains(page, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	for _, w := range []string{"http://", "https://"} {
		if strings.Contains(page, w) {
			t.Errorf("report refers to %s", w)
		}
	}
	if _, _, err := runCLI("-html", out, "-echarts", filepath.Join(dir, "none.js")); err == nil || !strings.Contains(err.Error(), "none.js") {
		t.Errorf("missing bundle: %v", err)
	}
}

// TestFD: -fd prints the sign table, in both languages, with the engine's
// finite differences (checked against PyTorch in snn's TestFiniteDiffAgainstPyTorch).
func TestFD(t *testing.T) {
	for lang, title := range map[string]string{"en": "surrogate gradient vs finite difference: same sign?", "zh": "替代梯度与有限差分：符号相同吗？"} {
		out, _, err := runCLI("-ckpt", testdata+"vgg16_c10.pth", "-data", testdata+"c10.bin", "-n", "8", "-fd", "-lang", lang)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, title) || !strings.Contains(out, "classifier.5") {
			t.Errorf("-fd -lang %s: no table:\n%s", lang, out)
		}
	}
	out, _, err := runCLI("-ckpt", testdata+"vgg16_c10.pth", "-data", testdata+"c10.bin", "-n", "8", "-fd", "-fd-step", "0.02", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		FD []struct {
			Name  string
			Agree string
			H     float64
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.FD) != 15 || got.FD[0].Agree == "" || got.FD[0].H <= 0 {
		t.Errorf("-fd -json: %+v", got.FD)
	}
	if _, _, err := runCLI("-fd", "-fd-step", "2"); err == nil {
		t.Error("-fd-step 2 was accepted")
	}
}

// The data flags: an archive member, indices, random images, a folder of
// images (labels from names, the unlabelled ones said so on stderr).
func TestDataFlags(t *testing.T) {
	ck := testdata + "vgg16_c10.pth"
	dir := filepath.Join(t.TempDir(), "imgs") // not a number: a numbered folder would be a label
	for _, n := range []string{"cat_003.png", "airplane/1.png", "class_207.jpg"} {
		b, err := os.ReadFile("../../snn/picture/testdata/" + n)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, n)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		args   []string
		n      string
		stderr string
	}{
		{[]string{"-data", "../../snn/cifar/testdata/archives/cifar-10-binary.tar.gz", "-member", "data_batch_1.bin"}, `"n":1,`, "holds 1 images"},
		{[]string{"-data", testdata + "c10.bin", "-indices", "1,3-5"}, `"n":4,`, ""},
		{[]string{"-data", testdata + "c10.bin", "-random", "3", "-n", "5"}, `"n":5,`, ""},
		{[]string{"-data", dir, "-n", "100"}, `"n":3,`, "1 of 3 images have no label: their loss and gradients are those of the predicted class"},
	} {
		out, errOut, err := runCLI(append([]string{"-ckpt", ck, "-T", "2", "-json"}, c.args...)...)
		if err != nil {
			t.Errorf("%v: %v", c.args, err)
			continue
		}
		if !strings.Contains(out, c.n) || !strings.Contains(errOut, c.stderr) {
			t.Errorf("%v: stdout %.60q..., stderr %q; want %s and %q", c.args, out, errOut, c.n, c.stderr)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-random", "x"}, `-random "x": want a seed, an unsigned integer`},
		{[]string{"-indices", "3-1"}, `-indices: indices "3-1": "3-1" is not an index or a range like 10-12`},
		{[]string{"-indices", "99"}, "index 99, but the file holds 8 images (0 to 7)"},
		{[]string{"-member", "test"}, "a member (test) was asked for, but this is not a tar.gz archive"},
	} {
		_, _, err := runCLI(append([]string{"-ckpt", ck, "-data", testdata + "c10.bin"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
	}
}

// TestArchFlag: -print-arch writes the description the checkpoint was
// recognised as; -arch with it runs to the same numbers, and a broken one is
// one line naming the file.
func TestArchFlag(t *testing.T) {
	desc, _, err := runCLI("-ckpt", testdata+"vgg16_c10.pth", "-print-arch")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(desc, `{"name":"vgg16"`) || strings.Count(desc, "\n") != 52 {
		t.Errorf("-print-arch: %.300s", desc)
	}
	file := filepath.Join(t.TempDir(), "vgg16.json")
	if err := os.WriteFile(file, []byte(desc), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"-ckpt", testdata + "vgg16_c10.pth", "-data", testdata + "c10.bin", "-n", "4", "-json"}
	want, _, err := runCLI(base...)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := runCLI(append(base, "-arch", file)...)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("with -arch:\n%.300s\nrecognised:\n%.300s", got, want)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(strings.Replace(desc, `"stride":1`, `"strides":1`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = runCLI(append(base, "-arch", bad)...)
	if err == nil || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), "strides") {
		t.Errorf("a misspelt field: %v", err)
	}
}

// TestParts: a batch run in parts (-batch 3: 3, 3 and 2 images) gives
// PyTorch's numbers for the whole batch (case c10_T8_g1), and draws its
// progress bar on stderr.
func TestParts(t *testing.T) {
	out, errOut, err := runCLI("-ckpt", testdata+"vgg16_c10.pth", "-data", testdata+"c10.bin", "-n", "8", "-batch", "3", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var got snn.Result
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	c, err := fixture.Find(testdata, "c10_T8_g1")
	if err != nil {
		t.Fatal(err)
	}
	want := c.Want
	if got.N != 8 || math.Abs(got.Loss-want.Loss) > 1e-6*want.Loss || got.Accuracy != want.Accuracy {
		t.Errorf("n %d, loss %g, accuracy %g; PyTorch: n 8, loss %g, accuracy %g", got.N, got.Loss, got.Accuracy, want.Loss, want.Accuracy)
	}
	worst, largest := fixture.GradGap(&got, &want)
	if worst > 1e-5*largest {
		t.Errorf("worst gradient difference %.3g of the largest |grad|", worst/largest)
	}
	t.Logf("in parts of 3: loss %g (PyTorch %g), worst gradient difference %.2g of the largest |grad|", got.Loss, want.Loss, worst/largest)
	if !strings.Contains(errOut, "] 8/8 images") {
		t.Errorf("no finished progress bar on stderr: %q", errOut)
	}
	if _, _, err := runCLI("-ckpt", testdata+"vgg16_c10.pth", "-data", testdata+"c10.bin", "-n", "8", "-batch", "3", "-fd"); err == nil || !strings.Contains(err.Error(), "-batch") {
		t.Errorf("-fd over parts: error %v", err)
	}
}
