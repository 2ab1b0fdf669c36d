package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ludvae/ludvae/internal/atomicfile"
	"github.com/ludvae/ludvae/internal/run"
	"github.com/ludvae/ludvae/internal/testkit"
	"github.com/ludvae/ludvae/internal/testkit/runtest"
	"github.com/ludvae/ludvae/internal/testkit/tbtest"
	tb "github.com/ludvae/ludvae/torchbind"
)

// newTestTrainer is NewTrainer on a runtime of c's settings, closed with
// the test.
func newTestTrainer(t *testing.T, c Config, log io.Writer) (*Trainer, error) {
	t.Helper()
	return NewTrainer(tbtest.Runtime(t, c.RuntimeSettings), c, log)
}

// TestSecondTrainerRefused: while a `restore train` in another process
// holds the run folder, a second one on the same --out is refused before
// it touches anything, naming the holder's PID and --out; one in this
// process is refused naming ours; when the holder is killed with SIGKILL
// the folder is free (the kernel drops the lock), its leftovers are
// removed, and the run trains to the end.
func TestSecondTrainerRefused(t *testing.T) {
	dir := pairsDir(t)
	c := smallConfig(dir)
	c.Steps = 2
	cmd := testkit.StartHolder(t, "TestTrainerHolderProcess", "holding", testkit.EnvJSON(t, "LUDVAE_TEST_RESTORE_CONFIG", c))
	inFlight := filepath.Join(c.Out, ".dncnn_00000002.pth.tmp-4242") // as its save would leave it
	if err := os.WriteFile(inFlight, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(c.Out, "config.json"))
	_, err := newTestTrainer(t, c, io.Discard)
	if !testkit.Refused(t, err, run.ErrRunLocked, fmt.Sprintf("PID %d", cmd.Process.Pid), "--out "+c.Out) {
		t.FailNow()
	}
	if after, _ := os.ReadFile(filepath.Join(c.Out, "config.json")); string(after) != string(before) {
		t.Error("the refused trainer rewrote config.json")
	}
	if _, err := os.Stat(inFlight); err != nil {
		t.Errorf("the refused trainer removed the holder's file in flight: %v", err)
	}
	cmd.Process.Kill() // SIGKILL: no deferred unlock runs
	cmd.Wait()

	var log strings.Builder
	first, err := newTestTrainer(t, c, &log)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	if !strings.Contains(log.String(), "removed 1 temporary file(s)") {
		t.Errorf("the killed holder's temporary file is not reported removed:\n%s", log.String())
	}
	_, err = newTestTrainer(t, c, io.Discard)
	if !testkit.Refused(t, err, run.ErrRunLocked, fmt.Sprintf("PID %d", os.Getpid())) {
		first.Close()
		t.FailNow()
	}
	if err := first.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	first.Close()
	if ck, _ := Checkpoints(c.Out); len(ck) == 0 || filepath.Base(ck[len(ck)-1]) != "dncnn_00000002.pth" {
		t.Errorf("checkpoints after the run: %v", ck)
	}
	again, err := newTestTrainer(t, c, io.Discard)
	if err != nil {
		t.Fatalf("after the first trainer closed: %v", err)
	}
	again.Close()
}

// TestTrainerHolderProcess is TestSecondTrainerRefused's other process:
// it opens a trainer on the configuration it is given and holds it until
// killed. Run on its own it does nothing.
func TestTrainerHolderProcess(t *testing.T) {
	var c Config
	if !testkit.FromEnvJSON(t, "LUDVAE_TEST_RESTORE_CONFIG", &c) {
		return
	}
	_, err := newTestTrainer(t, c, io.Discard)
	testkit.Hold("holding", err)
}

// TestResumeRefusesChangedRun: resuming a denoiser run with settings that
// shape it changed (--pairs, --loss, --lr, --seed, --batch, --patch, the
// schedule, the degradation) is refused, naming each with its old and new
// value, and leaves config.json as it was; settings that cannot change a
// step change freely; --override continues, and records the change in
// config.json and the log as `ludvae train` does; another network size is
// refused outright.
func TestResumeRefusesChangedRun(t *testing.T) {
	t.Parallel()
	dir := pairsDir(t)
	other := filepath.Join(dir, "other")
	writePairs(t, other, 2)
	c := smallConfig(dir)
	c.Steps, c.SaveEvery = 3, 3
	if err := restoreRun(context.Background(), c, io.Discard); err != nil {
		t.Fatal(err)
	}
	changes := []runtest.Change[Config]{
		{Edit: func(c *Config) { c.L, c.H = filepath.Join(other, "L"), filepath.Join(other, "H") }, Wants: []string{"--pairs " + dir + " in the run, " + other + " in this command"}},
		{Edit: func(c *Config) { c.Loss = "l2" }, Wants: []string{"--loss l1 in the run, l2 in this command"}},
		{Edit: func(c *Config) { c.LR, c.Seed = 2e-3, 9 }, Wants: []string{"--lr 0.0001 in the run, 0.002 in this command", "--seed 1 in the run, 9 in this command"}},
		{Edit: func(c *Config) { c.Batch, c.Patch = 2, 24 }, Wants: []string{"--batch 4 in the run, 2 in this command", "--patch 16 in the run, 24 in this command"}},
		{Edit: func(c *Config) { c.LRMilestones, c.LRGamma = []int{2}, 0.1 }, Wants: []string{"--lr-milestones [4] in the run, [2]", "--lr-gamma 0.5 in the run, 0.1"}},
		{Edit: func(c *Config) { c.L, c.H, c.Clean, c.Sigma = "", "", filepath.Join(dir, "H"), [2]float64{0, 50} }, Wants: []string{"--pairs " + dir + " in the run, none", "--clean none in the run, " + filepath.Join(dir, "H"), "--sigma 0,0 in the run, 0,50"}},
	}
	before, _ := os.ReadFile(filepath.Join(c.Out, "config.json"))
	resumed := c
	resumed.Steps = 6
	runtest.RefusesChanges(t, resumed, changes, func(d Config) error {
		_, err := newTestTrainer(t, d, io.Discard)
		return err
	})
	if after, _ := os.ReadFile(filepath.Join(c.Out, "config.json")); string(after) != string(before) {
		t.Errorf("a refused resumption changed config.json:\n%s\nwas\n%s", after, before)
	}
	bigger := c
	bigger.Features = 16
	if _, err := newTestTrainer(t, bigger, io.Discard); err == nil || !strings.Contains(err.Error(), "use another --out") {
		t.Errorf("another network size: %v", err)
	}

	free := c
	free.Steps, free.Threads, free.LogEvery, free.SaveEvery, free.Keep, free.MaxBadSteps = 4, 1, 2, 2, 5, 7
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, dir) // another spelling of the same folders
	if err != nil {
		t.Fatal(err)
	}
	free.L, free.H = filepath.Join(rel, "L"), filepath.Join(rel, "H")
	if err := restoreRun(context.Background(), free, io.Discard); err != nil {
		t.Fatalf("changing only settings that cannot change a step: %v", err)
	}

	runtest.Overrides(t, c.Out, "0.0001", c, func(d *Config, steps int, lr float64, o bool) { d.Steps, d.LR, d.Override = steps, lr, o },
		func(d Config) float64 { return d.LR }, func(d Config, log io.Writer) error { return restoreRun(context.Background(), d, log) })
	// The checkpoint's configuration has the new rate and not --override.
	d, s, err := readCheckpoint(filepath.Join(c.Out, "dncnn_00000007.pth"))
	if err != nil {
		t.Fatal(err)
	}
	tb.CloseAll(d)
	if s.Config.LR != 2e-3 || s.Config.Override {
		t.Errorf("checkpoint config: lr %g override %v", s.Config.LR, s.Config.Override)
	}
}

// TestKill9ResumesExactly kills a `restore train` process with SIGKILL
// three times, at random moments of a run that saves after every step (so
// some kills land in a save), and resumes it each time with the same
// configuration: the finished run's log equals an uninterrupted run's,
// digit for digit, and no temporary file is left in the run folder.
func TestKill9ResumesExactly(t *testing.T) {
	t.Parallel()
	dir := pairsDir(t)
	c := smallConfig(dir)
	// 40 steps: on idle cores this small denoiser saves a step every few
	// milliseconds, and each kill's random pause let the run go on by up to
	// 6 steps; with 10 steps the third kill found the run finished in 3 of
	// 6 tries (kills then landed at steps 7-12 of 40 in 8 of 8).
	c.Steps, c.SaveEvery, c.Keep = 40, 1, 2
	whole := c // saving (fsync) every step is slow, and changes no loss
	whole.Out, whole.SaveEvery = filepath.Join(dir, "whole"), c.Steps
	if err := restoreRun(context.Background(), whole, io.Discard); err != nil {
		t.Fatal(err)
	}
	newest := func() int {
		ck, _ := Checkpoints(c.Out)
		if len(ck) == 0 {
			return 0
		}
		var s int
		fmt.Sscanf(filepath.Base(ck[len(ck)-1]), "dncnn_%d.pth", &s)
		return s
	}
	env := testkit.EnvJSON(t, "LUDVAE_TEST_RESTORE_TRAIN", c)
	start := func() *exec.Cmd { return testkit.Subprocess("TestTrainerProcess", env) }
	testkit.KillRepeatedly(t, start, newest, 3, c.Steps, 30*time.Millisecond)
	rest := c
	rest.SaveEvery = c.Steps
	if err := restoreRun(context.Background(), rest, io.Discard); err != nil {
		t.Fatal(err)
	}
	if a, b := losses(t, whole.Out), losses(t, c.Out); a != b {
		t.Errorf("log.csv losses: uninterrupted %s, killed and resumed %s", a, b)
	}
	testkit.NoTempFiles(t, c.Out, atomicfile.IsTemp)
}

// TestTrainerProcess is TestKill9ResumesExactly's training process: it
// trains the configuration it is given until killed or done. Run on its
// own it does nothing.
func TestTrainerProcess(t *testing.T) {
	var c Config
	if !testkit.FromEnvJSON(t, "LUDVAE_TEST_RESTORE_TRAIN", &c) {
		return
	}
	if err := restoreRun(context.Background(), c, io.Discard); err != nil {
		t.Fatal(err)
	}
}

// TestRefusedRunLeavesNothing: a denoiser run refused before it trains
// (crops larger than the images) leaves no run folder, lock or config.json;
// a refused resume of an existing run keeps its config.json.
func TestRefusedRunLeavesNothing(t *testing.T) {
	t.Parallel()
	dir := pairsDir(t)
	c := smallConfig(dir)
	c.Patch = 64 // the images are 40×36 and 48×40
	if err := restoreRun(context.Background(), c, io.Discard); err == nil {
		t.Fatal("crops larger than the images were accepted")
	}
	if _, err := os.Stat(c.Out); !errors.Is(err, fs.ErrNotExist) {
		ents, _ := os.ReadDir(c.Out)
		t.Errorf("the refused run left %s (%v)", c.Out, ents)
	}
	c = smallConfig(dir)
	c.Steps = 2
	if err := restoreRun(context.Background(), c, io.Discard); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(c.Out, "config.json"))
	c.Steps, c.Patch, c.Override = 4, 64, true
	if err := restoreRun(context.Background(), c, io.Discard); err == nil {
		t.Fatal("a resume with crops larger than the images was accepted")
	}
	if after, _ := os.ReadFile(filepath.Join(c.Out, "config.json")); len(before) == 0 || string(after) != string(before) {
		t.Errorf("the refused resume changed config.json:\nbefore %s\nafter  %s", before, after)
	}
}
