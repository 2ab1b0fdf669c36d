package atomicfile

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// names lists dir's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range es {
		n = append(n, e.Name())
	}
	return n
}

// TestWrite: a new file has the contents and mode 0644; a replaced one
// keeps its permission bits; a failing writer, and a rename onto a folder,
// leave the old file and no temporary file.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.json")
	if err := WriteJSON(path, map[string]int{"x": 1}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if string(b) != "{\n  \"x\": 1\n}\n" {
		t.Errorf("contents %q", b)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v, want 0644", st.Mode().Perm())
	}
	os.Chmod(path, 0o600)
	if err := Write(path, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("replaced file mode %v, want its own 0600", st.Mode().Perm())
	}
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error { io.WriteString(w, "partial"); return boom })
	if !errors.Is(err, boom) {
		t.Errorf("failing writer: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("a failed write changed the file to %q", b)
	}
	blocked := filepath.Join(dir, "blocked")
	os.MkdirAll(filepath.Join(blocked, "x"), 0o755)
	err = Write(blocked, func(w io.Writer) error { return nil })
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != blocked || pe.Op != "rename" {
		t.Errorf("rename onto a folder: %v, want a rename error naming %s", err, blocked)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"a.json", "blocked"}) {
		t.Errorf("folder holds %v after the failures", got)
	}
}

// TestWriteNew: WriteNew puts a new file in place with mode 0644, and
// refuses to replace one (fs.ErrExist), leaving it and no temporary file.
func TestWriteNew(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "copy.png")
	put := func(s string) error {
		return WriteNew(path, func(w io.Writer) error { _, err := io.WriteString(w, s); return err })
	}
	if err := put("first"); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if err := put("second"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second WriteNew: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "first" {
		t.Errorf("contents %q after the refusal", b)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"copy.png"}) {
		t.Errorf("folder holds %v", got)
	}
}

// TestWriteNamed: a writer by name writes the temporary file, whose name
// IsTemp recognizes and whose Target is the file's; the result is 0644.
func TestWriteNamed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "g.pt")
	var seen string
	err := WriteNamed(path, func(tmp string) error {
		seen = tmp
		return os.WriteFile(tmp, []byte("module"), 0o600) // truncates in place
	})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(seen) != dir || !IsTemp(filepath.Base(seen)) {
		t.Errorf("temporary file %s: not in %s or not recognized", seen, dir)
	}
	if tg, ok := Target(filepath.Base(seen)); !ok || tg != "g.pt" {
		t.Errorf("Target(%s) = %q, %v", filepath.Base(seen), tg, ok)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("g.pt: %v, %v; want mode 0644", st, err)
	}
	if b, _ := os.ReadFile(path); string(b) != "module" {
		t.Errorf("contents %q", b)
	}
}

// TestIsTemp: the names os.CreateTemp makes from this package's pattern
// and from the four spellings of earlier versions are temporary files with
// their targets; ordinary and hidden names are not.
func TestIsTemp(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ pattern, target string }{
		{".ckpt_00000006.pth" + tempMark + "*", "ckpt_00000006.pth"},
		{".ckpt_00000006.pth.tmp-*", "ckpt_00000006.pth"}, // torchbind/pickle
		{".config.json.tmp*", "config.json"},              // images.WriteAtomic
		{".g.pt.*.tmp", "g.pt"},                           // TorchScript export
		{".prepare-*", ""},                                // prepare's copies
	} {
		f, err := os.CreateTemp(dir, c.pattern)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		name := filepath.Base(f.Name())
		if !IsTemp(name) {
			t.Errorf("%s (pattern %s) is not recognized", name, c.pattern)
		}
		if tg, ok := Target(name); tg != c.target || ok != (c.target != "") {
			t.Errorf("Target(%s) = %q, %v; want %q", name, tg, ok, c.target)
		}
	}
	for _, n := range []string{"a.png", ".hidden", "x.tmp", "x.tmp-12", ".tmp-12", ".a.tmp", ".a.tmp-", ".a.tmp-1x", ".a.png.tmp.png", "ckpt.pth", ".prepare-", ".prepare-x"} {
		if IsTemp(n) {
			t.Errorf("%q taken for a temporary file", n)
		}
	}
}

// TestRemoveTemps removes temporary files down to the given depth only,
// and nothing else.
func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	files := map[string]bool{ // path: removed with depth 1
		".ckpt_00000006.pth.tmp-123456":                     true,
		".config.json.tmp987":                               true,
		filepath.Join("samples", ".step_00000006.png.tmp1"): true,
		filepath.Join("samples", "deep", ".x.png.tmp-5"):    false,
		filepath.Join("samples", "step_00000006.png"):       false,
		"config.json": false,
		".hidden":     false,
	}
	for f := range files {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := RemoveTemps(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for f, gone := range files {
		_, err := os.Stat(filepath.Join(dir, f))
		if gone != os.IsNotExist(err) {
			t.Errorf("%s: removed %v, want %v", f, os.IsNotExist(err), gone)
		}
		if gone {
			want = append(want, f)
		}
	}
	slices.Sort(want)
	slices.Sort(removed)
	if !slices.Equal(removed, want) {
		t.Errorf("reported %v, want %v", removed, want)
	}
	if _, err := RemoveTemps(filepath.Join(dir, "missing"), 1); err == nil {
		t.Error("a missing folder gave no error")
	}
}

// TestWriteJSONIsMarshalIndent: WriteJSON's bytes are encoding/json's
// indented form and a newline (the format config.json always had).
func TestWriteJSONIsMarshalIndent(t *testing.T) {
	v := struct {
		A []float64 `json:"a"`
		B string
	}{[]float64{1e-4, 0.5}, "x<y"}
	path := filepath.Join(t.TempDir(), "v.json")
	if err := WriteJSON(path, v); err != nil {
		t.Fatal(err)
	}
	want, _ := json.MarshalIndent(v, "", "  ")
	if b, _ := os.ReadFile(path); string(b) != string(want)+"\n" {
		t.Errorf("wrote %q, want %q", b, want)
	}
}
