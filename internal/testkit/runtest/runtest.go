// Package runtest holds the checks of a run folder (internal/run) that the
// tests of every trainer share, `ludvae train`'s and `restore train`'s:
// what a trainer must do with config.json on a changed resumption and
// under --override. internal/run's own tests check the folder's parts;
// these check that a trainer wires them in.
package runtest

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/run"
	"github.com/ludvae/ludvae/internal/testkit"
)

// Change is one resumption of a run with settings that shape it changed:
// Edit changes them in the run's configuration, and the refusal must
// contain each of Wants (the flag with its old and new value).
type Change[C any] struct {
	Edit  func(*C)
	Wants []string
}

// RefusesChanges starts a trainer (open) on each change applied to
// resumed, a resumption of an existing run, and checks each start is
// refused with run.ErrChangedRun naming what the change wants.
func RefusesChanges[C any](t *testing.T, resumed C, changes []Change[C], open func(C) error) {
	t.Helper()
	for _, ch := range changes {
		d := resumed
		ch.Edit(&d)
		testkit.Refused(t, open(d), run.ErrChangedRun, ch.Wants...)
	}
}

// Record is a run folder's config.json: the configuration of the run's
// latest start, and every setting changed with --override, oldest first.
type Record[C any] struct {
	Config    C
	Overrides []run.Override
}

// ReadRecord reads the config.json of the run folder dir.
func ReadRecord[C any](t testing.TB, dir string) Record[C] {
	t.Helper()
	var r Record[C]
	path := filepath.Join(dir, run.ConfigName)
	testkit.ReadJSON(t, path, &r.Config)
	var o struct {
		Overrides []run.Override `json:"overrides"`
	}
	testkit.ReadJSON(t, path, &o)
	r.Overrides = o.Overrides
	return r
}

// Overrides checks --override of the learning rate through a trainer, on
// the run in folder dir whose newest checkpoint is at step 4 with the
// rate old (as flags print it), started with base. set sets a start's
// steps, learning rate and --override, lr reads a configuration's
// learning rate, train runs a start to its end. Resumed to step 6 at
// 0.002 with --override, the run trains, its log names the change, and
// config.json has the new rate and records the override (step 4, --lr,
// old, 0.002); resumed then to step 7 with these values and without
// --override, it trains plainly and the record keeps that one override.
func Overrides[C any](t *testing.T, dir, old string, base C, set func(c *C, steps int, lr float64, override bool), lr func(C) float64, train func(C, io.Writer) error) {
	t.Helper()
	start := func(steps int, rate float64, override bool) C {
		c := base
		set(&c, steps, rate, override)
		return c
	}
	var log strings.Builder
	if err := train(start(6, 2e-3, true), &log); err != nil {
		t.Fatalf("--override: %v", err)
	}
	if w := "--lr " + old + " in the run, 0.002 in this command"; !strings.Contains(log.String(), w) {
		t.Errorf("the log does not record the override %q:\n%s", w, log.String())
	}
	want := run.Override{Step: 4, Flag: "--lr", Old: old, New: "0.002"}
	r := ReadRecord[C](t, dir)
	if lr(r.Config) != 2e-3 || len(r.Overrides) != 1 || r.Overrides[0] != want {
		t.Errorf("config.json after --override: lr %g, overrides %+v; want %+v", lr(r.Config), r.Overrides, want)
	}
	// The run now is the overridden one: its own values resume it
	// plainly, and the record keeps the history.
	if err := train(start(7, 2e-3, false), io.Discard); err != nil {
		t.Fatalf("resuming with the overridden values: %v", err)
	}
	if r := ReadRecord[C](t, dir); len(r.Overrides) != 1 || r.Overrides[0] != want {
		t.Errorf("overrides after a plain resumption: %+v, want [%+v]", r.Overrides, want)
	}
}
