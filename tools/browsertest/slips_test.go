package browsertest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSlips: what a user who tries the page gets wrong, found by trying it
// so. Two files dropped on the checkpoint's box each go where their names
// say; two checkpoints in one drop load the first and name the other; a run
// that does not start names the file refused before it, though a good load
// came after; an error on screen is said again in Chinese when the
// language changes.
func TestSlips(t *testing.T) {
	p, in := demoPage(t, 8*time.Minute)
	ctx := p.ctx
	cli := buildCLI(t, p.root)

	// 0. The demo's "All layers: same sign?" answered: the next run, of
	// another network, must not show that answer as its own.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#fd-all"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#fd-summary').textContent !== ''`, chromedp.WithPollingTimeout(3*time.Minute))); err != nil {
		t.Fatalf("All layers on the demo: %v", err)
	}

	// 1. A data file and a checkpoint dropped together on the checkpoint's box.
	loads := evaluate[int](t, ctx, `window.spikegrad.loads`)
	dropAll(t, p, "#ckpt-drop", []string{in("c10.bin"), in("vgg16_c10.pth")})
	waitCount(t, ctx, "loads", loads+1, 2*time.Minute) // two more loads
	runs := evaluate[int](t, ctx, `window.spikegrad.runs`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#run"))); err != nil {
		t.Fatal(err)
	}
	got := waitRun(t, ctx, runs, 3*time.Minute)
	want, _, _ := runCLI(t, cli, in("vgg16_c10.pth"), in("c10.bin"), 32, nil)
	compare(t, "two files on the checkpoint's box", "the CLI", got, want)
	checkNames(t, "two files on the checkpoint's box", readShown(t, p), "vgg16_c10.pth", "c10.bin")
	if left := evaluate[string](t, ctx, `document.querySelector('#fd-summary').textContent + document.querySelector('#slider-verdict').textContent`); left != "" {
		t.Errorf("after a run of another network the teaching views still say the demo's: %q", left)
	}
	// Cancel, clicked while the conversion curve computes after the bars
	// and the sign check, ends the curve.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.body.dataset.curve === 'running' && !document.querySelector('#cancel').disabled`, chromedp.WithPollingTimeout(3*time.Minute))); err != nil {
		t.Fatalf("waiting for the curve: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#cancel"))); err != nil {
		t.Fatal(err)
	}
	if got := evaluate[string](t, ctx, `document.body.dataset.curve + ' ' + document.querySelector('#cancel').disabled`); got != "cancelled true" {
		t.Errorf("Cancel during the curve: data-curve and Cancel's disabled are %q, want cancelled true", got)
	}

	// 2. Two checkpoints and a batch in one drop: the first checkpoint and
	// the batch load, and the page names the checkpoint it did not load.
	loads = evaluate[int](t, ctx, `window.spikegrad.loads`)
	dropAll(t, p, "body", []string{in("resnet20_c10.pth"), in("vgg16_c10.pth"), in("c10_test_batch")})
	waitCount(t, ctx, "loads", loads+1, 2*time.Minute) // two more loads
	s := readShown(t, p)
	if s.CkptName != "resnet20_c10.pth" || s.DataName != "c10_test_batch" || !strings.Contains(s.Error, "vgg16_c10.pth") {
		t.Errorf("two checkpoints dropped: the panel shows %q and %q, the error line %q", s.CkptName, s.DataName, s.Error)
	}

	// 3. A checkpoint, random bytes as data and Run at once, then a good
	// batch: the run does not start (the random bytes, queued behind the
	// checkpoint, are still loading at the click, and are refused), and its
	// line names the refused file, which stays said after the good batch's
	// load (the refusal's own line goes then).
	junk := filepath.Join(t.TempDir(), "random.bin")
	if err := os.WriteFile(junk, []byte(strings.Repeat("\x13\x37junk", 999)), 0o644); err != nil {
		t.Fatal(err)
	}
	runs = evaluate[int](t, ctx, `window.spikegrad.runs`)
	loads = evaluate[int](t, ctx, `window.spikegrad.loads`)
	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.CSS("#ckpt-file"), []string{in("vgg16_c10.pth")}),
		chromedp.SetUploadFiles(chromedp.CSS("#data-file"), []string{junk}),
		chromedp.Click(chromedp.CSS("#run")),
		chromedp.SetUploadFiles(chromedp.CSS("#data-file"), []string{in("c10.bin")}),
	); err != nil {
		t.Fatal(err)
	}
	waitCount(t, ctx, "runs", runs, 2*time.Minute)
	waitCount(t, ctx, "loads", loads+2, 2*time.Minute) // three more loads
	if evaluate[int](t, ctx, `window.spikegrad.lastRun ? 1 : 0`) == 1 && evaluate[string](t, ctx, `window.spikegrad.lastRun.data`) != "c10.bin" {
		t.Errorf("a run clicked while random.bin was loading ran on %q", evaluate[string](t, ctx, `window.spikegrad.lastRun.data`))
	}
	if s := readShown(t, p); !strings.Contains(s.Error, "random.bin") || s.DataName != "c10.bin" {
		t.Errorf("after a run refused for random.bin and a good load: the error line %q, the data box %q", s.Error, s.DataName)
	}

	// 4. A cut checkpoint's error, then 中文: the same line in Chinese.
	cut := filepath.Join(t.TempDir(), "cut.pth")
	b, err := os.ReadFile(in("vgg16_c10.pth"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	loads = evaluate[int](t, ctx, `window.spikegrad.loads`)
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#ckpt-file"), []string{cut})); err != nil {
		t.Fatal(err)
	}
	waitCount(t, ctx, "loads", loads, time.Minute)
	en := readShown(t, p).Error
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#lang"))); err != nil {
		t.Fatal(err)
	}
	zh := readShown(t, p).Error
	if !strings.Contains(en, "cut.pth") || !strings.Contains(en, "cut off") || !strings.Contains(zh, "cut.pth") || !strings.Contains(zh, "被截断") {
		t.Errorf("a cut checkpoint's error: %q in English, %q after the switch to Chinese", en, zh)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#lang"))); err != nil {
		t.Fatal(err)
	}
	p.check(t)
}
