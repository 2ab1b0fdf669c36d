package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// guardFixture makes, in a fresh folder w that becomes the working folder:
// in/ and in2/ (folders of one file each, a.png), m.pth (a file standing
// for a model: the guard runs before anything is read), a symlink
// m_link.pth and a hard link m_hard.pth to it, a symlink inlink to in/, a
// hard link in_hard.png to in/a.png, and empty.json. It returns w's base
// name, for "../w/..." spellings.
func guardFixture(t *testing.T) string {
	t.Helper()
	w := t.TempDir()
	for _, d := range []string{"in", "in2", "in3"} {
		if err := os.MkdirAll(filepath.Join(w, d), 0o755); err != nil {
			t.Fatal(err)
		}
		saveCLITestPNG(t, filepath.Join(w, d), "a.png", cliTestImage(8, 8, 1))
	}
	mustDo(t, os.WriteFile(filepath.Join(w, "m.pth"), []byte("a model"), 0o644))
	mustDo(t, os.Symlink("m.pth", filepath.Join(w, "m_link.pth")))
	mustDo(t, os.Link(filepath.Join(w, "m.pth"), filepath.Join(w, "m_hard.pth")))
	mustDo(t, os.Symlink("in", filepath.Join(w, "inlink")))
	mustDo(t, os.Link(filepath.Join(w, "in", "a.png"), filepath.Join(w, "in_hard.png")))
	old, _ := os.Getwd()
	t.Cleanup(func() { os.Chdir(old) })
	mustDo(t, os.Chdir(w))
	return filepath.Base(w)
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// snapshot lists every path under the working folder with its contents.
func snapshot(t *testing.T) map[string]string {
	t.Helper()
	s := map[string]string{}
	filepath.Walk(".", func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			s[p] = string(b)
		} else {
			s[p] = fi.Mode().Type().String()
		}
		return nil
	})
	return s
}

// TestOutputGuardEveryCommand: every command that writes refuses an output
// that is, lies inside or contains one of its inputs, under every spelling
// (the same, through "../w/", through a symlink, through a hard link),
// naming both paths, before any work: nothing in the folder changes.
// Cases a command cannot have are left out: a hard link to a folder does
// not exist, a file output cannot contain anything, and a file input has
// nothing inside it.
func TestOutputGuardEveryCommand(t *testing.T) {
	disc := func(f func([]string, io.Writer, io.Writer) error) func([]string) error {
		return func(a []string) error { return f(a, io.Discard, io.Discard) }
	}
	restoreW := func(a []string) error { return restoreCommand(a, io.Discard, nil) }
	type tc struct{ name, out, want string }
	// The cases of a folder output against the folder input "in" (and,
	// where the command has one, the file input m.pth).
	dirCases := func(base string, fileInput bool) []tc {
		cs := []tc{
			{"same spelling", "in", "is --IN in"},
			{"../ spelling", "../" + base + "/in", "is --IN in"},
			{"symlink", "inlink", "is --IN in"},
			{"inside", "in/sub", "lies inside --IN in"},
			{"inside through a symlink", "inlink/sub/deeper", "lies inside --IN in"},
			{"containing", ".", "contains --IN in"},
		}
		if fileInput {
			cs = append(cs, tc{"hard link to the model", "m_hard.pth", "is --model m.pth"})
		}
		return cs
	}
	fileCases := func(base string) []tc {
		return []tc{
			{"same spelling", "m.pth", "is --IN m.pth"},
			{"../ spelling", "../" + base + "/m.pth", "is --IN m.pth"},
			{"./ spelling", "./m.pth", "is --IN m.pth"},
			{"symlink", "m_link.pth", "is --IN m.pth"},
			{"hard link", "m_hard.pth", "is --IN m.pth"},
		}
	}
	commands := []struct {
		name, outFlag, inFlag string
		run                   func([]string) error
		args                  func(out string) []string
		cases                 func(base string) []tc
	}{
		{"export --torchscript", "--torchscript", "--model", runExport,
			func(o string) []string { return []string{"--model", "m.pth", "--torchscript", o} }, fileCases},
		{"export --pth", "--pth", "--model", runExport,
			func(o string) []string { return []string{"--model", "m.pth", "--pth", o} }, fileCases},
		{"export --onnx", "--onnx", "--model", runExport,
			func(o string) []string { return []string{"--model", "m.pth", "--onnx", o} }, fileCases},
		{"restore export", "--torchscript", "--model", restoreW,
			func(o string) []string { return []string{"export", "--model", "m.pth", "--torchscript", o} }, fileCases},
		{"restore export --onnx", "--onnx", "--model", restoreW,
			func(o string) []string { return []string{"export", "--model", "m.pth", "--onnx", o} }, fileCases},
		{"restore export --pth", "--pth", "--model", restoreW,
			func(o string) []string { return []string{"export", "--model", "m.pth", "--pth", o} }, fileCases},
		{"montage", "--out", "argument", runMontage,
			func(o string) []string { return []string{"--out", o, "in2/a.png", "m.pth"} }, fileCases},
		{"eval noise --plot", "--plot", "--clean", disc(evalCommand),
			func(o string) []string {
				return []string{"noise", "--synthetic", "in3", "--real", "in2", "--clean", "in", "--plot", o}
			},
			func(base string) []tc {
				return []tc{
					{"an input image", "in/a.png", "lies inside --IN in"},
					{"../ spelling", "../" + base + "/in/a.png", "lies inside --IN in"},
					{"symlink", "inlink/a.png", "lies inside --IN in"},
					{"new file inside", "in/plot.png", "lies inside --IN in"},
				}
			}},
		{"restore test", "--out", "--in", restoreW,
			func(o string) []string { return []string{"test", "--model", "m.pth", "--in", "in", "--out", o} },
			func(b string) []tc { return dirCases(b, true) }},
		{"synth", "--out", "--clean", runSynth,
			func(o string) []string { return []string{"--model", "m.pth", "--clean", "in", "--out", o} },
			func(b string) []tc { return dirCases(b, true) }},
		{"train", "--out", "--clean", runTrain,
			func(o string) []string { return []string{"--clean", "in", "--noisy", "in2", "--out", o} },
			func(b string) []tc { return dirCases(b, false) }},
		{"restore train", "--out", "--pairs", restoreW,
			func(o string) []string { return []string{"train", "--pairs", "in", "--out", o} },
			func(b string) []tc { return dirCases(b, false) }},
		{"degrade", "--out", "--in", disc(degradeCommand),
			func(o string) []string { return []string{"--in", "in", "--out", o} },
			func(b string) []tc { return dirCases(b, false) }},
		{"halves --left", "--left", "--in", disc(halvesCommand),
			func(o string) []string { return []string{"--in", "in", "--left", o, "--right", "R"} },
			func(b string) []tc { return dirCases(b, false) }},
		{"halves --right", "--right", "--in", disc(halvesCommand),
			func(o string) []string { return []string{"--in", "in", "--left", "L", "--right", o} },
			func(b string) []tc { return dirCases(b, false) }},
		{"prepare", "--to", "--from", runPrepare,
			func(o string) []string { return []string{"sidd", "--from", "in", "--to", o, "--allow-partial"} },
			func(b string) []tc { return dirCases(b, false) }},
	}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			base := guardFixture(t)
			before := snapshot(t)
			for _, k := range c.cases(base) {
				t.Run(k.name, func(t *testing.T) {
					want := c.outFlag + " " + k.out + " "
					wantIn := strings.ReplaceAll(k.want, "--IN", c.inFlag)
					err := c.run(c.args(k.out))
					if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), wantIn) {
						t.Fatalf("%s %s: got %v, want an error naming %q and %q", c.name, k.out, err, want, wantIn)
					}
					if after := snapshot(t); !equalSnapshots(before, after) {
						t.Fatalf("%s %s: the folder changed although the command was refused:\nbefore %v\nafter  %v", c.name, k.out, keys(before), keys(after))
					}
				})
			}
		})
	}
}

func equalSnapshots(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal([]byte(v), []byte(w)) {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
