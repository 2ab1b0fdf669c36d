// Package pyref runs Python's torch as an independent reference in tests:
// it reads what ludvae writes, and computes what ludvae must agree with.
package pyref

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Python is Debian's interpreter, the one python3-torch installs into (a
// `python3` earlier on PATH may be another interpreter without torch).
const Python = "/usr/bin/python3"

// Run runs a Python script with torch and returns its standard output,
// trimmed. A missing torch fails the test: `make deps` installs python3-torch.
// The repository's model/python folder is on PYTHONPATH.
func Run(t testing.TB, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command(Python, append([]string{"-c", script}, args...)...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(Root(), "model", "python"))
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("python (%s with torch; run `make deps`): %v\n%s", Python, err, msg)
	}
	return strings.TrimSpace(string(out))
}

// Root is the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
