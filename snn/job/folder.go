package job

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/spikegrad/spikegrad/snn/picture"
)

// Labels maps names to class indices: a labels file (-labels FILE), one
// "name index" a line, for class folders that are not in class order (a
// few ImageNet synsets: n01440764 0, n01530575 10) or for image files (the
// ImageNet validation images' ILSVRC2012_val_00000001.JPEG 65). An image's
// class folder is looked up first, then its file name.
type Labels map[string]int

// ParseLabels reads a labels file: "name index" a line, blank lines and
// lines starting with # skipped; a name given twice or an index outside
// the model's classes is an error naming the line.
func ParseLabels(name string, b []byte, classes int) (Labels, error) {
	l := Labels{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("%s: line %d: want \"name index\", got %q", name, i+1, line)
		}
		k, err := strconv.Atoi(f[1])
		if err != nil || k < 0 || classes > 0 && k >= classes {
			return nil, fmt.Errorf("%s: line %d: class index %q: want 0 to %d", name, i+1, f[1], classes-1)
		}
		if _, dup := l[f[0]]; dup {
			return nil, fmt.Errorf("%s: line %d: %s is given twice", name, i+1, f[0])
		}
		l[f[0]] = k
	}
	if len(l) == 0 {
		return nil, fmt.Errorf("%s: no \"name index\" lines", name)
	}
	return l, nil
}

// isLabelsFile says whether a file given among images is a labels file.
func isLabelsFile(name string) bool {
	return strings.EqualFold(path.Ext(name), ".txt")
}

// folderTree reads image files named root/class/.../image (the CLI names a
// folder's files by their path under it, the folder itself first) as
// torchvision's ImageFolder does: the classes are the class folders' names
// in sorted order, an image's label is its class's index, and the images
// come class by class, each class's folders in sorted order, then their
// files in sorted order (sorted(os.walk(...)), sorted(fnames)).
//
// The files are such a tree when every one sits in a class folder under one
// root, there are at least two class folders (ImageFolder would label all
// of imagenet/val/... 0), and they are not all labels already (CIFAR class
// names for a 10- or 100-class model: picture.Label; or numbers, class
// indices whether in range or not), which keep their meaning. It returns the
// files in ImageFolder's order with their labels, the class names, and ok
// false when the files are not a tree.
func folderTree(files []File, classes int) (ordered []File, labels []int, names []string, ok bool) {
	root := ""
	byClass := map[string]bool{}
	for _, f := range files {
		parts := strings.Split(f.Name, "/")
		if len(parts) < 3 || slices.Contains(parts, "") || root != "" && parts[0] != root {
			return nil, nil, nil, false
		}
		root = parts[0]
		byClass[parts[1]] = true
	}
	for c := range byClass {
		names = append(names, c)
	}
	slices.Sort(names) // Python's sorted: code point order, which is UTF-8 byte order
	if len(names) < 2 {
		return nil, nil, nil, false
	}
	named := true
	for _, c := range names {
		named = named && (picture.Label(c+"/_", classes) >= 0 || strings.Trim(c, "0123456789") == "")
	}
	if named {
		return nil, nil, nil, false
	}
	index := make(map[string]int, len(names))
	for i, c := range names {
		index[c] = i
	}
	type entry struct {
		class    int
		dir, img string
		f        File
	}
	es := make([]entry, len(files))
	for i, f := range files {
		rest := strings.SplitN(f.Name, "/", 3)
		dir, img := path.Split(f.Name)
		es[i] = entry{index[rest[1]], dir, img, f}
	}
	slices.SortStableFunc(es, func(a, b entry) int {
		if a.class != b.class {
			return a.class - b.class
		}
		// os.walk's roots are "root/class" and "root/class/sub": compared without the slash.
		if c := strings.Compare(strings.TrimSuffix(a.dir, "/"), strings.TrimSuffix(b.dir, "/")); c != 0 {
			return c
		}
		return strings.Compare(a.img, b.img)
	})
	for _, e := range es {
		ordered = append(ordered, e.f)
		labels = append(labels, e.class)
	}
	return ordered, labels, names, true
}

// labelFrom looks an image up in a labels file: its class folder (the
// second part of root/class/.../image), its own folder, then its file name.
func labelFrom(l Labels, name string) (int, bool) {
	parts := strings.Split(name, "/")
	var try []string
	if len(parts) >= 3 {
		try = append(try, parts[1])
	}
	if len(parts) >= 2 {
		try = append(try, parts[len(parts)-2])
	}
	for _, n := range append(try, parts[len(parts)-1]) {
		if k, ok := l[n]; ok {
			return k, true
		}
	}
	return 0, false
}
