package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/job"
	"github.com/ludvae/ludvae/model"
	"github.com/ludvae/ludvae/train/store"
)

// Data is the two unpaired domains, in their image stores, ready to crop.
// Nothing of the pixels is held in memory: crops are read from the stores
// with positioned reads.
type Data struct {
	Clean, Noisy []*store.Image       // the usable images, in sorted source order
	Norm         *model.Normalization // nil without --normalize auto
	stores       []*store.Store
	rows         [2]int // the rows [lo, hi) of each batch MakeBatch reads; {0, 0}: all
}

// ReadRows makes MakeBatch read the pixels of rows [lo, hi) of each batch
// only: a rank of a data-parallel run, whose share they are. The other
// rows' random draws are still made, so the rows read are those of the
// whole batch.
func (d *Data) ReadRows(lo, hi int) { d.rows = [2]int{lo, hi} }

// LoadData opens both domains' image stores. A folder of images gets its
// store built, or brought up to date, first (store.PathFor says where);
// a folder that is a store is read as it is, so training runs from a
// copied store after the images are gone. Clean images are stored
// downscaled by cfg.Downscale (MATLAB bicubic) for super-resolution; every
// image must be at least one crop large afterwards. With --normalize auto
// Norm holds both domains' colour statistics (from the stores' sums); the
// degraded images stay as read, and each step maps its degraded crops
// (after their h-noise, for h). Skipped files (with --skip-bad) are
// reported to log. Cancelling ctx stops a store build with its progress
// kept.
func LoadData(ctx context.Context, cfg *Config, log io.Writer) (*Data, error) {
	d := &Data{}
	var err error
	if d.Clean, err = d.openDomain(ctx, "--clean", cfg.Clean, cfg.Downscale, cfg.Patch*cfg.Downscale, cfg, log); err != nil {
		d.Close()
		return nil, err
	}
	if d.Noisy, err = d.openDomain(ctx, "--noisy", cfg.Noisy, 1, cfg.Patch, cfg, log); err != nil {
		d.Close()
		return nil, err
	}
	if cfg.Normalize == "auto" {
		d.Norm = &model.Normalization{}
		d.Norm.CleanMean, d.Norm.CleanStd = storeStats(d.Clean)
		d.Norm.NoisyMean, d.Norm.NoisyStd = storeStats(d.Noisy)
	}
	return d, nil
}

// Close closes the stores.
func (d *Data) Close() {
	for _, s := range d.stores {
		s.Close()
	}
	d.stores = nil
}

// DropCache drops the stores' pixels from the page cache (for a cold
// benchmark).
func (d *Data) DropCache() error {
	for _, s := range d.stores {
		if err := s.DropCache(); err != nil {
			return err
		}
	}
	return nil
}

// openDomain opens one domain's store and returns its usable images:
// those decoded and at least minSize on either side before downscaling.
func (d *Data) openDomain(ctx context.Context, flag, dir string, downscale, minSize int, cfg *Config, log io.Writer) ([]*store.Image, error) {
	s, root, err := openStore(ctx, flag, dir, downscale, cfg.StoreDir, log)
	if err != nil {
		return nil, err
	}
	d.stores = append(d.stores, s)
	var imgs []*store.Image
	for i := range s.Len() {
		if err := usable(s, root, i, minSize); err != nil {
			if !cfg.SkipBad {
				return nil, fmt.Errorf("%s: %w (use --skip-bad to skip unreadable or small files)", flag, err)
			}
			fmt.Fprintf(log, "skipped: %v\n", err)
			continue
		}
		imgs = append(imgs, s.Image(i))
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("%s %s: no usable images", flag, dir)
	}
	return imgs, nil
}

// usable is nil for a decoded image of at least minSize, else the error
// loading its file would have given (an *images.FileError).
func usable(s *store.Store, root string, i, minSize int) error {
	e := s.Index.Images[i]
	path := s.SourcePath(root, i)
	if e.Error != "" {
		return &images.FileError{Path: path, Err: errors.New(e.Error)}
	}
	if e.SourceWidth < minSize || e.SourceHeight < minSize {
		return &images.FileError{Path: path, Err: fmt.Errorf("%w: %dx%d, need at least %dx%d", images.ErrTooSmall, e.SourceWidth, e.SourceHeight, minSize, minSize)}
	}
	return nil
}

// openStore opens dir as a store, or builds dir's store and opens that;
// root is the folder its entries' paths are relative to ("" for the
// store's own record).
func openStore(ctx context.Context, flag, dir string, downscale int, storeDir string, log io.Writer) (s *store.Store, root string, err error) {
	if store.IsStore(dir) {
		if s, err = store.Open(dir); err != nil {
			return nil, "", fmt.Errorf("%s: %w", flag, err)
		}
		if k := s.Index.Downscale; k != downscale {
			s.Close()
			return nil, "", fmt.Errorf("%s %s is a store of images downscaled ×%d; this run asks for --downscale %d", flag, dir, k, downscale)
		}
		return s, "", nil
	}
	sdir, err := BuildStore(ctx, flag, dir, downscale, storeDir, log)
	if err != nil {
		return nil, "", err
	}
	if s, err = store.Open(sdir); err != nil {
		return nil, "", fmt.Errorf("%s: %w", flag, err)
	}
	return s, dir, nil
}

// BuildStore builds or refreshes the image store of the folder dir (named
// by flag in messages) where store.PathFor puts it, with a progress bar on
// log and a summary when it changed anything, and returns its path.
func BuildStore(ctx context.Context, flag, dir string, downscale int, storeDir string, log io.Writer) (string, error) {
	sdir, err := store.PathFor(dir, downscale, storeDir)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	var bar *job.Progress
	sum, err := store.Build(ctx, sdir, dir, store.Options{
		Downscale: downscale, Log: log,
		Progress: func(done, total int) {
			if bar == nil {
				bar = job.NewProgress(log, total, "decoding "+flag, "img")
				bar.Start(0)
			}
			bar.Set(done, "")
		},
	})
	if bar != nil {
		if err != nil {
			bar.Interrupt()
		} else {
			bar.Finish()
		}
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	fmt.Fprintf(log, "%s: image store %s: %v\n", flag, sdir, sum)
	return sdir, nil
}

// Batch is one training step's input: N crops, channel-planar, each from the
// clean or the degraded domain. It carries its own shape (Patch, Shape):
// what reads it does not recompute it from a configuration.
type Batch struct {
	Step     int
	Lo       int       // the row Pix starts at (a rank's share starts past 0)
	Patch    int       // the crops' side P
	Pix      []float32 // rows Lo… of the N×3×P×P crops in [0,1], as read
	Degraded []bool    // all N rows'

	Norm *model.Normalization // the degraded crops' map to the clean statistics, or nil
	Err  error                // a crop could not be read from its store
}

// cropLen is the values of one crop in Pix, 3·P·P.
func (b Batch) cropLen() int { return 3 * b.Patch * b.Patch }

// Shape is Pix's shape: [rows, 3, P, P], rows the crops Pix holds.
func (b Batch) Shape() []int64 {
	p := int64(b.Patch)
	return []int64{int64(len(b.Pix) / b.cropLen()), 3, p, p}
}

// MakeBatch draws the batch of a step. Every draw comes from a generator
// seeded by (seed, step), so a batch does not depend on which goroutine made
// it or on whether the run was resumed: this is the training's only
// random state besides the counter-based noise. The draws are those of
// images.RandomAugmentedCropInto on the decoded images, so a store gives
// the crops that decoding the files gave.
func (d *Data) MakeBatch(cfg *Config, step int) Batch {
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(step)))
	p, n := cfg.Patch, 3*cfg.Patch*cfg.Patch
	lo, hi := 0, cfg.Batch
	if d.rows != [2]int{} {
		lo, hi = d.rows[0], d.rows[1]
	}
	b := Batch{Step: step, Lo: lo, Patch: p, Pix: make([]float32, (hi-lo)*n), Degraded: make([]bool, cfg.Batch), Norm: d.Norm}
	var c cropper
	for i := range cfg.Batch {
		deg := rng.IntN(2) == 1
		pool := d.Clean
		if deg {
			pool = d.Noisy
		}
		m := pool[rng.IntN(len(pool))]
		x, y, mode := drawCrop(m, p, rng)
		b.Degraded[i] = deg
		if i < lo || i >= hi {
			continue // another rank's row: drawn, not read
		}
		dst := &images.Image{W: p, H: p, Pix: b.Pix[(i-lo)*n : (i-lo+1)*n]}
		if c.buf, b.Err = m.ReadAugmented(dst, x, y, mode, c.buf); b.Err != nil {
			return b
		}
	}
	return b
}

// cropper reads crops with reused scratch space.
type cropper struct{ buf []byte }

// drawCrop draws a random size×size crop of m and its flip or rotation as
// images.RandomAugmentedCropInto draws them.
func drawCrop(m *store.Image, size int, rng *rand.Rand) (x, y, mode int) {
	x, y = images.RandomOrigin(m.Width, m.Height, size, rng)
	return x, y, rng.IntN(images.Modes)
}

// Batches makes the batches of steps from..to (inclusive) ahead of the model
// on worker goroutines and delivers them in order, prefetch at most in flight.
func (d *Data) Batches(ctx context.Context, cfg *Config, from, to, prefetch int) <-chan Batch {
	return job.Ahead(ctx, from, to, prefetch, func(s int) Batch { return d.MakeBatch(cfg, s) })
}
