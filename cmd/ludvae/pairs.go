package main

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ludvae/ludvae/internal/images"
)

// indexFolder lists the images under dir (recursively) keyed by their path
// relative to dir without the extension, with '/' separators. Two files
// with the same key (a.png and a.jpg) are an error naming both.
func indexFolder(dir, flag string) (map[string]string, error) {
	paths, err := images.Find(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	idx := make(map[string]string, len(paths))
	for _, p := range paths {
		k := imageKey(dir, p)
		if prev, dup := idx[k]; dup {
			return nil, fmt.Errorf("%s %s: %s and %s have the same name without extension", flag, dir, prev, p)
		}
		idx[k] = p
	}
	return idx, nil
}

// imageKey is path relative to dir without its extension, '/'-separated.
func imageKey(dir, path string) string {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		rel = filepath.Base(path)
	}
	return filepath.ToSlash(strings.TrimSuffix(rel, filepath.Ext(rel)))
}

// commonKeys returns the keys present in every index, sorted.
func commonKeys(first map[string]string, rest ...map[string]string) []string {
	var keys []string
outer:
	for k := range first {
		for _, idx := range rest {
			if _, ok := idx[k]; !ok {
				continue outer
			}
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// missingKeys returns idx's keys that are not in keep, sorted.
func missingKeys(idx map[string]string, keep []string) []string {
	in := make(map[string]bool, len(keep))
	for _, k := range keep {
		in[k] = true
	}
	var out []string
	for k := range idx {
		if !in[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// reportUnmatched warns on w about names in `from` left out because `other`
// lacks them, listing up to ten.
func reportUnmatched(w io.Writer, names []string, from, other string) {
	if len(names) == 0 {
		return
	}
	list := names
	more := ""
	if len(list) > 10 {
		list, more = list[:10], fmt.Sprintf(" … and %d more", len(names)-10)
	}
	fmt.Fprintf(w, "warning: %d image(s) in %s have no counterpart in %s and are left out: %s%s\n",
		len(names), from, other, strings.Join(list, ", "), more)
}
