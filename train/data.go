package train

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"

	"github.com/ludvae/ludvae/train/images"
)

// Data is the two unpaired domains, decoded into memory and ready to crop.
type Data struct {
	Clean, Noisy []*images.Image
	Norm         *Normalization // nil without --normalize auto
}

// LoadData finds and decodes both folders. Clean images are downscaled by
// cfg.Downscale (MATLAB bicubic) for super-resolution; every image must be at
// least one crop large afterwards. With --normalize auto Norm holds both
// domains' colour statistics; the degraded images stay as read, and each
// step maps its degraded crops (after their h-noise, for h). Skipped files
// (with --skip-bad) are reported to log.
func LoadData(cfg *Config, log io.Writer) (*Data, error) {
	clean, err := loadDomain("--clean", cfg.Clean, cfg.Patch*cfg.Downscale, cfg.SkipBad, log)
	if err != nil {
		return nil, err
	}
	noisy, err := loadDomain("--noisy", cfg.Noisy, cfg.Patch, cfg.SkipBad, log)
	if err != nil {
		return nil, err
	}
	if cfg.Downscale > 1 {
		parallel(len(clean), func(i int) { clean[i] = images.Downscale8(clean[i], cfg.Downscale) })
	}
	d := &Data{Clean: clean, Noisy: noisy}
	if cfg.Normalize == "auto" {
		d.Norm = ComputeNormalization(clean, noisy)
	}
	return d, nil
}

func loadDomain(flag, dir string, minSize int, skipBad bool, log io.Writer) ([]*images.Image, error) {
	paths, err := images.Find(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	imgs, skipped, err := images.LoadAll(paths, skipBad, minSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (use --skip-bad to skip unreadable or small files)", flag, err)
	}
	for _, e := range skipped {
		fmt.Fprintf(log, "skipped: %v\n", e)
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("%s %s: no usable images", flag, dir)
	}
	return imgs, nil
}

// parallel runs f(0..n-1) on all CPUs.
func parallel(n int, f func(i int)) {
	work := make(chan int)
	done := make(chan struct{})
	workers := min(runtime.NumCPU(), max(n, 1))
	for range workers {
		go func() {
			for i := range work {
				f(i)
			}
			done <- struct{}{}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	for range workers {
		<-done
	}
}

// Batch is one training step's input: N crops, channel-planar, each from the
// clean or the degraded domain.
type Batch struct {
	Step     int
	Pix      []float32 // N×3×P×P in [0,1], as read
	Degraded []bool
	Norm     *Normalization // the degraded crops' map to the clean statistics, or nil
}

// MakeBatch draws the batch of a step. Every draw comes from a generator
// seeded by (seed, step), so a batch does not depend on which goroutine made
// it or on whether the run was resumed: this is the training's only
// random state besides the counter-based noise.
func (d *Data) MakeBatch(cfg *Config, step int) Batch {
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(step)))
	p := cfg.Patch
	b := Batch{Step: step, Pix: make([]float32, cfg.Batch*3*p*p), Degraded: make([]bool, cfg.Batch), Norm: d.Norm}
	for i := range cfg.Batch {
		deg := rng.IntN(2) == 1
		pool := d.Clean
		if deg {
			pool = d.Noisy
		}
		dst := &images.Image{W: p, H: p, Pix: b.Pix[i*3*p*p : (i+1)*3*p*p]}
		images.RandomAugmentedCropInto(dst, pool[rng.IntN(len(pool))], rng)
		b.Degraded[i] = deg
	}
	return b
}

// Batches makes the batches of steps from..to (inclusive) ahead of the model
// on worker goroutines and delivers them in order, prefetch at most in flight.
func (d *Data) Batches(ctx context.Context, cfg *Config, from, to, prefetch int) <-chan Batch {
	return Ahead(ctx, from, to, prefetch, func(s int) Batch { return d.MakeBatch(cfg, s) })
}
