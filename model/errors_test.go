package model

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	tb "github.com/ludvae/ludvae/torchbind"
)

// TestErrorsKeepTheirCause: the model's entry points return the errors they
// meet with their causes, so errors.Is(err, os.ErrNotExist) holds for a
// missing checkpoint and for an export into a missing folder.
func TestErrorsKeepTheirCause(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.pth"), tb.Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("loading a missing checkpoint: %v is not os.ErrNotExist", err)
	}
	m, err := New(Config{Channels: 3, Filters: 2, Levels: 1}, tb.Options{}, 1)
	must(t, err)
	defer m.Close()
	if err := m.ExportTorchScript(filepath.Join(dir, "no", "g.pt"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("exporting into a missing folder: %v is not os.ErrNotExist", err)
	}
	if err := m.SaveStateDict(filepath.Join(dir, "no", "m.pth")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("saving into a missing folder: %v is not os.ErrNotExist", err)
	}
}
