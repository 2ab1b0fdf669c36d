package images

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
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
// cannot be read. Folders below dir that hold a ludvae run or synthesis
// output (OutputKind) are skipped, with a note on stderr naming each.
func Find(dir string) ([]string, error) {
	return FindContext(context.Background(), dir)
}

// FindContext is Find that stops, with ctx's error, once ctx is done: a
// walk of a large or slow (network) file system can take a while.
func FindContext(ctx context.Context, dir string) ([]string, error) {
	return FindNoting(ctx, dir, os.Stderr)
}

// FindNoting is FindContext with the notes of skipped output folders on
// note (nil: none).
func FindNoting(ctx context.Context, dir string, note io.Writer) ([]string, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() && p != dir {
			if kind := OutputKind(p); kind != "" {
				if note != nil {
					fmt.Fprintf(note, "note: skipping %s: it holds %s, not input images\n", p, kind)
				}
				return filepath.SkipDir
			}
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

// OutputKind says what ludvae output the folder dir holds, by the files
// the commands write there, or "" for none: a synthesis (`ludvae synth`'s
// synth.json) or a training run (config.json beside a run lock, log.csv or
// checkpoints, as `ludvae train` and `ludvae restore train` leave them).
// The images such folders hold (pairs, sample grids, loss plots) are a
// run's results: a run whose input folder holds an earlier output must not
// take them for inputs (hostile cases sy19, tr39).
func OutputKind(dir string) string {
	has := func(name string) bool {
		_, err := os.Lstat(filepath.Join(dir, name))
		return err == nil
	}
	if has("synth.json") {
		return "a ludvae synthesis output (synth.json)"
	}
	if !has("config.json") {
		return ""
	}
	for _, marker := range []string{"train.lock", "log.csv"} {
		if has(marker) {
			return "a ludvae training run (config.json, " + marker + ")"
		}
	}
	for _, pattern := range []string{"ckpt_*.pth", "dncnn_*.pth"} {
		if m, _ := filepath.Glob(filepath.Join(dir, pattern)); len(m) > 0 {
			return "a ludvae training run (config.json, " + filepath.Base(m[0]) + ")"
		}
	}
	return ""
}
