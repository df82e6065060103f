//go:build js && wasm

package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"syscall/js"
	"testing"

	"github.com/spikegrad/spikegrad/snn/demo"
	"github.com/spikegrad/spikegrad/snn/job"
)

// blobOf makes a JavaScript Blob holding b (node has Blob, as browsers do).
func blobOf(b []byte) js.Value {
	u := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u, b)
	return js.Global().Get("Blob").New([]any{u})
}

// TestBlobReader: reads of odd sizes across the slice boundaries give back
// the Blob's bytes, then EOF.
func TestBlobReader(t *testing.T) {
	want := make([]byte, 2*blobChunk+12345)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range want {
		want[i] = byte(r.Uint32())
	}
	br := newBlobReader(blobOf(want))
	var got []byte
	buf := make([]byte, 1<<20+7)
	for {
		n, err := br.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, not the Blob's %d", len(got), len(want))
	}
}

// TestArchiveFromBlob: a release archive given as a File, inflated by the
// host's DecompressionStream (node has it, as browsers do), decodes to the
// same images and labels as its bytes through Go's gzip, each time it is
// decoded; a cut-off or damaged one gets the one-line error Go's gzip gives.
func TestArchiveFromBlob(t *testing.T) {
	n, err := job.Checkpoint(demo.CheckpointName, demo.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cifar-10-binary.tar.gz", "cifar-10-python.tar.gz"} {
		b, err := os.ReadFile("../snn/cifar/testdata/archives/" + name)
		if err != nil {
			t.Fatal(err)
		}
		want, err := job.Decode([]job.File{{Name: "a.tar.gz", Data: b}}, n, "")
		if err != nil {
			t.Fatal(err)
		}
		src, err := sourceOf("a.tar.gz", blobOf(b))
		if err != nil {
			t.Fatal(err)
		}
		if !src.gzip {
			t.Fatalf("%s: not inflated by the host", name)
		}
		for range 2 {
			got, err := job.Decode([]job.File{src.file()}, n, "")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s from the Blob: %d images %v..., from bytes: %d images %v...", name, got.N, got.Labels[:4], want.N, want.Labels[:4])
			}
		}

		cut := b[:len(b)/2]
		_, wantErr := job.Decode([]job.File{{Name: "a.tar.gz", Data: cut}}, n, "")
		src, _ = sourceOf("a.tar.gz", blobOf(cut))
		if _, err := job.Decode([]job.File{src.file()}, n, ""); err == nil || wantErr == nil || err.Error() != wantErr.Error() {
			t.Errorf("%s cut in half: error %v, Go's gzip says %v", name, err, wantErr)
		}
		bad := bytes.Clone(b)
		bad[len(bad)/3] ^= 0xff
		_, goErr := job.Decode([]job.File{{Name: "a.tar.gz", Data: bad}}, n, "")
		src, _ = sourceOf("a.tar.gz", blobOf(bad))
		_, err = job.Decode([]job.File{src.file()}, n, "")
		if err == nil || !strings.HasPrefix(err.Error(), "a.tar.gz: corrupt archive: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s with a byte flipped: error %v", name, err)
		}
		t.Logf("%s with a byte flipped: %v (Go's gzip: %v)", name, err, goErr)
	}
	if _, err := sourceOf("empty.bin", blobOf(nil)); err == nil {
		t.Error("an empty File was taken")
	}
}
