package train

import (
	"context"
	"fmt"
	"io"
	"math"
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
// least one crop large afterwards; with --normalize auto the degraded
// images are mapped to the clean domain's colour statistics. Skipped files
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
		parallel(len(clean), func(i int) { clean[i] = images.Imresize(clean[i], 1/float64(cfg.Downscale)) })
	}
	d := &Data{Clean: clean, Noisy: noisy}
	if cfg.Normalize == "auto" {
		d.Norm = ComputeNormalization(clean, noisy)
		parallel(len(noisy), func(i int) { d.Norm.ToClean(noisy[i]) })
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
	Pix      []float32 // N×3×P×P in [0,1]
	Degraded []bool
}

// MakeBatch draws the batch of a step. Every draw comes from a generator
// seeded by (seed, step), so a batch does not depend on which goroutine made
// it or on whether the run was resumed: this is the training's only
// random state besides the counter-based noise.
func (d *Data) MakeBatch(cfg *Config, step int) Batch {
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(step)))
	p := cfg.Patch
	b := Batch{Step: step, Pix: make([]float32, cfg.Batch*3*p*p), Degraded: make([]bool, cfg.Batch)}
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

// Normalization maps the degraded domain's per-channel mean and standard
// deviation onto the clean domain's (AIM19): y' = (y−μy)/σy·σx + μx,
// clamped to [0,1]; synthetic outputs are mapped back with FromClean.
type Normalization struct {
	CleanMean, CleanStd, NoisyMean, NoisyStd [3]float64
}

// ComputeNormalization measures both domains over all their pixels.
func ComputeNormalization(clean, noisy []*images.Image) *Normalization {
	n := &Normalization{}
	n.CleanMean, n.CleanStd = channelStats(clean)
	n.NoisyMean, n.NoisyStd = channelStats(noisy)
	return n
}

func channelStats(imgs []*images.Image) (mean, std [3]float64) {
	var sum, sq [3]float64
	var count float64
	for _, m := range imgs {
		for c := range 3 {
			for _, v := range m.Plane(c) {
				sum[c] += float64(v)
				sq[c] += float64(v) * float64(v)
			}
		}
		count += float64(m.W * m.H)
	}
	for c := range 3 {
		mean[c] = sum[c] / count
		std[c] = math.Sqrt(max(sq[c]/count-mean[c]*mean[c], 1e-12))
	}
	return mean, std
}

// ToClean maps a degraded image to the clean domain's statistics in place.
func (n *Normalization) ToClean(m *images.Image) {
	n.apply(m, n.NoisyMean, n.NoisyStd, n.CleanMean, n.CleanStd)
}

// FromClean maps a synthetic degraded image back to the degraded domain's
// statistics in place.
func (n *Normalization) FromClean(m *images.Image) {
	n.apply(m, n.CleanMean, n.CleanStd, n.NoisyMean, n.NoisyStd)
}

func (n *Normalization) apply(m *images.Image, fromMean, fromStd, toMean, toStd [3]float64) {
	for c := range 3 {
		a := toStd[c] / fromStd[c]
		b := toMean[c] - fromMean[c]*a
		p := m.Plane(c)
		for i, v := range p {
			p[i] = float32(min(max(float64(v)*a+b, 0), 1))
		}
	}
}
