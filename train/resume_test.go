package train

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit/runtest"
)

// TestResumeRefusesChangedRun: resuming with settings that shape the run
// changed is refused, naming each with its old and new value, and leaves
// config.json as it was; settings that cannot change a step change freely;
// --override continues, and records the change in config.json and the log.
func TestResumeRefusesChangedRun(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	c.Steps, c.SaveEvery = 3, 3
	if err := trainRun(context.Background(), c, io.Discard); err != nil {
		t.Fatal(err)
	}
	changes := []runtest.Change[Config]{
		{Edit: func(c *Config) { c.LR, c.Patch = 2e-3, 24 }, Wants: []string{"--lr 0.001 in the run, 0.002 in this command", "--patch 16 in the run, 24 in this command"}},
		{Edit: func(c *Config) { c.ApplyPreset("ntire20") }, Wants: []string{"--preset sidd", "--sigma-x 40 in the run, 10", "--sigma-y 20 in the run, 5", "--downscale 1 in the run, 4"}},
		{Edit: func(c *Config) { c.Clean = c.Noisy }, Wants: []string{"--clean"}},
		{Edit: func(c *Config) { c.Seed = 9 }, Wants: []string{"--seed 0 in the run, 9"}},
		{Edit: func(c *Config) { c.Normalize = "auto" }, Wants: []string{"--normalize none in the run, auto"}},
		{Edit: func(c *Config) { c.LRMilestones = []int{2} }, Wants: []string{"--lr-milestones [100000] in the run, [2]"}},
		{Edit: func(c *Config) { c.KLWeight, c.KLWarmup = 1e-3, 5 }, Wants: []string{"--kl-weight", "--kl-warmup"}},
	}
	resumed := c
	resumed.Steps = 6
	runtest.RefusesChanges(t, resumed, changes, func(d Config) error {
		_, err := NewTrainer(t.Context(), testRuntime(t, d), d, io.Discard)
		return err
	})
	if r := runtest.ReadRecord[Config](t, c.Out).Config; r.LR != c.LR || r.Patch != c.Patch || r.Preset != "sidd" {
		t.Errorf("a refused resumption changed config.json: %+v", r)
	}

	free := c
	free.Steps, free.Threads, free.LogEvery, free.SaveEvery, free.SampleEvery, free.Keep, free.MaxBadSteps = 4, 1, 2, 2, 2, 5, 7
	if err := trainRun(context.Background(), free, io.Discard); err != nil {
		t.Fatalf("changing only settings that cannot change a step: %v", err)
	}

	runtest.Overrides(t, c.Out, "0.001", c, func(d *Config, steps int, lr float64, o bool) { d.Steps, d.LR, d.Override = steps, lr, o },
		func(d Config) float64 { return d.LR }, func(d Config, log io.Writer) error { return trainRun(context.Background(), d, log) })
	// The checkpoint config does not carry --override itself.
	saved, _, err := ReadCheckpointConfig(filepath.Join(c.Out, "ckpt_00000007.pth"))
	if err != nil || saved.LR != 2e-3 || saved.Override {
		t.Errorf("checkpoint config: lr %g override %v (%v)", saved.LR, saved.Override, err)
	}
}
