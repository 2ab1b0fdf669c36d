package main

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ludvae/ludvae/internal/testkit"
)

// asCLI, set to 1, makes this test binary the ludvae command (TestMain), so
// that torchrun can launch it as it launches bin/ludvae.
const asCLI = "LUDVAE_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLI) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// readLog returns log.csv's loss, rec and kl per step.
func readLog(t *testing.T, run string) [][3]float64 {
	t.Helper()
	rows := testkit.ReadCSV(t, filepath.Join(run, "log.csv"))
	var out [][3]float64
	for _, r := range rows[1:] {
		var v [3]float64
		for i := range v {
			v[i], _ = strconv.ParseFloat(r[1+i], 64)
		}
		out = append(out, v)
	}
	return out
}

// TestTorchrun launches `ludvae train` with Debian's torchrun (through
// docker/torchrun.py) on two CPU processes (torchrun's agent hosts the
// store) and checks it logs the losses of the same command run alone,
// within 1e-5 relative. The two compute alike but for float32 rounding:
// the ranks take channels-last, the lone run the layout it times (the
// largest difference seen, nchw against nhwc, is 1.2e-7 on Debian 12's
// libtorch 1.13 and 13's 2.6). A process with wrong convolution gradients
// (Debian 13's oneDNN left on) was 2.4e-3 off.
func TestTorchrun(t *testing.T) {
	dir := t.TempDir()
	clean, noisy := filepath.Join(dir, "clean"), filepath.Join(dir, "noisy")
	writePhotos(t, clean, 3, 40, 40, false, 1)
	writePhotos(t, noisy, 3, 40, 40, true, 2)
	args := func(out string) []string {
		return []string{"train", "--clean", clean, "--noisy", noisy, "--out", filepath.Join(dir, out), "--filters", "8",
			"--levels", "2", "--patch", "16", "--batch", "4", "--steps", "10", "--log-every", "1", "--sample-every", "0",
			"--save-every", "10", "--threads", "1", "--device", "cpu", "--kl-warmup", "0", "--kl-weight", "0.01"}
	}
	if err := runTrain(args("one")[1:]); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// --redirects 1 --tee 1: torch 1.13's torchrun fails on Python 3.11
	// with its default "0" (Std.from_str finds no member 0 there).
	// docker/torchrun.py is torchrun, with the agent's store on the classic
	// server where the torch has no libuv (Debian 13's 2.6, whose own
	// torchrun cannot start there); torch 1.13 has no libuv server.
	run := append([]string{filepath.Join(testkit.Root(), "docker", "torchrun.py"), "--redirects", "1", "--tee", "1", "--no_python",
		"--nproc_per_node", "2", "--master_port", strconv.Itoa(testkit.FreePort(t)), os.Args[0]}, args("two")...)
	cmd := exec.CommandContext(ctx, testkit.Python, run...)
	cmd.Env = append(os.Environ(), asCLI+"=1", "GLOO_SOCKET_IFNAME=lo")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("torchrun: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "gradient all-reduce:") || !strings.Contains(string(out), "rank 0 of 2") {
		t.Errorf("rank 0's log lacks the group or the all-reduce time:\n%s", out)
	}
	a, b := readLog(t, filepath.Join(dir, "one")), readLog(t, filepath.Join(dir, "two"))
	if len(a) != 10 || len(b) != 10 {
		t.Fatalf("log.csv rows: alone %d, torchrun %d", len(a), len(b))
	}
	worst := 0.0
	for s := range a {
		for i := range 3 {
			worst = math.Max(worst, math.Abs(a[s][i]-b[s][i])/math.Abs(a[s][i]))
		}
	}
	if worst > 1e-5 {
		t.Errorf("torchrun's losses differ from one process's by %g relative", worst)
	}
	t.Logf("largest relative difference of loss, rec and kl over 10 steps: %.2g", worst)
}

// TestDistUnreachableNamesVariables: a rank whose rendezvous store does not
// answer stops within --dist-timeout and names the variables it read.
func TestDistUnreachableNamesVariables(t *testing.T) {
	for _, vars := range [][]string{{"RANK=1", "WORLD_SIZE=2"}, {"SLURM_PROCID=1", "SLURM_NTASKS=2", "SLURM_LOCALID=0"}} {
		port := strconv.Itoa(testkit.FreePort(t))
		cmd := exec.Command(os.Args[0], "train", "--clean", "c", "--noisy", "n", "--out", t.TempDir(), "--dist-timeout", "2s")
		cmd.Env = append(append(os.Environ(), asCLI+"=1", "MASTER_ADDR=127.0.0.1", "MASTER_PORT="+port), vars...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("%v: a rank without its store succeeded:\n%s", vars, out)
		}
		if el := time.Since(start); el > 60*time.Second {
			t.Errorf("%v: took %v with --dist-timeout 2s", vars, el)
		}
		name := strings.SplitN(vars[0], "=", 2)[0]
		for _, want := range []string{"MASTER_ADDR:MASTER_PORT = 127.0.0.1:" + port, name, "timed out"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%v: the message lacks %q:\n%s", vars, want, out)
			}
		}
		t.Logf("%v: %s", vars, lastLine(string(out)))
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
