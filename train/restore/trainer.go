package restore

import (
	"context"
	"fmt"
	"io"
	"math"

	"github.com/ludvae/ludvae/internal/run"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// Trainer runs the optimization of one denoiser run folder.
type Trainer struct {
	Cfg    Config
	Model  *model.DnCNN
	Opt    *tb.Adam
	Data   *Data
	Device tb.Device // the runtime's
	Step   int       // steps done
	Log    io.Writer

	rt *tb.Runtime // where the tensor work runs

	loss   model.DnCNNLoss
	deg    *degrader // LUD-VAE degradations on the fly, or nil
	csv    *run.CSVLog
	bad    run.BadSteps
	folder *run.Folder // held until Close

	gate    *run.StepGate // lets a signal abandon a CPU step (abandon.go), or nil
	settled *settled      // the buffers as the last completed step left them, with gate
}

// ErrTooManyBadSteps stops a run whose loss stays non-finite.
var ErrTooManyBadSteps = run.ErrTooManyBadSteps

// Run trains as cfg says on rt (made with cfg.RuntimeSettings), resuming
// from the newest checkpoint in cfg.Out. Cancelling ctx saves a checkpoint
// and returns ctx's error.
func Run(ctx context.Context, rt *tb.Runtime, cfg Config, log io.Writer) error {
	t, err := NewTrainer(rt, cfg, log)
	if err != nil {
		return err
	}
	defer t.Close()
	return t.Train(ctx)
}

// RuntimeSettings are the libtorch settings a run of c works under
// (tb.NewRuntime): its device and thread count. A configuration that does
// not Validate has none.
func (c Config) RuntimeSettings() (tb.Settings, error) {
	if err := c.Validate(); err != nil {
		return tb.Settings{}, err
	}
	return tb.ParseSettings(c.Device, c.Threads, "")
}

// NewTrainer opens the run folder (run.Open: one trainer at a time,
// leftovers removed), loads the data, builds the network and the
// optimizer, and resumes from the newest checkpoint if any and its run is
// this one (resume.go). The trainer's tensor work runs on rt.
func NewTrainer(rt *tb.Runtime, cfg Config, log io.Writer) (t *Trainer, err error) {
	err = rt.Do(func() (err error) {
		t, err = newTrainer(rt, cfg, log)
		return err
	})
	return t, err
}

func newTrainer(rt *tb.Runtime, cfg Config, log io.Writer) (_ *Trainer, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dev := rt.Device()
	folder, err := run.Open(cfg.Out, checkpoints, log)
	if err != nil {
		return nil, err
	}
	t := &Trainer{Cfg: cfg, Device: dev, Log: log, rt: rt, folder: folder, bad: run.BadSteps{Max: cfg.MaxBadSteps}}
	defer func() {
		if err != nil {
			// a start refused before it trains leaves nothing it made
			folder.Abandon()
			t.Close()
		}
	}()
	t.loss, _ = model.ParseDnCNNLoss(cfg.Loss)
	resume, last, prev, err := newestCheckpoint(folder, &cfg)
	if err != nil {
		return nil, err
	}
	if resume != nil {
		defer tb.CloseAll(resume)
	}
	if cfg.LUDVAE != "" {
		// first: a σx range left unset becomes the checkpoint's
		if t.deg, err = loadDegrader(&t.Cfg, dev); err != nil {
			return nil, err
		}
	}
	var overrides []run.Override
	if resume != nil {
		changed := run.Changes(runSettings, &prev.Config, &t.Cfg, prev.Step)
		if overrides, err = folder.Accept(prev.Step, changed, cfg.Override, log); err != nil {
			return nil, err
		}
	}
	// Written once the run folder's own run is known to be this one.
	if err := folder.WriteConfig(t.Cfg, resume != nil, overrides); err != nil {
		return nil, fmt.Errorf("--out %s is not writable: %w", cfg.Out, err)
	}
	if t.Data, err = LoadData(&t.Cfg, log); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "%d training images\n", len(t.Data.Clean))
	lay, err := trainLayout(&t.Cfg, dev, log)
	if err != nil {
		return nil, err
	}
	if t.Model, err = model.NewDnCNN(cfg.Net(), tb.Options{DType: tb.Float32, Device: dev}, cfg.Seed); err != nil {
		return nil, err
	}
	if err := t.Model.ToLayout(lay); err != nil {
		return nil, err
	}
	t.Opt = tb.NewAdam(t.Model.Tensors(), tb.AdamConfig{LR: cfg.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	if resume != nil {
		if err := applyCheckpoint(last, resume, t.Model, t.Opt); err != nil {
			return nil, err
		}
		t.Step = prev.Step
		fmt.Fprintf(log, "resuming from %s (step %d)\n", last, t.Step)
	}
	if t.csv, _, err = folder.OpenLog(csvHeader, t.Step); err != nil {
		return nil, err
	}
	if !dev.IsCUDA() {
		t.gate = &run.StepGate{}
		if t.settled, err = newSettled(t.Model); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// newestCheckpoint reads the run folder's newest checkpoint, if any, and
// checks that it holds a network of cfg's size.
func newestCheckpoint(f *run.Folder, cfg *Config) (*tb.Dict, string, saved, error) {
	last, err := f.Newest()
	if err != nil || last == "" {
		return nil, "", saved{}, err
	}
	d, s, err := readCheckpoint(last)
	if err != nil {
		return nil, "", s, err
	}
	if s.Config.Net() != cfg.Net() {
		tb.CloseAll(d)
		return nil, "", s, fmt.Errorf("%s holds a %v DnCNN; this command asks for %v (use another --out)", cfg.Out, s.Config.Net(), cfg.Net())
	}
	return d, last, s, nil
}

// Close frees the network and the optimizer state and lets the run folder
// go.
func (t *Trainer) Close() {
	if t.csv != nil {
		t.csv.Close()
	}
	if t.Opt != nil {
		t.Opt.Close()
	}
	if t.Model != nil {
		t.Model.Close()
	}
	t.settled.close()
	t.deg.close()
	t.folder.Close()
}

// csvHeader names log.csv's columns.
var csvHeader = []string{"step", "loss", "lr", "steps_per_s", "time"}

// Train runs the remaining steps on the trainer's runtime, with batches
// made ahead on other goroutines.
func (t *Trainer) Train(ctx context.Context) error {
	return t.rt.Do(func() error { return t.train(ctx) })
}

func (t *Trainer) train(ctx context.Context) error {
	cfg := &t.Cfg
	var loss float64 // the newest step's
	l := run.Loop[Batch]{
		Log: t.Log, Label: "restore train", Out: cfg.Out, Holds: "checkpoints and log.csv", Last: cfg.Steps,
		Workers: t.rt.Workers(),
		Batch:   func(s int) Batch { return t.Data.MakeBatch(cfg, s) },
		Step: func(b Batch) (s int, status string, err error) {
			loss, err = t.trainStep(b)
			return b.Step, fmt.Sprintf("loss %.5f lr %.1e", loss, cfg.LearningRate(b.Step)), err
		},
		After: func(s int, rate float64) error { return t.afterStep(loss, rate) },
		Save:  t.save,
		Gate:  t.gate,
	}
	if t.gate != nil {
		l.Abandon = func() error { return t.saveOf(settledNet{t.Model, t.settled}) }
	}
	return l.Run(ctx, &t.Step)
}

// afterStep logs and saves as the schedule says.
func (t *Trainer) afterStep(loss, rate float64) error {
	cfg := &t.Cfg
	if run.Due(t.Step, cfg.LogEvery, cfg.Steps) {
		if err := t.csv.Write(t.Step, []float64{loss, cfg.LearningRate(t.Step)}, rate); err != nil {
			return err
		}
	}
	if run.Due(t.Step, cfg.SaveEvery, cfg.Steps) {
		return t.save()
	}
	return nil
}

// trainStep is one optimizer step; a non-finite loss leaves the network
// as it was, and too many in a row stop the run.
func (t *Trainer) trainStep(b Batch) (float64, error) {
	loss, err := step(t.Model, t.Opt, &t.Cfg, t.loss, t.Device, t.deg, b, t.gate)
	if err != nil {
		return loss, err
	}
	if t.settled != nil {
		// still before the loop ends the step: no save reads the copies
		if err := t.settled.capture(); err != nil {
			return loss, fmt.Errorf("step %d: %w", b.Step, err)
		}
	}
	if !math.IsNaN(loss) && !math.IsInf(loss, 0) {
		t.bad.Good()
		return loss, nil
	}
	return loss, t.bad.Bad(b.Step, t.Log, fmt.Sprint(loss), "the last checkpoint")
}

// step uploads a batch (degrading it with deg when it comes without
// degraded crops), runs the forward pass in training mode, backward, and
// Adam at step b.Step's learning rate. Until gate.Update (nil: none) it
// changes only the gradients and the batch norms' buffers (abandon.go).
func step(m *model.DnCNN, opt *tb.Adam, cfg *Config, kind model.DnCNNLoss, dev tb.Device, deg *degrader, b Batch, gate *run.StepGate) (loss float64, err error) {
	shape := b.Shape()
	err = tb.Do(func() (err error) {
		tb.WithScope(func(*tb.Scope) {
			clean := tb.FromSlice(b.Clean, shape...).ToDevice(dev)
			var noisy, l *tb.Tensor
			if b.Noisy != nil {
				noisy = tb.FromSlice(b.Noisy, shape...).ToDevice(dev)
			} else if noisy, err = deg.degrade(clean, b); err != nil {
				return
			}
			if _, l, err = m.Loss(noisy, clean, kind); err != nil {
				return
			}
			opt.ZeroGrad()
			l.Backward()
			loss = l.Item()
			gate.Update() // the update below: a signal waits for it
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				opt.ZeroGrad()
				return
			}
			opt.Config.LR = cfg.LearningRate(b.Step)
			opt.Step()
		})
		return err
	})
	if err != nil {
		return loss, fmt.Errorf("step %d: %w", b.Step, err)
	}
	return loss, nil
}
