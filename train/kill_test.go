package train

import (
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ludvae/ludvae/internal/atomicfile"
	"github.com/ludvae/ludvae/internal/testkit"
)

// TestKill9ResumesExactly kills a training process with SIGKILL three
// times, at random moments of a run that saves after every step (so some
// kills land in a save), and resumes it each time with the same
// configuration: the finished run's losses equal an uninterrupted run's,
// digit for digit, and no temporary file is left in the run folder.
func TestKill9ResumesExactly(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	// 30 steps: on idle cores each kill's random pause let this tiny run go
	// on by up to 3 steps, and the third kill came at step 9 of 10 once in
	// 5 tries, one step short of finding the run finished.
	c.Steps, c.SaveEvery, c.Keep = 30, 1, 2
	whole := c // saving (fsync) every step is slow, and changes no loss
	whole.Out, whole.SaveEvery = filepath.Join(t.TempDir(), "whole"), c.Steps
	if err := trainRun(context.Background(), whole, io.Discard); err != nil {
		t.Fatal(err)
	}
	env := testkit.EnvJSON(t, "LUDVAE_TEST_TRAIN_CONFIG", c)
	start := func() *exec.Cmd { return testkit.Subprocess("TestTrainerProcess", env) }
	testkit.KillRepeatedly(t, start, func() int { return newest(c.Out) }, 3, c.Steps, 60*time.Millisecond)
	rest := c
	rest.SaveEvery = c.Steps
	if err := trainRun(context.Background(), rest, io.Discard); err != nil {
		t.Fatal(err)
	}
	a, b := readLosses(t, whole.Out), readLosses(t, c.Out)
	if len(b) != c.Steps {
		t.Fatalf("logged %d steps, want %d", len(b), c.Steps)
	}
	for step, la := range a {
		if b[step] != la {
			t.Errorf("step %s: uninterrupted %s, killed and resumed %s", step, la, b[step])
		}
	}
	testkit.NoTempFiles(t, c.Out, atomicfile.IsTemp)
}

// newest is the step of the run's newest checkpoint, 0 for none.
func newest(dir string) int {
	ck, _ := Checkpoints(dir)
	if len(ck) == 0 {
		return 0
	}
	return stepOf(ck[len(ck)-1])
}

// TestTrainerProcess is TestKill9ResumesExactly's training process: it
// trains the configuration it is given until killed or done. Run on its
// own it does nothing.
func TestTrainerProcess(t *testing.T) {
	t.Parallel()
	var c Config
	if !testkit.FromEnvJSON(t, "LUDVAE_TEST_TRAIN_CONFIG", &c) {
		return
	}
	if err := trainRun(context.Background(), c, io.Discard); err != nil {
		t.Fatal(err)
	}
}
