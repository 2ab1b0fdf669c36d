package testkit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Subprocess is this test binary run again for the one test named test,
// with env ("NAME=value") added to its environment: the other process of
// a test that needs one (a lock holder, a trainer to kill). The test it
// runs does nothing unless its environment variable is set.
func Subprocess(test string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// StartHolder starts Subprocess(test, env...) and waits for the first line
// of its standard output, which must be ready (as Hold prints it): from
// then on the process holds what the test needs held. It is killed when
// the test ends, if the test has not killed it before.
func StartHolder(t testing.TB, test, ready string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := Subprocess(test, env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != ready {
		t.Fatalf("helper process %s said %q, %v; want %q", test, line, err, ready)
	}
	return cmd
}

// Hold is the end of a holder process that StartHolder started, given the
// error of taking hold: it prints the error and exits with status 1, or
// prints ready and holds until killed (a minute at most, should the parent
// die first), then exits with status 0. It never returns.
func Hold(ready string, err error) {
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println(ready)
	time.Sleep(time.Minute)
	os.Exit(0)
}

// EnvJSON is the environment entry "name=" followed by v in JSON: a
// configuration for a Subprocess, which FromEnvJSON reads.
func EnvJSON(t testing.TB, name string, v any) string {
	t.Helper()
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return name + "=" + string(js)
}

// FromEnvJSON decodes the JSON of the environment variable name into v
// and reports whether the variable was set: a Subprocess's test does its
// work only when it is.
func FromEnvJSON(t testing.TB, name string, v any) bool {
	t.Helper()
	js := os.Getenv(name)
	if js == "" {
		return false
	}
	if err := json.Unmarshal([]byte(js), v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return true
}

// KillRepeatedly kills a training process with SIGKILL kills times: each
// time it starts one (start), waits until the run's newest checkpoint
// (newest: its step, 0 for none) is past the one the last kill left (a
// minute at most), then a random pause below jitter (whole milliseconds,
// drawn from a fixed seed) so that kills land within a step or within its
// save, and kills it. A kill after the run reached steps fails the test.
func KillRepeatedly(t testing.TB, start func() *exec.Cmd, newest func() int, kills, steps int, jitter time.Duration) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	last := 0
	for kill := range kills {
		cmd := start()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for newest() <= last && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(int(jitter/time.Millisecond))) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		if last = newest(); last >= steps {
			t.Fatalf("kill %d came after the run finished", kill)
		}
		t.Logf("kill %d: newest checkpoint at step %d", kill, last)
	}
}
