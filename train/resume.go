package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// runSetting is a setting that shapes what a run computes: changing it
// between a checkpoint and its resumption makes the steps after it belong
// to a different run than the steps before.
type runSetting struct {
	flag string
	get  func(c *Config) string
}

// runSettings are compared on resume. The others may change freely:
// --steps, because the schedule counts absolute steps (a longer run repeats
// a shorter one's steps); where and how the same computation runs
// (--device, --precision, --cuda-graphs, --threads), because moving a run
// to another machine is what a checkpoint is for; and what is logged,
// sampled, saved and kept, and when to give up (--max-bad-steps,
// --skip-bad). --filters and --levels cannot change at all: the
// checkpoint's weights would not fit.
var runSettings = []runSetting{
	{"--clean", func(c *Config) string { return c.Clean }},
	{"--noisy", func(c *Config) string { return c.Noisy }},
	{"--preset", func(c *Config) string { return c.Preset }},
	{"--patch", func(c *Config) string { return fmt.Sprint(c.Patch) }},
	{"--batch", func(c *Config) string { return fmt.Sprint(c.Batch) }},
	{"--lr", func(c *Config) string { return fmt.Sprint(c.LR) }},
	{"--lr-milestones", func(c *Config) string { return fmt.Sprint(c.LRMilestones) }},
	{"--lr-gamma", func(c *Config) string { return fmt.Sprint(c.LRGamma) }},
	{"--kl-weight", func(c *Config) string { return fmt.Sprint(c.KLWeight) }},
	{"--kl-warmup", func(c *Config) string { return fmt.Sprint(c.KLWarmup) }},
	{"--sigma-x", func(c *Config) string { return fmt.Sprint(c.SigmaX) }},
	{"--sigma-y", func(c *Config) string { return fmt.Sprint(c.SigmaY) }},
	{"--normalize", func(c *Config) string { return c.Normalize }},
	{"--downscale", func(c *Config) string { return fmt.Sprint(c.Downscale) }},
	{"--seed", func(c *Config) string { return fmt.Sprint(c.Seed) }},
}

// Override is a run setting changed on resume with --override, as
// config.json records it.
type Override struct {
	Step int    `json:"step"` // the checkpoint the run resumed from
	Flag string `json:"flag"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

// ErrChangedRun refuses a resumption whose settings differ from the run's.
var ErrChangedRun = errors.New("this command's settings differ from the run it would resume")

// changedSettings lists the run settings in which cfg differs from the
// checkpoint's saved configuration.
func changedSettings(saved, cfg *Config, step int) []Override {
	var ch []Override
	for _, s := range runSettings {
		o, n := s.get(saved), s.get(cfg)
		if o != n && !samePath(s.flag, o, n) {
			ch = append(ch, Override{Step: step, Flag: s.flag, Old: o, New: n})
		}
	}
	return ch
}

// samePath says whether two spellings of a data folder name the same
// folder (a relative path given from another directory does not).
func samePath(flag, a, b string) bool {
	if flag != "--clean" && flag != "--noisy" {
		return false
	}
	aa, err1 := filepath.Abs(a)
	ab, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == ab
}

// checkResume refuses to continue a run with different shaping settings,
// unless cfg.Override accepts them; accepted changes are returned to be
// recorded and printed to log.
func checkResume(saved Checkpoint, cfg *Config, log io.Writer) ([]Override, error) {
	if saved.Config.Filters != cfg.Filters || saved.Config.Levels != cfg.Levels {
		return nil, fmt.Errorf("%s holds a run with %d filters and %d levels; this command asks for %d and %d (use another --out)",
			cfg.Out, saved.Config.Filters, saved.Config.Levels, cfg.Filters, cfg.Levels)
	}
	ch := changedSettings(&saved.Config, cfg, saved.Step)
	if len(ch) == 0 {
		return nil, nil
	}
	var b strings.Builder
	for _, o := range ch {
		fmt.Fprintf(&b, "\n  %s %s in the run, %s in this command", o.Flag, o.Old, o.New)
	}
	if !cfg.Override {
		return nil, fmt.Errorf("--out %s: %w (checkpoint at step %d):%s\ngive the run's values to resume it, another --out for a new run, or --override to continue with the new values (recorded in config.json)",
			cfg.Out, ErrChangedRun, saved.Step, b.String())
	}
	fmt.Fprintf(log, "resuming step %d with changed settings (--override; recorded in config.json):%s\n", saved.Step, b.String())
	return ch, nil
}

// runRecord is config.json: the configuration of the run's latest start,
// and every setting changed with --override, oldest first.
type runRecord struct {
	Config
	Overrides []Override `json:"overrides,omitempty"`
}

// writeRunRecord writes config.json; a resumed run keeps the overrides
// recorded by earlier starts and adds the new ones.
func writeRunRecord(dir string, cfg Config, resumed bool, added []Override) error {
	path := filepath.Join(dir, "config.json")
	var old runRecord
	if b, err := os.ReadFile(path); err == nil && resumed {
		json.Unmarshal(b, &old) // an unreadable record only loses its history
	}
	return WriteJSON(path, runRecord{Config: cfg, Overrides: append(old.Overrides, added...)})
}
