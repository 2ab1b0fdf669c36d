package main

import (
	"errors"
	"fmt"
	"image/color"
	"path/filepath"

	"github.com/ludvae/ludvae/internal/chart"
	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/pathguard"
)

// maxZoom and maxMontagePixels bound a montage to what fits in memory
// (256 Mpixel RGBA is 1 GiB): a mistyped --zoom would otherwise allocate
// until the process is killed.
const (
	maxZoom          = 64
	maxMontagePixels = 256 << 20
)

// runMontage puts the same crop of several images side by side, each
// labelled, for comparing a clean image with its degraded versions.
func runMontage(args []string) error {
	fs := newFlagSet("montage")
	out := fs.String("out", "", "output PNG (required)")
	crop := fs.IntSlice("crop", nil, "x,y,w,h of the crop (default: the whole first image)")
	zoom := fs.Int("zoom", 1, "pixel replication factor, 1 to 64")
	labels := fs.StringSlice("labels", nil, "one label per image (default: file names)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ludvae montage --out OUT.png [--crop x,y,w,h] [--zoom N] [--labels a,b,...] IMAGE...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		fs.Usage()
		return errors.New("--out and at least one image are required")
	}
	if len(*labels) != 0 && len(*labels) != fs.NArg() {
		return fmt.Errorf("--labels: %d labels for %d images", len(*labels), fs.NArg())
	}
	var ins []pathguard.Path
	for _, a := range fs.Args() {
		ins = append(ins, p("argument", a))
	}
	if err := guardPaths(paths(p("--out", *out)), nil, ins); err != nil {
		return err
	}
	if *zoom < 1 || *zoom > maxZoom {
		return fmt.Errorf("--zoom %d: expected 1 to %d", *zoom, maxZoom)
	}
	if c := *crop; len(c) != 0 && (len(c) != 4 || c[0] < 0 || c[1] < 0 || c[2] < 1 || c[3] < 1) {
		return fmt.Errorf("--crop %v: expected x,y,w,h with x, y >= 0 and w, h >= 1", c)
	}
	var tiles []*images.Image
	for i, p := range fs.Args() {
		m, err := images.Load(p)
		if err != nil {
			return err
		}
		x, y, w, h := 0, 0, m.W, m.H
		if len(*crop) == 4 {
			x, y, w, h = (*crop)[0], (*crop)[1], (*crop)[2], (*crop)[3]
		} else if len(*crop) != 0 {
			return fmt.Errorf("--crop: expected x,y,w,h, got %v", *crop)
		}
		if x < 0 || y < 0 || w < 1 || h < 1 || x+w > m.W || y+h > m.H {
			return fmt.Errorf("--crop %d,%d,%d,%d lies outside %s (%dx%d)", x, y, w, h, p, m.W, m.H)
		}
		if i > 0 && (w != tiles[0].W || h != tiles[0].H) {
			return fmt.Errorf("%s: crop %dx%d differs from the first image's %dx%d", p, w, h, tiles[0].W, tiles[0].H)
		}
		tiles = append(tiles, m.Crop(x, y, w, h))
	}
	const gap, labelH = 4, 18
	tw, th := tiles[0].W**zoom, tiles[0].H**zoom
	if px := int64(len(tiles)*(tw+gap)) * int64(th+labelH); px > maxMontagePixels {
		return fmt.Errorf("--zoom %d: the montage of %d %dx%d crops would be %d megapixels (at most %d); zoom less or crop smaller",
			*zoom, len(tiles), tiles[0].W, tiles[0].H, px>>20, maxMontagePixels>>20)
	}
	dst := chart.New(len(tiles)*(tw+gap)-gap, th+labelH)
	for i, t := range tiles {
		px := images.ToUint8(t)
		for y := 0; y < th; y++ {
			for x := 0; x < tw; x++ {
				o := ((y / *zoom)*t.W + x / *zoom) * 3
				dst.SetRGBA(i*(tw+gap)+x, labelH+y, color.RGBA{px[o], px[o+1], px[o+2], 255})
			}
		}
		name := filepath.Base(fs.Arg(i))
		if len(*labels) > 0 {
			name = (*labels)[i]
		}
		chart.Text(dst, i*(tw+gap)+2, chart.CharH, name, color.Black)
	}
	return images.WritePNG(*out, dst)
}
