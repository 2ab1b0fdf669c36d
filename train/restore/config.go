// Package restore trains and applies the downstream denoiser, KAIR's DnCNN
// (model.DnCNN), with the LUD-VAE authors' SIDD recipe
// (LUD_VAE_sidd/DnCNN/options/train_dncnn.json and data/dataset_dncnn.py):
// random 40×40 crops at the same place in the degraded and the clean image,
// one of KAIR's 8 flips/rotations, batches of 64, L1 loss, Adam with lr
// 1e-4 halved at step 25,000. Pairs come from folders (the synth layout,
// L/ and H/), or from clean images degraded afresh every batch: by
// Gaussian noise, or by a trained LUD-VAE (C2N, as its exported generator
// does, with the σx range, temperature and clean-image downscale of its
// checkpoint's synthesis setting, model.CheckpointSynthesis).
//
// Its run folder is `ludvae train`'s (package internal/run): one trainer
// at a time, leftovers of a killed run removed, a resume with changed
// settings refused unless --override (resume.go lists them).
package restore

import (
	"fmt"
	"math"

	"github.com/ludvae/ludvae/internal/layout"
	"github.com/ludvae/ludvae/internal/limits"
	"github.com/ludvae/ludvae/internal/run"
	"github.com/ludvae/ludvae/model"
)

// Config is everything a denoiser training run depends on. It is written
// to the run folder and into every checkpoint.
type Config struct {
	L, H   string     // paired folders: degraded (L) and clean (H) images of the same names
	Clean  string     // or clean images only, degraded on the fly:
	Sigma  [2]float64 // by Gaussian noise of σ uniform per crop in this range (0–255 scale),
	LUDVAE string     // or by this LUD-VAE checkpoint (C2N at its synthesis temperature),
	// SynthSigma is the σx range of h(x), uniform per crop, for LUD-VAE
	// degradations (model.Synthesis's range; zero: the checkpoint's). Its
	// JSON name is the one run folders and checkpoints have always had.
	SynthSigma [2]float64 `json:"SigmaX"`
	// Normalization overrides the LUD-VAE checkpoint's colour statistics
	// ("" or "checkpoint": its own; else as synth's --normalization):
	// "none" keeps the clean crops' colours, as the demo's synthesis does.
	Normalization string
	// LUDVAEWeights says which of the --ludvae checkpoint's weights
	// degrade (model.LoadWeights: "" or "auto" its weight average when
	// it holds one, "ema", "trained").
	LUDVAEWeights string
	// Residual degrades as model.TranslateResidual: the clean crop plus
	// the model's sampled degradation only (not the authors' recipe).
	Residual bool
	Out      string // run folder

	Features, Layers int // DnCNN size (KAIR's nc, nb)
	Patch            int // crop size (KAIR's H_size)
	Batch            int
	Steps            int
	LR               float64
	LRMilestones     []int
	LRGamma          float64
	Loss             string // "l1" or "l2"
	Seed             uint64
	Device           string
	Threads          int
	// Layout is auto (timed, internal/layout), nchw or nhwc: speed only,
	// not part of the run.
	Layout      string `json:"-"`
	SaveEvery   int
	LogEvery    int
	Keep        int
	MaxBadSteps int
	SkipBad     bool
	// Override resumes a run even though settings that shape it changed
	// (resume.go); the changes are recorded in config.json. A choice of
	// this start, not part of the run: checkpoints do not hold it.
	Override bool `json:"-"`
}

// Defaults returns the authors' recipe. Steps (50,000, twice the
// milestone) is ours: KAIR's loop runs until it is stopped.
func Defaults() Config {
	return Config{
		Features: model.DefaultDnCNN.Features, Layers: model.DefaultDnCNN.Layers,
		Patch: 40, Batch: 64, Steps: 50000, LR: 1e-4, LRMilestones: []int{25000}, LRGamma: 0.5,
		Loss: "l1", Seed: 1, Device: "auto", Layout: "auto", SaveEvery: 5000, LogEvery: 100, Keep: 3, MaxBadSteps: 10,
	}
}

// Validate reports flags that cannot work together.
func (c *Config) Validate() error {
	if _, err := layout.ParseDense("--layout", c.Layout); err != nil {
		return err
	}
	paired, onTheFly := c.L != "" || c.H != "", c.Clean != ""
	switch {
	case paired == onTheFly:
		return fmt.Errorf("give either --pairs DIR (its L/ and H/ folders) or --clean DIR with --sigma MIN,MAX or --ludvae CKPT")
	case paired && (c.L == "" || c.H == ""):
		return fmt.Errorf("paired training needs both the degraded (L) and the clean (H) folder")
	case paired && c.LUDVAE != "":
		return fmt.Errorf("--ludvae degrades --clean images; it does not go with --pairs")
	case onTheFly && c.LUDVAE == "" && !(c.Sigma[0] >= 0 && c.Sigma[1] >= c.Sigma[0]):
		return fmt.Errorf("--sigma %v: need 0 <= min <= max (0–255 scale)", c.Sigma)
	case c.LUDVAE != "" && !(c.SynthSigma[0] >= 0 && c.SynthSigma[1] >= c.SynthSigma[0]):
		return fmt.Errorf("--sigma-x %v: need 0 <= min <= max (0–255 scale)", c.SynthSigma)
	case model.CheckWeights("--ludvae-weights", c.LUDVAEWeights) != nil:
		return model.CheckWeights("--ludvae-weights", c.LUDVAEWeights)
	case c.Out == "":
		return fmt.Errorf("--out is required")
	case c.Patch < 1 || c.Batch < 1 || c.Steps < 1:
		return fmt.Errorf("--patch %d, --batch %d, --steps %d: all must be >= 1", c.Patch, c.Batch, c.Steps)
	case c.Features < 1:
		return fmt.Errorf("--features %d: need at least one feature channel", c.Features)
	case c.Layers < 2:
		return fmt.Errorf("--layers %d: a DnCNN has at least 2 convolutions (in and out)", c.Layers)
	case c.Patch > limits.MaxSide:
		return fmt.Errorf("--patch %d: at most %d (crops come from images of at most %d pixels, %d²)", c.Patch, limits.MaxSide, limits.MaxPixels, limits.MaxSide)
	case c.Batch > limits.MaxBatch:
		return fmt.Errorf("--batch %d: at most %d crops per step", c.Batch, limits.MaxBatch)
	case c.Features > limits.MaxFilters:
		return fmt.Errorf("--features %d: at most %d (weights grow with its square; KAIR uses 64)", c.Features, limits.MaxFilters)
	case c.Layers > limits.MaxLayers:
		return fmt.Errorf("--layers %d: at most %d (KAIR uses 17 or 20)", c.Layers, limits.MaxLayers)
	case !(c.LR > 0) || !(c.LRGamma > 0) || math.IsInf(c.LR, 0) || math.IsInf(c.LRGamma, 0):
		return fmt.Errorf("--lr %g, --lr-gamma %g: both must be finite and > 0", c.LR, c.LRGamma)
	case !finiteRange(c.Sigma) || !finiteRange(c.SynthSigma):
		return fmt.Errorf("--sigma %v / --sigma-x %v: must be finite", c.Sigma, c.SynthSigma)
	case c.SaveEvery < 1 || c.LogEvery < 1 || c.Keep < 1 || c.MaxBadSteps < 1:
		return fmt.Errorf("--save-every, --log-every, --keep and --max-bad-steps must be >= 1")
	}
	if err := limits.Tensor(fmt.Sprintf("--batch %d × --features %d × --patch %d²", c.Batch, c.Features, c.Patch),
		float64(c.Batch)*float64(c.Features)*float64(c.Patch)*float64(c.Patch)); err != nil {
		return err
	}
	if err := run.CheckMilestones(c.LRMilestones); err != nil {
		return err
	}
	if _, err := model.ParseDnCNNLoss(c.Loss); err != nil {
		return fmt.Errorf("--loss: %w", err)
	}
	return c.Net().Validate()
}

// Net is the denoiser's size (colour images).
func (c *Config) Net() model.DnCNNConfig {
	return model.DnCNNConfig{Channels: 3, Features: c.Features, Layers: c.Layers}
}

// LearningRate is the rate at step s (1-based), KAIR's MultiStepLR.
func (c *Config) LearningRate(step int) float64 {
	return run.MultiStepLR(c.LR, c.LRMilestones, c.LRGamma, step)
}

// finiteRange is false if either end of a σ range is NaN or infinite.
func finiteRange(r [2]float64) bool {
	for _, v := range r {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}
