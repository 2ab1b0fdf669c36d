package restore

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ludvae/ludvae/internal/run"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// A denoiser checkpoint is a PyTorch zip pickle (torch.load opens it):
//
//	"model":     the DnCNN state dict with KAIR's keys (KAIR's DnCNN loads it)
//	"optimizer": Adam's state dict, torch's layout
//	"step":      optimizer steps done
//	"config":    the training configuration as JSON
//	"kind":      "ludvae DnCNN"
const (
	checkpointPattern = "dncnn_%08d.pth"
	checkpointKind    = "ludvae DnCNN"
)

// ErrNotCheckpoint says a file is not a denoiser checkpoint of ludvae.
var ErrNotCheckpoint = errors.New("not a ludvae DnCNN checkpoint")

// checkpoints names the denoiser's checkpoints.
var checkpoints = run.CheckpointFiles{Pattern: checkpointPattern, NotCheckpoint: ErrNotCheckpoint}

// save writes a checkpoint of the steps done atomically into the run
// folder and deletes all but the newest --keep.
func (t *Trainer) save() error { return t.saveOf(t.Model) }

// saveOf is save with the network's state dict taken from net.
func (t *Trainer) saveOf(net run.Weights) error {
	cfg, step := &t.Cfg, t.Step
	js, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	_, err = t.folder.Save(step, net, t.Opt, cfg.Keep, func(d *tb.Dict) {
		d.Set("config", string(js))
		d.Set("kind", checkpointKind)
	})
	if err != nil {
		return fmt.Errorf("saving checkpoint at step %d: %w", step, err)
	}
	return nil
}

// Checkpoints lists a run folder's checkpoints, oldest first.
func Checkpoints(dir string) ([]string, error) { return checkpoints.List(dir) }

// saved is what a checkpoint holds besides the tensors.
type saved struct {
	Step   int
	Config Config
}

// readCheckpoint loads a checkpoint; the caller closes the dict's tensors.
func readCheckpoint(path string) (*tb.Dict, saved, error) {
	var s saved
	d, err := tb.LoadDict(path)
	if err != nil {
		return nil, s, err
	}
	kind, _ := d.Get("kind")
	js, _ := d.Get("config")
	text, ok := js.(string)
	if kind != checkpointKind || !ok {
		tb.CloseAll(d)
		return nil, s, fmt.Errorf("%s: %w", path, ErrNotCheckpoint)
	}
	if err := json.Unmarshal([]byte(text), &s.Config); err != nil {
		tb.CloseAll(d)
		return nil, s, fmt.Errorf("%s: config: %w", path, err)
	}
	step, _ := d.Get("step")
	n, _ := step.(int64)
	s.Step = int(n)
	return d, s, nil
}

// applyCheckpoint copies a loaded checkpoint's network and optimizer state.
func applyCheckpoint(path string, d *tb.Dict, m *model.DnCNN, opt *tb.Adam) error {
	return checkpoints.Apply(path, d, m, opt)
}
