package train

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/train/store"
)

// sampler writes, every --sample-every steps, a grid of fixed crops
// (clean | its synthetic degraded version | a real degraded crop) and the
// loss plot.
type sampler struct {
	t            *Trainer
	clean, noisy []*images.Image
}

const sampleRows = 4

func newSampler(t *Trainer) (*sampler, error) {
	s := &sampler{t: t}
	rng := rand.New(rand.NewPCG(t.Cfg.Seed, 1<<62))
	p := t.Cfg.Patch
	for range sampleRows {
		clean, err := randomCrop(t.Data.Clean[rng.IntN(len(t.Data.Clean))], p, rng)
		if err != nil {
			return nil, fmt.Errorf("sample crops: %w", err)
		}
		noisy, err := randomCrop(t.Data.Noisy[rng.IntN(len(t.Data.Noisy))], p, rng)
		if err != nil {
			return nil, fmt.Errorf("sample crops: %w", err)
		}
		s.clean, s.noisy = append(s.clean, clean), append(s.noisy, noisy)
	}
	return s, nil
}

// randomCrop is images.RandomCrop of a stored image: the same draws, the
// same pixels.
func randomCrop(m *store.Image, size int, rng *rand.Rand) (*images.Image, error) {
	x, y := images.RandomOrigin(m.Width, m.Height, size, rng)
	dst := images.New(size, size)
	_, err := m.ReadRect(dst, x, y, nil)
	return dst, err
}

// Write saves samples/step_N.png and loss.png.
func (s *sampler) Write(step int, rows []stepStats) error {
	dir := filepath.Join(s.t.Cfg.Out, "samples")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	synth, err := s.synthesize()
	if err != nil {
		return fmt.Errorf("samples at step %d: %w", step, err)
	}
	p := s.t.Cfg.Patch
	grid := images.New(3*p+4, sampleRows*(p+2))
	for r := range sampleRows {
		if n := s.t.Data.Norm; n != nil {
			n.FromClean(synth[r]) // the degraded crops are kept as read
		}
		for col, m := range []*images.Image{s.clean[r], synth[r], s.noisy[r]} {
			paste(grid, m, col*(p+2), r*(p+2))
		}
	}
	if err := images.SavePNG(filepath.Join(dir, fmt.Sprintf("step_%08d.png", step)), grid, 8); err != nil {
		return err
	}
	return plotLosses(filepath.Join(s.t.Cfg.Out, "loss.png"), rows)
}

// synthesize runs C2N on the clean sample crops with a fixed seed, so the
// grids of successive steps show the model's change and not the noise's.
func (s *sampler) synthesize() (out []*images.Image, err error) {
	cfg := &s.t.Cfg
	tb.WithScope(func(*tb.Scope) {
		err = tb.Do(func() error {
			p := int64(cfg.Patch)
			pix := make([]float32, 0, sampleRows*3*p*p)
			for _, m := range s.clean {
				pix = append(pix, m.Pix...)
			}
			dev := s.t.Device
			x := tb.FromSlice(pix, sampleRows, 3, p, p).ToDevice(dev)
			sigma := tb.Full([]int64{sampleRows}, cfg.SigmaX, tb.Options{Device: dev})
			y, err := s.t.Model.Translate(x, sigma, 1, model.Noise{Seed: cfg.Seed ^ 0x5a3f, Stream: 1})
			if err != nil {
				return err
			}
			if s.t.Data.Norm == nil { // else FromClean clamps, after its map (Write)
				y = y.Clamp(0, 1)
			}
			vals := y.Float32s()
			for r := range sampleRows {
				out = append(out, &images.Image{W: int(p), H: int(p), Pix: vals[int64(r)*3*p*p : int64(r+1)*3*p*p]})
			}
			return nil
		})
	})
	return out, err
}

func paste(dst, src *images.Image, x0, y0 int) {
	for c := range 3 {
		for y := range src.H {
			for x := range src.W {
				dst.Set(x0+x, y0+y, c, src.At(x, y, c))
			}
		}
	}
}
