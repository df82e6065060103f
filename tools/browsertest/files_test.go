package browsertest

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/spikegrad/spikegrad/snn"
)

func ptr[T any](v T) *T { return &v }

// buildCLI builds the native CLI once for a test.
func buildCLI(t *testing.T, root string) string {
	t.Helper()
	cli := filepath.Join(t.TempDir(), "spikegrad")
	build := exec.Command("go", "build", "-o", cli, "./tools/spikegrad")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./tools/spikegrad: %v\n%s", err, out)
	}
	return cli
}

// shown is what the page says about its files and its last run.
type shown struct {
	CkptName    string `json:"ckptName"`
	DataName    string `json:"dataName"`
	Summary     string `json:"summary"`
	Error       string `json:"error"`
	Stale       string `json:"stale"`
	TeachStale  string `json:"teachStale"`
	Fewer       string `json:"fewer"`
	ExportCkpt  string `json:"exportCkpt"`
	ExportData  string `json:"exportData"`
	LastRunCkpt string `json:"lastRunCkpt"`
	LastRunData string `json:"lastRunData"`
}

func readShown(t *testing.T, p *page) shown {
	t.Helper()
	return evaluate[shown](t, p.ctx, `(() => {
		const text = (s) => { const e = document.querySelector(s); return e && !e.hidden ? e.textContent : ''; };
		const doc = window.spikegrad.lastRun && window.spikegrad.json ? JSON.parse(window.spikegrad.json()) : {};
		return {
			ckptName: text('#ckpt-name'), dataName: text('#data-name'), summary: text('#summary-files'),
			error: text('#error'), stale: document.querySelector('#results').dataset.stale || '',
			teachStale: document.querySelector('#teach').dataset.stale || '', fewer: text('#fewer-note'),
			exportCkpt: doc.ckpt || '', exportData: doc.data || '',
			lastRunCkpt: window.spikegrad.lastRun ? window.spikegrad.lastRun.ckpt : '',
			lastRunData: window.spikegrad.lastRun ? window.spikegrad.lastRun.data : '',
		};
	})()`)
}

// checkNames wants the file panel, the summary, the JSON export and
// lastRun to name ckpt and data, and no stale mark.
func checkNames(t *testing.T, what string, s shown, ckpt, data string) {
	t.Helper()
	if s.CkptName != ckpt || s.DataName != data {
		t.Errorf("%s: the file panel shows %q and %q, want %q and %q", what, s.CkptName, s.DataName, ckpt, data)
	}
	if !strings.Contains(s.Summary, ckpt) || !strings.Contains(s.Summary, data) {
		t.Errorf("%s: the summary reads %q, want it to name %s and %s", what, s.Summary, ckpt, data)
	}
	if s.ExportCkpt != ckpt || s.ExportData != data || s.LastRunCkpt != ckpt || s.LastRunData != data {
		t.Errorf("%s: the JSON export names %q and %q, lastRun %q and %q; want %q and %q", what, s.ExportCkpt, s.ExportData, s.LastRunCkpt, s.LastRunData, ckpt, data)
	}
	if s.Stale != "false" {
		t.Errorf("%s: the results just run are marked stale (%q)", what, s.Stale)
	}
}

// demoPage opens the page, waits for the demo's run, and returns the page
// and in, which names a file of snn/testdata.
func demoPage(t *testing.T, timeout time.Duration) (*page, func(string) string) {
	t.Helper()
	p := startPage(t, timeout)
	if err := chromedp.Do(p.ctx, chromedp.Navigate(p.srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitRun(t, p.ctx, 0, 3*time.Minute)
	td := filepath.Join(p.root, "snn", "testdata")
	return p, func(name string) string { return filepath.Join(td, name) }
}

// dropAll drops files onto the element sel in one drop, without waiting.
func dropAll(t *testing.T, p *page, sel string, files []string) {
	t.Helper()
	pos := evaluate[[]float64](t, p.ctx, `(() => {
		const el = document.querySelector(`+"`"+sel+"`"+`);
		el.scrollIntoView({block: 'center'});
		const r = el.getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2];
	})()`)
	data := &input.DragData{Items: []*input.DragDataItem{}, Files: files, DragOperationsMask: 1}
	for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
		if _, err := chromedp.Call(p.ctx, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: pos[0], Y: pos[1], Data: data}); err != nil {
			t.Fatalf("drop onto %s: %v", sel, err)
		}
	}
}

// TestFiles acts as a user who does not wait: a checkpoint and a data file
// chosen back to back and Run clicked at once; both dropped in one drop;
// the data chosen before its checkpoint (a CIFAR-100 batch, which the
// demo's network refuses); a bad data file after a good one. Each run must
// give the native CLI's numbers on the files the page shows, and the file
// panel, the summary and the JSON export must name those files.
func TestFiles(t *testing.T) {
	p, in := demoPage(t, 8*time.Minute)
	ctx := p.ctx
	cli := buildCLI(t, p.root)
	cliRun := func(ckpt, data string, n int) *snn.Result {
		r, _, _ := runCLI(t, cli, in(ckpt), in(data), n, nil)
		return r
	}

	// 1. A checkpoint and a data file chosen back to back, Run at once. n
	// is 32, the file holds 8: the page says it ran 8.
	runs := evaluate[int](t, ctx, `window.spikegrad.runs`)
	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.CSS("#ckpt-file"), []string{in("vgg16_c10.pth")}),
		chromedp.SetUploadFiles(chromedp.CSS("#data-file"), []string{in("c10.bin")}),
		chromedp.Click(chromedp.CSS("#run")),
	); err != nil {
		t.Fatal(err)
	}
	got := waitRun(t, ctx, runs, 3*time.Minute)
	compare(t, "back to back", "the CLI", got, cliRun("vgg16_c10.pth", "c10.bin", 32))
	s := readShown(t, p)
	checkNames(t, "back to back", s, "vgg16_c10.pth", "c10.bin")
	if !strings.Contains(s.Fewer, "32") || !strings.Contains(s.Fewer, "8") {
		t.Errorf("n=32 on a file of 8 images: the page says %q, want it to say so", s.Fewer)
	}
	p.shot(t, "files-back-to-back.png")

	// 2. Both files in one drop, Run at once.
	runs = evaluate[int](t, ctx, `window.spikegrad.runs`)
	dropAll(t, p, "h1", []string{in("c10_test_batch"), in("resnet20_c10.pth")})
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#run"))); err != nil {
		t.Fatal(err)
	}
	got = waitRun(t, ctx, runs, 3*time.Minute)
	compare(t, "one drop", "the CLI", got, cliRun("resnet20_c10.pth", "c10_test_batch", 32))
	checkNames(t, "one drop", readShown(t, p), "resnet20_c10.pth", "c10_test_batch")

	// 3. The data before its checkpoint: a CIFAR-100 batch, refused for
	// the CIFAR-10 network held, is taken with the CIFAR-100 checkpoint.
	runs = evaluate[int](t, ctx, `window.spikegrad.runs`)
	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.CSS("#data-file"), []string{in("c100.bin")}),
		chromedp.SetUploadFiles(chromedp.CSS("#ckpt-file"), []string{in("vgg16_c100_up_legacy.pth")}),
		chromedp.Click(chromedp.CSS("#run")),
	); err != nil {
		t.Fatal(err)
	}
	got = waitRun(t, ctx, runs, 3*time.Minute)
	compare(t, "data first", "the CLI", got, cliRun("vgg16_c100_up_legacy.pth", "c100.bin", 32))
	checkNames(t, "data first", readShown(t, p), "vgg16_c100_up_legacy.pth", "c100.bin")

	// 4. A bad data file after a good one: refused in one line naming it;
	// the page, every worker and the next run keep the good one.
	// (A CIFAR-10 batch fits the CIFAR-100 network held, so it goes first.)
	upload(t, ctx, "#data-file", in("c10_test_batch"), "ready", time.Minute)
	upload(t, ctx, "#ckpt-file", in("vgg16_c10.pth"), "ready", time.Minute)
	upload(t, ctx, "#data-file", in("vgg16_c10_fp16.pth"), "error", time.Minute)
	s = readShown(t, p)
	if !strings.HasPrefix(s.Error, "vgg16_c10_fp16.pth: ") || len([]rune(s.Error)) > 200 || strings.Contains(s.Error, "\n") {
		t.Errorf("a checkpoint given as data: #error reads %q (%d characters), want one line naming it", s.Error, len([]rune(s.Error)))
	}
	t.Logf("a checkpoint given as data: %q", s.Error)
	if s.DataName != "c10_test_batch" {
		t.Errorf("after a refused data file the panel shows %q, want c10_test_batch", s.DataName)
	}
	got = clickRun(t, ctx, 3*time.Minute)
	compare(t, "after a refused file", "the CLI", got, cliRun("vgg16_c10.pth", "c10_test_batch", 32))
	checkNames(t, "after a refused file", readShown(t, p), "vgg16_c10.pth", "c10_test_batch")
	if s := readShown(t, p); s.Error != "" {
		t.Errorf("after a good run #error still reads %q", s.Error)
	}
	workers := evaluate[[]map[string]string](t, ctx, `window.spikegrad.held()`)
	for i, h := range workers {
		if h["ckpt"] != workers[0]["ckpt"] || h["data"] != workers[0]["data"] {
			t.Errorf("worker %d holds %v, worker 0 %v", i, h, workers[0])
		}
	}
	t.Logf("%d workers, each holding %v", len(workers), workers[0])
	p.shot(t, "files-refused.png")

	// 5. A checkpoint the data does not fit: taken, and said (the data box
	// names the batch); Run does not start and says why; a batch that fits
	// is then taken and run.
	upload(t, ctx, "#ckpt-file", in("vgg16_c100_up_legacy.pth"), "ready", time.Minute)
	upload(t, ctx, "#data-file", in("c100.bin"), "ready", time.Minute)
	upload(t, ctx, "#ckpt-file", in("vgg16_c10.pth"), "error", time.Minute)
	if s := readShown(t, p); s.CkptName != "vgg16_c10.pth" || !strings.HasPrefix(s.Error, "c100.bin: ") {
		t.Errorf("a checkpoint its batch does not fit: the panel shows %q, #error reads %q", s.CkptName, s.Error)
	}
	runs = evaluate[int](t, ctx, `window.spikegrad.runs`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#run"))); err != nil {
		t.Fatal(err)
	}
	if state := waitCount(t, ctx, "runs", runs, time.Minute); state != "error" {
		t.Errorf("a run on a batch that does not fit ended in state %q", state)
	}
	if s := readShown(t, p); !strings.HasPrefix(s.Error, "c100.bin: ") || !strings.Contains(s.Error, "classes") {
		t.Errorf("a run on a batch that does not fit: #error reads %q", s.Error)
	}
	upload(t, ctx, "#data-file", in("c10.bin"), "ready", time.Minute)
	got = clickRun(t, ctx, 3*time.Minute)
	compare(t, "after a batch that did not fit", "the CLI", got, cliRun("vgg16_c10.pth", "c10.bin", 32))
	checkNames(t, "after a batch that did not fit", readShown(t, p), "vgg16_c10.pth", "c10.bin")

	// 6. A file chosen during a run waits for it and is then taken: the
	// results, of the file before, are marked stale.
	runs = evaluate[int](t, ctx, `window.spikegrad.runs`)
	loads := evaluate[int](t, ctx, `window.spikegrad.loads`)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#run")),
		chromedp.SetUploadFiles(chromedp.CSS("#data-file"), []string{in("c10_test_batch")}),
	); err != nil {
		t.Fatal(err)
	}
	// The load follows the run at once: its end is the state to wait for.
	if state := waitCount(t, ctx, "loads", loads, 3*time.Minute); state != "ready" {
		t.Errorf("a data file chosen during a run: state %q after its load", state)
	}
	if n := evaluate[int](t, ctx, `window.spikegrad.runs`); n != runs+1 {
		t.Fatalf("a data file chosen during a run: %d runs ended, want 1", n-runs)
	}
	got = ptr(evaluate[snn.Result](t, ctx, `window.spikegrad.lastResult`))
	compare(t, "the run a file was chosen during", "the CLI", got, cliRun("vgg16_c10.pth", "c10.bin", 32))
	if s := readShown(t, p); s.DataName != "c10_test_batch" || s.LastRunData != "c10.bin" || s.Stale != "true" {
		t.Errorf("a data file chosen during a run: the panel shows %q, the run was on %q, stale %q; want c10_test_batch, c10.bin, true", s.DataName, s.LastRunData, s.Stale)
	}
	p.check(t)
}

// TestStale loads a new checkpoint after a run: the results and the
// teaching views are marked stale, their numbers stay the run's, and the
// teaching views compute nothing on the new network (a ResNet20, 19 IF
// layers, after the demo's VGG16, 15) until the next run, whose views are
// the new network's. A setting changed marks them stale too, and changed
// back unmarks them.
func TestStale(t *testing.T) {
	p := startPage(t, 8*time.Minute)
	ctx := p.ctx
	if err := chromedp.Do(ctx, chromedp.Navigate(p.srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	demo := waitRun(t, ctx, 0, 3*time.Minute)
	waitTeach(t, ctx, "details", 0)
	names := func(r *snn.Result) []string {
		var out []string
		for _, l := range r.Layers {
			out = append(out, l.Name)
		}
		return out
	}
	type teachView struct {
		Detail   string `json:"detail"`
		Layers   int    `json:"layers"`
		Forwards int    `json:"forwards"`
		Errors   int    `json:"errors"`
		Error    string `json:"error"`
		Disabled bool   `json:"disabled"`
	}
	view := func() teachView {
		return evaluate[teachView](t, ctx, `(() => {
			const a = window.spikegrad.teach;
			const e = document.querySelector('#teach-error');
			return {detail: a.detail ? a.detail.name : '', layers: document.querySelectorAll('#teach-layer option').length,
				forwards: a.forwards, errors: a.errors, error: e.hidden ? '' : e.textContent,
				disabled: document.querySelector('#teach-slider').disabled && document.querySelector('#fd-all').disabled};
		})()`)
	}
	before := view()
	if !slices.Contains(names(demo), before.Detail) {
		t.Fatalf("the demo's teaching detail is of layer %q, not one of the run's", before.Detail)
	}

	upload(t, ctx, "#ckpt-file", filepath.Join(p.root, "snn", "testdata", "resnet20_c10.pth"), "ready", time.Minute)
	s := readShown(t, p)
	if s.Stale != "true" || s.TeachStale != "true" {
		t.Errorf("after a new checkpoint the results are marked stale %q, the teaching views %q; want true", s.Stale, s.TeachStale)
	}
	if note := evaluate[string](t, ctx, `document.querySelector('#stale-note').hidden ? '' : document.querySelector('#stale-note').textContent`); note == "" {
		t.Errorf("after a new checkpoint no stale note is shown")
	}
	// The slider moved anyway (as a script can): nothing is computed, no error.
	evaluate[bool](t, ctx, `(() => { const s = document.querySelector('#teach-slider'); s.value = '10'; s.dispatchEvent(new Event('input')); return true; })()`)
	time.Sleep(2 * time.Second)
	after := view()
	if !after.Disabled {
		t.Errorf("the stale teaching views' slider and buttons are not disabled")
	}
	if after.Forwards != before.Forwards || after.Errors != before.Errors || after.Error != "" {
		t.Errorf("a stale slider computed: forwards %d -> %d, errors %d -> %d, %q", before.Forwards, after.Forwards, before.Errors, after.Errors, after.Error)
	}
	if after.Detail != before.Detail || after.Layers != len(demo.Layers) {
		t.Errorf("the stale teaching views show layer %q of %d layers, want the run's %q of %d", after.Detail, after.Layers, before.Detail, len(demo.Layers))
	}
	if r := evaluate[snn.Result](t, ctx, `window.spikegrad.lastResult`); len(r.Layers) != len(demo.Layers) || r.Loss != demo.Loss {
		t.Errorf("the stale results changed: %d layers, loss %g; the run's %d, %g", len(r.Layers), r.Loss, len(demo.Layers), demo.Loss)
	}
	p.shot(t, "stale.png")

	// The next run: fresh, and its views are of the new network.
	details := evaluate[int](t, ctx, `window.spikegrad.teach.details`)
	res := clickRun(t, ctx, 3*time.Minute)
	waitTeach(t, ctx, "details", details)
	fresh := view()
	if s := readShown(t, p); s.Stale != "false" || s.TeachStale != "false" {
		t.Errorf("after the run the results are marked stale %q, the teaching views %q", s.Stale, s.TeachStale)
	}
	if len(res.Layers) != 19 || !slices.Contains(names(res), fresh.Detail) || fresh.Layers != 19 || fresh.Disabled {
		t.Errorf("after the run: %d layers, the detail of %q, %d layers to choose, disabled %v", len(res.Layers), fresh.Detail, fresh.Layers, fresh.Disabled)
	}
	evaluate[bool](t, ctx, `(() => { const s = document.querySelector('#teach-slider'); s.value = '10'; s.dispatchEvent(new Event('input')); return true; })()`)
	waitTeach(t, ctx, "forwards", fresh.Forwards)
	if v := view(); v.Error != "" {
		t.Errorf("the slider on the new run: %q", v.Error)
	}

	// A setting changed marks the results stale; changed back, not.
	for _, c := range []struct{ value, want string }{{"4", "true"}, {"8", "false"}} {
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#opt-T"), c.value)); err != nil {
			t.Fatal(err)
		}
		evaluate[bool](t, ctx, `document.querySelector('#opt-T').dispatchEvent(new Event('input')) || true`)
		if s := readShown(t, p); s.Stale != c.want || s.TeachStale != c.want {
			t.Errorf("T=%s: the results are marked stale %q, the teaching views %q; want %s", c.value, s.Stale, s.TeachStale, c.want)
		}
	}
	var b []byte
	b, _ = json.Marshal(view())
	t.Logf("teaching views after the run: %s", b)

	// gamma = 0 is refused by the form (the engine would refuse it), in one
	// line; a new value clears that error.
	runs := evaluate[int](t, ctx, `window.spikegrad.runs`)
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#opt-gamma"), "0"), chromedp.Click(chromedp.CSS("#run"))); err != nil {
		t.Fatal(err)
	}
	if state := waitCount(t, ctx, "runs", runs, time.Minute); state != "error" {
		t.Errorf("a run with gamma 0 ended in state %q", state)
	}
	if msg := readShown(t, p).Error; !strings.Contains(msg, "γ") {
		t.Errorf("gamma 0: #error reads %q, want it to name γ", msg)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#opt-gamma"), "1")); err != nil {
		t.Fatal(err)
	}
	evaluate[bool](t, ctx, `document.querySelector('#opt-gamma').dispatchEvent(new Event('input')) || true`)
	if msg := readShown(t, p).Error; msg != "" {
		t.Errorf("after gamma is set back to 1 #error still reads %q", msg)
	}
	p.check(t)
}
