package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/ludvae/ludvae/internal/images"
)

func TestDegradeCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	saveCLITestPNG(t, in, "a.png", cliTestImage(40, 24, 1))
	saveCLITestPNG(t, in, "sub/b.png", cliTestImage(17, 33, 2))
	for _, kind := range []string{"camera", "gaussian"} {
		out1, out2, out3 := filepath.Join(dir, kind+"1"), filepath.Join(dir, kind+"2"), filepath.Join(dir, kind+"3")
		stdout, _, err := runCLI(t, degradeRun, "--in", in, "--out", out1, "--kind", kind, "--seed", "7")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout, "wrote 2 degraded image(s)") || !strings.Contains(stdout, kind) {
			t.Errorf("report: %s", stdout)
		}
		if _, _, err := runCLI(t, degradeRun, "--in", in, "--out", out2, "--kind", kind, "--seed", "7", "--workers", "1"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := runCLI(t, degradeRun, "--in", in, "--out", out3, "--kind", kind, "--seed", "8"); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"a.png", "sub/b.png"} {
			src, _ := images.Load(filepath.Join(in, name))
			got, err := images.Load(filepath.Join(out1, name))
			if err != nil {
				t.Fatal(err)
			}
			if got.W != src.W || got.H != src.H {
				t.Errorf("%s %s: %dx%d, want %dx%d", kind, name, got.W, got.H, src.W, src.H)
			}
			b1, _ := os.ReadFile(filepath.Join(out1, name))
			b2, _ := os.ReadFile(filepath.Join(out2, name))
			b3, _ := os.ReadFile(filepath.Join(out3, name))
			if !bytes.Equal(b1, b2) {
				t.Errorf("%s %s: same seed, different output (worker count must not matter)", kind, name)
			}
			if bytes.Equal(b1, b3) {
				t.Errorf("%s %s: different seeds, same output", kind, name)
			}
		}
	}
}

func TestDegradeErrorsAndHelp(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	saveCLITestPNG(t, in, "a.png", cliTestImage(8, 8, 1))
	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--out", out}, "--in"},
		{[]string{"--in", in}, "--out"},
		{[]string{"--in", in, "--out", out, "--kind", "blur"}, "--kind"},
		{[]string{"--in", in, "--out", out, "--sigma", "10"}, "--sigma"},
		{[]string{"--in", in, "--out", out, "--kind", "gaussian", "--jpeg-quality", "50"}, "--jpeg-quality"},
		{[]string{"--in", in, "--out", out, "--jpeg-quality", "101"}, "--jpeg-quality"},
		{[]string{"--in", in, "--out", out, "--kind", "gaussian", "--sigma", "-3"}, "--sigma"},
		{[]string{"--in", in, "--out", in}, "--out"},
		{[]string{"--in", filepath.Join(dir, "none"), "--out", out}, "--in"},
	} {
		if _, _, err := runCLI(t, degradeRun, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %s", c.args, err, c.want)
		}
	}
	_, stderr, err := runCLI(t, degradeRun, "--help")
	if !errors.Is(err, pflag.ErrHelp) {
		t.Fatalf("--help returned %v, want pflag.ErrHelp (main exits 0 on it)", err)
	}
	for _, f := range []string{"--in", "--out", "--kind", "--sigma", "--jpeg-quality", "--seed", "--workers", `(default "camera")`, "(default 15)", "(default 80)"} {
		if !strings.Contains(stderr, f) {
			t.Errorf("usage lacks %q:\n%s", f, stderr)
		}
	}
}
