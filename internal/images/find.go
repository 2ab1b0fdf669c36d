package images

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// Extensions are the file name extensions Find accepts (compared
// case-insensitively).
var Extensions = []string{".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"}

// IsImageFile reports whether name has one of Extensions.
func IsImageFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range Extensions {
		if ext == e {
			return true
		}
	}
	return false
}

// Find lists the image files (see Extensions) under dir, recursively, in
// sorted order. Finding none is an error naming dir, as is a dir that
// cannot be read.
func Find(dir string) ([]string, error) {
	return FindContext(context.Background(), dir)
}

// FindContext is Find that stops, with ctx's error, once ctx is done: a
// walk of a large or slow (network) file system can take a while.
func FindContext(ctx context.Context, dir string) ([]string, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.IsDir() && IsImageFile(d.Name()) {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("images: find in %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("images: no image files (%s) under %s", strings.Join(Extensions, " "), dir)
	}
	sort.Strings(paths)
	return paths, nil
}
