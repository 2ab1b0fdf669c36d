package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ludvae/ludvae/internal/interrupt"
	"github.com/ludvae/ludvae/internal/job"
)

// Loop is the step loop the two trainers (train's LUD-VAE, train/restore's
// DnCNN) share: the steps from where the run stands to its last, with batches made
// ahead on other goroutines, a progress bar, the hooks that log and save on
// schedule, and a checkpoint when ctx is cancelled. The model-specific parts
// are its functions.
type Loop[B any] struct {
	Log   io.Writer
	Label string // the progress bar's: "train", "restore train"
	Out   string // the run folder, named in messages
	Holds string // what the run folder holds at the end: "checkpoints and log.csv"
	Last  int    // the last step
	// Workers is the Go-side worker count of the trainer's runtime
	// (torchbind.Runtime.Workers: its --threads, or a distributed rank's
	// share of the CPUs); twice as many batches are made ahead. 0: one
	// per CPU (job.Workers).
	Workers int

	// Batch makes step s's batch; it runs on other goroutines, ahead.
	Batch func(s int) B
	// Step takes one optimizer step on a batch and returns the step's
	// number and the bar's status.
	Step func(b B) (step int, status string, err error)
	// After runs after each step (logging and saving as the schedule
	// says), given the steps per second since the loop started.
	After func(step int, rate float64) error
	// Save writes a checkpoint of the steps done.
	Save func() error

	// Gate and Abandon let a signal abandon a step under way (StepGate):
	// Step calls Gate.Update before it changes the state, and Abandon
	// saves, from another goroutine while the step computes, the
	// checkpoint of the steps done as the last completed step left them.
	// Only under the process's interrupt context (interrupt.Ends), which
	// the process may end; nil: a signal waits for the step under way.
	Gate    *StepGate
	Abandon func() error
}

// Run takes steps *done+1 … l.Last, advancing *done after each. Cancelling
// ctx saves a checkpoint and returns ctx's error.
func (l *Loop[B]) Run(ctx context.Context, done *int) error {
	if *done >= l.Last {
		fmt.Fprintf(l.Log, "nothing to do: %s is at step %d of %d\n", l.Out, *done, l.Last)
		return nil
	}
	bctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	batches := job.Ahead(bctx, *done+1, l.Last, 2*job.Workers(l.Workers), l.Batch)
	bar := job.NewProgress(l.Log, l.Last, l.Label, "step")
	bar.Start(*done)
	if l.Gate != nil && l.Abandon != nil && interrupt.Ends(ctx) {
		quit := make(chan struct{})
		defer close(quit)
		go l.watch(ctx, quit, bar, done)
	}
	start, startStep := time.Now(), *done
	for *done < l.Last {
		if ctx.Err() != nil {
			// checked before select, which picks at random among ready cases
			return l.interrupted(ctx, bar, *done)
		}
		select {
		case <-ctx.Done():
			return l.interrupted(ctx, bar, *done)
		case b := <-batches:
			if !l.Gate.begin(ctx) {
				return l.interrupted(ctx, bar, *done)
			}
			step, status, err := l.Step(b)
			l.Gate.end()
			if err != nil {
				bar.Interrupt()
				return err
			}
			*done = step
			bar.Set(step, status)
			if err := l.After(step, float64(step-startStep)/time.Since(start).Seconds()); err != nil {
				bar.Interrupt()
				return err
			}
		}
	}
	bar.Finish()
	fmt.Fprintf(l.Log, "done: %d steps; %s in %s\n", *done, l.Holds, l.Out)
	return nil
}

// interrupted saves a checkpoint of the steps done and returns ctx's error.
func (l *Loop[B]) interrupted(ctx context.Context, bar *job.Progress, done int) error {
	bar.Interrupt()
	if err := l.Save(); err != nil {
		return fmt.Errorf("interrupted at step %d, and saving failed: %w", done, err)
	}
	fmt.Fprintf(l.Log, "interrupted at step %d; run the same command again to resume\n", done)
	return ctx.Err()
}

// watch waits for ctx's cancel and, if a step is computing then, abandons
// it: it saves the checkpoint of the steps done (*done, which the loop no
// longer changes) and ends the process (interrupt.Exit) without waiting
// for the step, whose remaining seconds of libtorch work would break the
// promise to stop within moments. Otherwise the loop saves after the step.
func (l *Loop[B]) watch(ctx context.Context, quit <-chan struct{}, bar *job.Progress, done *int) {
	select {
	case <-ctx.Done():
	case <-quit:
		return
	}
	if !l.Gate.abandon() {
		return
	}
	bar.Interrupt()
	if err := l.Abandon(); err != nil {
		interrupt.Exit(fmt.Errorf("interrupted at step %d, and saving failed: %w", *done, err))
	}
	fmt.Fprintf(l.Log, "interrupted at step %d (step %d, under way, abandoned); run the same command again to resume\n", *done, *done+1)
	interrupt.Exit(ctx.Err())
}

// Due says whether a task done every n steps falls on step s of a run
// whose last step is last (which always gets it).
func Due(s, n, last int) bool { return s%n == 0 || s == last }

// ErrTooManyBadSteps stops a run whose loss stays non-finite.
var ErrTooManyBadSteps = errors.New("too many consecutive non-finite losses")

// BadSteps counts non-finite losses in a row, which skip their update,
// and stops a run at Max of them.
type BadSteps struct {
	Max int // --max-bad-steps
	n   int
}

// Good notes a finite loss.
func (b *BadSteps) Good() { b.n = 0 }

// Bad notes step s's non-finite loss on log (what describes it) and, the
// Max-th in a row, returns ErrTooManyBadSteps with advice (kept says which
// checkpoint is intact).
func (b *BadSteps) Bad(s int, log io.Writer, what, kept string) error {
	b.n++
	fmt.Fprintf(log, "\nstep %d: non-finite loss %s; update skipped (%d in a row)\n", s, what, b.n)
	if b.n >= b.Max {
		return fmt.Errorf("%w: %d at step %d (--max-bad-steps %d); %s is intact; try a lower --lr",
			ErrTooManyBadSteps, b.n, s, b.Max, kept)
	}
	return nil
}
