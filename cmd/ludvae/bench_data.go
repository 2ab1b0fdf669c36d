package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"context"

	"github.com/ludvae/ludvae/internal/interrupt"
	"github.com/ludvae/ludvae/internal/job"
	"github.com/ludvae/ludvae/internal/limits"
	"github.com/ludvae/ludvae/train"
)

// dataBenchResult is the JSON line of `ludvae bench data`.
type dataBenchResult struct {
	Task      string  `json:"task"`
	ColdPS    float64 `json:"crops_per_s_cold"`
	WarmPS    float64 `json:"crops_per_s_warm"`
	Clean     int     `json:"clean_images"`
	Noisy     int     `json:"noisy_images"`
	Patch     int     `json:"patch"`
	Batch     int     `json:"batch"`
	Steps     int     `json:"steps"`
	CPUs      int     `json:"cpus"`
	OpenSecs  float64 `json:"open_s"`
	Downscale int     `json:"downscale"`
}

// benchData times the training loader: augmented crops per second read
// from the image stores, first with their pixels dropped from the page
// cache (cold), then the same steps again (warm).
func benchData(args []string, stdout io.Writer) error {
	cfg := train.Defaults()
	fs := newFlagSet("bench data")
	fs.StringVar(&cfg.Clean, "clean", "", "clean image folder or image store (required)")
	fs.StringVar(&cfg.Noisy, "noisy", "", "degraded image folder or image store (required)")
	fs.StringVar(&cfg.StoreDir, "store-dir", "", "where the folders' stores are kept (as train)")
	fs.IntVar(&cfg.Patch, "patch", cfg.Patch, "crop size")
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "crops per step")
	fs.IntVar(&cfg.Downscale, "downscale", 1, "clean images' downscale factor (as train)")
	steps := fs.Int("steps", 1000, "batches made in each pass")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ludvae bench data --clean DIR --noisy DIR [flags]\n\nPrints one JSON line: augmented crops per second from the image stores, cold and warm page cache.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case cfg.Clean == "" || cfg.Noisy == "":
		return errors.New("bench data: --clean and --noisy are required")
	case cfg.Patch < 1 || cfg.Batch < 1 || *steps < 1 || cfg.Downscale < 1:
		return fmt.Errorf("bench data: --patch %d, --batch %d, --steps %d, --downscale %d: each must be at least 1", cfg.Patch, cfg.Batch, *steps, cfg.Downscale)
	case cfg.Patch > limits.MaxSide:
		return limits.Int("--patch", cfg.Patch, limits.MaxSide, fmt.Sprintf("crops come from images of at most %d²", limits.MaxSide))
	case cfg.Batch > limits.MaxBatch:
		return limits.Int("--batch", cfg.Batch, limits.MaxBatch, "crops per step")
	case cfg.Downscale > limits.MaxDownscale:
		return limits.Int("--downscale", cfg.Downscale, limits.MaxDownscale, fmt.Sprintf("the largest image, %d², would be smaller than 8 pixels", limits.MaxSide))
	}
	if err := guardPaths(nil, paths(p("--clean", cfg.Clean), p("--noisy", cfg.Noisy)), nil); err != nil {
		return err
	}
	// A batch is batch × 3 × patch² float32s, made ahead on every CPU.
	if err := limits.Tensor(fmt.Sprintf("--batch %d × 3 × --patch %d²", cfg.Batch, cfg.Patch), float64(cfg.Batch)*3*float64(cfg.Patch)*float64(cfg.Patch)); err != nil {
		return err
	}
	ctx := interrupt.Context()
	start := time.Now()
	d, err := train.LoadData(ctx, &cfg, os.Stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	res := dataBenchResult{Task: "data", Clean: len(d.Clean), Noisy: len(d.Noisy), Patch: cfg.Patch, Batch: cfg.Batch,
		Steps: *steps, CPUs: runtime.NumCPU(), OpenSecs: time.Since(start).Seconds(), Downscale: cfg.Downscale}
	if err := d.DropCache(); err != nil {
		return err
	}
	if res.ColdPS, err = cropRate(ctx, d, &cfg, *steps); err != nil {
		return err
	}
	if res.WarmPS, err = cropRate(ctx, d, &cfg, *steps); err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

// cropRate makes the batches of steps 1..steps as training does (ahead,
// on goroutines) and returns the crops per second.
func cropRate(ctx context.Context, d *train.Data, cfg *train.Config, steps int) (float64, error) {
	start := time.Now()
	for b := range d.Batches(ctx, cfg, 1, steps, 2*job.Workers(cfg.Threads)) {
		if b.Err != nil {
			return 0, b.Err
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return float64(steps*cfg.Batch) / time.Since(start).Seconds(), nil
}
