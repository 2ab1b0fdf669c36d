package run

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	tb "github.com/ludvae/ludvae/torchbind"
)

// Weights is a network a checkpoint holds: its state dict, out and in.
type Weights interface {
	StateDict() *tb.Dict
	LoadStateDict(*tb.Dict) error
}

// CheckpointFiles is how a trainer names its checkpoints in a run folder:
// Pattern formats the step ("ckpt_%08d.pth"), so that names sort by step.
// NotCheckpoint is the error of a file that is not one.
type CheckpointFiles struct {
	Pattern       string
	NotCheckpoint error
}

// List lists dir's checkpoints, oldest first.
func (c CheckpointFiles) List(dir string) ([]string, error) {
	ms, err := filepath.Glob(filepath.Join(dir, strings.Replace(c.Pattern, "%08d", "*", 1)))
	if err != nil {
		return nil, err
	}
	sort.Strings(ms)
	return ms, nil
}

// Save writes step's checkpoint to dir: a dict of "model", "optimizer"
// and "step", then what more adds. It writes atomically (temp file, fsync,
// rename) and deletes all but the newest keep.
func (c CheckpointFiles) Save(dir string, step int, m Weights, opt *tb.Adam, keep int, more func(d *tb.Dict)) (string, error) {
	d := tb.NewDict()
	d.Set("model", m.StateDict())
	d.Set("optimizer", opt.StateDict())
	d.Set("step", int64(step))
	more(d)
	path := filepath.Join(dir, fmt.Sprintf(c.Pattern, step))
	if err := tb.Save(path, d); err != nil {
		return "", err
	}
	olds, err := c.List(dir)
	if err != nil {
		return path, err
	}
	for i := 0; i+keep < len(olds); i++ {
		os.Remove(olds[i])
	}
	return path, nil
}

// Apply copies a loaded checkpoint's network and optimizer state.
func (c CheckpointFiles) Apply(path string, d *tb.Dict, m Weights, opt *tb.Adam) error {
	v, _ := d.Get("model")
	sd, ok := v.(*tb.Dict)
	if !ok {
		return fmt.Errorf("%s: %w (no \"model\" dict)", path, c.NotCheckpoint)
	}
	if err := m.LoadStateDict(sd); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	v, _ = d.Get("optimizer")
	od, ok := v.(*tb.Dict)
	if !ok {
		return fmt.Errorf("%s: %w (no \"optimizer\" dict)", path, c.NotCheckpoint)
	}
	if err := opt.LoadStateDict(od); err != nil {
		return fmt.Errorf("%s: optimizer: %w", path, err)
	}
	return nil
}
