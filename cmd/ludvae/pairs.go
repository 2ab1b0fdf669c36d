package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ludvae/ludvae/internal/images"
)

// indexFolder is images.Index of dir, its errors naming flag.
func indexFolder(dir, flag string) (map[string]string, error) {
	idx, err := images.Index(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return idx, nil
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
