package train

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ludvae/ludvae/internal/run"
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
	if !errors.Is(err, run.ErrRunLocked) || !strings.Contains(err.Error(), fmt.Sprintf("PID %d", os.Getpid())) || !strings.Contains(err.Error(), "--out") {
		first.Close()
		t.Fatalf("second trainer on the same --out: got %v, want a refusal naming PID %d", err, os.Getpid())
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
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHolderProcess$")
	cmd.Env = append(os.Environ(), "LUDVAE_TEST_LOCK_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper process said %q, %v", line, err)
	}
	_, err = run.Open(dir, checkpoints, io.Discard)
	if !errors.Is(err, run.ErrRunLocked) || !strings.Contains(err.Error(), fmt.Sprintf("PID %d", cmd.Process.Pid)) {
		t.Fatalf("while PID %d holds the lock: got %v", cmd.Process.Pid, err)
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
	if _, err := run.Open(dir, checkpoints, io.Discard); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("locked")
	time.Sleep(time.Minute) // bounded, should the parent die first
	os.Exit(0)
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
