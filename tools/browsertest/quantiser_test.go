package browsertest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spikegrad/spikegrad/snn"
)

// TestQuantiser: the page's ANN quantiser (issue 16) gives the CLI's
// -quantiser myfloor numbers at T=0, and MyFloor with T > 0 is refused by
// the form in one line.
func TestQuantiser(t *testing.T) {
	p, in := demoPage(t, 5*time.Minute)
	ctx := p.ctx
	cli := buildCLI(t, p.root)
	runs := evaluate[int](t, ctx, `window.spikegrad.runs`)
	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.CSS("#ckpt-file"), []string{in("vgg16_c10.pth")}),
		chromedp.SetUploadFiles(chromedp.CSS("#data-file"), []string{in("c10.bin")}),
		chromedp.SetValue(chromedp.CSS("#opt-T"), "0"),
		chromedp.SetValue(chromedp.CSS("#opt-quantiser"), "myfloor"),
		chromedp.Click(chromedp.CSS("#run")),
	); err != nil {
		t.Fatal(err)
	}
	got := waitRun(t, ctx, runs, 3*time.Minute)
	out, err := exec.Command(cli, "-ckpt", in("vgg16_c10.pth"), "-data", in("c10.bin"),
		"-n", "32", "-T", "0", "-quantiser", "myfloor", "-json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var want snn.Result
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	compare(t, "MyFloor at T=0", "the CLI's -quantiser myfloor", got, &want)

	runs = evaluate[int](t, ctx, `window.spikegrad.runs`)
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#opt-T"), "8"), chromedp.Click(chromedp.CSS("#run"))); err != nil {
		t.Fatal(err)
	}
	waitCount(t, ctx, "runs", runs, time.Minute)
	if e := readShown(t, p).Error; !strings.Contains(e, "MyFloor") || strings.Contains(e, "\n") {
		t.Errorf("MyFloor with T=8: the error line reads %q", e)
	}
	p.check(t)
}
