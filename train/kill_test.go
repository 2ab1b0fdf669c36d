package train

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ludvae/ludvae/internal/atomicfile"
)

// TestKill9ResumesExactly kills a training process with SIGKILL three
// times, at random moments of a run that saves after every step (so some
// kills land in a save), and resumes it each time with the same
// configuration: the finished run's losses equal an uninterrupted run's,
// digit for digit, and no temporary file is left in the run folder.
func TestKill9ResumesExactly(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	c.Steps, c.SaveEvery, c.Keep = 10, 1, 2
	whole := c // saving (fsync) every step is slow, and changes no loss
	whole.Out, whole.SaveEvery = filepath.Join(t.TempDir(), "whole"), c.Steps
	if err := trainRun(context.Background(), whole, io.Discard); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	last := 0
	for kill := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTrainerProcess$")
		cmd.Env = append(os.Environ(), "LUDVAE_TEST_TRAIN_CONFIG="+string(js))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for newest(c.Out) <= last && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond) // within the next step or its save
		cmd.Process.Kill()
		cmd.Wait()
		if last = newest(c.Out); last >= c.Steps {
			t.Fatalf("kill %d came after the run finished", kill)
		}
		t.Logf("kill %d: newest checkpoint at step %d", kill, last)
	}
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
	filepath.WalkDir(c.Out, func(p string, e fs.DirEntry, err error) error {
		if err == nil && atomicfile.IsTemp(e.Name()) {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
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
	js := os.Getenv("LUDVAE_TEST_TRAIN_CONFIG")
	if js == "" {
		return
	}
	var c Config
	if err := json.Unmarshal([]byte(js), &c); err != nil {
		t.Fatal(err)
	}
	if err := trainRun(context.Background(), c, io.Discard); err != nil {
		t.Fatal(err)
	}
}
