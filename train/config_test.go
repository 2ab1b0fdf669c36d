package train

import (
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/synth"
	tb "github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/train/dist"
)

func TestSchedules(t *testing.T) {
	t.Parallel()
	c := Defaults()
	cases := []struct {
		step   int
		lr, kl float64
	}{
		{1, 1e-4, 1e-8},
		{5000, 1e-4, 5e-5},
		{10000, 1e-4, 1e-4},
		{99999, 1e-4, 1e-4},
		{100000, 5e-5, 1e-4}, // KAIR steps the scheduler before the optimizer
		{200000, 5e-5, 1e-4},
	}
	for _, cs := range cases {
		if lr := c.LearningRate(cs.step); lr != cs.lr {
			t.Errorf("step %d: lr %g, want %g", cs.step, lr, cs.lr)
		}
		// the authors' min(step/1e8, 1e-4)
		if w := c.KLWeightAt(cs.step); math.Abs(w-math.Min(float64(cs.step)/1e8, 1e-4)) > 1e-20 || math.Abs(w-cs.kl) > 1e-20 {
			t.Errorf("step %d: kl weight %g, want %g", cs.step, w, cs.kl)
		}
	}
}

func TestPresetsAndValidation(t *testing.T) {
	t.Parallel()
	c := Defaults()
	c.Clean, c.Noisy, c.Out = "a", "b", "c"
	for name, want := range map[string][2]float64{"sidd": {40, 20}, "aim19": {15, 10}, "ntire20": {10, 5}} {
		if err := c.ApplyPreset(name); err != nil {
			t.Fatal(err)
		}
		if c.SigmaX != want[0] || c.SigmaY != want[1] {
			t.Errorf("%s: σ %g/%g, want %v", name, c.SigmaX, c.SigmaY, want)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := c.ApplyPreset("div2k"); err == nil || !strings.Contains(err.Error(), "--preset") {
		t.Errorf("unknown preset: %v", err)
	}
	bad := []struct {
		edit func(*Config)
		flag string
	}{
		{func(c *Config) { c.Clean = "" }, "--clean"},
		{func(c *Config) { c.Patch = 2 }, "--patch"},
		{func(c *Config) { c.LR = 0 }, "--lr"},
		{func(c *Config) { c.LRMilestones = []int{10, 5} }, "--lr-milestones"},
		{func(c *Config) { c.Normalize = "yes" }, "--normalize"},
		{func(c *Config) { c.Levels = 9 }, "levels"},
	}
	for _, b := range bad {
		c := Defaults()
		c.Clean, c.Noisy, c.Out = "a", "b", "c"
		b.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), b.flag) {
			t.Errorf("want an error naming %s, got %v", b.flag, err)
		}
	}
}

// TestConfigKeysKeepTheirNames: every field's json name is the snake_case
// name checkpoints have always stored it under, so older checkpoints load.
func TestConfigKeysKeepTheirNames(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"SigmaX": "sigma_x", "LRMilestones": "lr_milestones", "KLWarmup": "kl_warmup", "Seed": "seed", "SaveEvery": "save_every"} {
		if got := snake(in); got != want {
			t.Errorf("snake(%s) = %s, want %s", in, got, want)
		}
	}
	typ := reflect.TypeOf(Config{})
	for i := range typ.NumField() {
		f := typ.Field(i)
		if tag := f.Tag.Get("json"); tag != "-" && tag != snake(f.Name) {
			t.Errorf("field %s is stored as %q, older checkpoints as %q", f.Name, tag, snake(f.Name))
		}
	}
}

// snake is the name older ludvae stored a field under: SigmaX → sigma_x,
// LRMilestones → lr_milestones.
func snake(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 && (rs[i-1] < 'A' || rs[i-1] > 'Z' || (i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z')) {
			b.WriteByte('_')
		}
		b.WriteString(strings.ToLower(string(r)))
	}
	return b.String()
}

// TestPrecisionNamesOneRule: training and synthesis accept exactly the
// precision names torchbind.ParsePrecision accepts, and name --precision
// when they refuse one.
func TestPrecisionNamesOneRule(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"fp32", "tf32", "bf16", "fp16", "FP32", "", "bf16 "} {
		_, perr := tb.ParsePrecision(name)
		c := Defaults()
		c.Clean, c.Noisy, c.Out, c.Precision = "a", "b", "c", name
		o := synth.Defaults()
		o.Model, o.Clean, o.Out, o.Precision = "m.pth", "in", "out", name
		for what, err := range map[string]error{"train": c.Validate(), "synth": o.Validate()} {
			if (err == nil) != (perr == nil) {
				t.Errorf("%s accepts precision %q: %v; torchbind: %v", what, name, err, perr)
			}
			if err != nil && !strings.Contains(err.Error(), "--precision") {
				t.Errorf("%s refuses precision %q without naming --precision: %v", what, name, err)
			}
		}
	}
}

// TestRankWorkers: a rank of a job with two ranks on this machine, left
// to choose its threads, gets half the CPUs for libtorch and, through its
// settings, the same count of Go workers (its batches' prefetch); an
// explicit --threads is kept.
func TestRankWorkers(t *testing.T) {
	t.Parallel()
	c := Defaults()
	c.Clean, c.Noisy, c.Out, c.Device = "a", "b", "c", "cpu"
	s, err := c.RankSettings(dist.Env{Rank: 1, World: 2, LocalRank: 1, LocalWorld: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := max(1, runtime.NumCPU()/2); s.Threads != want || s.Workers() != want {
		t.Errorf("rank of 2: threads %d, workers %d; want %d each", s.Threads, s.Workers(), want)
	}
	c.Threads = 3
	if s, err = c.RankSettings(dist.Env{World: 2, LocalWorld: 2}); err != nil || s.Workers() != 3 {
		t.Errorf("--threads 3: workers %d (%v), want 3", s.Workers(), err)
	}
	if alone, _ := c.RuntimeSettings(); alone.Workers() != 3 {
		t.Errorf("--threads 3 alone: workers %d, want 3", alone.Workers())
	}
}
