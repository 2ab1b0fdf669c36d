package run

import (
	"context"
	"sync"
)

// A StepGate lets a signal stop a run in the middle of a long training
// step instead of after it.
//
// A step has two phases. While it computes (the batch uploaded, the forward
// pass, backward, the loss read back) it writes only its own tensors and
// the parameters' .grad: the weights, the optimizer's moments and step
// counts, the weight average and every other part of a checkpoint are
// still those the last completed step left. Then it updates them (Adam, the
// weight average: milliseconds). The step calls Update between the two.
//
// When ctx is cancelled while a step computes, Loop's watcher abandons the
// step (abandon): it saves the checkpoint of the steps done from the
// unchanged state, on its own goroutine, and ends the process, without
// waiting for libtorch. A step that reaches Update, or returns, once its
// gate was abandoned waits there for the end of the process: it never
// changes the state being saved, and never saves a second time. A signal
// during the update waits for it; the loop then saves as usual.
//
// The save reads the parameters while the step's forward and backward
// passes read them too, on the runtime's thread, and write only .grad:
// concurrent reads of a tensor are safe in libtorch. What a forward pass
// does change (a batch norm's running statistics) the trainer saves from
// a copy taken after the last completed step.
//
// The zero StepGate is ready; a nil one does nothing (a step run outside a
// Loop, or a trainer whose steps are not abandoned).
type StepGate struct {
	mu        sync.Mutex
	phase     stepPhase
	abandoned bool
}

type stepPhase int

const (
	betweenSteps stepPhase = iota
	computing              // the forward and backward passes: abandonable
	updating               // the parameters and optimizer state change
)

// begin starts a step's computing phase unless ctx was cancelled, in
// which case the loop saves instead. Checked under the lock, a cancel
// either comes before (the loop saves) or finds the step computing (the
// watcher abandons it).
func (g *StepGate) begin(ctx context.Context) bool {
	if g == nil {
		return ctx.Err() == nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if ctx.Err() != nil {
		return false
	}
	g.phase = computing
	return true
}

// Update ends the step's computing phase: from here on it changes the
// state a checkpoint holds. If the step was abandoned it never returns.
func (g *StepGate) Update() {
	if g == nil {
		return
	}
	g.mu.Lock()
	if g.abandoned {
		g.mu.Unlock()
		select {} // the process ends once the watcher has saved
	}
	g.phase = updating
	g.mu.Unlock()
}

// end marks the step done (or failed); after an abandon it never returns.
func (g *StepGate) end() {
	if g == nil {
		return
	}
	g.Update()
	g.mu.Lock()
	g.phase = betweenSteps
	g.mu.Unlock()
}

// abandon abandons the step under way if it is computing, and reports
// whether it did; a step updating, or none, is left to the loop.
func (g *StepGate) abandon() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.phase != computing {
		return false
	}
	g.abandoned = true
	return true
}
