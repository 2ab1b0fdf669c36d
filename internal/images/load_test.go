package images

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// makeFolder writes n PNGs of sizes sizes[i]×sizes[i] whose first pixel
// encodes i, plus files named in bad holding garbage, and returns all paths
// sorted (bad files interleaved by name).
func makeFolder(t *testing.T, sizes []int, bad ...string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	for i, s := range sizes {
		writeFile(t, dir, fmt.Sprintf("img%02d.png", i), func(b *bytes.Buffer) error {
			m := image.NewGray(image.Rect(0, 0, s, s))
			m.SetGray(0, 0, color.Gray{uint8(i)})
			return png.Encode(b, m)
		})
	}
	for _, name := range bad {
		os.WriteFile(filepath.Join(dir, name), []byte("corrupt"), 0o644)
	}
	paths, err := Find(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, paths
}

// TestLoadAllOrder: LoadAll returns every image, in the order of paths,
// whatever order the goroutines finish in.
func TestLoadAllOrder(t *testing.T) {
	sizes := make([]int, 23)
	for i := range sizes {
		sizes[i] = 16 + (i*37)%50
	}
	_, paths := makeFolder(t, sizes)
	imgs, skipped, err := LoadAll(paths, false, 16)
	if err != nil || len(skipped) != 0 {
		t.Fatalf("LoadAll: %v, skipped %v", err, skipped)
	}
	if len(imgs) != len(sizes) {
		t.Fatalf("%d images, want %d", len(imgs), len(sizes))
	}
	for i, m := range imgs {
		if m.W != sizes[i] || m.At(0, 0, 0) != f8(uint8(i)) {
			t.Errorf("image %d: %dx%d first pixel %v, want %dx%d %v", i, m.W, m.H, m.At(0, 0, 0), sizes[i], sizes[i], f8(uint8(i)))
		}
	}
}

// TestLoadAllBad: a corrupt file fails the whole call naming it (the first
// bad file in path order); a too-small image is an error naming it and its
// size; with skipBad both are reported and skipped and the rest loaded.
func TestLoadAllBad(t *testing.T) {
	sizes := []int{32, 32, 8, 32, 32, 32, 32, 32}
	_, paths := makeFolder(t, sizes, "img04x.png", "img06x.jpg")
	// paths: img00 img01 img02(8×8) img03 img04 img04x(bad) img05 img06 img06x(bad) img07
	corrupt1, corrupt2, small := paths[5], paths[8], paths[2]

	t.Run("corrupt fails", func(t *testing.T) {
		for range 5 { // the reported file must not depend on scheduling
			imgs, _, err := LoadAll(paths, false, 0)
			if err == nil || imgs != nil {
				t.Fatalf("LoadAll = %d images, %v; want an error", len(imgs), err)
			}
			if !strings.Contains(err.Error(), corrupt1) {
				t.Fatalf("error %q does not name %s", err, corrupt1)
			}
		}
	})
	t.Run("too small fails", func(t *testing.T) {
		_, _, err := LoadAll(paths[:5], false, 16)
		if err == nil {
			t.Fatal("no error for an 8×8 image with minSize 16")
		}
		if !errors.Is(err, ErrTooSmall) || !strings.Contains(err.Error(), small) || !strings.Contains(err.Error(), "8x8") {
			t.Fatalf("error %q does not wrap ErrTooSmall, name %s and its size 8x8", err, small)
		}
	})
	t.Run("skipBad", func(t *testing.T) {
		imgs, skipped, err := LoadAll(paths, true, 16)
		if err != nil {
			t.Fatal(err)
		}
		if len(imgs) != 7 {
			t.Fatalf("%d images, want 7", len(imgs))
		}
		wantFirst := []uint8{0, 1, 3, 4, 5, 6, 7}
		for k, m := range imgs {
			if m.At(0, 0, 0) != f8(wantFirst[k]) {
				t.Errorf("image %d is file %v, want img%02d", k, m.At(0, 0, 0)*255, wantFirst[k])
			}
		}
		wantSkipped := []string{small, corrupt1, corrupt2}
		if len(skipped) != len(wantSkipped) {
			t.Fatalf("skipped %v, want %q", skipped, wantSkipped)
		}
		for k, e := range skipped {
			var fe *FileError
			if !errors.As(e, &fe) || fe.Path != wantSkipped[k] {
				t.Errorf("skipped[%d] = %v, want a *FileError for %s", k, e, wantSkipped[k])
			}
		}
		if !errors.Is(skipped[0], ErrTooSmall) {
			t.Errorf("skipped[0] = %v, want ErrTooSmall", skipped[0])
		}
	})
	t.Run("empty list", func(t *testing.T) {
		imgs, skipped, err := LoadAll(nil, false, 0)
		if err != nil || len(imgs) != 0 || len(skipped) != 0 {
			t.Fatalf("LoadAll(nil) = %v, %v, %v", imgs, skipped, err)
		}
	})
}
