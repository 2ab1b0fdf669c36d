package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
)

func halvesRun(args []string, o, e *bytes.Buffer) error { return halvesCommand(args, o, e) }

// TestHalvesCommand cuts an even and an odd width and checks that the two
// halves, side by side, are the source pixel for pixel (8-bit PNGs are
// lossless).
func TestHalvesCommand(t *testing.T) {
	dir := t.TempDir()
	in, left, right := filepath.Join(dir, "in"), filepath.Join(dir, "L"), filepath.Join(dir, "R")
	saveCLITestPNG(t, in, "even.png", cliTestImage(40, 24, 1))
	saveCLITestPNG(t, in, "sub/odd.png", cliTestImage(17, 9, 2))
	stdout, _, err := runCLI(t, halvesRun, "--in", in, "--left", left, "--right", right)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "cut 2 image(s)") {
		t.Errorf("report: %s", stdout)
	}
	for _, c := range []struct {
		name        string
		wLeft, wAll int
	}{{"even.png", 20, 40}, {"sub/odd.png", 8, 17}} {
		src, err := images.Load(filepath.Join(in, c.name))
		if err != nil {
			t.Fatal(err)
		}
		l, err := images.Load(filepath.Join(left, c.name))
		if err != nil {
			t.Fatal(err)
		}
		r, err := images.Load(filepath.Join(right, c.name))
		if err != nil {
			t.Fatal(err)
		}
		if l.W != c.wLeft || r.W != c.wAll-c.wLeft || l.H != src.H || r.H != src.H {
			t.Fatalf("%s: halves %dx%d and %dx%d of %dx%d", c.name, l.W, l.H, r.W, r.H, src.W, src.H)
		}
		for y := range src.H {
			for x := range src.W {
				for ch := range images.Channels {
					half, hx := l, x
					if x >= c.wLeft {
						half, hx = r, x-c.wLeft
					}
					if got, want := half.Plane(ch)[y*half.W+hx], src.Plane(ch)[y*src.W+x]; got != want {
						t.Fatalf("%s: pixel (%d,%d) channel %d is %v in its half, %v in the source", c.name, x, y, ch, got, want)
					}
				}
			}
		}
	}
}

func TestHalvesErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	saveCLITestPNG(t, in, "a.png", cliTestImage(8, 8, 1))
	thin := filepath.Join(dir, "thin")
	saveCLITestPNG(t, thin, "t.png", cliTestImage(1, 8, 1))
	l, r := filepath.Join(dir, "L"), filepath.Join(dir, "R")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--left", l, "--right", r}, "--in is required"},
		{[]string{"--in", in, "--right", r}, "--left is required"},
		{[]string{"--in", in, "--left", l}, "--right is required"},
		{[]string{"--in", in, "--left", in, "--right", r}, "--left " + in + " is --in"},
		{[]string{"--in", in, "--left", l, "--right", in}, "--right " + in + " is --in"},
		{[]string{"--in", in, "--left", l, "--right", l}, "name the same path"},
		{[]string{"--in", filepath.Join(dir, "none"), "--left", l, "--right", r}, "--in"},
		{[]string{"--in", thin, "--left", l, "--right", r}, "1 pixel(s) wide"},
	} {
		if _, _, err := runCLI(t, halvesRun, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.args, err, c.want)
		}
	}
}
