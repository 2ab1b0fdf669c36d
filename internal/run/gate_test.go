package run

import (
	"context"
	"testing"
)

// TestStepGatePhases: a cancel finds a step abandonable only while it
// computes; one that comes before the step makes begin refuse it (the
// loop then saves), one during the update or between steps is left to the
// loop; a nil gate only reports the context.
func TestStepGatePhases(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var g StepGate
	if g.abandon() {
		t.Error("abandoned between steps")
	}
	if !g.begin(ctx) {
		t.Fatal("begin refused a live context")
	}
	g.Update()
	if g.abandon() {
		t.Error("abandoned during the update")
	}
	g.end()
	if !g.begin(ctx) {
		t.Fatal("begin refused a live context")
	}
	if !g.abandon() {
		t.Error("a computing step was not abandoned")
	}
	var h StepGate
	cancel()
	if h.begin(ctx) {
		t.Error("begin started a step after the cancel")
	}
	if h.abandon() {
		t.Error("a step that never began was abandoned")
	}
	var none *StepGate
	none.Update()
	if none.begin(ctx) {
		t.Error("a nil gate began a step after the cancel")
	}
}
