package main

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/job"
	"github.com/ludvae/ludvae/synth/degrade"
)

// runDegrade is `ludvae degrade`: a hand-written degradation of every image
// in a folder (the demo's camera-like degraded domain, or the AWGN
// baseline).
func runDegrade(args []string) error { return degradeCommand(args, os.Stdout, os.Stderr) }

// degradeCommand runs `ludvae degrade` with its report on stdout and usage
// on stderr.
func degradeCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("degrade")
	fs.SetOutput(stderr)
	cam := degrade.DefaultCamera()
	in := fs.String("in", "", "folder of clean images, searched recursively (required)")
	out := fs.String("out", "", "folder for the degraded PNGs, mirroring --in's layout (required)")
	kind := fs.String("kind", "camera", "degradation: camera (signal-dependent, spatially correlated noise + JPEG) or gaussian (AWGN)")
	sigma := fs.Float64("sigma", 15, "noise std on the 0–255 scale (--kind gaussian only)")
	quality := fs.Int("jpeg-quality", cam.JPEGQuality, "JPEG quality 1..100, 0 for none (--kind camera only)")
	seed := fs.Uint64("seed", 1, "random seed; each image's noise depends only on the seed and its name")
	workers := fs.Int("workers", job.Workers(0), "images degraded in parallel")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: ludvae degrade --in DIR --out DIR [--kind camera|gaussian] [--sigma S] [--jpeg-quality Q] [--seed N]

Writes a degraded copy of every image under --in to --out as a lossless
8-bit PNG with the same name (extension .png). camera is %v:
noise variance shot·I + read per channel, correlated between neighbours
(2/3 at lag 1) and channels, clipped, then JPEG-compressed.

flags:
`, cam)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err // pflag.ErrHelp after --help: main exits 0
	}
	switch {
	case *in == "":
		return errors.New("--in is required")
	case *out == "":
		return errors.New("--out is required")
	case *workers < 1:
		return fmt.Errorf("--workers %d: must be >= 1", *workers)
	}
	var d degrade.Degrader
	switch *kind {
	case "camera":
		if fs.Changed("sigma") {
			return errors.New("--sigma applies to --kind gaussian only")
		}
		cam.JPEGQuality = *quality
		if err := cam.Validate(); err != nil {
			return fmt.Errorf("--jpeg-quality %d: must be 1..100, or 0 for none", *quality)
		}
		d = cam
	case "gaussian":
		if fs.Changed("jpeg-quality") {
			return errors.New("--jpeg-quality applies to --kind camera only")
		}
		g := degrade.Gaussian{Sigma: *sigma}
		if err := g.Validate(); err != nil {
			return fmt.Errorf("--sigma %v: must be a finite value >= 0", *sigma)
		}
		d = g
	default:
		return fmt.Errorf("--kind %q: must be camera or gaussian", *kind)
	}
	if err := guardPaths(paths(p("--out", *out)), paths(p("--in", *in)), nil); err != nil {
		return err
	}
	idx, err := indexFolder(*in, "--in")
	if err != nil {
		return err
	}
	keys := commonKeys(idx)
	err = job.ForEach(len(keys), *workers, func(_, i int) error {
		k := keys[i]
		img, err := images.Load(idx[k])
		if err != nil {
			return err
		}
		dst := filepath.Join(*out, filepath.FromSlash(k)+".png")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		out, err := d.Apply(img, imageRand(*seed, k))
		if err != nil {
			return fmt.Errorf("%s: %w", idx[k], err)
		}
		return images.SavePNG(dst, out, 8)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d degraded image(s) (%v, seed %d) to %s\n", len(keys), d, *seed, *out)
	return nil
}

// imageRand is the generator of the image named key: PCG seeded with the
// run's seed and a hash of the name, so an image's degradation does not
// depend on the order or the parallelism of the run.
func imageRand(seed uint64, key string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}
