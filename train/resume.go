package train

import (
	"fmt"
	"io"

	"github.com/ludvae/ludvae/internal/run"
)

// runSettings are compared on resume (run.Changes). The others may change
// freely: --steps, because the schedule counts absolute steps (a longer run
// repeats a shorter one's steps); where and how the same computation runs
// (--device, --precision, --cuda-graphs, --threads), because moving a run
// to another machine is what a checkpoint is for; and what is logged,
// sampled, saved and kept, and when to give up (--max-bad-steps,
// --skip-bad). --filters and --levels cannot change at all: the
// checkpoint's weights would not fit (checkResume).
var runSettings = []run.Setting[Config]{
	{Flag: "--clean", Get: func(c *Config) string { return c.Clean }, Path: true},
	{Flag: "--noisy", Get: func(c *Config) string { return c.Noisy }, Path: true},
	{Flag: "--preset", Get: func(c *Config) string { return c.Preset }},
	{Flag: "--patch", Get: func(c *Config) string { return fmt.Sprint(c.Patch) }},
	{Flag: "--batch", Get: func(c *Config) string { return fmt.Sprint(c.Batch) }},
	{Flag: "--lr", Get: func(c *Config) string { return fmt.Sprint(c.LR) }},
	{Flag: "--lr-milestones", Get: func(c *Config) string { return fmt.Sprint(c.LRMilestones) }},
	{Flag: "--lr-gamma", Get: func(c *Config) string { return fmt.Sprint(c.LRGamma) }},
	{Flag: "--kl-weight", Get: func(c *Config) string { return fmt.Sprint(c.KLWeight) }},
	{Flag: "--kl-warmup", Get: func(c *Config) string { return fmt.Sprint(c.KLWarmup) }},
	{Flag: "--sigma-x", Get: func(c *Config) string { return fmt.Sprint(c.SigmaX) }},
	{Flag: "--sigma-y", Get: func(c *Config) string { return fmt.Sprint(c.SigmaY) }},
	{Flag: "--normalize", Get: func(c *Config) string { return c.Normalize }},
	{Flag: "--downscale", Get: func(c *Config) string { return fmt.Sprint(c.Downscale) }},
	{Flag: "--seed", Get: func(c *Config) string { return fmt.Sprint(c.Seed) }},
	{Flag: "--ema", Get: func(c *Config) string { return fmt.Sprint(c.EMA) }},
}

// checkResume refuses to continue a run of another network size, or with
// different shaping settings unless cfg.Override accepts them; accepted
// changes are returned to be recorded and printed to log.
func checkResume(f *run.Folder, saved Checkpoint, cfg *Config, log io.Writer) ([]run.Override, error) {
	if saved.Config.Filters != cfg.Filters || saved.Config.Levels != cfg.Levels {
		return nil, fmt.Errorf("%s holds a run with %d filters and %d levels; this command asks for %d and %d (use another --out)",
			cfg.Out, saved.Config.Filters, saved.Config.Levels, cfg.Filters, cfg.Levels)
	}
	return f.Accept(saved.Step, run.Changes(runSettings, &saved.Config, cfg, saved.Step), cfg.Override, log)
}
