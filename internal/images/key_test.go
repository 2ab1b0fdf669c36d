package images

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyAndIndex: an image keys by its path under the folder without the
// extension, '/'-separated, whatever the extension; Index lists a folder by
// key, and refuses two files of one key naming both.
func TestKeyAndIndex(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct{ path, key string }{
		{"a.png", "a"}, {"sub/b.JPG", "sub/b"}, {"sub/deeper/c.d.tif", "sub/deeper/c.d"},
	} {
		p := filepath.Join(dir, filepath.FromSlash(c.path))
		if got := Key(dir, p); got != c.key {
			t.Errorf("Key(%s) = %q, want %q", c.path, got, c.key)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := Key(filepath.Join(dir, "sub"), filepath.Join(dir, "a.png")); got != "a" {
		t.Errorf("Key of a path outside the folder = %q, want its base name %q", got, "a")
	}
	idx, err := Index(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(idx) != 3 || idx["sub/b"] != filepath.Join(dir, "sub", "b.JPG") || idx["sub/deeper/c.d"] == "" {
		t.Errorf("Index = %v", idx)
	}
	dup := filepath.Join(dir, "sub", "b.png")
	if err := os.WriteFile(dup, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Index(dir); err == nil || !strings.Contains(err.Error(), "b.JPG") || !strings.Contains(err.Error(), "b.png") {
		t.Errorf("Index with sub/b.JPG and sub/b.png: %v, want an error naming both", err)
	}
}
