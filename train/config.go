// Package train trains LUD-VAE on unpaired clean and degraded image folders
// with the authors' recipe (docs/design.md §2.3): the data pipeline, the
// schedule, checkpoints that resume exactly, logs and plots. The run
// folder, the step loop and the checks on resume are the run kit it shares
// with train/restore (package internal/run); what is LUD-VAE's (the
// checkpoint's entries, the settings compared on resume, log.csv's
// columns, the step) is here.
package train

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/ludvae/ludvae/internal/layout"
	"github.com/ludvae/ludvae/internal/limits"
	"github.com/ludvae/ludvae/internal/run"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// Config is everything a training run depends on. It is written to the run
// folder and into every checkpoint.
type Config struct {
	Clean    string `json:"clean"`     // image folder (searched recursively), or its image store
	Noisy    string `json:"noisy"`     // the same for the degraded domain
	Out      string `json:"out"`       // run folder
	StoreDir string `json:"store_dir"` // where the folders' image stores are kept ("": beside each folder; store.PathFor)

	Preset       string     `json:"preset"`
	Filters      int        `json:"filters"`
	Levels       int        `json:"levels"`
	Patch        int        `json:"patch"`         // crop size
	Batch        int        `json:"batch"`         // samples per step, each clean or degraded with probability ½
	Steps        int        `json:"steps"`         // total optimizer steps
	LR           float64    `json:"lr"`            // Adam learning rate
	LRMilestones []int      `json:"lr_milestones"` // steps at which the rate is halved
	LRGamma      float64    `json:"lr_gamma"`      // factor at each milestone
	KLWeight     float64    `json:"kl_weight"`     // final weight of the KL term
	KLWarmup     int        `json:"kl_warmup"`     // steps of linear warm-up of the KL weight
	SigmaX       float64    `json:"sigma_x"`       // h-noise σ for clean images (0–255 scale)
	SigmaY       float64    `json:"sigma_y"`       // h-noise σ for degraded images
	SynthSigma   [2]float64 `json:"synth_sigma"`   // σx range used when synthesizing (per image, uniform)
	Normalize    string     `json:"normalize"`     // "none" or "auto": map degraded colours to the clean domain's statistics
	Downscale    int        `json:"downscale"`     // downscale clean images by this factor (MATLAB bicubic), 1 = none
	Seed         uint64     `json:"seed"`
	Device       string     `json:"device"`
	Precision    string     `json:"precision"`   // fp32 (default), tf32 or bf16
	CUDAGraphs   bool       `json:"cuda_graphs"` // on CUDA, replay each step as a CUDA graph (graph.go)
	Threads      int        `json:"threads"`
	SaveEvery    int        `json:"save_every"`
	SampleEvery  int        `json:"sample_every"`
	LogEvery     int        `json:"log_every"`
	Keep         int        `json:"keep"`          // checkpoints kept
	MaxBadSteps  int        `json:"max_bad_steps"` // consecutive non-finite losses tolerated
	SkipBad      bool       `json:"skip_bad"`
	EMA          float64    `json:"ema"` // decay of the weight average kept beside the trained weights (ema.go); 0 = none
	Override     bool       `json:"-"`   // resume even if run settings changed (resume.go); not part of the run
	Layout       string     `json:"-"`   // auto, nchw, nhwc or blocked (ChooseLayout); speed only, not part of the run
}

// Preset is a dataset's published setting.
type Preset struct {
	SigmaX, SigmaY float64
	SynthSigma     [2]float64
	Normalize      string
	Downscale      int
	Note           string
}

// Synthesis is the "synthesis" entry of this run's checkpoints: its σx
// range, temperature 1 and downscale, with the colour statistics norm.
func (c Config) Synthesis(norm *model.Normalization) model.Synthesis {
	return model.Synthesis{SigmaMin: c.SynthSigma[0], SigmaMax: c.SynthSigma[1], Temperature: 1, Norm: norm, Downscale: c.Downscale}
}

// Presets follow the paper (docs/design.md §2.1). NTIRE20: the paper gives
// σx = 10, σy = 5 while the authors' released config trains with 8 and 3;
// we follow the paper.
var Presets = map[string]Preset{
	"sidd":    {SigmaX: 40, SigmaY: 20, SynthSigma: model.DefaultSynthesis.Range(), Normalize: "none", Downscale: 1, Note: "SIDD-Small sRGB, real camera noise"},
	"aim19":   {SigmaX: 15, SigmaY: 10, SynthSigma: [2]float64{15, 15}, Normalize: "auto", Downscale: 4, Note: "AIM 2019 real-world SR, ×4"},
	"ntire20": {SigmaX: 10, SigmaY: 5, SynthSigma: [2]float64{10, 10}, Normalize: "none", Downscale: 4, Note: "NTIRE 2020 real-world SR track 1, ×4"},
}

// PresetNames lists the presets in order.
func PresetNames() []string {
	var n []string
	for k := range Presets {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Defaults is the paper's schedule and the SIDD preset.
func Defaults() Config {
	p := Presets["sidd"]
	return Config{
		Preset: "sidd", Filters: model.Default.Filters, Levels: model.Default.Levels,
		Patch: 64, Batch: 16, Steps: 200000, LR: 1e-4, LRMilestones: []int{100000}, LRGamma: 0.5,
		KLWeight: 1e-4, KLWarmup: 10000, SigmaX: p.SigmaX, SigmaY: p.SigmaY, SynthSigma: p.SynthSigma,
		Normalize: p.Normalize, Downscale: p.Downscale, Seed: 0, Device: "auto", Precision: string(tb.FP32), CUDAGraphs: true, Layout: string(layout.Auto),
		SaveEvery: 5000, SampleEvery: 5000, LogEvery: 100, Keep: 3, MaxBadSteps: 10,
	}
}

// ApplyPreset sets the preset's values; flags given explicitly are applied after it.
func (c *Config) ApplyPreset(name string) error {
	p, ok := Presets[name]
	if !ok {
		return fmt.Errorf("--preset %q: known presets are %s", name, strings.Join(PresetNames(), ", "))
	}
	c.Preset = name
	c.SigmaX, c.SigmaY, c.SynthSigma = p.SigmaX, p.SigmaY, p.SynthSigma
	c.Normalize, c.Downscale = p.Normalize, p.Downscale
	return nil
}

// Validate reports the first unusable value, naming its flag.
func (c *Config) Validate() error {
	prec, precisionErr := tb.ParsePrecision(c.Precision)
	lay, err := layout.Parse("--layout", c.Layout)
	if err != nil {
		return err
	}
	if dev, err := tb.ParseDevice(c.Device); lay == layout.Blocked && err == nil && precisionErr == nil {
		// the device "auto" may still turn out CUDA: ChooseLayout checks again
		if why := BlockedUnavailable(dev, prec); why != "" {
			return fmt.Errorf("--layout blocked: %s", why)
		}
	}
	checks := []struct {
		bad  bool
		flag string
		msg  string
	}{
		{c.Clean == "", "--clean", "is required (a folder of clean images)"},
		{c.Noisy == "", "--noisy", "is required (a folder of degraded images)"},
		{c.Out == "", "--out", "is required (the run folder)"},
		{c.Filters < 1, "--filters", fmt.Sprintf("%d: need at least one feature channel", c.Filters)},
		{c.Filters > limits.MaxFilters, "--filters", fmt.Sprintf("%d: at most %d (weights grow with its square; the paper uses 64)", c.Filters, limits.MaxFilters)},
		{c.Levels < 1 || c.Levels > model.MaxLevels, "--levels", fmt.Sprintf("%d: supported are 1 to %d", c.Levels, model.MaxLevels)},
		{c.Patch < 8, "--patch", fmt.Sprintf("%d: crops must be at least 8 pixels", c.Patch)},
		{c.Patch > limits.MaxSide, "--patch", fmt.Sprintf("%d: at most %d (crops come from images of at most %d pixels, %d²)", c.Patch, limits.MaxSide, limits.MaxPixels, limits.MaxSide)},
		{c.Batch < 1, "--batch", fmt.Sprintf("%d: need at least one sample per step", c.Batch)},
		{c.Batch > limits.MaxBatch, "--batch", fmt.Sprintf("%d: at most %d crops per step", c.Batch, limits.MaxBatch)},
		{c.Steps < 1, "--steps", fmt.Sprintf("%d: need at least one step", c.Steps)},
		{!finite(c.LR) || c.LR <= 0, "--lr", fmt.Sprintf("%g: must be a finite positive number", c.LR)},
		{!finite(c.LRGamma) || c.LRGamma <= 0, "--lr-gamma", fmt.Sprintf("%g: must be a finite positive number", c.LRGamma)},
		{!finite(c.KLWeight) || c.KLWeight < 0, "--kl-weight", fmt.Sprintf("%g: must be a finite number >= 0", c.KLWeight)},
		{c.KLWarmup < 0, "--kl-warmup", fmt.Sprintf("%d: must not be negative", c.KLWarmup)},
		{!finite(c.SigmaX) || c.SigmaX < 0, "--sigma-x", fmt.Sprintf("%g: must be a finite number >= 0 (0-255 scale)", c.SigmaX)},
		{!finite(c.SigmaY) || c.SigmaY < 0, "--sigma-y", fmt.Sprintf("%g: must be a finite number >= 0 (0-255 scale)", c.SigmaY)},
		{tb.CheckThreads(c.Threads) != nil, "--threads", fmt.Sprint(tb.CheckThreads(c.Threads))},
		{c.Normalize != "none" && c.Normalize != "auto", "--normalize", fmt.Sprintf("%q: expected none or auto", c.Normalize)},
		{c.Downscale < 1, "--downscale", fmt.Sprintf("%d: expected 1 (none) or a factor such as 4", c.Downscale)},
		{c.Downscale > limits.MaxDownscale, "--downscale", fmt.Sprintf("%d: at most %d (the largest image, %d², would be smaller than the smallest crop)", c.Downscale, limits.MaxDownscale, limits.MaxSide)},
		{c.SaveEvery < 1, "--save-every", fmt.Sprintf("%d: must be positive", c.SaveEvery)},
		{c.SampleEvery < 0, "--sample-every", fmt.Sprintf("%d: must not be negative (0 = never)", c.SampleEvery)},
		{c.LogEvery < 1, "--log-every", fmt.Sprintf("%d: must be positive", c.LogEvery)},
		{c.Keep < 1, "--keep", fmt.Sprintf("%d: keep at least one checkpoint", c.Keep)},
		{!finite(c.EMA) || c.EMA < 0 || c.EMA >= 1, "--ema", fmt.Sprintf("%g: expected a decay in [0, 1), such as 0.999 (0 = no average)", c.EMA)},
		{c.MaxBadSteps < 1, "--max-bad-steps", fmt.Sprintf("%d: must be positive", c.MaxBadSteps)},
		{precisionErr != nil, "--precision", fmt.Sprint(precisionErr)},
	}
	for _, ch := range checks {
		if ch.bad {
			return fmt.Errorf("%s %s", ch.flag, ch.msg)
		}
	}
	if err := limits.Tensor(fmt.Sprintf("--batch %d × --filters %d × --patch %d²", c.Batch, c.Filters, c.Patch),
		float64(c.Batch)*float64(c.Filters)*float64(c.Patch)*float64(c.Patch)); err != nil {
		return err
	}
	if err := run.CheckMilestones(c.LRMilestones); err != nil {
		return err
	}
	return (model.Config{Channels: 3, Filters: c.Filters, Levels: c.Levels}).Validate()
}

// finite is false for NaN and ±Inf, which flags parse without complaint.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// LearningRate is the rate at step s (1-based).
func (c *Config) LearningRate(step int) float64 {
	return run.MultiStepLR(c.LR, c.LRMilestones, c.LRGamma, step)
}

// KLWeightAt is the KL weight at step s: min(s/warmup, 1)·w, the authors'
// min(step/1e8, 1e-4) for the defaults.
func (c *Config) KLWeightAt(step int) float64 {
	if c.KLWarmup == 0 {
		return c.KLWeight
	}
	return min(float64(step)/float64(c.KLWarmup), 1) * c.KLWeight
}
