package restore

import (
	"fmt"
	"path/filepath"

	"github.com/ludvae/ludvae/internal/run"
	"github.com/ludvae/ludvae/model"
)

// runSettings are compared on resume (run.Changes): what the denoiser
// learns from (the pairs, or the clean images and how they are degraded),
// its crops, batches, schedule, loss and seed. The others may change
// freely, as in `ludvae train`: --steps (the schedule counts absolute
// steps), --device and --threads, what is logged, saved and kept, and when
// to give up (--max-bad-steps, --skip-bad). --features and --layers cannot
// change at all: the checkpoint's weights would not fit (newestCheckpoint).
var runSettings = []run.Setting[Config]{
	{Flag: "--pairs", Get: pairsOf, Path: true},
	{Flag: "--clean", Get: func(c *Config) string { return orNone(c.Clean) }, Path: true},
	{Flag: "--sigma", Get: func(c *Config) string { return rangeOf(c.Sigma) }},
	{Flag: "--ludvae", Get: func(c *Config) string { return orNone(c.LUDVAE) }, Path: true},
	{Flag: "--sigma-x", Get: func(c *Config) string { return rangeOf(c.SynthSigma) }},
	{Flag: "--normalization", Get: func(c *Config) string {
		if c.Normalization == "" {
			return "checkpoint" // the flag's default, which "" means
		}
		return c.Normalization
	}},
	{Flag: "--ludvae-weights", Get: func(c *Config) string {
		if c.LUDVAEWeights == "" {
			return model.WeightsAuto // the flag's default, which "" means
		}
		return c.LUDVAEWeights
	}},
	{Flag: "--residual", Get: func(c *Config) string { return fmt.Sprint(c.Residual) }},
	{Flag: "--patch", Get: func(c *Config) string { return fmt.Sprint(c.Patch) }},
	{Flag: "--batch", Get: func(c *Config) string { return fmt.Sprint(c.Batch) }},
	{Flag: "--lr", Get: func(c *Config) string { return fmt.Sprint(c.LR) }},
	{Flag: "--lr-milestones", Get: func(c *Config) string { return fmt.Sprint(c.LRMilestones) }},
	{Flag: "--lr-gamma", Get: func(c *Config) string { return fmt.Sprint(c.LRGamma) }},
	{Flag: "--loss", Get: func(c *Config) string { return c.Loss }},
	{Flag: "--seed", Get: func(c *Config) string { return fmt.Sprint(c.Seed) }},
}

// pairsOf is the --pairs folder of c's L/ and H/ folders, or both named
// where they are not such a folder's (a configuration made in Go).
func pairsOf(c *Config) string {
	if c.L == "" && c.H == "" {
		return "none"
	}
	dir := filepath.Dir(c.L)
	if filepath.Clean(c.L) == filepath.Join(dir, "L") && filepath.Clean(c.H) == filepath.Join(dir, "H") {
		return dir
	}
	return fmt.Sprintf("L=%s H=%s", c.L, c.H)
}

// orNone shows an unset path as "none".
func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// rangeOf shows a σ range as its flag takes it, MIN,MAX.
func rangeOf(r [2]float64) string { return fmt.Sprintf("%g,%g", r[0], r[1]) }
