//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall/js"

	"github.com/spikegrad/spikegrad/snn/cifar"
	"github.com/spikegrad/spikegrad/snn/job"
)

// blobChunk is how much of a Blob is in Go memory at a time while it is read.
const blobChunk = 4 << 20

// blobReader reads a JavaScript Blob (a File the user chose) in slices of
// blobChunk, so that a 170 MB release archive streams through gzip without
// being copied whole into the page's or the engine's memory. Read waits for
// the browser's promises: call it from a goroutine, never from a js.Func.
type blobReader struct {
	blob      js.Value
	off, size int
	buf       []byte
}

func newBlobReader(blob js.Value) *blobReader {
	return &blobReader{blob: blob, size: blob.Get("size").Int()}
}

func (r *blobReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if r.off >= r.size {
			return 0, io.EOF
		}
		end := min(r.off+blobChunk, r.size)
		ab, err := await(r.blob.Call("slice", r.off, end).Call("arrayBuffer"))
		if err != nil {
			return 0, err
		}
		u := js.Global().Get("Uint8Array").New(ab)
		if cap(r.buf) < u.Length() {
			r.buf = make([]byte, blobChunk)
		}
		r.buf = r.buf[:js.CopyBytesToGo(r.buf[:u.Length()], u)]
		r.off = end
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// inflateReader reads a gzip Blob through the browser's DecompressionStream:
// the browser inflates natively, where Go's compress/flate runs in
// WebAssembly (a 147 MB archive loaded in the page in 5.3 s instead of
// 15.7). Read waits for the browser's promises, as blobReader's does.
type inflateReader struct {
	reader js.Value // the stream's ReadableStreamDefaultReader
	chunk  []byte   // owns the memory of the last chunk read
	buf    []byte   // what is left of it
	done   bool
}

func newInflateReader(blob js.Value) *inflateReader {
	stream := blob.Call("stream").Call("pipeThrough", js.Global().Get("DecompressionStream").New("gzip"))
	return &inflateReader{reader: stream.Call("getReader")}
}

func (r *inflateReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		res, err := await(r.reader.Call("read"))
		if err != nil {
			return 0, inflateError(err)
		}
		if res.Get("done").Bool() {
			r.done = true
			continue
		}
		u := res.Get("value")
		n := u.Length()
		if cap(r.chunk) < n {
			r.chunk = make([]byte, n)
		}
		r.buf = r.chunk[:js.CopyBytesToGo(r.chunk[:n], u)]
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// inflateError words the browser's inflate errors as Go's gzip reader's
// are worded (snn/cifar's streamError): a cut-off file is truncated, not
// corrupt. Chromium says "Compressed input was truncated.", node's zlib
// "unexpected end of file".
func inflateError(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "truncated") || strings.Contains(msg, "unexpected end") {
		return io.ErrUnexpectedEOF
	}
	// "TypeError: ...", "Error: ...": the message alone.
	if i := strings.Index(msg, "Error: "); i >= 0 && !strings.Contains(msg[:i], " ") {
		msg = msg[i+len("Error: "):]
	}
	return fmt.Errorf("gzip: %s", msg)
}

// isGzip tells whether a Blob starts as a gzip file does.
func isGzip(blob js.Value) (bool, error) {
	ab, err := await(blob.Call("slice", 0, 2).Call("arrayBuffer"))
	if err != nil {
		return false, err
	}
	var head [2]byte
	n := js.CopyBytesToGo(head[:], js.Global().Get("Uint8Array").New(ab))
	return cifar.IsGzip(head[:n]), nil
}

// await waits for a JavaScript promise on the calling goroutine.
func await(promise js.Value) (js.Value, error) {
	done := make(chan struct{})
	var v js.Value
	var err error
	then := js.FuncOf(func(_ js.Value, a []js.Value) any {
		v = a[0]
		close(done)
		return nil
	})
	catch := js.FuncOf(func(_ js.Value, a []js.Value) any {
		err = errors.New(a[0].Call("toString").String())
		close(done)
		return nil
	})
	defer then.Release()
	defer catch.Release()
	promise.Call("then", then, catch)
	<-done
	return v, err
}

// isBlob tells a Blob (or File) from a Uint8Array.
func isBlob(v js.Value) bool {
	return v.Type() == js.TypeObject && v.InstanceOf(js.Global().Get("Blob"))
}

// source is a data file the page gave: a Blob, read again at each decode
// (through the browser's inflate when it is gzip), or bytes.
type source struct {
	name string
	blob js.Value
	gzip bool
	data []byte
}

func sourceOf(name string, v js.Value) (source, error) {
	switch {
	case isBlob(v):
		if v.Get("size").Int() == 0 {
			return source{}, fmt.Errorf("%s: empty file", name)
		}
		gz, err := isGzip(v)
		if err != nil {
			return source{}, fmt.Errorf("%s: %v", name, err)
		}
		// Without DecompressionStream (an old browser), Go inflates.
		gz = gz && js.Global().Get("DecompressionStream").Truthy()
		return source{name: name, blob: v, gzip: gz}, nil
	case v.Type() == js.TypeObject && v.InstanceOf(js.Global().Get("Uint8Array")):
		if v.Length() == 0 {
			return source{}, fmt.Errorf("%s: empty file", name)
		}
		b := make([]byte, v.Length())
		js.CopyBytesToGo(b, v)
		return source{name: name, data: b}, nil
	}
	return source{}, fmt.Errorf("%s: want a File, Blob or Uint8Array", name)
}

// file opens s for one decode.
func (s source) file() job.File {
	if s.data != nil {
		return job.File{Name: s.name, Data: s.data}
	}
	if s.gzip {
		return job.File{Name: s.name, R: newInflateReader(s.blob), Inflated: true}
	}
	return job.File{Name: s.name, R: newBlobReader(s.blob)}
}
