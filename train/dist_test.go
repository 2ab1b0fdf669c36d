package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ludvae/ludvae/internal/testkit"
	tb "github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/train/dist"
)

// rankConfigVar, when set, makes this test binary one rank of a
// distributed run of the JSON Config it holds (TestMain), launched by
// startRanks with the variables torchrun sets.
const rankConfigVar = "LUDVAE_TEST_RANK_CONFIG"

// rankTimeoutVar sets the ranks' --dist-timeout (default 60 s).
const rankTimeoutVar = "LUDVAE_TEST_RANK_TIMEOUT"

func TestMain(m *testing.M) {
	if js := os.Getenv(rankConfigVar); js != "" {
		os.Exit(runRank(js))
	}
	os.Exit(m.Run())
}

// runRank is one rank's process: it trains as `ludvae train` does under
// torchrun and reports an error on stderr.
func runRank(js string) int {
	var cfg Config
	if err := json.Unmarshal([]byte(js), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	env, ok, err := dist.FromEnv(os.Getenv)
	if err == nil && !ok {
		err = fmt.Errorf("no RANK or WORLD_SIZE")
	}
	timeout := 60 * time.Second
	if v := os.Getenv(rankTimeoutVar); v != "" {
		timeout, _ = time.ParseDuration(v)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err == nil {
		err = runRankOn(ctx, cfg, env, timeout)
	}
	if errors.Is(err, context.Canceled) {
		return 130 // as the CLI
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// runRankOn is RunDistributed as `ludvae train` calls it under torchrun:
// on a runtime of the rank's settings.
func runRankOn(ctx context.Context, cfg Config, env dist.Env, timeout time.Duration) error {
	settings := func() (tb.Settings, error) { return cfg.RankSettings(env) }
	return tb.WithRuntime(settings, func(rt *tb.Runtime) error {
		return RunDistributed(ctx, rt, cfg, io.Discard, env, dist.Rendezvous{Timeout: timeout})
	})
}

// rank is one launched rank's process and its standard error.
type rank struct {
	cmd    *exec.Cmd
	stderr *strings.Builder
}

// launchRanks starts one process per config as the ranks of one job over
// loopback (Gloo), with extra environment variables; ctx kills them.
func launchRanks(t *testing.T, ctx context.Context, extra []string, cfgs ...Config) []rank {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var ranks []rank
	for r, cfg := range cfgs {
		js, _ := json.Marshal(cfg)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(append(os.Environ(), rankConfigVar+"="+string(js), "RANK="+strconv.Itoa(r),
			"LOCAL_RANK="+strconv.Itoa(r), "WORLD_SIZE="+strconv.Itoa(len(cfgs)),
			"MASTER_ADDR=127.0.0.1", "MASTER_PORT="+strconv.Itoa(port), "GLOO_SOCKET_IFNAME=lo"), extra...)
		rk := rank{cmd, &strings.Builder{}}
		cmd.Stderr = rk.stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ranks = append(ranks, rk)
	}
	return ranks
}

// startRanks runs one process per config as the ranks of one job and
// returns each one's error with its stderr.
func startRanks(t *testing.T, cfgs ...Config) []error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	errs := make([]error, len(cfgs))
	var wg sync.WaitGroup
	for r, rk := range launchRanks(t, ctx, nil, cfgs...) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := rk.cmd.Wait(); err != nil {
				errs[r] = fmt.Errorf("rank %d: %v: %s", r, err, rk.stderr.String())
			}
		}()
	}
	wg.Wait()
	return errs
}

// distConfig is tinyConfig for 20 steps, a global batch of 5 (shares of 2
// and 3: unequal shares must weigh right) and a KL weight from step 1, on
// one thread per process.
func distConfig(t *testing.T) Config {
	c := tinyConfig(t)
	c.Steps, c.SaveEvery, c.Batch, c.Threads = 20, 20, 5, 1
	c.KLWarmup, c.KLWeight = 0, 1e-2
	return c
}

// TestDataParallelMatchesOneProcess: two Gloo ranks at a global batch of 5
// log the one-process run's losses within 1e-5 relative over 20 steps and
// end with its parameters within 1e-5 (read back by Python's torch), and
// only rank 0 writes the run folder.
func TestDataParallelMatchesOneProcess(t *testing.T) {
	one := distConfig(t)
	two := one
	two.Out = filepath.Join(t.TempDir(), "two")
	if err := trainRun(context.Background(), one, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, err := range startRanks(t, two, two) {
		if err != nil {
			t.Fatal(err)
		}
	}
	compareLogs(t, one.Out, two.Out, 20)
	ca, _ := Checkpoints(one.Out)
	cb, _ := Checkpoints(two.Out)
	got := testkit.RunPython(t, `
import sys, torch
a, b = (torch.load(p)["model"] for p in sys.argv[1:3])
assert a.keys() == b.keys()
print(max(((a[k] - b[k]).abs() / a[k].abs().clamp(min=1)).max().item() for k in a))
`, ca[len(ca)-1], cb[len(cb)-1])
	if d, err := strconv.ParseFloat(got, 64); err != nil || d > 1e-5 {
		t.Errorf("parameters after 20 steps differ by %s (relative, at least 1 in the denominator), want ≤ 1e-5", got)
	}
	t.Logf("parameters after 20 steps: largest relative difference %s", got)
	entries, _ := os.ReadDir(two.Out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// train.lock is rank 0's alone: had rank 1 also locked the folder,
	// one of the two would have been refused.
	if want := "ckpt_00000020.pth config.json log.csv train.lock"; strings.Join(names, " ") != want {
		t.Errorf("two ranks' run folder holds %v, want %s", names, want)
	}
}

// TestDataParallelRefusesDifferentSettings: ranks started with different
// --filters stop at the start, both saying why.
func TestDataParallelRefusesDifferentSettings(t *testing.T) {
	a := distConfig(t)
	b := a
	b.Filters = 8
	for r, err := range startRanks(t, a, b) {
		if err == nil || !strings.Contains(err.Error(), "differ from rank 0 in their configuration") {
			t.Errorf("rank %d: %v", r, err)
		}
	}
}

// compareLogs checks that two runs logged the same loss, rec and kl for
// steps 1..n, within 1e-5 relative.
func compareLogs(t *testing.T, dirA, dirB string, n int) {
	t.Helper()
	a, b := readLosses(t, dirA), readLosses(t, dirB)
	if len(a) != n || len(b) != n {
		t.Fatalf("log.csv rows: %d and %d, want %d", len(a), len(b), n)
	}
	worst := 0.0
	for s := 1; s <= n; s++ {
		x, y := strings.Split(a[strconv.Itoa(s)], ","), strings.Split(b[strconv.Itoa(s)], ",")
		for i, name := range []string{"loss", "rec", "kl"} {
			u, _ := strconv.ParseFloat(x[i], 64)
			v, _ := strconv.ParseFloat(y[i], 64)
			if u != v {
				worst = math.Max(worst, math.Abs(u-v)/math.Abs(u))
			}
			if math.Abs(u-v) > 1e-5*math.Abs(u) {
				t.Errorf("step %d %s: %v, against %v", s, name, u, v)
			}
		}
	}
	t.Logf("losses over %d steps: largest relative difference %.2g", n, worst)
}

// TestResumeAtAnotherWorldSize: a run taken by one process to step 7, by
// two ranks to step 14, and by one process again to step 20 logs the
// uninterrupted run's losses.
func TestResumeAtAnotherWorldSize(t *testing.T) {
	whole := distConfig(t)
	if err := trainRun(context.Background(), whole, io.Discard); err != nil {
		t.Fatal(err)
	}
	part := whole
	part.Out = filepath.Join(t.TempDir(), "part")
	part.Steps = 7
	if err := trainRun(context.Background(), part, io.Discard); err != nil {
		t.Fatal(err)
	}
	part.Steps = 14
	for _, err := range startRanks(t, part, part) {
		if err != nil {
			t.Fatal(err)
		}
	}
	part.Steps = 20
	if err := trainRun(context.Background(), part, io.Discard); err != nil {
		t.Fatal(err)
	}
	compareLogs(t, whole.Out, part.Out, 20)
}

// waitForSteps waits until dir's log.csv has n steps.
func waitForSteps(t *testing.T, dir string, n int) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		data, _ := os.ReadFile(filepath.Join(dir, "log.csv"))
		if strings.Count(string(data), "\n") > n {
			return
		}
	}
	t.Fatalf("%s: no %d steps logged within 2 minutes", dir, n)
}

// exitWithin waits for a rank to exit and returns its exit code, failing
// the test after limit.
func exitWithin(t *testing.T, rk rank, limit time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- rk.cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(limit):
		rk.cmd.Process.Kill()
		<-done
		t.Fatalf("still running %v later:\n%s", limit, rk.stderr.String())
		return -1
	}
}

// newestStep reads the newest checkpoint with Python's torch and returns its step.
func newestStep(t *testing.T, dir string) string {
	t.Helper()
	ck, err := Checkpoints(dir)
	if err != nil || len(ck) == 0 {
		t.Fatalf("no checkpoint in %s: %v", dir, err)
	}
	return testkit.RunPython(t, "import sys, torch; d = torch.load(sys.argv[1]); print(d['step'], len(d['model']))", ck[len(ck)-1])
}

// TestRankFailureStopsTheOthers: when rank 1 is killed (SIGKILL) or hangs
// (SIGSTOP), rank 0 stops with an error naming the all-reduce (Gloo sees a
// killed peer's closed connection at once, a hung one at the ranks' 10 s
// --dist-timeout), and its last checkpoint stays readable.
func TestRankFailureStopsTheOthers(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGSTOP} {
		t.Run(sig.String(), func(t *testing.T) {
			cfg := distConfig(t)
			cfg.Steps, cfg.SaveEvery = 1_000_000, 3
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			ranks := launchRanks(t, ctx, []string{rankTimeoutVar + "=10s"}, cfg, cfg)
			defer func() {
				ranks[1].cmd.Process.Kill()
				ranks[1].cmd.Wait()
			}()
			waitForSteps(t, cfg.Out, 5)
			if err := ranks[1].cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if code := exitWithin(t, ranks[0], 40*time.Second); code != 1 {
				t.Errorf("rank 0 exited with %d, want 1", code)
			}
			msg := ranks[0].stderr.String()
			if !strings.Contains(msg, "over 2 ranks (another rank may have stopped") || !strings.Contains(msg, "all-reduce") {
				t.Errorf("rank 0's error does not name the all-reduce:\n%s", msg)
			}
			if sig == syscall.SIGSTOP && !strings.Contains(msg, "Timed out waiting 10000ms") {
				t.Errorf("a hung rank 1 did not make rank 0 reach its 10 s timeout:\n%s", msg)
			}
			t.Logf("rank 0 stopped %v after rank 1's %v: %s", time.Since(start).Round(time.Millisecond), sig, strings.TrimSpace(msg))
			t.Logf("newest checkpoint (step, tensors): %s", newestStep(t, cfg.Out))
		})
	}
}

// TestSignalStopsAllRanks: SIGTERM to rank 1 alone stops both ranks after
// the same step (exit 130), rank 0 saving that step once.
func TestSignalStopsAllRanks(t *testing.T) {
	cfg := distConfig(t)
	cfg.Steps, cfg.SaveEvery = 1_000_000, 1_000_000
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ranks := launchRanks(t, ctx, nil, cfg, cfg)
	waitForSteps(t, cfg.Out, 5)
	if err := ranks[1].cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for r, rk := range ranks {
		if code := exitWithin(t, rk, 60*time.Second); code != 130 {
			t.Errorf("rank %d exited with %d, want 130:\n%s", r, code, rk.stderr.String())
		}
	}
	logged := len(readLosses(t, cfg.Out))
	ck, _ := Checkpoints(cfg.Out)
	if len(ck) != 1 || stepOf(ck[0]) != logged {
		t.Errorf("checkpoints %v after %d logged steps, want one at step %d", ck, logged, logged)
	}
	t.Logf("stopped after step %d; checkpoint (step, tensors): %s", logged, newestStep(t, cfg.Out))
}
