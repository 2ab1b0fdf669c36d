package torchbind

import (
	"math"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
)

// runPython runs a Python script with torch and returns its standard output.
func runPython(t *testing.T, script string, args ...string) string {
	t.Helper()
	return testkit.RunPython(t, script, args...)
}

// inRuntime runs f on a new runtime with settings s and closes it. f may
// call t.Fatal: Do ends the test's goroutine as the runtime's ended.
func inRuntime(t testing.TB, s Settings, f func()) {
	t.Helper()
	rt, err := NewRuntime(s)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if err := rt.Do(func() error { f(); return nil }); err != nil {
		t.Fatal(err)
	}
}

// mustTry fails the test when f panics with a torch error.
func mustTry(t *testing.T, f func()) {
	t.Helper()
	if err := Try(f); err != nil {
		t.Fatal(err)
	}
}

// convertFloats converts each element of xs to To (float32 ↔ float64).
func convertFloats[To, From float32 | float64](xs []From) []To {
	out := make([]To, len(xs))
	for i, x := range xs {
		out[i] = To(x)
	}
	return out
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
