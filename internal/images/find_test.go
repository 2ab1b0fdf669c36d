package images

import (
	"context"
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

// TestFindSkipsOutputs (hostile cases tr39, sy19): below the folder
// searched, a training run folder (config.json beside train.lock, log.csv
// or checkpoints) and a synthesis output (synth.json) are skipped with a
// note naming each, while a folder with a config.json alone (a user's own
// file) and the searched folder itself are searched as before.
func TestFindSkipsOutputs(t *testing.T) {
	dir := t.TempDir()
	files := []string{
		"a.png", "b.png",
		"run/config.json", "run/train.lock", "run/loss.png", "run/samples/step_00000001.png",
		"dn/config.json", "dn/dncnn_00000002.pth", "dn/x.png",
		"logged/config.json", "logged/log.csv", "logged/y.png",
		"pairs_a/synth.json", "pairs_a/L/a.png", "pairs_a/H/a.png",
		"mine/config.json", "mine/c.png",
	}
	for _, f := range files {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var note strings.Builder
	got, err := FindNoting(context.Background(), dir, &note)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png"), filepath.Join(dir, "mine", "c.png")}
	if !slices.Equal(got, want) {
		t.Errorf("FindNoting = %q\nwant %q", got, want)
	}
	for _, skipped := range []string{"run", "dn", "logged", "pairs_a"} {
		if !strings.Contains(note.String(), "skipping "+filepath.Join(dir, skipped)+":") {
			t.Errorf("no note for %s in %q", skipped, note.String())
		}
	}
	// The output folder itself, named as the folder to search, is searched.
	if got, err := FindNoting(context.Background(), filepath.Join(dir, "pairs_a"), nil); err != nil || len(got) != 2 {
		t.Errorf("FindNoting(pairs_a) = %q, %v; want its 2 images", got, err)
	}
}
