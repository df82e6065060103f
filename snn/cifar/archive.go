package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Bounds on what an archive may make us read. The largest CIFAR batch is
// CIFAR-100's training set, 153.7 MB in either format, and a whole release
// unpacks to under 200 MB: anything beyond is not a CIFAR release (or is a
// decompression bomb), and stops with an error instead of running on.
var (
	maxMember  int64 = 256 << 20 // bytes of the chosen member
	maxArchive int64 = 1 << 30   // bytes of tar stream decompressed in all
)

// TestMembers are the test batches of the four release archives, by base
// name: the one an archive is read for when no member is named.
var TestMembers = []string{"test_batch", "test_batch.bin", "test", "test.bin"}

// ReadArchive reads one batch of a CIFAR release archive
// (cifar-10-python.tar.gz, cifar-10-binary.tar.gz, cifar-100-python.tar.gz,
// cifar-100-binary.tar.gz) as a stream: only the chosen member is held in
// memory. member is a member's base name or path (e.g. "data_batch_3"); ""
// picks the test batch. A plain (not gzipped) tar is read too. It returns the
// batch and the chosen member's path in the archive.
func ReadArchive(r io.Reader, member string, classes int) (*Batch, string, error) {
	br := &bounded{r: r, left: maxArchive}
	var tr *tar.Reader
	var magic [2]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil {
		return nil, "", errors.New("not a tar.gz archive: too short")
	}
	rest := io.MultiReader(bytes.NewReader(magic[:]), br)
	if IsGzip(magic[:]) {
		zr, err := gzip.NewReader(rest)
		if err != nil {
			return nil, "", fmt.Errorf("not a tar.gz archive: %s", streamError(err))
		}
		// Bound the decompressed bytes, not the compressed ones: that is
		// where a bomb grows.
		br.left = -1
		tr = tar.NewReader(&bounded{r: zr, left: maxArchive})
	} else {
		tr = tar.NewReader(rest)
	}

	var seen []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, "", fmt.Errorf("%s", streamError(err))
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		base := path.Base(h.Name)
		if len(seen) < 20 && !strings.HasPrefix(base, "._") {
			seen = append(seen, clip(base))
		}
		if !wanted(h.Name, base, member) {
			continue
		}
		name := clip(h.Name)
		if h.Size > maxMember {
			return nil, "", fmt.Errorf("member %s declares %d bytes, more than any CIFAR batch (at most %d MiB)", name, h.Size, maxMember>>20)
		}
		// Grow with the bytes that arrive rather than trust the header.
		var buf bytes.Buffer
		buf.Grow(int(min(h.Size, 1<<20)))
		if _, err := buf.ReadFrom(tr); err != nil {
			return nil, "", fmt.Errorf("member %s: %s", name, streamError(err))
		}
		if int64(buf.Len()) != h.Size {
			return nil, "", fmt.Errorf("member %s: truncated archive: %d of %d bytes", name, buf.Len(), h.Size)
		}
		bt, err := Decode(buf.Bytes(), classes)
		if err != nil {
			return nil, "", fmt.Errorf("member %s: %v", name, err)
		}
		return bt, h.Name, nil
	}
	list := strings.Join(seen, ", ")
	if list == "" {
		list = "none"
	}
	if member == "" {
		return nil, "", fmt.Errorf("no test batch (%s) in the archive; its files: %s", strings.Join(TestMembers, ", "), list)
	}
	return nil, "", fmt.Errorf("no member %q in the archive; its files: %s", clip(member), list)
}

func wanted(name, base, member string) bool {
	if member != "" {
		return name == member || base == member
	}
	for _, m := range TestMembers {
		if base == m {
			return true
		}
	}
	return false
}

// IsGzip tells whether a file that starts with head is gzip-compressed.
func IsGzip(head []byte) bool {
	return len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b
}

var errArchiveBound = errors.New("past the archive bound")

// bounded fails once more than left bytes are read (left < 0: no bound).
type bounded struct {
	r    io.Reader
	left int64
}

func (b *bounded) Read(p []byte) (int, error) {
	if b.left < 0 {
		return b.r.Read(p)
	}
	if b.left == 0 {
		// Past the bound only if there is more.
		var one [1]byte
		if n, _ := b.r.Read(one[:]); n > 0 {
			return 0, errArchiveBound
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// streamError words the errors of gzip and tar for the user.
func streamError(err error) string {
	switch {
	case errors.Is(err, errArchiveBound):
		return fmt.Sprintf("archive unpacks to more than %d MiB: not a CIFAR release (a decompression bomb?)", maxArchive>>20)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "truncated archive"
	case errors.Is(err, gzip.ErrHeader):
		return "bad gzip header"
	case errors.Is(err, gzip.ErrChecksum):
		return "corrupt archive: gzip checksum mismatch"
	case errors.Is(err, tar.ErrHeader):
		return "corrupt archive: bad tar header"
	}
	return "corrupt archive: " + clip(err.Error())
}
