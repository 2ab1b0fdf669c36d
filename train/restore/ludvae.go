package restore

import (
	"fmt"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// degrader turns a batch's clean crops into LUD-VAE degradations on the
// device, as the exported generator does in Python (C2N at the model's
// synthesis temperature with σx per crop), clamped to [0,1] as synthesized pairs and the
// Python Dataset are. Models trained with colour normalization (AIM19)
// have their output mapped back to the degraded statistics, as `ludvae
// synth` does.
type degrader struct {
	m           *model.LUDVAE
	norm        *model.Normalization
	seed        uint64
	temperature float64 // the checkpoint's synthesis temperature
	// residual keeps only the sampled degradation (Config.Residual)
	residual bool
}

// loadDegrader reads the LUD-VAE checkpoint cfg names and its synthesis
// setting (model.CheckpointSynthesis: model.DefaultSynthesis for the
// authors' plain state dicts): its temperature and colour statistics, and
// its σx range for a range left at zero. Its downscale is LoadData's.
func loadDegrader(cfg *Config, dev tb.Device) (*degrader, error) {
	m, _, err := model.LoadWeights(cfg.LUDVAE, tb.Options{DType: tb.Float32, Device: dev}, cfg.LUDVAEWeights)
	if err != nil {
		return nil, fmt.Errorf("--ludvae: %w", err)
	}
	syn, _, err := model.CheckpointSynthesis(cfg.LUDVAE)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("--ludvae: %w", err)
	}
	norm := syn.Norm
	if cfg.Normalization != "" && cfg.Normalization != "checkpoint" {
		if norm, err = model.ParseNormalization(cfg.Normalization); err != nil {
			m.Close()
			return nil, err
		}
	}
	if cfg.SynthSigma == [2]float64{} {
		cfg.SynthSigma = syn.Range()
	}
	return &degrader{m: m, norm: norm, seed: cfg.Seed, temperature: syn.Temperature, residual: cfg.Residual}, nil
}

// degrade returns the degraded version of clean [N,3,P,P] for batch b;
// its noise comes from the counter-based generator keyed by (seed, step),
// so a resumed run draws the same. Its operations panic with
// *tb.Error: it runs inside tb.Do.
func (g *degrader) degrade(clean *tb.Tensor, b Batch) (*tb.Tensor, error) {
	sigma := tb.FromSlice(b.SigmaX).ToDevice(clean.Device())
	translate := g.m.Translate
	if g.residual {
		translate = g.m.TranslateResidual
	}
	y, err := translate(clean, sigma, g.temperature, model.Noise{Seed: g.seed, Stream: uint64(b.Step)})
	if err != nil {
		return nil, fmt.Errorf("--ludvae: %w", err)
	}
	if g.norm == nil {
		return y.Clamp(0, 1), nil
	}
	return g.mapBack(y), nil
}

// mapBack maps every crop to the degraded domain's colour statistics (and
// clamps), on the CPU, as synthesis does.
func (g *degrader) mapBack(y *tb.Tensor) *tb.Tensor {
	s := y.Shape()
	pix := y.ToDevice(tb.CPU).Float32s()
	n := int(s[1] * s[2] * s[3])
	for i := 0; i < int(s[0]); i++ {
		g.norm.FromClean(&images.Image{W: int(s[3]), H: int(s[2]), Pix: pix[i*n : (i+1)*n]})
	}
	return tb.FromSlice(pix, s...).ToDevice(y.Device())
}

// close frees the model.
func (g *degrader) close() {
	if g != nil {
		g.m.Close()
	}
}
