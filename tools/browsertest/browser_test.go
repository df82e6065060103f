// Package browsertest drives the built page (site/, from `make site`) in
// Debian's headless chromium: the demo on load, a fixture run compared with
// PyTorch's numbers, the Chinese labels, a bad checkpoint and a cancelled run.
// It builds nothing: `make browser-test` builds the site first. Without site/
// or /usr/bin/chromium it skips, unless CI=true, where it fails.
//
// TestFullVGG16 (timing_test.go) is a benchmark, run only when asked for: it
// times the user's workload in the page against the CLI.
//
// Screenshots go to artifacts/ at the top of the repository.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/fixture"
	"github.com/spikegrad/spikegrad/tools/serve/serve"
)

const chromium = "/usr/bin/chromium"

// The fixture runs: cases of snn/testdata/cases.json (PyTorch's autograd),
// on the same checkpoint and batch, in SNN and in ANN mode.
const (
	snnCase = "c10_T8_g1"
	annCase = "c10_ann"
)

type fixtureCase = fixture.Case

// recorder keeps what the page and its workers must not do: write errors to
// the console, throw, or ask any origin but the test server.
type recorder struct {
	origin string

	mu       sync.Mutex
	errors   []string
	foreign  []string
	requests []string
	workers  int
}

func (r *recorder) listen(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				if a.Value != nil {
					args = append(args, string(a.Value))
				} else {
					args = append(args, a.Description)
				}
			}
			r.errors = append(r.errors, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		r.errors = append(r.errors, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, msg))
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			r.errors = append(r.errors, fmt.Sprintf("log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		r.requests = append(r.requests, ev.Request.URL)
		if !r.local(ev.Request.URL) {
			r.foreign = append(r.foreign, ev.Request.URL)
		}
	}
}

// local reports whether a request stays on the test server (or in the page:
// data: and blob: URLs).
func (r *recorder) local(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "data", "blob":
		return true
	}
	return u.Scheme+"://"+u.Host == r.origin
}

func (r *recorder) report() (errors, foreign, requests []string, workers int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...), append([]string(nil), r.foreign...), append([]string(nil), r.requests...), r.workers
}

// need skips the test when something it needs is missing, and fails it
// instead under CI=true, where everything must be there.
func need(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// page is the built site served by a test server, and headless chromium
// with the page's workers watched.
type page struct {
	root      string // the top of the repository
	site      string // root/site
	artifacts string // root/artifacts, for screenshots
	srv       *httptest.Server
	rec       *recorder
	ctx       context.Context // the browser's tab, with a deadline
}

// startPage serves site/ and starts chromium; the tab's context times out
// after timeout, and everything ends with the test. It skips (fails under
// CI=true) when site/ or chromium is missing.
func startPage(t *testing.T, timeout time.Duration) *page {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	site := filepath.Join(root, "site")
	for _, f := range []string{"index.html", "spikegrad.wasm", "echarts.min.js", "web/main.js", "web/worker.js"} {
		if _, err := os.Stat(filepath.Join(site, f)); err != nil {
			need(t, "site/%s is missing: build the page first (make site), or run make browser-test", f)
		}
	}
	if _, err := os.Stat(chromium); err != nil {
		need(t, "%s is missing: apt-get install chromium, or run make browser-test", chromium)
	}
	artifacts := filepath.Join(root, "artifacts")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(serve.Handler(site))
	t.Cleanup(srv.Close)
	rec := &recorder{origin: srv.URL}

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithListener(rec.listen))
	t.Cleanup(cancel)
	// The first Do starts the browser; it must not have a deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	watchWorkers(t, ctx, rec)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancelTimeout)
	return &page{root: root, site: site, artifacts: artifacts, srv: srv, rec: rec, ctx: ctx}
}

// shot saves a screenshot of the whole page as artifacts/name.
func (p *page) shot(t *testing.T, name string) {
	t.Helper()
	b, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(p.artifacts, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// check fails the test for what the page and its workers wrote to the
// console or asked of another origin, and logs the requests seen.
func (p *page) check(t *testing.T) {
	t.Helper()
	errs, foreign, requests, workers := p.rec.report()
	for _, e := range errs {
		t.Errorf("console: %s", e)
	}
	for _, u := range foreign {
		t.Errorf("request outside %s: %s", p.srv.URL, u)
	}
	count := map[string]int{}
	var order []string
	for _, u := range requests {
		u = strings.TrimPrefix(u, p.srv.URL)
		if len(u) > 80 {
			u = u[:80] + "…" // a data: URL (a PNG export's caption)
		}
		if count[u] == 0 {
			order = append(order, u)
		}
		count[u]++
	}
	var list []string
	for _, u := range order {
		list = append(list, fmt.Sprintf("%s x%d", u, count[u]))
	}
	t.Logf("%d requests seen (page and %d workers), none outside %s: %s", len(requests), workers, p.srv.URL, strings.Join(list, ", "))
}

func TestPage(t *testing.T) {
	p := startPage(t, 8*time.Minute)
	ctx, srv, root := p.ctx, p.srv, p.root
	c := loadCase(t, root, snnCase)
	ann := loadCase(t, root, annCase)

	// 1. The demo: bars without any upload.
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	// The progress line while the demo runs (unless it ends first).
	progress, err := chromedp.Run(ctx, chromedp.Poll[string](
		`window.spikegrad && (window.spikegrad.runs > 0 ? 'finished' : document.querySelector('#status-text').textContent.startsWith('Image') && document.querySelector('#status-text').textContent)`,
		chromedp.WithPollingTimeout(3*time.Minute), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		t.Fatalf("waiting for the demo's progress: %v", err)
	}
	if progress != "finished" {
		t.Logf("demo running: %q", progress)
		p.shot(t, "browser-running.png")
	} else {
		t.Logf("the demo ended before a progress line was seen")
	}
	demo := waitRun(t, ctx, 0, 3*time.Minute)
	pageMs := demoTimings(t, ctx)["demoBars"]
	t.Logf("demo: bars %.1f s after the page load started (page's clock %.1f s), %d IF layers, loss %.4f",
		time.Since(start).Seconds(), pageMs/1000, len(demo.Layers), demo.Loss)
	checkCharts(t, ctx, len(demo.Layers), true)
	p.shot(t, "browser-demo.png")

	// 2. A fixture checkpoint and batch through the file inputs, against PyTorch.
	upload(t, ctx, "#ckpt-file", filepath.Join(root, "snn", "testdata", c.Ckpt), "ready", time.Minute)
	upload(t, ctx, "#data-file", filepath.Join(root, "snn", "testdata", c.Data), "ready", time.Minute)
	setOptions(t, ctx, c)
	got := clickRun(t, ctx, 3*time.Minute)
	compare(t, "fixture run", "PyTorch", got, &c.Want)
	checkCharts(t, ctx, len(c.Want.Layers), true)
	p.shot(t, "browser-fixture.png")

	// The exports: CSV and JSON of the table, PNG of a chart.
	exports(t, ctx, filepath.Join(p.artifacts, "downloads"), len(c.Want.Layers))

	// "Crossing only" leaves the crossing path alone in the grad chart.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#paths-crossing"))); err != nil {
		t.Fatal(err)
	}
	p.shot(t, "browser-crossing-only.png")
	shown := evaluate[[]float64](t, ctx, `echarts.getInstanceByDom(document.getElementById('chart-grad')).getOption().series[0].data.map(d => d.raw !== undefined ? d.raw : d.value)`) // raw: the value, drawn on a symlog axis
	for i, l := range c.Want.Layers {
		if want := l.GradPaths.Crossing[0]; !near(shown[i], want, 2e-3*maxAbsGrad(&c.Want)) {
			t.Errorf("crossing only: %s shows %g, want the crossing path %g", l.Name, shown[i], want)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#paths-all"))); err != nil {
		t.Fatal(err)
	}

	// 3. Chinese, remembered.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#lang"))); err != nil {
		t.Fatal(err)
	}
	for sel, want := range map[string]string{"#run": "运行", "#cancel": "取消", "#results-title": "结果"} {
		if text := evaluate[string](t, ctx, fmt.Sprintf(`document.querySelector(%q).textContent`, sel)); text != want {
			t.Errorf("in Chinese %s reads %q, want %q", sel, text, want)
		}
	}
	if title := evaluate[string](t, ctx, `echarts.getInstanceByDom(document.getElementById('chart-thresh')).getOption().title[0].text`); title != "各IF层阈值" {
		t.Errorf("in Chinese the threshold chart is titled %q", title)
	}
	if lang := evaluate[string](t, ctx, `localStorage.getItem('spikegrad.lang')`); lang != "zh" {
		t.Errorf("localStorage spikegrad.lang = %q, want zh", lang)
	}
	p.shot(t, "browser-zh.png")

	// 4. A truncated checkpoint: one line in #error, and the page goes on.
	bad := filepath.Join(t.TempDir(), "truncated.pth")
	b, err := os.ReadFile(filepath.Join(root, "snn", "testdata", c.Ckpt))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, b[:1000], 0o644); err != nil {
		t.Fatal(err)
	}
	upload(t, ctx, "#ckpt-file", bad, "error", time.Minute)
	msg := evaluate[string](t, ctx, `document.querySelector('#error').hidden ? '' : document.querySelector('#error').textContent`)
	if !strings.HasPrefix(msg, "truncated.pth") || !strings.Contains(msg, "被截断") || strings.Contains(msg, "\n") || len([]rune(msg)) > 200 {
		t.Errorf("after a truncated checkpoint #error reads %q, want one line naming the file and saying it is cut off", msg)
	}
	t.Logf("truncated checkpoint: #error reads %q", msg)
	p.shot(t, "browser-error.png")

	upload(t, ctx, "#ckpt-file", filepath.Join(root, "snn", "testdata", c.Ckpt), "ready", time.Minute)
	if msg := evaluate[string](t, ctx, `document.querySelector('#error').hidden ? '' : document.querySelector('#error').textContent`); msg != "" {
		t.Errorf("after a good checkpoint #error still reads %q", msg)
	}
	// An error of the run itself (the engine's, in Go) reaches #error too.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#opt-offset"), "100000")); err != nil {
		t.Fatal(err)
	}
	runs := evaluate[int](t, ctx, `window.spikegrad.runs`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#run"))); err != nil {
		t.Fatal(err)
	}
	if state := waitCount(t, ctx, "runs", runs, time.Minute); state != "error" {
		t.Errorf("a run with offset 100000 ended in state %q, want error", state)
	}
	msg = evaluate[string](t, ctx, `document.querySelector('#error').textContent`)
	// In Chinese, as the page is now: the file, the offset, the file's size.
	if !strings.Contains(msg, c.Data) || !strings.Contains(msg, "起始图像 100000") || strings.Contains(msg, "\n") {
		t.Errorf("after a run with offset 100000 #error reads %q, want one line in Chinese naming %s and the offset", msg, c.Data)
	}
	t.Logf("offset past the end: #error reads %q", msg)
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#opt-offset"), "0")); err != nil {
		t.Fatal(err)
	}
	compare(t, "run after the errors", "PyTorch", clickRun(t, ctx, 3*time.Minute), &c.Want)

	// 5. Cancel: the run stops at once, and the next one works.
	runs = evaluate[int](t, ctx, `window.spikegrad.runs`)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#run")),
		chromedp.Click(chromedp.CSS("#cancel")),
	); err != nil {
		t.Fatal(err)
	}
	if state := evaluate[string](t, ctx, `document.body.dataset.state`); state != "cancelled" {
		t.Errorf("after Cancel the state is %q, want cancelled", state)
	}
	if n := evaluate[int](t, ctx, `window.spikegrad.runs`); n != runs {
		t.Errorf("the cancelled run finished anyway (runs %d -> %d)", runs, n)
	}
	compare(t, "run after a cancel", "PyTorch", clickRun(t, ctx, 3*time.Minute), &c.Want)
	p.shot(t, "browser-final.png")

	// 6. ANN mode (T=0): no paths, the same bars otherwise.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#opt-T"), fmt.Sprint(ann.T))); err != nil {
		t.Fatal(err)
	}
	compare(t, "ANN mode", "PyTorch", clickRun(t, ctx, 3*time.Minute), &ann.Want)
	checkCharts(t, ctx, len(ann.Want.Layers), false)
	if hidden := evaluate[bool](t, ctx, `document.querySelector('#paths-box').hidden && !document.querySelector('#ann-note').hidden`); !hidden {
		t.Errorf("ANN mode: the paths chart is shown, or the ANN note is not")
	}
	p.shot(t, "browser-ann.png")

	// 7. Drag and drop: the batch on its box, the checkpoint anywhere else.
	drop(t, ctx, "#data-drop", filepath.Join(root, "snn", "testdata", c.Data))
	drop(t, ctx, "h1", filepath.Join(root, "snn", "testdata", c.Ckpt))
	if names := evaluate[string](t, ctx, `document.querySelector('#ckpt-name').textContent + ' ' + document.querySelector('#data-name').textContent`); names != c.Ckpt+" "+c.Data {
		t.Errorf("after the drops the page shows the files %q", names)
	}

	p.check(t)
}

// watchWorkers listens to the page's workers too: the engine runs in one, and
// a cancel starts a new one. Each worker waits at its start until it has a
// listener, so that its own requests are seen.
func watchWorkers(t *testing.T, ctx context.Context, rec *recorder) {
	_, err := chromedp.Call(ctx, target.SetAutoAttach, target.SetAutoAttachParams{
		AutoAttach: true, WaitForDebuggerOnStart: true, Flatten: new(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[target.ID]bool{}
	err = chromedp.Listen(ctx, func(ev any) {
		e, ok := ev.(*target.EventAttachedToTarget)
		if !ok || e.TargetInfo.Type != "worker" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if seen[e.TargetInfo.TargetID] {
			return
		}
		seen[e.TargetInfo.TargetID] = true
		// A listener must not run commands: attach from a goroutine.
		go func(id target.ID) {
			wctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(id), chromedp.WithListener(rec.listen))
			defer cancel()
			// A worker that a cancel ended can be gone before this attaches.
			if chromedp.Do(wctx) != nil {
				return
			}
			if _, err := chromedp.Call(wctx, runtime.RunIfWaitingForDebugger, cdp.Empty{}); err != nil {
				return
			}
			rec.mu.Lock()
			rec.workers++
			rec.mu.Unlock()
			<-ctx.Done()
		}(e.TargetInfo.TargetID)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func loadCase(t *testing.T, root, name string) *fixtureCase {
	c, err := fixture.Find(filepath.Join(root, "snn", "testdata"), name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func evaluate[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// demoTimings waits for the page's clock of the demo (ms from navigation:
// engineReady, demoRun, demoCharts, demoBars for the thresholds' and
// gradients' charts drawn, demoAll for every chart), whose last marks come
// a frame and two after the run's end.
func demoTimings(t *testing.T, ctx context.Context) map[string]float64 {
	t.Helper()
	tm, err := chromedp.Run(ctx, chromedp.Poll[map[string]float64](`window.spikegrad.timings.demoAll && window.spikegrad.timings`,
		chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(20*time.Millisecond)))
	if err != nil {
		t.Fatalf("the demo's timings: %v", err)
	}
	return tm
}

// waitCount waits until window.spikegrad[counter] passes n, and returns the
// page's state then.
func waitCount(t *testing.T, ctx context.Context, counter string, n int, timeout time.Duration) string {
	t.Helper()
	expr := fmt.Sprintf(`window.spikegrad && window.spikegrad.%s > %d && document.body.dataset.state`, counter, n)
	state, err := chromedp.Run(ctx, chromedp.Poll[string](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.state + ': ' + document.querySelector('#status-text').textContent + ' ' + document.querySelector('#error').textContent`))
		t.Fatalf("waiting for %s > %d: %v (page: %s)", counter, n, err, msg)
	}
	return state
}

// waitRun waits for run number n+1 to end, wants it done, and returns its result.
func waitRun(t *testing.T, ctx context.Context, n int, timeout time.Duration) *snn.Result {
	t.Helper()
	if state := waitCount(t, ctx, "runs", n, timeout); state != "done" {
		t.Fatalf("run ended in state %q: %s", state, evaluate[string](t, ctx, `document.querySelector('#error').textContent`))
	}
	r := evaluate[snn.Result](t, ctx, `window.spikegrad.lastResult`)
	if len(r.Layers) == 0 {
		t.Fatalf("state done, but lastResult has no layers: %+v", r)
	}
	return &r
}

// clickRun clicks Run and waits up to timeout for the run to end.
func clickRun(t *testing.T, ctx context.Context, timeout time.Duration) *snn.Result {
	t.Helper()
	runs := evaluate[int](t, ctx, `window.spikegrad.runs`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#run"))); err != nil {
		t.Fatal(err)
	}
	return waitRun(t, ctx, runs, timeout)
}

// setOptions fills in the run's settings from c, at offset 0.
func setOptions(t *testing.T, ctx context.Context, c *fixtureCase) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#opt-n"), fmt.Sprint(c.N)),
		chromedp.SetValue(chromedp.CSS("#opt-offset"), "0"),
		chromedp.SetValue(chromedp.CSS("#opt-T"), fmt.Sprint(c.T)),
		chromedp.SetValue(chromedp.CSS("#opt-L"), fmt.Sprint(c.L)),
		chromedp.SetValue(chromedp.CSS("#opt-gamma"), fmt.Sprint(c.Gamma)),
		chromedp.SetValue(chromedp.CSS("#opt-norm"), c.Norm),
	); err != nil {
		t.Fatal(err)
	}
}

// upload chooses a file in a file input and waits up to timeout for the page
// to load it into the engine, ending in the state want.
func upload(t *testing.T, ctx context.Context, input, file, want string, timeout time.Duration) {
	t.Helper()
	uploadFiles(t, ctx, input, []string{file}, want, timeout)
}

// uploadFiles chooses several files at once (the data input takes many).
func uploadFiles(t *testing.T, ctx context.Context, input string, files []string, want string, timeout time.Duration) {
	t.Helper()
	loads := evaluate[int](t, ctx, `window.spikegrad.loads`)
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(input), files)); err != nil {
		t.Fatal(err)
	}
	if state := waitCount(t, ctx, "loads", loads, timeout); state != want {
		t.Fatalf("after choosing %s in %s the state is %q, want %q: %s", filepath.Base(files[0]), input, state, want,
			evaluate[string](t, ctx, `document.querySelector('#error').textContent`))
	}
}

// exports clicks the export buttons and checks the files that the browser
// saves in dir.
func exports(t *testing.T, ctx context.Context, dir string, layers int) {
	t.Helper()
	clickExports(t, ctx, dir)
	// Named after the checkpoint and the data (issue 15).
	stem := evaluate[string](t, ctx, `'spikegrad-' + window.spikegrad.lastRun.ckpt.replace(/\.[^.]*$/, '') + '-' + window.spikegrad.lastRun.data.replace(/\.[^.]*$/, '')`)
	read := func(name string) []byte {
		t.Helper()
		p := filepath.Join(dir, name)
		for end := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
				return b
			}
			if time.Now().After(end) {
				t.Fatalf("export: %s was not saved", p)
			}
		}
	}
	// After the header block of "# key: value" lines.
	csv := slices.DeleteFunc(strings.Split(strings.TrimSpace(string(read(stem+".csv"))), "\n"), func(l string) bool { return strings.HasPrefix(l, "#") })
	if len(csv) != layers+1 || !strings.HasPrefix(csv[0], "layer,") {
		t.Errorf("export: the CSV has %d lines, want a header and %d layers", len(csv), layers)
	}
	var doc struct {
		Result snn.Result `json:"result"`
	}
	if err := json.Unmarshal(read(stem+".json"), &doc); err != nil || len(doc.Result.Layers) != layers {
		t.Errorf("export: the JSON has %d layers (%v), want %d", len(doc.Result.Layers), err, layers)
	}
	if png := read(stem + "-grad.png"); !strings.HasPrefix(string(png), "\x89PNG") {
		t.Errorf("export: the chart is not saved as a PNG")
	}
	t.Logf("exports saved in %s", dir)
}

// drop drags a file from outside the browser onto the element sel and waits
// for the page to load it.
func drop(t *testing.T, ctx context.Context, sel, file string) {
	t.Helper()
	loads := evaluate[int](t, ctx, `window.spikegrad.loads`)
	pos := evaluate[[]float64](t, ctx, fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		el.scrollIntoView({block: 'center'});
		const r = el.getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2];
	})()`, sel))
	data := &input.DragData{Items: []*input.DragDataItem{}, Files: []string{file}, DragOperationsMask: 1}
	for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
		if _, err := chromedp.Call(ctx, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: pos[0], Y: pos[1], Data: data}); err != nil {
			t.Fatalf("drag %s onto %s: %v", filepath.Base(file), sel, err)
		}
	}
	if state := waitCount(t, ctx, "loads", loads, time.Minute); state != "ready" {
		t.Fatalf("after dropping %s onto %s the state is %q: %s", filepath.Base(file), sel, state,
			evaluate[string](t, ctx, `document.querySelector('#error').textContent`))
	}
}

// checkCharts checks that ECharts drew the four charts with a bar per layer.
func checkCharts(t *testing.T, ctx context.Context, layers int, paths bool) {
	t.Helper()
	type chart struct {
		Canvas bool  `json:"canvas"`
		Series []int `json:"series"`
	}
	got := evaluate[map[string]chart](t, ctx, `(() => {
		const out = {};
		for (const key of ['thresh', 'grad', 'paths', 'rate']) {
			const el = document.getElementById('chart-' + key);
			const c = echarts.getInstanceByDom(el);
			out[key] = {
				canvas: !!el.querySelector('canvas') && el.offsetHeight > 0,
				series: c ? c.getOption().series.map(s => s.data.length) : [],
			};
		}
		return out;
	})()`)
	for _, key := range []string{"thresh", "grad", "paths", "rate"} {
		c := got[key]
		wantSeries := 1
		if key == "paths" {
			if !paths {
				continue
			}
			wantSeries = 4
		}
		if !c.Canvas || len(c.Series) != wantSeries {
			t.Errorf("chart %s: canvas %v, series %v; want %d series of %d bars", key, c.Canvas, c.Series, wantSeries, layers)
			continue
		}
		for _, n := range c.Series {
			if n != layers {
				t.Errorf("chart %s: a series of %d bars, want %d", key, n, layers)
			}
		}
	}
}

func maxAbsGrad(r *snn.Result) float64 {
	m := 0.0
	for _, l := range r.Layers {
		for _, g := range l.Grad {
			m = math.Max(m, math.Abs(g))
		}
	}
	return m
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// compare checks a page's result against a reference's (ref names it:
// PyTorch, the CLI): the loss within 1e-4 relative, every grad within 2e-3 of
// the largest |grad|. It returns the largest grad difference.
func compare(t *testing.T, what, ref string, got, want *snn.Result) (worst float64) {
	t.Helper()
	return compareWithin(t, what, ref, got, want, 2e-3)
}

// compareWithin is compare with gradients within frac of the largest |grad|.
func compareWithin(t *testing.T, what, ref string, got, want *snn.Result, frac float64) (worst float64) {
	t.Helper()
	if !near(got.Loss, want.Loss, 1e-4*math.Abs(want.Loss)) {
		t.Errorf("%s: loss %.7g, %s %.7g", what, got.Loss, ref, want.Loss)
	}
	if got.T != want.T || got.L != want.L || got.Gamma != want.Gamma || got.N != want.N {
		t.Errorf("%s: T=%d L=%d gamma=%g n=%d, want T=%d L=%d gamma=%g n=%d", what,
			got.T, got.L, got.Gamma, got.N, want.T, want.L, want.Gamma, want.N)
	}
	if len(got.Layers) != len(want.Layers) {
		t.Fatalf("%s: %d IF layers, %s %d", what, len(got.Layers), ref, len(want.Layers))
	}
	tol := frac * maxAbsGrad(want)
	for i, w := range want.Layers {
		g := got.Layers[i]
		if g.Name != w.Name || len(g.Grad) != len(w.Grad) || len(g.Thresh) != len(w.Thresh) {
			t.Errorf("%s: layer %d is %s with %d grads, %s %s with %d", what, i, g.Name, len(g.Grad), ref, w.Name, len(w.Grad))
			continue
		}
		for j := range w.Grad {
			d := math.Abs(g.Grad[j] - w.Grad[j])
			worst = math.Max(worst, d)
			if d > tol {
				t.Errorf("%s: %s grad[%d] = %.6g, %s %.6g (tolerance %.3g)", what, w.Name, j, g.Grad[j], ref, w.Grad[j], tol)
			}
			if !near(g.Thresh[j], w.Thresh[j], 1e-6*math.Abs(w.Thresh[j])) {
				t.Errorf("%s: %s thresh[%d] = %.7g, %s %.7g", what, w.Name, j, g.Thresh[j], ref, w.Thresh[j])
			}
		}
	}
	t.Logf("%s: loss %.6f (%s %.6f), largest grad difference %.3g = %.2g of the largest |grad|",
		what, got.Loss, ref, want.Loss, worst, worst/maxAbsGrad(want))
	return worst
}

// clickExports has the browser save the CSV, the JSON and the gradient
// chart's PNG into dir, emptied first.
func clickExports(t *testing.T, ctx context.Context, dir string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#export-csv")),
		chromedp.Click(chromedp.CSS("#export-json")),
		chromedp.Click(chromedp.CSS(`button.png[data-chart="grad"]`)),
	); err != nil {
		t.Fatal(err)
	}
}
