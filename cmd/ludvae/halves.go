package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/pathguard"
)

// runHalves is `ludvae halves`: every image of a folder cut into its left
// and right halves, two disjoint sets of the same kind of scenes. The paper
// draws SIDD's clean and noisy training images from different scenes of
// one collection; halves do that for a collection of a few photos (the
// demo), so that the clean and degraded domains differ in their
// degradation only, not in brightness or colour.
func runHalves(args []string) error { return halvesCommand(args, os.Stdout, os.Stderr) }

// halvesCommand runs `ludvae halves` with its report on stdout and usage on
// stderr.
func halvesCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("halves")
	fs.SetOutput(stderr)
	in := fs.String("in", "", "folder of images, searched recursively (required)")
	left := fs.String("left", "", "folder for the left halves, as lossless 8-bit PNGs mirroring --in's layout (required)")
	right := fs.String("right", "", "folder for the right halves (required)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: ludvae halves --in DIR --left DIR --right DIR

Cuts every image under --in into its left half (the first floor(W/2)
columns) and its right half (the rest), written under the same name with
extension .png: two disjoint sets of images of the same kinds of scenes, for
the clean and the degraded domain of an unpaired experiment.

flags:`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *in == "":
		return errors.New("--in is required")
	case *left == "":
		return errors.New("--left is required")
	case *right == "":
		return errors.New("--right is required")
	}
	if err := guardPaths(paths(p("--left", *left), p("--right", *right)), paths(p("--in", *in)), nil); err != nil {
		return err
	}
	if err := pathguard.Distinct(p("--left", *left), p("--right", *right)); err != nil {
		return err
	}
	idx, err := indexFolder(*in, "--in")
	if err != nil {
		return err
	}
	keys := commonKeys(idx)
	for _, k := range keys {
		if err := cutInHalves(idx[k], k, *left, *right); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "cut %d image(s) into halves: left in %s, right in %s\n", len(keys), *left, *right)
	return nil
}

// cutInHalves writes the left and right halves of the image at path, named
// key, under the two folders.
func cutInHalves(path, key, left, right string) error {
	m, err := images.Load(path)
	if err != nil {
		return err
	}
	if m.W < 2 {
		return fmt.Errorf("--in %s: %d pixel(s) wide, cannot be cut into two halves", path, m.W)
	}
	w := m.W / 2
	for _, h := range []struct {
		dir  string
		half *images.Image
	}{{left, m.Crop(0, 0, w, m.H)}, {right, m.Crop(w, 0, m.W-w, m.H)}} {
		dst := filepath.Join(h.dir, filepath.FromSlash(key)+".png")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := images.SavePNG(dst, h.half, 8); err != nil {
			return err
		}
	}
	return nil
}
