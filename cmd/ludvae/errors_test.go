package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestCommandErrorsKeepTheirCause: a missing file met deep down (the
// checkpoint read by torchbind's pickle reader under model.Load) is still
// os.ErrNotExist when the command returns.
func TestCommandErrorsKeepTheirCause(t *testing.T) {
	dir := t.TempDir()
	err := runExport([]string{"--model", filepath.Join(dir, "missing.pth"), "--pth", filepath.Join(dir, "out.pth")})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("export of a missing checkpoint: %v is not os.ErrNotExist", err)
	}
}
