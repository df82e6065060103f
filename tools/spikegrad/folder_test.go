package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikegrad/spikegrad/snn"
)

// An ImageNet-style folder runs with ImageFolder's labels, or with a labels
// file's (-labels): the same images, other labels, another loss; and
// -quantiser reaches the engine (myfloor refused outside ANN mode).
func TestImageFolderCLI(t *testing.T) {
	ck, val := testdata+"resnet18_imagenet.pth", testdata+"imagefolder/val"
	loss := func(args ...string) float64 {
		t.Helper()
		out, _, err := runCLI(append([]string{"-ckpt", ck, "-data", val, "-n", "7", "-T", "2", "-json"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var r snn.Result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.N != 7 || r.Unlabeled != 0 {
			t.Fatalf("n %d, unlabelled %d: want 7 images, all labelled", r.N, r.Unlabeled)
		}
		return r.Loss
	}
	plain, mapped := loss(), loss("-labels", testdata+"imagefolder/labels.txt")
	if plain == mapped {
		t.Errorf("the same loss %g with and without -labels", plain)
	}
	bad := filepath.Join(t.TempDir(), "l.txt")
	if err := os.WriteFile(bad, []byte("n01440764 zero\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-labels", bad}, "l.txt: line 1: class index \"zero\""},
		{[]string{"-labels", bad + ".missing"}, "no such file"},
		{[]string{"-quantiser", "myfloor"}, "quantiser myfloor is ANN mode's activation: it needs T=0"},
		{[]string{"-quantiser", "relu", "-T", "0"}, "quantiser \"relu\": want if or myfloor"},
	} {
		_, _, err := runCLI(append([]string{"-ckpt", ck, "-data", val, "-n", "2", "-T", "2"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}
