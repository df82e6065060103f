package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/job"
)

// TestInputs loads the other data forms through the page's file input (a
// release archive, several PNG/JPEG files, .npy arrays of pixels and of
// normalised floats), runs each, and checks the numbers against the native
// engine on the same files; then builds the checkpoint from a hand-written
// architecture description in the text area, and refuses a broken one.
func TestInputs(t *testing.T) {
	p := startPage(t, 8*time.Minute)
	ctx := p.ctx
	if err := chromedp.Do(ctx, chromedp.Navigate(p.srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitRun(t, ctx, 0, 3*time.Minute)

	testdata := filepath.Join(p.root, "snn", "testdata")
	ckpt := filepath.Join(testdata, "vgg16_c10.pth")
	upload(t, ctx, "#ckpt-file", ckpt, "ready", time.Minute)
	ckptBytes, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	net, err := job.Checkpoint("vgg16_c10.pth", ckptBytes)
	if err != nil {
		t.Fatal(err)
	}
	c := &fixtureCase{N: 8, T: 4, L: 4, Gamma: 1, Norm: "auto"}
	setOptions(t, ctx, c)

	in := func(parts ...string) string { return filepath.Join(append([]string{p.root, "snn"}, parts...)...) }
	for _, f := range []struct {
		name       string
		files      []string
		unlabelled int  // images without a label in the run
		floats     bool // no pixels: no thumbnails
	}{
		{"archive", []string{in("cifar", "testdata", "archives", "cifar-10-python.tar.gz")}, 0, false},
		{"images", []string{in("picture", "testdata", "cat_003.png"), in("picture", "testdata", "dog_420.jpg"),
			in("picture", "testdata", "palette.png"), in("picture", "testdata", "wide_grad_64x48.png")}, 2, false},
		{"npy", []string{in("npy", "testdata", "u8_nhwc.npy")}, 2, false},
		{"npy-floats", []string{in("npy", "testdata", "f32_nchw.npy")}, 1, true},
	} {
		t.Run(f.name, func(t *testing.T) {
			uploadFiles(t, ctx, "#data-file", f.files, "ready", time.Minute)
			info := evaluate[string](t, ctx, `document.querySelector('#data-info').textContent`)
			got := clickRun(t, ctx, 3*time.Minute)

			// The same files, named as the page names them (the base name).
			var files []job.File
			for _, name := range f.files {
				b, err := os.ReadFile(name)
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, job.File{Name: filepath.Base(name), Data: b})
			}
			b, err := job.Inputs(files, net, "", job.Choice{N: c.N}, c.Norm)
			if err != nil {
				t.Fatal(err)
			}
			want, err := net.Run(context.Background(), b.X, b.Labels, snn.Options{T: c.T, L: c.L, Gamma: c.Gamma})
			if err != nil {
				t.Fatal(err)
			}
			compare(t, f.name, "the native engine", got, want)
			if got.Unlabeled != f.unlabelled || want.Unlabeled != f.unlabelled {
				t.Errorf("%d unlabelled images in the page, %d natively, want %d", got.Unlabeled, want.Unlabeled, f.unlabelled)
			}
			note := evaluate[string](t, ctx, `(e => e.hidden ? '' : e.textContent)(document.querySelector('#unlabelled-note'))`)
			if (note != "") != (f.unlabelled > 0) {
				t.Errorf("%d unlabelled images, and the page's note reads %q", f.unlabelled, note)
			}
			thumbs := evaluate[int](t, ctx, `document.querySelectorAll('#thumbs canvas').length`)
			if f.floats != (thumbs == 0) {
				t.Errorf("%d thumbnails for %s", thumbs, f.name)
			}
			t.Logf("%s: %q; %d images, loss %.6f, %d thumbnails, note %q", f.name, info, got.N, got.Loss, thumbs, note)
			if f.name == "images" {
				p.shot(t, "browser-inputs-images.png")
			}
		})
	}

	// The description text area: a recognised checkpoint shows its own.
	shown := evaluate[string](t, ctx, `document.querySelector('#arch-text').value`)
	if a, err := snn.ParseArch([]byte(shown)); err != nil || a.Name != "vgg16" || len(a.Modules) != len(net.Arch.Modules) {
		t.Errorf("the text area shows a description that does not read back (%v): %.200s", err, shown)
	}
	// A hand-written one builds the checkpoint, to the same numbers.
	desc, err := os.ReadFile(filepath.Join(testdata, "vgg16.arch.json"))
	if err != nil {
		t.Fatal(err)
	}
	apply := func(text, want string) {
		t.Helper()
		loads := evaluate[int](t, ctx, `window.spikegrad.loads`)
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#arch-text"), text), chromedp.Click(chromedp.CSS("#arch-apply"))); err != nil {
			t.Fatal(err)
		}
		if state := waitCount(t, ctx, "loads", loads, time.Minute); state != want {
			t.Fatalf("description: state %q, want %q: %s", state, want, evaluate[string](t, ctx, `document.querySelector('#error').textContent`))
		}
	}
	evaluate[bool](t, ctx, `document.querySelector('#arch').open = true`)
	apply(strings.Replace(string(desc), `"key": "classifier.7"`, `"key": "classifier.9"`, 1), "error")
	msg := evaluate[string](t, ctx, `document.querySelector('#error').textContent`)
	if !strings.Contains(msg, "classifier.9") || strings.Contains(msg, "\n") {
		t.Errorf("a description naming a missing module: error %q", msg)
	}
	apply(string(desc), "ready")
	uploadFiles(t, ctx, "#data-file", []string{filepath.Join(testdata, "c10.bin")}, "ready", time.Minute)
	got := clickRun(t, ctx, 3*time.Minute)
	b, err := job.Images("c10.bin", mustRead(t, filepath.Join(testdata, "c10.bin")), net, 0, c.N, c.Norm)
	if err != nil {
		t.Fatal(err)
	}
	want, err := net.Run(context.Background(), b.X, b.Labels, snn.Options{T: c.T, L: c.L, Gamma: c.Gamma})
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "described VGG16", "the recognised one natively", got, want)
	p.shot(t, "browser-description.png")
	p.check(t)
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
