package synth

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/ludvae/ludvae/internal/images"
)

// input is one image to synthesize from: its index in the sorted list of
// every input (which keys its noise, whatever shard handles it), its path
// and the stem of its outputs.
type input struct {
	index int
	path  string
	stem  string // path relative to --clean, '/'-separated, without extension, valid UTF-8
}

// listInputs finds the images under clean in sorted order, as images.Find
// does, but never descends into out's own L/ and H/ (an --out inside
// --clean, or equal to it, would otherwise read its outputs back as inputs
// on the next run), and names each one's outputs after its relative path.
func listInputs(ctx context.Context, clean, out string, log io.Writer) ([]input, error) {
	skip := ownDirs(out)
	var paths []string
	err := filepath.WalkDir(clean, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != clean && isAny(p, skip) {
				return filepath.SkipDir
			}
			if kind := images.OutputKind(p); p != clean && kind != "" {
				fmt.Fprintf(log, "note: skipping %s: it holds %s, not input images\n", p, kind)
				return filepath.SkipDir
			}
			return nil
		}
		if !images.IsImageFile(d.Name()) {
			return nil
		}
		if d.Type()&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice|fs.ModeIrregular) != 0 {
			// Opening a FIFO would wait for a writer forever.
			return fmt.Errorf("%s is not a regular file (%v)", p, d.Type())
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("--clean: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("--clean %s: no image files (%s)", clean, strings.Join(images.Extensions, " "))
	}
	sort.Strings(paths)
	in := make([]input, len(paths))
	for i, p := range paths {
		in[i] = input{index: i, path: p, stem: escapeName(images.Key(clean, p))}
	}
	return in, nil
}

// ownDirs are the existing L/ and H/ of out, as file infos to compare
// directories by identity (not by spelling, which symlinks and "..".
// defeat).
func ownDirs(out string) []os.FileInfo {
	var dirs []os.FileInfo
	for _, d := range []string{DirL, DirH} {
		if fi, err := os.Stat(filepath.Join(out, d)); err == nil && fi.IsDir() {
			dirs = append(dirs, fi)
		}
	}
	return dirs
}

func isAny(dir string, infos []os.FileInfo) bool {
	if len(infos) == 0 {
		return false
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return false
	}
	for _, o := range infos {
		if os.SameFile(fi, o) {
			return true
		}
	}
	return false
}

// escapeName makes an output name valid UTF-8, so that the manifest (JSON,
// which can only hold UTF-8) names files that exist: each byte of an
// invalid sequence becomes %XX (hexadecimal). Valid names, '%' included,
// are kept as they are; a clash that this creates is caught by
// checkCollisions like any other.
func escapeName(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n <= 1 {
			fmt.Fprintf(&b, "%%%02X", s[0])
			s = s[1:]
			continue
		}
		b.WriteString(s[:n])
		s = s[n:]
	}
	return b.String()
}
