package train

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/run"
	"github.com/ludvae/ludvae/internal/testkit"
)

// runRecord is config.json: the configuration of the run's latest start,
// and every setting changed with --override, oldest first.
type runRecord struct {
	Config
	Overrides []run.Override `json:"overrides,omitempty"`
}

// readRecord reads a run folder's config.json.
func readRecord(t *testing.T, dir string) runRecord {
	t.Helper()
	var r runRecord
	testkit.ReadJSON(t, filepath.Join(dir, "config.json"), &r)
	return r
}

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
	changes := []struct {
		edit  func(*Config)
		wants []string
	}{
		{func(c *Config) { c.LR, c.Patch = 2e-3, 24 }, []string{"--lr 0.001 in the run, 0.002 in this command", "--patch 16 in the run, 24 in this command"}},
		{func(c *Config) { c.ApplyPreset("ntire20") }, []string{"--preset sidd", "--sigma-x 40 in the run, 10", "--sigma-y 20 in the run, 5", "--downscale 1 in the run, 4"}},
		{func(c *Config) { c.Clean = c.Noisy }, []string{"--clean"}},
		{func(c *Config) { c.Seed = 9 }, []string{"--seed 0 in the run, 9"}},
		{func(c *Config) { c.Normalize = "auto" }, []string{"--normalize none in the run, auto"}},
		{func(c *Config) { c.LRMilestones = []int{2} }, []string{"--lr-milestones [100000] in the run, [2]"}},
		{func(c *Config) { c.KLWeight, c.KLWarmup = 1e-3, 5 }, []string{"--kl-weight", "--kl-warmup"}},
	}
	for _, ch := range changes {
		d := c
		d.Steps = 6
		ch.edit(&d)
		_, err := NewTrainer(t.Context(), testRuntime(t, d), d, io.Discard)
		testkit.Refused(t, err, run.ErrChangedRun, ch.wants...)
	}
	if r := readRecord(t, c.Out); r.LR != c.LR || r.Patch != c.Patch || r.Preset != "sidd" {
		t.Errorf("a refused resumption changed config.json: %+v", r.Config)
	}

	free := c
	free.Steps, free.Threads, free.LogEvery, free.SaveEvery, free.SampleEvery, free.Keep, free.MaxBadSteps = 4, 1, 2, 2, 2, 5, 7
	if err := trainRun(context.Background(), free, io.Discard); err != nil {
		t.Fatalf("changing only settings that cannot change a step: %v", err)
	}

	over := c
	over.Steps, over.LR, over.Override = 6, 2e-3, true
	var log strings.Builder
	if err := trainRun(context.Background(), over, &log); err != nil {
		t.Fatalf("--override: %v", err)
	}
	if !strings.Contains(log.String(), "--lr 0.001 in the run, 0.002 in this command") {
		t.Errorf("the log does not record the override:\n%s", log.String())
	}
	r := readRecord(t, c.Out)
	want := run.Override{Step: 4, Flag: "--lr", Old: "0.001", New: "0.002"}
	if r.LR != 2e-3 || len(r.Overrides) != 1 || r.Overrides[0] != want {
		t.Errorf("config.json after --override: lr %g, overrides %+v; want %+v", r.LR, r.Overrides, want)
	}
	// The run now is the overridden one: its own values resume it plainly,
	// and the record keeps the history.
	next := over
	next.Steps, next.Override = 7, false
	if err := trainRun(context.Background(), next, io.Discard); err != nil {
		t.Fatalf("resuming with the overridden values: %v", err)
	}
	if r := readRecord(t, c.Out); len(r.Overrides) != 1 {
		t.Errorf("overrides after a plain resumption: %+v", r.Overrides)
	}
	// The checkpoint config does not carry --override itself.
	saved, _, err := ReadCheckpointConfig(filepath.Join(c.Out, "ckpt_00000007.pth"))
	if err != nil || saved.LR != 2e-3 || saved.Override {
		t.Errorf("checkpoint config: lr %g override %v (%v)", saved.LR, saved.Override, err)
	}
}
