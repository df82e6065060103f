// Package zipread reads zip entries held in memory without trusting the
// sizes their headers declare, for the readers of zip-based formats
// (torch.save checkpoints, numpy .npz).
package zipread

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"strings"
)

// maxRatio is deflate's largest expansion: 258 bytes from about 2 bits.
const maxRatio = 1032

// Entry reads the whole entry f of archive, at most limit bytes of it. A
// stored entry is returned in place, without a copy (checksum checked). The
// declared size is not trusted for allocation: the buffer grows with the bytes
// actually read, and no entry can unpack to more than deflate's ratio allows.
func Entry(f *zip.File, archive []byte, limit uint64) ([]byte, error) {
	size := f.UncompressedSize64
	if size >= math.MaxInt64 {
		return nil, fmt.Errorf("zip entry %s: bad size %d", Clip(f.Name), size)
	}
	if size > limit {
		return nil, fmt.Errorf("zip entry %s: %d bytes, more than the %d MiB allowed", Clip(f.Name), size, limit>>20)
	}
	if off, err := f.DataOffset(); err == nil && f.Method == zip.Store && f.CompressedSize64 == size &&
		off >= 0 && uint64(off) <= uint64(len(archive)) && size <= uint64(len(archive))-uint64(off) {
		e := archive[off : off+int64(size)]
		if crc32.ChecksumIEEE(e) != f.CRC32 {
			return nil, fmt.Errorf("zip entry %s: checksum mismatch", Clip(f.Name))
		}
		return e, nil
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("zip entry %s: %v", Clip(f.Name), err)
	}
	defer rc.Close()
	most := uint64(len(archive))
	if f.Method != zip.Store {
		most = min(most, f.CompressedSize64)*maxRatio + 64
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(size, most)+1))
	if _, err := buf.ReadFrom(io.LimitReader(rc, int64(size)+1)); err != nil {
		if errors.Is(err, zip.ErrFormat) { // zip's own reader stops at the declared size
			return nil, fmt.Errorf("zip entry %s: corrupt, or unpacks to more than the %d bytes it declares", Clip(f.Name), size)
		}
		return nil, fmt.Errorf("zip entry %s: %v", Clip(f.Name), err)
	}
	if uint64(buf.Len()) != size {
		return nil, fmt.Errorf("zip entry %s: %d bytes, declared %d", Clip(f.Name), buf.Len(), size)
	}
	return buf.Bytes(), nil
}

// Clip keeps text taken from a file (names, messages) to one short line.
func Clip(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}
