package images

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Key is the name an image file pairs by across folders: its path
// relative to dir without the extension, with '/' separators, so that
// L/sub/a.png and H/sub/a.jpg are both "sub/a". Commands that match a
// degraded image to its clean one (restore's pairs, eval, eval noise,
// degrade, halves) and those that name an output after an input (synth,
// restore test) all use it. A path not under dir keys by its base name.
func Key(dir, path string) string {
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		rel = filepath.Base(path)
	}
	return filepath.ToSlash(strings.TrimSuffix(rel, filepath.Ext(rel)))
}

// Index lists the images under dir (Find) by their Key. Two files of one
// key (a.png and a.jpg) are an error naming both: which of them pairs
// would otherwise depend on the walk order.
func Index(dir string) (map[string]string, error) {
	paths, err := Find(dir)
	if err != nil {
		return nil, err
	}
	idx := make(map[string]string, len(paths))
	for _, p := range paths {
		k := Key(dir, p)
		if prev, dup := idx[k]; dup {
			return nil, fmt.Errorf("images: %s: %s and %s have the same name without extension", dir, prev, p)
		}
		idx[k] = p
	}
	return idx, nil
}
