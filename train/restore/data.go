package restore

import (
	"fmt"
	"io"
	"math/rand/v2"
	"sort"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/job"
	"github.com/ludvae/ludvae/model"
)

// Data is the training pairs in memory: Noisy[i] is the degraded version of
// Clean[i], or Noisy is nil and every batch degrades its clean crops:
// with Gaussian noise of a σ drawn in Sigma, or (LUDVAE set) by LUD-VAE
// with a σx drawn in SynthSigma, which the training step does on the
// device.
type Data struct {
	Clean, Noisy      []*images.Image
	Sigma, SynthSigma [2]float64
	LUDVAE            bool
}

// LoadData reads the pairs (or the clean images) cfg names; every image
// must hold one crop. Unpaired names, and clean images skipped with
// SkipBad (which applies to --clean only), are reported to log. For
// LUD-VAE degradations the clean images are downscaled as the model's
// clean domain was in training (its synthesis setting's Downscale, MATLAB
// bicubic to 8 bits as the training store and synth do): it degrades
// images of that scale, and the denoiser learns at the scale of the
// degraded domain.
func LoadData(cfg *Config, log io.Writer) (*Data, error) {
	if cfg.Clean != "" {
		downscale := 1
		if cfg.LUDVAE != "" {
			syn, _, err := model.CheckpointSynthesis(cfg.LUDVAE)
			if err != nil {
				return nil, fmt.Errorf("--ludvae: %w", err)
			}
			downscale = syn.Downscale
		}
		clean, err := loadFolder("--clean", cfg.Clean, nil, cfg.Patch*downscale, cfg.SkipBad, log)
		if err != nil {
			return nil, err
		}
		if downscale > 1 {
			job.ForEach(len(clean), job.Workers(cfg.Threads), func(_, i int) error {
				clean[i] = images.Downscale8(clean[i], downscale)
				return nil
			})
			fmt.Fprintf(log, "--clean: images downscaled ×%d, as %s's clean domain was in training\n", downscale, cfg.LUDVAE)
		}
		return &Data{Clean: clean, Sigma: cfg.Sigma, SynthSigma: cfg.SynthSigma, LUDVAE: cfg.LUDVAE != ""}, nil
	}
	keys, err := pairKeys(cfg.L, cfg.H, log)
	if err != nil {
		return nil, err
	}
	// Pairs are never skipped: leaving out one side would shift the rest.
	noisy, err := loadFolder("L", cfg.L, keys, cfg.Patch, false, log)
	if err != nil {
		return nil, err
	}
	clean, err := loadFolder("H", cfg.H, keys, cfg.Patch, false, log)
	if err != nil {
		return nil, err
	}
	for i := range noisy {
		if noisy[i].W != clean[i].W || noisy[i].H != clean[i].H {
			return nil, fmt.Errorf("pair %q: L is %dx%d, H %dx%d", keys[i], noisy[i].W, noisy[i].H, clean[i].W, clean[i].H)
		}
	}
	return &Data{Clean: clean, Noisy: noisy}, nil
}

// pairKeys lists the names (images.Key: path under the folder without
// extension) present in both folders, sorted, and warns about the others.
func pairKeys(l, h string, log io.Writer) ([]string, error) {
	lk, err := images.Index(l)
	if err != nil {
		return nil, fmt.Errorf("L: %w", err)
	}
	hk, err := images.Index(h)
	if err != nil {
		return nil, fmt.Errorf("H: %w", err)
	}
	var keys []string
	for k := range lk {
		if _, ok := hk[k]; ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if n := len(lk) + len(hk) - 2*len(keys); n > 0 {
		fmt.Fprintf(log, "warning: %d image(s) in %s or %s have no counterpart of the same name and are left out\n", n, l, h)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no image name is in both %s and %s", l, h)
	}
	return keys, nil
}

// loadFolder decodes dir's images (those of keys, in that order, when
// keys is not nil).
func loadFolder(what, dir string, keys []string, minSize int, skipBad bool, log io.Writer) ([]*images.Image, error) {
	var paths []string
	if keys == nil {
		var err error
		if paths, err = images.Find(dir); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	} else {
		idx, err := images.Index(dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		for _, k := range keys {
			paths = append(paths, idx[k])
		}
	}
	imgs, skipped, err := images.LoadAll(paths, skipBad, minSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	for _, e := range skipped {
		fmt.Fprintf(log, "skipped: %v\n", e)
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("%s %s: no usable images", what, dir)
	}
	return imgs, nil
}

// Batch is one step's crops, N×3×P×P channel-planar in [0,1]: Noisy is
// the network's input, Clean its target. For LUD-VAE degradations Noisy is
// nil and SigmaX holds each crop's σx (0–255 scale).
type Batch struct {
	Step         int
	Patch        int // the crops' side P
	Noisy, Clean []float32
	SigmaX       []float32
}

// Shape is the shape of Clean (and Noisy): [N, 3, P, P]. A batch carries
// it: what reads the batch does not recompute it from a configuration.
func (b Batch) Shape() []int64 {
	p := int64(b.Patch)
	return []int64{int64(len(b.Clean) / (3 * b.Patch * b.Patch)), 3, p, p}
}

// MakeBatch draws step's batch from a generator seeded by (seed, step), so
// that it does not depend on the goroutine that made it or on a resume.
// Each crop takes a uniformly random pair, position and augmentation mode
// (KAIR's dataset_dncnn); Gaussian crops get noise of σ/255 with σ uniform
// in Sigma, added without clamping as KAIR's Gaussian DnCNN data does.
func (d *Data) MakeBatch(cfg *Config, step int) Batch {
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(step)))
	p, n := cfg.Patch, 3*cfg.Patch*cfg.Patch
	b := Batch{Step: step, Patch: p, Clean: make([]float32, cfg.Batch*n)}
	if d.LUDVAE {
		b.SigmaX = make([]float32, cfg.Batch)
	} else {
		b.Noisy = make([]float32, cfg.Batch*n)
	}
	for i := range cfg.Batch {
		k := rng.IntN(len(d.Clean))
		src := d.Clean[k]
		y, x := rng.IntN(src.H-p+1), rng.IntN(src.W-p+1) // top first, as KAIR
		mode := rng.IntN(images.Modes)
		clean := images.AugmentedCrop(src, x, y, p, p, mode)
		copy(b.Clean[i*n:], clean.Pix)
		switch {
		case d.Noisy != nil:
			copy(b.Noisy[i*n:], images.AugmentedCrop(d.Noisy[k], x, y, p, p, mode).Pix)
			continue
		case d.LUDVAE:
			b.SigmaX[i] = float32(d.SynthSigma[0] + (d.SynthSigma[1]-d.SynthSigma[0])*rng.Float64())
			continue
		}
		sigma := (d.Sigma[0] + (d.Sigma[1]-d.Sigma[0])*rng.Float64()) / 255
		for j, v := range clean.Pix {
			b.Noisy[i*n+j] = v + float32(sigma*rng.NormFloat64())
		}
	}
	return b
}
