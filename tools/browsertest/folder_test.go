package browsertest

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/spikegrad/spikegrad/snn"
)

// TestFolderDrop: an ImageNet-style folder (class folders of synsets)
// dropped on the page is read as the CLI reads it with -data FOLDER: the
// same images, the same ImageFolder labels, the same numbers.
func TestFolderDrop(t *testing.T) {
	p, in := demoPage(t, 5*time.Minute)
	ctx := p.ctx
	cli := buildCLI(t, p.root)
	ckpt, folder := in("resnet18_imagenet.pth"), in(filepath.Join("imagefolder", "val"))
	// The demo batch does not fit an ImageNet network: the load says so, and
	// the folder replaces it.
	upload(t, ctx, "#ckpt-file", ckpt, "error", 2*time.Minute)
	loads := evaluate[int](t, ctx, `window.spikegrad.loads`)
	dropAll(t, p, "#data-drop", []string{folder})
	waitCount(t, ctx, "loads", loads, 2*time.Minute)
	if s := readShown(t, p); s.Error != "" {
		t.Fatalf("the folder's load: %s", s.Error)
	}
	got := clickRun(t, ctx, 3*time.Minute)
	out, err := exec.Command(cli, "-ckpt", ckpt, "-data", folder, "-n", "32", "-json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var want snn.Result
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	compare(t, "a dropped ImageFolder tree", "the CLI's -data FOLDER", got, &want)
	if got.N != want.N || got.Accuracy != want.Accuracy {
		t.Errorf("the page ran %d images (accuracy %g), the CLI %d (%g)", got.N, got.Accuracy, want.N, want.Accuracy)
	}
}
