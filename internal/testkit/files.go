package testkit

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ReadJSON decodes the JSON file at path (a run's config.json) into v; a
// file that cannot be read or decoded fails the test.
func ReadJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// NoTempFiles fails the test for each file under dir whose name isTemp
// takes for a temporary file (atomicfile.IsTemp): what a killed write
// leaves and a restart must remove.
func NoTempFiles(t testing.TB, dir string, isTemp func(name string) bool) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && isTemp(e.Name()) {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

// Refused reports whether err is target (errors.Is) with a message that
// contains every one of wants; each miss is a test error.
func Refused(t testing.TB, err, target error, wants ...string) bool {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%q: want a refusal (%v), got %v", wants, target, err)
		return false
	}
	ok := true
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("refusal lacks %q:\n%v", w, err)
			ok = false
		}
	}
	return ok
}
