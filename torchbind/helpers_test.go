package torchbind

import (
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// python is Debian's interpreter, the one python3-torch installs into
// (a `python3` earlier on PATH may be another interpreter without torch).
const python = "/usr/bin/python3"

// runPython runs a Python script with torch and returns its standard output.
// A missing torch fails the test: `make deps` installs python3-torch.
func runPython(t *testing.T, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command(python, append([]string{"-c", script}, args...)...)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("python (%s with torch; run `make deps`): %v\n%s", python, err, msg)
	}
	return strings.TrimSpace(string(out))
}

// mustTry fails the test when f panics with a torch error.
func mustTry(t *testing.T, f func()) {
	t.Helper()
	if err := Try(f); err != nil {
		t.Fatal(err)
	}
}

func maxAbsDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
