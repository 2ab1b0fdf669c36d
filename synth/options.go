package synth

import (
	"fmt"
	"math"

	"github.com/ludvae/ludvae/internal/layout"
	"github.com/ludvae/ludvae/internal/limits"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// Options configure a synthesis run.
type Options struct {
	Model          string // checkpoint or the authors' plain state dict
	Weights        string // which of a checkpoint's weights: model.WeightsAuto (the average when it holds one), WeightsEMA, WeightsTrained
	Clean          string // input folder (clean images; degraded ones for N2C)
	Out            string // output folder
	Samples        int    // synthetic versions per input image
	SigmaMin       float64
	SigmaMax       float64 // σx per image, uniform in [SigmaMin, SigmaMax] (0–255 scale)
	Temperature    float64
	TemperatureMax float64 // if above Temperature, each sample's temperature is uniform in [Temperature, TemperatureMax]
	Seed           uint64
	Mode           string // "c2n" or "n2c"
	Residual       bool   // C2N: clean + (decode at the temperature − decode at 0), model.TranslateResidual
	SRScale        int    // 1, or the HR→LR factor for super-resolution pairs
	Tile           int    // tile size in pixels (0: whole images)
	Batch          int    // tiles of an image per call of the model (TiledBatch; <= 1: one at a time)
	Device         string
	Precision      string // fp32, tf32 or bf16
	Threads        int
	Layout         string               // auto (timed, internal/layout), nchw or nhwc
	Norm           *model.Normalization // colour statistics the model was trained in: N2C inputs are mapped to them, C2N outputs back (nil: none)
	Overwrite      bool                 // replace the pairs of another run found in Out (otherwise refused)
	Shard, Shards  int                  // this process does the images whose index is Shard modulo Shards (Shards <= 1: all)
}

// DefaultTile keeps a 4000×3000 photo within 4 GiB at the default model
// size: a 512² core plus its margins is under 1.3 GB of activations.
const DefaultTile = 512

// BatchBytes is about the memory the activations of a batch of n windows
// of h × w pixels take in m's network (fp32): filters × (10·levels + 28)
// bytes per pixel, fitted to the growth of peak memory with the batch at 1
// and 3 levels of 128 filters on 96² and 128² windows (36 and 55 bytes per
// pixel and filter, against 38 and 58 here). The default model's 544²
// tile takes about 2.2 GB.
func BatchBytes(m model.Config, n, h, w int) int64 {
	return int64(n) * int64(h) * int64(w) * int64(m.Filters) * int64(10*m.Levels+28)
}

// MaxBatch is the most tiles --batch runs at once.
const MaxBatch = 64

// BatchMemoryHelp states BatchBytes for --help.
const BatchMemoryHelp = "about batch × (tile + 16·levels)² × filters × (10·levels + 28) bytes of activations (2.2 GB a tile for the default model and tile)"

// Defaults are model.DefaultSynthesis's settings (SIDD's).
func Defaults() Options {
	d := model.DefaultSynthesis
	return Options{Samples: 1, SigmaMin: d.SigmaMin, SigmaMax: d.SigmaMax, Temperature: d.Temperature, Mode: "c2n", SRScale: d.Downscale, Weights: model.WeightsAuto,
		Tile: DefaultTile, Batch: 1, Device: "auto", Precision: string(tb.FP32), Layout: string(layout.Auto)}
}

// Validate reports the first unusable option, naming its flag.
func (o *Options) Validate() error {
	if err := o.validateFinite(); err != nil {
		return err
	}
	switch {
	case o.Model == "":
		return fmt.Errorf("--model is required")
	case model.CheckWeights("--weights", o.Weights) != nil:
		return model.CheckWeights("--weights", o.Weights)
	case o.Clean == "":
		return fmt.Errorf("--clean is required")
	case o.Out == "":
		return fmt.Errorf("--out is required")
	case o.Samples < 1:
		return fmt.Errorf("--samples %d: at least 1", o.Samples)
	case o.Samples > limits.MaxPairs:
		return limits.Int("--samples", o.Samples, limits.MaxPairs, "pairs per run: the plan keeps a record of each in memory")
	case o.SigmaMin < 0 || o.SigmaMax < o.SigmaMin:
		return fmt.Errorf("--sigma-min %g / --sigma-max %g: need 0 <= min <= max", o.SigmaMin, o.SigmaMax)
	case o.Temperature < 0:
		return fmt.Errorf("--temperature %g: must not be negative", o.Temperature)
	case o.TemperatureMax != 0 && o.TemperatureMax < o.Temperature:
		return fmt.Errorf("--temperature %g / --temperature-max %g: need temperature <= max", o.Temperature, o.TemperatureMax)
	case o.TemperatureMax != 0 && o.Mode == "n2c":
		return fmt.Errorf("--temperature-max: --mode n2c draws no latents (its degradation latents are 0)")
	case o.Residual && o.Mode != "c2n":
		return fmt.Errorf("--residual: only --mode c2n draws a degradation to keep")
	case o.Mode != "c2n" && o.Mode != "n2c":
		return fmt.Errorf("--mode %q: expected c2n or n2c", o.Mode)
	case o.SRScale < 1:
		return fmt.Errorf("--sr-scale %d: expected 1 or a factor such as 4", o.SRScale)
	case o.SRScale > limits.MaxDownscale:
		return limits.Int("--sr-scale", o.SRScale, limits.MaxDownscale, fmt.Sprintf("the largest image, %d², would shrink below 8 pixels", limits.MaxSide))
	case o.Tile < 0:
		return fmt.Errorf("--tile %d: must not be negative (0 = whole images)", o.Tile)
	case o.Tile > limits.MaxSide:
		return limits.Int("--tile", o.Tile, limits.MaxSide, fmt.Sprintf("a tile is at most a whole image, and images are at most %d²; 0 = whole images", limits.MaxSide))
	case o.Batch < 1:
		return fmt.Errorf("--batch %d: at least 1 (1: one tile at a time)", o.Batch)
	case o.Batch > MaxBatch:
		return limits.Int("--batch", o.Batch, MaxBatch, "tiles of one image at once; a 2040×1356 photo at the default tile has 12")
	case o.Shards > limits.MaxShards:
		return limits.Int("--shards", o.Shards, limits.MaxShards, "--merge reads one manifest per shard")
	case o.Shards > 1 && (o.Shard < 0 || o.Shard >= o.Shards):
		return fmt.Errorf("--shard %d/%d: the index counts from 0 to %d", o.Shard, o.Shards, o.Shards-1)
	case o.Shards > 1 && o.Overwrite:
		return fmt.Errorf("--overwrite with --shard: one shard would delete the others' pairs; empty --out before starting the shards")
	}
	if _, err := tb.ParsePrecision(o.Precision); err != nil {
		return fmt.Errorf("--precision %w", err)
	}
	if _, err := layout.ParseDense("--layout", o.Layout); err != nil {
		return err
	}
	return nil
}

// ValidateCounts checks the options that need no checkpoint: the real
// values are finite and the counts and sizes within their bounds. The CLI
// calls it before reading the checkpoint's defaults, so a mistyped size is
// refused before anything is opened; Validate checks everything again.
func (o *Options) ValidateCounts() error {
	if err := o.validateFinite(); err != nil {
		return err
	}
	switch {
	case o.Samples < 1 || o.Samples > limits.MaxPairs, o.Tile < 0 || o.Tile > limits.MaxSide,
		o.SRScale < 1 || o.SRScale > limits.MaxDownscale, o.Shards > limits.MaxShards, o.Batch < 1 || o.Batch > MaxBatch:
		c := *o
		c.Model, c.Clean, c.Out = "-", "-", "-"
		c.SigmaMin, c.SigmaMax, c.Temperature, c.TemperatureMax, c.Mode = 0, 0, 0, 0, "c2n"
		return c.Validate()
	}
	return nil
}

// validateFinite refuses NaN and infinite real-valued flags, which would
// otherwise pass the range checks (every comparison with NaN is false) and
// fill the outputs with NaN.
func (o *Options) validateFinite() error {
	for _, f := range []struct {
		flag string
		v    float64
	}{{"--sigma-min", o.SigmaMin}, {"--sigma-max", o.SigmaMax}, {"--temperature", o.Temperature}, {"--temperature-max", o.TemperatureMax}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%s %g: expected a finite number", f.flag, f.v)
		}
	}
	return nil
}

// CheckpointDefaults fills σ range, temperature, normalization and, for
// C2N from a model trained on ×s downscaled clean images, the --sr-scale s
// from the model's synthesis setting (model.CheckpointSynthesis): such a
// model degrades LR images, so HR clean images must be downscaled as in
// its training. A plain state dict has no entry and leaves o unchanged.
// Flags the user gave are applied afterwards by the CLI.
func (o *Options) CheckpointDefaults(path string) error {
	syn, plain, err := model.CheckpointSynthesis(path)
	if plain {
		return nil // the authors' plain state dicts carry no defaults
	}
	if err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	o.SigmaMin, o.SigmaMax, o.Temperature = syn.SigmaMin, syn.SigmaMax, syn.Temperature
	o.Norm = syn.Norm
	if o.Mode == "c2n" {
		o.SRScale = syn.Downscale
	}
	return nil
}
