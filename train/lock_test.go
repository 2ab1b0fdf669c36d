package train

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/run"
	"github.com/ludvae/ludvae/internal/testkit"
)

// TestSecondTrainerRefused: while one trainer holds a run folder, a second
// on the same --out is refused before it touches anything, naming the
// holder's PID; once the first closes, the folder is free again.
func TestSecondTrainerRefused(t *testing.T) {
	c := tinyConfig(t)
	c.Steps = 2
	first, err := NewTrainer(t.Context(), testRuntime(t, c), c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewTrainer(t.Context(), testRuntime(t, c), c, io.Discard)
	if !testkit.Refused(t, err, run.ErrRunLocked, fmt.Sprintf("PID %d", os.Getpid()), "--out") {
		first.Close()
		t.FailNow()
	}
	if err := first.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	first.Close()
	again, err := NewTrainer(t.Context(), testRuntime(t, c), c, io.Discard)
	if err != nil {
		t.Fatalf("after the first trainer closed: %v", err)
	}
	again.Close()
}

// TestLockReleasedWhenHolderKilled: a trainer killed with SIGKILL leaves
// no stale lock (the kernel drops the flock with the process), and a
// refusal while it lives names its PID, not ours.
func TestLockReleasedWhenHolderKilled(t *testing.T) {
	dir := t.TempDir()
	cmd := testkit.StartHolder(t, "TestLockHolderProcess", "locked", "LUDVAE_TEST_LOCK_DIR="+dir)
	_, err := run.Open(dir, checkpoints, io.Discard)
	if !testkit.Refused(t, err, run.ErrRunLocked, fmt.Sprintf("PID %d", cmd.Process.Pid)) {
		t.FailNow()
	}
	cmd.Process.Kill() // SIGKILL: no deferred unlock runs
	cmd.Wait()
	f, err := run.Open(dir, checkpoints, io.Discard)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	f.Close()
}

// TestLockHolderProcess is TestLockReleasedWhenHolderKilled's other
// process: it holds the lock until killed. Run on its own it does nothing.
func TestLockHolderProcess(t *testing.T) {
	dir := os.Getenv("LUDVAE_TEST_LOCK_DIR")
	if dir == "" {
		return
	}
	_, err := run.Open(dir, checkpoints, io.Discard)
	testkit.Hold("locked", err)
}

// TestLeftoverTempFilesRemoved: temporary files a crashed trainer left in
// its run folder (as kill -9 between write and rename leaves them) are
// removed at the next start; other files stay.
func TestLeftoverTempFilesRemoved(t *testing.T) {
	c := tinyConfig(t)
	c.Steps = 1
	leftovers := []string{".ckpt_00000006.pth.tmp-123456", ".config.json.tmp987", ".loss.png.tmp55", filepath.Join("samples", ".step_00000006.png.tmp1")}
	kept := []string{"notes.txt", filepath.Join("samples", "step_00000006.png")}
	for _, f := range append(leftovers, kept...) {
		p := filepath.Join(c.Out, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var log strings.Builder
	tr, err := NewTrainer(t.Context(), testRuntime(t, c), c, &log)
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	for _, f := range leftovers {
		if _, err := os.Stat(filepath.Join(c.Out, f)); !os.IsNotExist(err) {
			t.Errorf("%s survived the restart (%v)", f, err)
		}
	}
	for _, f := range kept {
		if _, err := os.Stat(filepath.Join(c.Out, f)); err != nil {
			t.Errorf("%s was removed: %v", f, err)
		}
	}
	if !strings.Contains(log.String(), "removed 4 temporary file(s)") {
		t.Errorf("log does not report the removal:\n%s", log.String())
	}
}
