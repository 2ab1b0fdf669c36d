package pickle

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// failingWriter fails once more than limit bytes have been written.
type failingWriter struct {
	w     io.Writer
	limit int
}

var errInjected = errors.New("injected write failure")

func (f *failingWriter) Write(b []byte) (int, error) {
	if len(b) > f.limit {
		n, _ := f.w.Write(b[:f.limit])
		f.limit = 0
		return n, errInjected
	}
	f.limit -= len(b)
	return f.w.Write(b)
}

// dirNames lists the entries of dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestSaveAtomic checks Save replaces a file only on success: a failing
// writer at any point, an unpicklable value, a failing rename (target is a
// directory) and an unwritable location all leave the old file intact and
// no temporary file behind.
func TestSaveAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.pth")
	old := smallGraph()
	if err := Save(path, old); err != nil {
		t.Fatal(err)
	}
	oldBytes, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v, want 0644", st.Mode().Perm())
	}
	if v, err := Load(path); err != nil {
		t.Fatal(err)
	} else if d := diffJSON("$", normalizeJSON(t, describeGo(v)), normalizeJSON(t, describeGo(old))); d != "" {
		t.Fatalf("saved file reads back different at %s", d)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Fatalf("directory holds %v after a successful Save", names)
	}

	intact := func(t *testing.T) {
		t.Helper()
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, oldBytes) {
			t.Errorf("old file changed (err %v)", err)
		}
		if names := dirNames(t, dir); len(names) != 1 || names[0] != "ckpt.pth" {
			t.Errorf("directory holds %v, want only ckpt.pth", names)
		}
	}

	for _, limit := range []int{0, 1, 100, 1000, len(oldBytes) - 100, len(oldBytes) - 1} {
		err := saveWith(path, richGraph(), func(w io.Writer) io.Writer { return &failingWriter{w: w, limit: limit} })
		if !errors.Is(err, errInjected) {
			t.Errorf("write failing after %d bytes: err = %v", limit, err)
		}
		intact(t)
	}

	t.Run("unpicklable value", func(t *testing.T) {
		if err := Save(path, map[string]any{"c": make(chan int)}); err == nil {
			t.Error("Save of a channel succeeded")
		}
		intact(t)
	})

	t.Run("rename fails", func(t *testing.T) {
		sub := filepath.Join(dir, "adir")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(sub)
		if err := Save(sub, old); err == nil {
			t.Error("Save over a directory succeeded")
		}
		if st, err := os.Stat(sub); err != nil || !st.IsDir() {
			t.Error("directory was replaced")
		}
		if names := dirNames(t, dir); len(names) != 2 {
			t.Errorf("directory holds %v, want ckpt.pth and adir", names)
		}
	})

	t.Run("missing directory", func(t *testing.T) {
		p := filepath.Join(dir, "missing", "x.pth")
		if err := Save(p, old); err == nil {
			t.Error("Save into a missing directory succeeded")
		}
		intact(t)
	})

	t.Run("read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("running as root: directory permissions are not enforced (the other cases cover the failure paths)")
		}
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o755)
		if err := Save(path, richGraph()); err == nil {
			t.Error("Save into a read-only directory succeeded")
		}
		intact(t)
	})

	t.Run("keeps mode of replaced file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "m.pt")
		os.WriteFile(p, []byte("old"), 0o600)
		if err := Save(p, old); err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", st.Mode().Perm())
		}
	})
}
