package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
)

// TestExportRefusesUnsafeOutputs: an output that is the --model file (under
// any spelling), both outputs on one file, or an output that is a
// directory are refused before anything is written, and the model file is
// unchanged.
func TestExportRefusesUnsafeOutputs(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(testkit.Root(), "testdata", "official", "f8_state_dict.pth"))
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "m.pth")
	if err := os.WriteFile(model, src, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	other := filepath.Join(sub, "..", "m.pth") // the model, spelled differently
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--pth", model}, "--pth " + model + " is --model " + model},
		{[]string{"--torchscript", other}, "--torchscript " + other + " is --model"},
		{[]string{"--torchscript", filepath.Join(dir, "x"), "--pth", filepath.Join(dir, "x")}, "name the same path"},
		{[]string{"--pth", sub}, "--pth " + sub + " is a directory"},
		{[]string{"--torchscript", sub + "/"}, "is a directory"},
		{[]string{"--pth", filepath.Join(dir, "absent", "m.pth")}, "does not exist"},
	}
	for _, c := range cases {
		err := runExport(append([]string{"--model", model}, c.args...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("export %v: got %v, want %q", c.args, err, c.want)
		}
	}
	if now, _ := os.ReadFile(model); !bytes.Equal(now, src) {
		t.Fatal("the model file changed")
	}
	if ents, _ := os.ReadDir(sub); len(ents) != 0 {
		t.Errorf("files appeared in %s: %v", sub, ents)
	}
}

// TestExportPermissions: both outputs get 0644, as checkpoints, images and
// config files do (the TorchScript file was 0600).
func TestExportPermissions(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(testkit.Root(), "testdata", "official", "f8_state_dict.pth")
	pt, pth := filepath.Join(dir, "g.pt"), filepath.Join(dir, "m.pth")
	if err := runExport([]string{"--model", model, "--torchscript", pt, "--pth", pth}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{pt, pth} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want -rw-r--r--", filepath.Base(p), st.Mode().Perm())
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("export left other files: %v", ents)
	}
}
