package pathguard

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fixture makes, in a fresh folder w: in/ (a folder with a.png), D.pth (a
// file), a symlink and a hard link to D.pth, a symlink to in/, and out/.
func fixture(t *testing.T) string {
	t.Helper()
	w := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(w, "in", "sub"), 0o755))
	must(os.WriteFile(filepath.Join(w, "in", "a.png"), []byte("x"), 0o644))
	must(os.WriteFile(filepath.Join(w, "D.pth"), []byte("model"), 0o644))
	must(os.Symlink("D.pth", filepath.Join(w, "Dlink.pth")))
	must(os.Link(filepath.Join(w, "D.pth"), filepath.Join(w, "Dhard.pth")))
	must(os.Symlink("in", filepath.Join(w, "inlink")))
	must(os.Mkdir(filepath.Join(w, "out"), 0o755))
	return w
}

// TestCheck: every spelling of an output that is, lies inside or contains
// an input is refused naming both paths; outputs beside the inputs pass.
func TestCheck(t *testing.T) {
	w := fixture(t)
	base := filepath.Base(w)
	cases := []struct {
		name    string
		out, in string
		want    string // "" = accepted
	}{
		{"file same spelling", "D.pth", "D.pth", "is --in"},
		{"file ../ spelling", filepath.Join("..", base, "D.pth"), "D.pth", "is --in"},
		{"file ./ spelling", "./D.pth", "D.pth", "is --in"},
		{"file symlink", "Dlink.pth", "D.pth", "is --in"},
		{"file hard link", "Dhard.pth", "D.pth", "is --in"},
		{"file inside input folder", "in/plot.png", "in", "lies inside --in"},
		{"new file inside input folder via symlink", "inlink/new/plot.png", "in", "lies inside --in"},
		{"folder same spelling", "in", "in", "is --in"},
		{"folder ../ spelling", filepath.Join("..", base, "in"), "in", "is --in"},
		{"folder symlink", "inlink", "in", "is --in"},
		{"folder inside", "in/den", "in", "lies inside --in"},
		{"folder inside, not yet made, two deep", "in/x/y", "in", "lies inside --in"},
		{"folder containing input folder", ".", "in", "contains --in"},
		{"new folder containing input? (no: a new folder cannot)", "newdir", "in", ""},
		{"folder containing input file", "in", "in/a.png", "contains --in"},
		{"folder containing input file via symlink", "inlink", "in/a.png", "contains --in"},
		{"beside", "out", "in", ""},
		{"file beside", "out/D.pt", "D.pth", ""},
		{"missing input", "out", "nothere", ""},
		{"prefix is not inside", "in2", "in", ""},
	}
	old, _ := os.Getwd()
	t.Cleanup(func() { os.Chdir(old) })
	if err := os.Chdir(w); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Check([]Path{P("--out", c.out)}, []Path{P("--other", "elsewhere"), P("--in", c.in)})
			if c.want == "" {
				if err != nil {
					t.Fatalf("--out %s, --in %s refused: %v", c.out, c.in, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--out "+c.out) || !strings.Contains(err.Error(), "--in "+c.in) {
				t.Fatalf("--out %s, --in %s: got %v, want an error with %q naming both", c.out, c.in, err, c.want)
			}
		})
	}
}

// TestDistinct: two outputs naming one path (by any spelling) or lying one
// inside the other are refused.
func TestDistinct(t *testing.T) {
	w := fixture(t)
	cases := []struct {
		a, b string
		bad  bool
	}{
		{"x.pt", "./x.pt", true},
		{"Dlink.pth", "Dhard.pth", true},
		{"l", "l/r", true},
		{"l", "r", false},
	}
	for _, c := range cases {
		err := Distinct(P("--a", filepath.Join(w, c.a)), P("--b", filepath.Join(w, c.b)))
		if (err != nil) != c.bad {
			t.Errorf("%s, %s: got %v, want refused=%v", c.a, c.b, err, c.bad)
		}
	}
}

// TestFIFORefusedAtOnce: OpenRegular, ReadFile and CheckInput refuse a
// named pipe with no writer within a second, naming it; a regular file
// opens and a folder is refused by OpenRegular.
func TestFIFORefusedAtOnce(t *testing.T) {
	w := t.TempDir()
	fifo := filepath.Join(w, "model.pth")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"OpenRegular": func() error { f, err := OpenRegular(fifo); f.Close(); return err },
		"ReadFile":    func() error { _, err := ReadFile(fifo); return err },
		"CheckInput":  func() error { return CheckInput("--model", fifo, true) },
	}
	for name, call := range calls {
		done := make(chan error, 1)
		go func() { done <- call() }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), fifo) || !strings.Contains(err.Error(), "named pipe") {
				t.Errorf("%s(FIFO): %v, want an error naming %s as a named pipe", name, err, fifo)
			}
		case <-time.After(time.Second):
			t.Fatalf("%s(FIFO) still blocked after 1 s", name)
		}
	}
	reg := filepath.Join(w, "r")
	os.WriteFile(reg, []byte("abc"), 0o644)
	if b, err := ReadFile(reg); err != nil || string(b) != "abc" {
		t.Errorf("ReadFile(regular) = %q, %v", b, err)
	}
	if _, err := OpenRegular(w); err == nil {
		t.Errorf("OpenRegular(folder) accepted")
	}
	if err := CheckInput("--in", w, true); err != nil {
		t.Errorf("CheckInput(folder, dirOK): %v", err)
	}
	if err := CheckInput("--model", w, false); err == nil {
		t.Errorf("CheckInput(folder, !dirOK) accepted")
	}
}
