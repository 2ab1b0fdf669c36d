package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/job"
	"github.com/ludvae/ludvae/synth/noisestats"
)

// evalNoiseCommand is `ludvae eval noise`.
func evalNoiseCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval noise")
	fs.SetOutput(stderr)
	synthetic := fs.StringArray("synthetic", nil, "folder of synthetic degradations of the --clean images (repeat for several; columns are named by the folder's base name)")
	real := fs.String("real", "", "folder of real degraded versions of the --clean images (required)")
	clean := fs.String("clean", "", "folder of the clean images (required)")
	bins := fs.Int("bins", 16, "clean-intensity bins over [0,1] for the noise std")
	plot := fs.String("plot", "", "write a PNG plot of noise std vs intensity per channel to this file")
	asJSON := fs.Bool("json", false, "print a JSON document instead of a table")
	workers := fs.Int("workers", job.Workers(0), "image sets measured in parallel")
	fs.Usage = func() {
		cfg := noisestats.DefaultConfig()
		fmt.Fprintf(fs.Output(), `usage: ludvae eval noise --synthetic DIR [--synthetic DIR...] --real DIR --clean DIR [--bins 16] [--plot OUT.png] [--json]

Compares degradations of the same clean images: the noise is degraded −
clean (computed on [0,1] values, reported in 0–255 grey levels). Per channel
it measures the noise std in each clean-intensity bin (signal dependence),
the correlation of the noise with itself shifted 1 and 2 pixels
horizontally and vertically, and KL(real‖synthetic) in nats between noise
histograms (bins of width %g centred on the integers over [−%g, %g], values
beyond in the edge bins, every bin's probability floored by %g and
renormalized). It also reports the metrics noise models are compared by in
the literature, per image then averaged: DANet's AKLD (local variances from
a 7×7 Gaussian window, KL of zero-mean Gaussians per pixel) and NAFlow's
KLD (256 bins over [−1, 1] on the [0,1] scale, empty bins dropped). Files
pair by path without extension; only names present in --clean, --real and
every --synthetic folder are measured.

flags:
`, cfg.HistStep, cfg.HistLimit, cfg.HistLimit, cfg.Epsilon)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err // pflag.ErrHelp after --help: main exits 0
	}
	switch {
	case len(*synthetic) == 0:
		return errors.New("--synthetic is required (repeat it to compare several)")
	case *real == "":
		return errors.New("--real is required")
	case *clean == "":
		return errors.New("--clean is required")
	case *bins < 1 || *bins > 1024:
		return fmt.Errorf("--bins %d: must be in 1..1024", *bins)
	case *workers < 1:
		return fmt.Errorf("--workers %d: must be >= 1", *workers)
	}
	ins := paths(p("--real", *real), p("--clean", *clean))
	for _, s := range *synthetic {
		ins = append(ins, p("--synthetic", s))
	}
	if err := guardPaths(paths(p("--plot", *plot)), ins, nil); err != nil {
		return err
	}
	cfg := noisestats.DefaultConfig()
	cfg.Bins = *bins

	// Sources: the real noise first, then each synthetic folder.
	type source struct {
		name, dir, flag string
		idx             map[string]string
	}
	sources := []*source{{name: "real", dir: *real, flag: "--real"}}
	names := map[string]bool{"real": true}
	for _, d := range *synthetic {
		name := filepath.Base(filepath.Clean(d))
		if names[name] {
			name = d
		}
		for i := 2; names[name]; i++ {
			name = fmt.Sprintf("%s#%d", d, i)
		}
		names[name] = true
		sources = append(sources, &source{name: name, dir: d, flag: "--synthetic"})
	}
	cleanIdx, err := indexFolder(*clean, "--clean")
	if err != nil {
		return err
	}
	all := []map[string]string{}
	for _, s := range sources {
		if s.idx, err = indexFolder(s.dir, s.flag); err != nil {
			return err
		}
		all = append(all, s.idx)
	}
	keys := commonKeys(cleanIdx, all...)
	reportUnmatched(stderr, missingKeys(cleanIdx, keys), "--clean "+*clean, "--real and every --synthetic folder")
	for _, s := range sources {
		reportUnmatched(stderr, missingKeys(s.idx, keys), s.flag+" "+s.dir, "--clean and the other folders")
	}
	if len(keys) == 0 {
		return fmt.Errorf("no image name is present in --clean %s, --real %s and every --synthetic folder", *clean, *real)
	}

	// One set of accumulators per worker, merged at the end.
	nw := min(*workers, len(keys))
	accs := make([][]*noisestats.Accumulator, nw)
	for w := range accs {
		accs[w] = make([]*noisestats.Accumulator, len(sources))
		for s := range sources {
			if accs[w][s], err = noisestats.NewAccumulator(cfg); err != nil {
				return err
			}
		}
	}
	fields := newFieldScores(len(sources), len(keys))
	err = job.ForEach(len(keys), nw, func(w, i int) error {
		k := keys[i]
		cl, err := images.Load(cleanIdx[k])
		if err != nil {
			return err
		}
		noises, paths := make([]*images.Image, len(sources)), make([]string, len(sources))
		for s, src := range sources {
			path := src.idx[k]
			d, err := images.Load(path)
			if err != nil {
				return err
			}
			if d.W != cl.W || d.H != cl.H {
				return fmt.Errorf("%s is %dx%d but its clean image %s is %dx%d", path, d.W, d.H, cleanIdx[k], cl.W, cl.H)
			}
			if noises[s], err = noisestats.Noise(d, cl); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if err := accs[w][s].AddNoise(noises[s], cl); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			paths[s] = path
		}
		return fields.measure(i, noises, paths)
	})
	if err != nil {
		return err
	}
	stats := make([]*noisestats.Stats, len(sources))
	for s := range sources {
		for w := 1; w < nw; w++ {
			if err := accs[0][s].Merge(accs[w][s]); err != nil {
				return err
			}
		}
		stats[s] = accs[0][s].Stats()
	}
	cmps := make([]noisestats.Comparison, len(sources))
	for s := range sources {
		if cmps[s], err = noisestats.Compare(stats[0], stats[s]); err != nil {
			return err
		}
	}

	if *plot != "" {
		series := make([]noisestats.Series, len(sources))
		for s, src := range sources {
			series[s] = noisestats.Series{Name: src.name, Stats: stats[s]}
		}
		img, err := noisestats.Plot(series)
		if err != nil {
			return err
		}
		if err := images.WritePNG(*plot, img); err != nil {
			return fmt.Errorf("--plot %s: %w", *plot, err)
		}
	}

	srcNames := make([]string, len(sources))
	dirs := make([]string, len(sources))
	for s, src := range sources {
		srcNames[s], dirs[s] = src.name, src.dir
	}
	if *asJSON {
		return writeJSON(stdout, noiseDocument(len(keys), cfg, srcNames, dirs, stats, cmps, fields.means()))
	}
	printNoiseTable(stdout, len(keys), srcNames, stats, cmps, fields.means())
	if *plot != "" {
		fmt.Fprintf(stdout, "\nwrote the noise std plot to %s\n", *plot)
	}
	return nil
}
