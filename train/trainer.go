package train

import (
	"context"
	"fmt"
	"io"

	"github.com/ludvae/ludvae/internal/layout"
	"github.com/ludvae/ludvae/internal/run"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/train/dist"
)

// ErrTooManyBadSteps stops a run whose loss stays non-finite.
var ErrTooManyBadSteps = run.ErrTooManyBadSteps

// Trainer runs the optimization of one run folder.
type Trainer struct {
	Cfg    Config
	Model  *model.LUDVAE
	Opt    *tb.Adam
	Data   *Data
	Device tb.Device // the runtime's
	Step   int       // steps done
	Log    io.Writer

	rt        *tb.Runtime // where the tensor work runs
	csv       *lossLog
	samples   *sampler
	stepper   stepper
	folder    *run.Folder // held until Close (locked by rank 0 alone)
	bad       run.BadSteps
	last      stepStats     // the newest step's numbers
	afterStep func(int)     // test hook: called after each step
	group     *dist.Group   // nil in a single-process run (dist.go)
	ema       *average      // --ema's weight average (ema.go), or nil
	gate      *run.StepGate // lets a signal abandon a CPU step (abandonable), or nil
}

// Run trains as cfg says on rt (made with cfg.RuntimeSettings), resuming
// from the newest checkpoint in cfg.Out. Cancelling ctx (SIGINT/SIGTERM in
// the CLI) saves a checkpoint and returns ctx's error.
func Run(ctx context.Context, rt *tb.Runtime, cfg Config, log io.Writer) error {
	t, err := NewTrainer(ctx, rt, cfg, log)
	if err != nil {
		return err
	}
	defer t.Close()
	return t.Train(ctx)
}

// NewTrainer prepares a run: opens the run folder (run.Open: its lock,
// leftovers), checks it is writable, loads the data, builds the model and
// optimizer, and resumes from the newest checkpoint if there is one and its
// run is this one (resume.go). Cancelling ctx stops it while it builds the
// image stores. The trainer's tensor work runs on rt, whose settings
// (cfg.RuntimeSettings) are the run's device, threads and precision.
func NewTrainer(ctx context.Context, rt *tb.Runtime, cfg Config, log io.Writer) (t *Trainer, err error) {
	err = rt.Do(func() (err error) {
		t, err = newTrainer(ctx, rt, cfg, log, nil)
		return err
	})
	return t, err
}

// newTrainer is NewTrainer as one rank of group g, or alone when g is nil,
// on rt's thread. In a group rank 0 alone locks and writes the run folder
// (dist.go).
func newTrainer(ctx context.Context, rt *tb.Runtime, cfg Config, log io.Writer, g *dist.Group) (_ *Trainer, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if g != nil {
		if err := startDistributed(&cfg, g); err != nil {
			return nil, err
		}
	}
	dev := rt.Device()
	// A run refused before it trains (no usable images, a crop larger than
	// the images …) leaves nothing it made (run.Folder.Abandon): not the
	// folder, its lock or config.json, which would otherwise describe a run
	// that never was, and an existing run's config.json as it was.
	folder, err := openFolder(cfg.Out, log, g)
	if err != nil {
		return nil, err
	}
	var t *Trainer
	defer func() {
		if err != nil {
			folder.Abandon()
			if t != nil {
				t.Close()
			}
		}
	}()
	t = &Trainer{Cfg: cfg, Device: dev, Log: log, rt: rt, folder: folder, group: g, bad: run.BadSteps{Max: cfg.MaxBadSteps}}
	last, err := folder.Newest()
	if err != nil {
		return nil, err
	}
	// The newest checkpoint is read once: its configuration is checked
	// before anything is built, its state applied once the model exists.
	var resume *tb.Dict
	var saved Checkpoint
	var overrides []run.Override
	if last != "" {
		if resume, saved, err = readCheckpoint(last); err != nil {
			return nil, err
		}
		defer tb.CloseAll(resume)
		if overrides, err = checkResume(folder, saved, &cfg, log); err != nil {
			return nil, err
		}
	}
	// Written once the run folder's own run is known to be this one.
	if err := t.leaderDo(func() error { return folder.WriteConfig(cfg, resume != nil, overrides) }); err != nil {
		return nil, fmt.Errorf("--out %s is not writable: %w", cfg.Out, err)
	}
	fmt.Fprintf(log, "opening images from %s and %s\n", cfg.Clean, cfg.Noisy)
	if t.Data, err = LoadData(ctx, &t.Cfg, log); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "%d clean and %d degraded images\n", len(t.Data.Clean), len(t.Data.Noisy))
	// The layout is timed before the run's model exists; every rank of a
	// group takes channels-last unless --layout says otherwise, so that
	// their gradients agree in memory order.
	want, err := layout.Parse("--layout", cfg.Layout)
	if err != nil {
		return nil, err
	}
	if g != nil && want == layout.Auto {
		want = layout.NHWC
	}
	lay, err := ChooseLayout(rt, &t.Cfg, want, log)
	if err != nil {
		return nil, err
	}
	mc := model.Config{Channels: 3, Filters: cfg.Filters, Levels: cfg.Levels}
	if t.Model, err = model.New(mc, tb.Options{DType: tb.Float32, Device: dev}, cfg.Seed); err != nil {
		return nil, err
	}
	if err := t.Model.ToLayout(lay.Layout); err != nil {
		return nil, err
	}
	t.Opt = tb.NewAdam(t.Model.Tensors(), tb.AdamConfig{LR: cfg.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	if cfg.EMA > 0 {
		if t.ema, err = newAverage(t.Model, cfg.EMA); err != nil {
			return nil, err
		}
	}
	if resume != nil {
		if err := applyCheckpoint(last, resume, t.Model, t.Opt); err != nil {
			return nil, err
		}
		if t.ema != nil {
			if err := t.ema.resume(last, resume, t.Model, saved.Step, log); err != nil {
				return nil, err
			}
		}
		t.Step = saved.Step
		if saved.Norm != nil && t.Data.Norm != nil {
			// the statistics the run started with stay fixed
			*t.Data.Norm = *saved.Norm
		}
		fmt.Fprintf(log, "resuming from %s (step %d)\n", last, t.Step)
	}
	if err := t.startStepper(); err != nil {
		return nil, err
	}
	if t.samples, err = newSampler(t); err != nil {
		return nil, err
	}
	return t, nil
}

// Close frees the model and the optimizer state and lets the run folder go.
func (t *Trainer) Close() {
	if t.csv != nil {
		t.csv.Close()
	}
	if t.stepper != nil {
		t.stepper.close()
	}
	if t.Opt != nil {
		t.Opt.Close()
	}
	if t.Model != nil {
		t.Model.Close()
	}
	t.ema.Close()
	if t.Data != nil {
		t.Data.Close()
	}
	t.folder.Close()
}

// Train runs the remaining steps on the trainer's runtime, whichever
// goroutine calls it: OpenMP's thread count is per OS thread, and a step
// that ran on another thread than the runtime's could run with a count some
// other work left there (a test with --threads 1, say) and split its sums
// differently: a resumed run's loss then differed from the uninterrupted
// one's in the last bits.
func (t *Trainer) Train(ctx context.Context) error {
	return t.rt.Do(func() error { return t.train(ctx) })
}

func (t *Trainer) train(ctx context.Context) error {
	cfg := &t.Cfg
	l := run.Loop[Batch]{
		Log: t.Log, Label: "train", Out: cfg.Out, Holds: "checkpoints, log.csv and samples", Last: cfg.Steps,
		Workers: t.rt.Workers(),
		Batch:   func(s int) Batch { return t.Data.MakeBatch(cfg, s) },
		Step:    t.trainStep,
		After:   t.afterEach,
		Save:    func() error { return t.leaderDo(t.save) },
		// The LUD-VAE has no state its forward pass changes (no batch
		// norm): a step abandoned mid-way leaves exactly what the last
		// completed step saved, and the batches and noise are keyed by
		// (seed, step), so resuming from it is exact.
		Gate: t.gate, Abandon: t.save,
	}
	return l.Run(ctx, &t.Step)
}

// afterEach logs, draws samples and saves as the schedule says.
func (t *Trainer) afterEach(step int, rate float64) error {
	cfg := &t.Cfg
	if t.csv != nil && run.Due(step, cfg.LogEvery, cfg.Steps) {
		if err := t.csv.Write(t.last, rate); err != nil {
			return err
		}
	}
	if t.group.Leader() && cfg.SampleEvery > 0 && run.Due(step, cfg.SampleEvery, cfg.Steps) {
		if err := t.samples.Write(step, t.csv.rows); err != nil {
			return err
		}
	}
	if run.Due(step, cfg.SaveEvery, cfg.Steps) {
		if err := t.leaderDo(t.save); err != nil {
			return err
		}
	}
	if t.afterStep != nil {
		t.afterStep(step)
	}
	return nil
}

func (t *Trainer) save() error {
	c := Checkpoint{Step: t.Step, Config: t.Cfg, Norm: t.Data.Norm, ema: t.ema}
	_, err := t.folder.Save(t.Step, t.Model, t.Opt, t.Cfg.Keep, c.entries)
	if err != nil {
		return fmt.Errorf("saving checkpoint at step %d: %w", t.Step, err)
	}
	return nil
}

// trainStep is one optimizer step on a batch; its numbers are kept for
// the log.
func (t *Trainer) trainStep(b Batch) (int, string, error) {
	if b.Err != nil {
		return 0, "", fmt.Errorf("step %d: %w", b.Step, b.Err)
	}
	st, err := t.stepper.step(b)
	if err != nil {
		return 0, "", err
	}
	t.last = st
	if !st.finite {
		last, _ := t.folder.Newest()
		if last == "" {
			last = "none yet"
		}
		what, kept := fmt.Sprintf("(rec %g, kl %g)", st.rec, st.kl), fmt.Sprintf("the last good checkpoint (%s)", last)
		return b.Step, "", t.bad.Bad(b.Step, t.Log, what, kept)
	}
	t.bad.Good()
	if t.ema != nil {
		if err := t.ema.update(t.Model, b.Step); err != nil {
			return 0, "", fmt.Errorf("step %d: weight average: %w", b.Step, err)
		}
	}
	return b.Step, fmt.Sprintf("loss %.5f rec %.5f kl %.3f lr %.1e", st.total, st.rec, st.kl, st.lr), nil
}
