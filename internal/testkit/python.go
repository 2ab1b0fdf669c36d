// Package testkit holds what the tests of every package share, so that each
// exists once: the Python interpreter that serves as an independent
// reference and the check that it has what a test needs (Python, Require,
// RunPython), free loopback ports for distributed tests (FreePort),
// generated photos written as PNG files (Photo, SmoothPhoto, RandomPhoto,
// WritePhotos), what runs write (ReadCSV, ReadJSON, NoTempFiles), the check
// of a refusal (Refused) and the other processes of the tests that need
// one: a holder of a lock (StartHolder, Hold) and a trainer killed again
// and again (Subprocess, EnvJSON, FromEnvJSON, KillRepeatedly). What needs
// torchbind is in tbtest. It imports only the
// standard library, so the tests of every package, the leaves under
// internal/ included, can use it.
package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Python is Debian's interpreter, the one python3-torch, python3-pil,
// python3-opencv and python3-numpy install into (`make deps`); a `python3`
// earlier on PATH may be another interpreter without them.
const Python = "/usr/bin/python3"

var (
	importsMu sync.Mutex
	imports   = map[string]error{} // by module list: the outcome of importing them
)

// Require fails the test (it never skips: the build installs them) unless
// Python imports every module named, torch for example; the outcome is
// remembered for the process.
func Require(t testing.TB, modules ...string) {
	t.Helper()
	key := strings.Join(modules, ", ")
	importsMu.Lock()
	err, done := imports[key]
	if !done {
		out, e := exec.Command(Python, "-c", "import "+key).CombinedOutput()
		if e != nil {
			err = fmt.Errorf("%v: %s", e, strings.TrimSpace(string(out)))
		}
		imports[key] = err
	}
	importsMu.Unlock()
	if err != nil {
		t.Fatalf("this test needs %s with %s importable (`make deps` installs the Debian packages): %v", Python, key, err)
	}
}

// RunPython runs a Python script with args and returns its standard output,
// trimmed; a failure fails the test with the script's standard error. The
// repository's model/python folder (the reference implementations) is on
// PYTHONPATH and no .pyc files are written into the tree.
func RunPython(t testing.TB, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command(Python, append([]string{"-B", "-c", script}, args...)...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(Root(), "model", "python"), "PYTHONDONTWRITEBYTECODE=1")
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
