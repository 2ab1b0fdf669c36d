package restore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

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

// saveCheckpoint writes a checkpoint atomically and deletes all but the
// newest keep.
func saveCheckpoint(cfg *Config, step int, m *model.DnCNN, opt *tb.Adam) error {
	js, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	d := tb.NewDict()
	d.Set("model", m.StateDict())
	d.Set("optimizer", opt.StateDict())
	d.Set("step", int64(step))
	d.Set("config", string(js))
	d.Set("kind", checkpointKind)
	if err := tb.Save(filepath.Join(cfg.Out, fmt.Sprintf(checkpointPattern, step)), d); err != nil {
		return fmt.Errorf("saving checkpoint at step %d: %w", step, err)
	}
	olds, err := Checkpoints(cfg.Out)
	if err != nil {
		return err
	}
	for i := 0; i+cfg.Keep < len(olds); i++ {
		os.Remove(olds[i])
	}
	return nil
}

// Checkpoints lists a run folder's checkpoints, oldest first.
func Checkpoints(dir string) ([]string, error) {
	ms, err := filepath.Glob(filepath.Join(dir, "dncnn_*.pth"))
	sort.Strings(ms)
	return ms, err
}

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
	v, _ := d.Get("model")
	sd, ok := v.(*tb.Dict)
	if !ok {
		return fmt.Errorf("%s: %w (no \"model\" dict)", path, ErrNotCheckpoint)
	}
	if err := m.LoadStateDict(sd); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	v, _ = d.Get("optimizer")
	od, ok := v.(*tb.Dict)
	if !ok {
		return fmt.Errorf("%s: %w (no \"optimizer\" dict)", path, ErrNotCheckpoint)
	}
	if err := opt.LoadStateDict(od); err != nil {
		return fmt.Errorf("%s: optimizer: %w", path, err)
	}
	return nil
}
