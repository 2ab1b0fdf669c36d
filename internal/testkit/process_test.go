package testkit_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
)

// recorder is a test that records its errors instead of failing, to check
// what a helper reports.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestRefused: an error that is the target and names every wanted string
// passes silently; a missing string and another error are reported, one
// error each.
func TestRefused(t *testing.T) {
	t.Parallel()
	locked := errors.New("locked")
	err := fmt.Errorf("--out run: %w by PID 7", locked)
	for _, c := range []struct {
		err   error
		wants []string
		ok    bool
		errs  int
	}{
		{err, []string{"PID 7", "--out run"}, true, 0},
		{err, []string{"PID 8", "--out run", "PID 9"}, false, 2},
		{errors.New("locked by PID 7"), []string{"PID 7"}, false, 1},
		{nil, nil, false, 1},
	} {
		r := &recorder{TB: t}
		if ok := testkit.Refused(r, c.err, locked, c.wants...); ok != c.ok || len(r.errs) != c.errs {
			t.Errorf("Refused(%v, %q): %v with errors %q; want %v with %d", c.err, c.wants, ok, r.errs, c.ok, c.errs)
		}
	}
}

// TestNoTempFiles: each temporary file, in subfolders too, is one error
// naming it; other files are none.
func TestNoTempFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, f := range []string{"a.pth", ".a.pth.tmp1", filepath.Join("sub", ".b.png.tmp2"), filepath.Join("sub", "b.png")} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := &recorder{TB: t}
	testkit.NoTempFiles(r, dir, func(n string) bool { return strings.Contains(n, ".tmp") })
	if len(r.errs) != 2 || !strings.Contains(r.errs[0], ".a.pth.tmp1") || !strings.Contains(r.errs[1], ".b.png.tmp2") {
		t.Errorf("errors %q, want the two temporary files", r.errs)
	}
}

// holding is what TestHolderHelper is given through the environment.
type holding struct {
	What string
	N    int
}

// TestStartHolder: a holder process started with a JSON value in its
// environment reads it back (EnvJSON, FromEnvJSON), says it holds, and is
// killed; a holder whose hold fails says why instead, which StartHolder
// reports.
func TestStartHolder(t *testing.T) {
	t.Parallel()
	cmd := testkit.StartHolder(t, "TestHolderHelper", "holding lock 3", testkit.EnvJSON(t, "LUDVAE_TEST_TESTKIT_HOLD", holding{"lock", 3}))
	cmd.Process.Kill()
	if err := cmd.Wait(); err == nil {
		t.Error("the killed holder exited cleanly")
	}
	out, _ := testkit.Subprocess("TestHolderHelper", testkit.EnvJSON(t, "LUDVAE_TEST_TESTKIT_HOLD", holding{"", 0})).Output()
	if got := strings.TrimSpace(string(out)); got != "nothing to hold" {
		t.Errorf("a failed hold said %q", got)
	}
}

// TestHolderHelper is TestStartHolder's other process. Run on its own it
// does nothing.
func TestHolderHelper(t *testing.T) {
	var h holding
	if !testkit.FromEnvJSON(t, "LUDVAE_TEST_TESTKIT_HOLD", &h) {
		return
	}
	var err error
	if h.What == "" {
		err = errors.New("nothing to hold")
	}
	testkit.Hold(fmt.Sprintf("holding %s %d", h.What, h.N), err)
}
