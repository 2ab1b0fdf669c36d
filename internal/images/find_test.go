package images

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestFind: Find walks subfolders, matches extensions case-insensitively,
// ignores other files and returns sorted paths.
func TestFind(t *testing.T) {
	dir := t.TempDir()
	files := []string{"b.png", "a.JPG", "sub/c.jpeg", "sub/deeper/d.TIFF", "e.tif", "f.webp", "notes.txt", "g.png.bak", "sub/h.gif"}
	for _, f := range files {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(dir, "dir.png"), 0o755) // a folder named like an image is not one
	got, err := Find(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range []string{"a.JPG", "b.png", "e.tif", "f.webp", "sub/c.jpeg", "sub/deeper/d.TIFF"} {
		want = append(want, filepath.Join(dir, f))
	}
	if !slices.Equal(got, want) {
		t.Errorf("Find = %q\nwant %q", got, want)
	}
}

// TestFindErrors: an empty (or image-less) folder and a missing folder are
// errors naming the folder.
func TestFindErrors(t *testing.T) {
	empty := t.TempDir()
	noImages := t.TempDir()
	os.WriteFile(filepath.Join(noImages, "readme.txt"), nil, 0o644)
	missing := filepath.Join(empty, "missing")
	for _, dir := range []string{empty, noImages, missing} {
		paths, err := Find(dir)
		if err == nil {
			t.Errorf("Find(%s) = %q, want an error", dir, paths)
			continue
		}
		if !strings.Contains(err.Error(), dir) {
			t.Errorf("Find(%s) error %q does not name the folder", dir, err)
		}
	}
}
