package run

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Setting is a setting that shapes what a run of configuration C computes:
// changing it between a checkpoint and its resumption makes the steps
// after it belong to a different run than the steps before. Each trainer
// lists its own; the others (how long, where and how fast it runs, what
// it logs and keeps) may change freely.
type Setting[C any] struct {
	Flag string            // as the user gives it: "--lr"
	Get  func(c *C) string // the value as the messages and config.json show it
	Path bool              // a file or folder: two spellings of one path are one value
}

// Override is a run setting changed on resume with --override, as
// config.json records it.
type Override struct {
	Step int    `json:"step"` // the checkpoint the run resumed from
	Flag string `json:"flag"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

// ErrChangedRun refuses a resumption whose settings differ from the run's.
var ErrChangedRun = errors.New("this command's settings differ from the run it would resume")

// Changes lists the settings in which now differs from saved, the
// configuration of the checkpoint at step.
func Changes[C any](settings []Setting[C], saved, now *C, step int) []Override {
	var ch []Override
	for _, s := range settings {
		o, n := s.Get(saved), s.Get(now)
		if o != n && !(s.Path && samePath(o, n)) {
			ch = append(ch, Override{Step: step, Flag: s.Flag, Old: o, New: n})
		}
	}
	return ch
}

// samePath says whether two spellings name the same path (a relative path
// given from another directory does not).
func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	ab, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == ab
}

// Accept refuses to continue the run of the checkpoint at step with
// changed settings (Changes), naming each with its old and new value,
// unless override (--override) accepts them; accepted changes are printed
// to log and returned, for WriteConfig to record.
func (f *Folder) Accept(step int, changed []Override, override bool, log io.Writer) ([]Override, error) {
	if len(changed) == 0 {
		return nil, nil
	}
	var b strings.Builder
	for _, o := range changed {
		fmt.Fprintf(&b, "\n  %s %s in the run, %s in this command", o.Flag, o.Old, o.New)
	}
	if !override {
		return nil, fmt.Errorf("--out %s: %w (checkpoint at step %d):%s\ngive the run's values to resume it, another --out for a new run, or --override to continue with the new values (recorded in config.json)",
			f.Dir, ErrChangedRun, step, b.String())
	}
	fmt.Fprintf(log, "resuming step %d with changed settings (--override; recorded in config.json):%s\n", step, b.String())
	return changed, nil
}
