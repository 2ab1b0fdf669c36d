package train

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
	tb "github.com/ludvae/ludvae/torchbind"
)

func readLosses(t *testing.T, dir string) map[string]string {
	t.Helper()
	rows := testkit.ReadCSV(t, filepath.Join(dir, "log.csv"))
	out := map[string]string{}
	for _, r := range rows[1:] {
		out[r[0]] = strings.Join(r[1:6], ",") // loss, rec, kl, kl_weight, lr
	}
	return out
}

// TestResumeReproducesLosses interrupts a run at step 5 (as SIGINT would),
// resumes it with the same command, and checks every logged loss equals the
// uninterrupted run's, digit for digit.
func TestResumeReproducesLosses(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	whole := c
	whole.Out = filepath.Join(t.TempDir(), "whole")
	if err := trainRun(context.Background(), whole, io.Discard); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	tr, err := NewTrainer(t.Context(), testRuntime(t, c), c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	tr.afterStep = func(s int) {
		if s == 5 {
			cancel()
		}
	}
	if err := tr.Train(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v", err)
	}
	tr.Close()
	if ck, _ := Checkpoints(c.Out); len(ck) == 0 || stepOf(ck[len(ck)-1]) != 5 {
		t.Fatalf("checkpoints after the interruption: %v", ck)
	}
	if err := trainRun(context.Background(), c, io.Discard); err != nil {
		t.Fatal(err)
	}
	sameLosses(t, whole.Out, c.Out, c.Steps, "uninterrupted", "resumed")
	ck, _ := Checkpoints(c.Out)
	if len(ck) > c.Keep {
		t.Errorf("%d checkpoints kept, --keep %d", len(ck), c.Keep)
	}
}

// TestTrainOnAnotherGoroutine: a trainer built on one goroutine and trained
// on another, while the first keeps a runtime of one thread busy making and
// freeing tensors, logs the same losses digit for digit as a run on one
// goroutine: the steps run on the trainer's runtime, with its own thread
// count and its own scopes.
func TestTrainOnAnotherGoroutine(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	c.Steps = 6
	whole := c
	whole.Out = filepath.Join(t.TempDir(), "whole")
	if err := trainRun(context.Background(), whole, io.Discard); err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(t.Context(), testRuntime(t, c), c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	done := make(chan error, 1)
	go func() { done <- tr.Train(context.Background()) }()
	busy, err := tb.NewRuntime(tb.Settings{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var trainErr error
	err = busy.Do(func() error {
		for {
			select {
			case trainErr = <-done:
				return nil
			default:
			}
			tb.WithScope(func(*tb.Scope) { tb.Ones([]int64{64, 64}, tb.Options{}).MulScalar(2).Sum().Item() })
		}
	})
	if err != nil || trainErr != nil {
		t.Fatal(err, trainErr)
	}
	sameLosses(t, whole.Out, c.Out, c.Steps, "on one goroutine", "on another")
}

// sameLosses checks that the runs in folders a and b (named for the
// message) both logged steps steps, with the same losses digit for digit.
func sameLosses(t *testing.T, a, b string, steps int, nameA, nameB string) {
	t.Helper()
	la, lb := readLosses(t, a), readLosses(t, b)
	if len(la) != steps || len(lb) != steps {
		t.Fatalf("logged %d and %d steps, want %d", len(la), len(lb), steps)
	}
	for step, x := range la {
		if lb[step] != x {
			t.Errorf("step %s: %s %s, %s %s", step, nameA, x, nameB, lb[step])
		}
	}
}

// TestCheckpointReadByTorch opens a checkpoint with Python's torch.load and
// loads its model part into the reference network (strict).
func TestCheckpointReadByTorch(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	c.Steps, c.SaveEvery, c.SampleEvery = 3, 3, 3
	if err := trainRun(context.Background(), c, io.Discard); err != nil {
		t.Fatal(err)
	}
	ck, _ := Checkpoints(c.Out)
	got := testkit.RunPython(t, `
import sys, torch
from ludvae_ref import LUDVAE
d = torch.load(sys.argv[1])
m = LUDVAE(3, 4, 2)
m.load_state_dict(d["model"], strict=True)
opt = torch.optim.Adam(m.parameters(), lr=1e-3)
opt.load_state_dict(d["optimizer"])
print(d["step"], d["config"]["patch"], d["config"]["sigma_x"], d["synthesis"]["sigma_min"], sorted(d.keys()))
`, ck[len(ck)-1])
	want := "3 16 40.0 30.0 ['config', 'model', 'normalization', 'optimizer', 'rng', 'step', 'synthesis']"
	if got != want {
		t.Fatalf("python read %q, want %q", got, want)
	}
	for _, f := range []string{"config.json", "log.csv", "loss.png", "samples/step_00000003.png"} {
		if _, err := os.Stat(filepath.Join(c.Out, f)); err != nil {
			t.Errorf("run folder lacks %s: %v", f, err)
		}
	}
}

// TestNonFiniteLossStops makes the loss blow up (an absurd learning rate)
// and checks that bad updates are skipped and logged, that training stops
// after --max-bad-steps, and that the last checkpoint is intact.
func TestNonFiniteLossStops(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	c.LR, c.Steps, c.SaveEvery, c.MaxBadSteps = 1e30, 40, 1, 3
	var log strings.Builder
	err := trainRun(context.Background(), c, &log)
	if !errors.Is(err, ErrTooManyBadSteps) {
		t.Fatalf("got %v, want ErrTooManyBadSteps", err)
	}
	if !strings.Contains(log.String(), "non-finite loss") || !strings.Contains(err.Error(), "intact") {
		t.Fatalf("log %q / error %q do not explain the stop", log.String(), err)
	}
	ck, _ := Checkpoints(c.Out)
	if len(ck) == 0 {
		t.Fatal("no checkpoint")
	}
	if _, _, err := ReadCheckpointConfig(ck[len(ck)-1]); err != nil {
		t.Fatalf("last checkpoint unreadable: %v", err)
	}
}

// TestResumeRefusesAnotherRun: a run folder holding a run with other
// filters or another normalization is refused, and its config.json kept.
func TestResumeRefusesAnotherRun(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	c.Normalize, c.Steps, c.SaveEvery = "auto", 6, 6
	if err := trainRun(context.Background(), c, io.Discard); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(c.Out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, change := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"normalization", func(c *Config) { c.Normalize = "none" }, "--normalize auto"},
		{"filters", func(c *Config) { c.Filters = 8 }, "4 filters"},
	} {
		o := c
		o.Steps = 12
		change.edit(&o)
		err := trainRun(context.Background(), o, io.Discard)
		if err == nil || !strings.Contains(err.Error(), change.want) {
			t.Errorf("%s: got %v, want an error naming %q", change.name, err, change.want)
		}
		after, _ := os.ReadFile(filepath.Join(c.Out, "config.json"))
		if string(after) != string(before) {
			t.Errorf("%s: the refused run rewrote config.json", change.name)
		}
	}
}

func TestUnwritableRunFolder(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	c.Out = filepath.Join(file, "run")
	err := trainRun(context.Background(), c, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--out") {
		t.Fatalf("run folder under a file: %v", err)
	}
}

// TestBF16TracksFP32 trains the tiny run in fp32 and in bf16 autocast, on
// the CPU and, where there is one, on the GPU (make gpu-check), and compares
// the loss curves. bfloat16 keeps 8 bits of mantissa (relative rounding
// 0.4 %), so single steps differ; the curves must agree in their trend: the
// mean loss over the last third of the run within 25 % of fp32's, and the
// bf16 run's loss must fall as fp32's does (last third below 60 % of the
// first third, and by at least 75 % of fp32's fall). The learning rate
// (1e-2) lets the tiny network learn that much in 30 steps from the
// default seed's start (fp32: 0.365 → 0.120); at 1e-3 it fell by 8 %.
func TestBF16TracksFP32(t *testing.T) {
	t.Parallel()
	for _, dev := range testDevices() {
		t.Run(dev, func(t *testing.T) {
			means := map[string][2]float64{}
			for _, p := range []string{"fp32", "bf16"} {
				c := tinyConfig(t)
				c.Steps, c.Precision, c.Device, c.LR = 30, p, dev, 1e-2
				if err := trainRun(context.Background(), c, io.Discard); err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				losses := readLosses(t, c.Out)
				var first, last float64
				for s := 1; s <= 10; s++ {
					first += parseLoss(t, losses[strconv.Itoa(s)])
					last += parseLoss(t, losses[strconv.Itoa(20+s)])
				}
				means[p] = [2]float64{first / 10, last / 10}
			}
			f, b := means["fp32"], means["bf16"]
			t.Logf("%s: mean loss first/last third: fp32 %.5f/%.5f, bf16 %.5f/%.5f", dev, f[0], f[1], b[0], b[1])
			if math.Abs(b[1]-f[1]) > 0.25*f[1] {
				t.Errorf("bf16 late loss %.5f is not within 25%% of fp32's %.5f", b[1], f[1])
			}
			if b[1] > 0.6*b[0] {
				t.Errorf("bf16 loss did not fall: %.5f → %.5f", b[0], b[1])
			}
			if b[0]-b[1] < 0.75*(f[0]-f[1]) {
				t.Errorf("bf16 loss fell %.5f → %.5f, less than 75 %% of fp32's fall %.5f → %.5f", b[0], b[1], f[0], f[1])
			}
		})
	}
}

func parseLoss(t *testing.T, row string) float64 {
	v, err := strconv.ParseFloat(strings.SplitN(row, ",", 2)[0], 64)
	if err != nil {
		t.Fatalf("log row %q: %v", row, err)
	}
	return v
}

// TestRefusedRunLeavesNothing (hostile cases tr08, tr14): a run refused
// before it trains (an empty --clean folder; crops larger than the images)
// leaves no run folder, lock or config.json, and no store beside the empty
// folder; a refused resume of an existing run keeps its config.json.
func TestRefusedRunLeavesNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"empty clean folder", func(c *Config) {
			c.Clean = filepath.Join(filepath.Dir(c.Out), "empty")
			os.Mkdir(c.Clean, 0o755)
		}, "no image files"},
		{"crop larger than the images", func(c *Config) { c.Patch = 64 }, "too small"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tinyConfig(t)
			tc.edit(&c)
			err := trainRun(context.Background(), c, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if _, err := os.Stat(c.Out); !errors.Is(err, fs.ErrNotExist) {
				ents, _ := os.ReadDir(c.Out)
				t.Errorf("the refused run left %s (%v)", c.Out, ents)
			}
			if _, err := os.Stat(c.Clean + ".lvs"); tc.name == "empty clean folder" && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the refused run left the store %s.lvs", c.Clean)
			}
		})
	}
	// An existing run keeps its record when a later start is refused.
	c := tinyConfig(t)
	c.Steps = 2
	if err := trainRun(context.Background(), c, io.Discard); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(c.Out, "config.json"))
	c.Steps, c.Patch = 4, 64
	c.Override = true
	if err := trainRun(context.Background(), c, io.Discard); err == nil {
		t.Fatal("a resume with crops larger than the images was accepted")
	}
	if after, _ := os.ReadFile(filepath.Join(c.Out, "config.json")); len(before) == 0 || !bytes.Equal(after, before) {
		t.Errorf("the refused resume changed the run's config.json:\nbefore %s\nafter  %s", before, after)
	}
}
