package picture

import (
	"strconv"
	"strings"

	"github.com/spikegrad/spikegrad/snn/cifar"
)

// Label returns the class that an image's file name or folder names, or -1
// when they name none (or several). classes is the model's class count.
//
//   - A 10- or 100-class model: a CIFAR-10 or CIFAR-100 class name as a word
//     of the name (cat_003.png, airplane/1.png, maple_tree-2.jpg; words are
//     runs of letters, and a two-word class is its words in a row).
//   - Any model: a class index, as a folder named by the number alone
//     (207/x.jpg) or a number after "class", "label" or "cls" in the file
//     name (class_207.jpg, label-3.png); a bare number in a file name
//     (00001.png) is a serial number, not a label.
//
// The file name is asked first, then its folder.
func Label(path string, classes int) int {
	parts := strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '\\' })
	if len(parts) == 0 {
		return -1
	}
	file := parts[len(parts)-1]
	if i := strings.LastIndexByte(file, '.'); i > 0 {
		file = file[:i]
	}
	folder := ""
	if len(parts) > 1 {
		folder = parts[len(parts)-2]
	}
	var names []string
	switch classes {
	case 10:
		names = cifar.Classes10
	case 100:
		names = cifar.Classes100
	}
	if names != nil {
		if l := byName(file, names); l >= 0 {
			return l
		}
		if l := byName(folder, names); l >= 0 {
			return l
		}
	}
	if l := byNumber(file, classes, false); l >= 0 {
		return l
	}
	return byNumber(folder, classes, true)
}

// byName finds the one class named by words of s.
func byName(s string, names []string) int {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r < 'a' || r > 'z' })
	found := -1
	for i, name := range names {
		want := strings.Split(name, "_")
		for j := 0; j+len(want) <= len(words); j++ {
			if equal(words[j:j+len(want)], want) {
				if found >= 0 && found != i {
					return -1 // cat_and_dog: no one label
				}
				found = i
			}
		}
	}
	return found
}

func equal(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// byNumber reads a class index: s itself when whole is set (a folder),
// else a number after class/label/cls.
func byNumber(s string, classes int, whole bool) int {
	s = strings.ToLower(s)
	if !whole {
		found := false
		for _, p := range []string{"class", "label", "cls"} {
			if i := strings.Index(s, p); i >= 0 {
				s = strings.TrimLeft(s[i+len(p):], "_- ")
				found = true
				break
			}
		}
		if !found {
			return -1
		}
		end := 0
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
		}
		s = s[:end]
	}
	if s == "" || len(s) > 6 || strings.Trim(s, "0123456789") != "" {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n >= classes {
		return -1
	}
	return n
}
