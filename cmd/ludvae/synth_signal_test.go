package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ludvae/ludvae/internal/testkit"
	"github.com/ludvae/ludvae/synth"
)

// TestProcessHelper is ludvae itself when the test binary is started by a
// test with LUDVAE_ARGS set (the os/exec tests' helper-process pattern), so
// signals reach a separate process running this very code; otherwise it
// does nothing.
func TestProcessHelper(t *testing.T) {
	args := os.Getenv("LUDVAE_ARGS")
	if args == "" {
		return
	}
	var list []string
	if err := json.Unmarshal([]byte(args), &list); err != nil {
		t.Fatal(err)
	}
	os.Args = append([]string{"ludvae"}, list...)
	main()
	os.Exit(0)
}

// ludvaeProcess starts ludvae with args in a child process.
func ludvaeProcess(t *testing.T, stderr *bytes.Buffer, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcessHelper$")
	list, _ := json.Marshal(args)
	cmd.Env = append(os.Environ(), "LUDVAE_ARGS="+string(list))
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// manifestRows reads the complete rows of a manifest.
func manifestRows(t *testing.T, path string) []synth.Record {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var recs []synth.Record
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var r synth.Record
		if json.Unmarshal(sc.Bytes(), &r) == nil {
			recs = append(recs, r)
		}
	}
	return recs
}

// folderFiles reads every file under dir by relative path.
func folderFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestSynthSignals: SIGINT or SIGTERM to a running `ludvae synth` stops
// it within seconds with a non-zero status and a message saying how many
// pairs are written; the folder then holds exactly the pairs its manifest
// lists and no temporary file, and the same command run again completes
// it into the folder an uninterrupted run makes, byte for byte.
func TestSynthSignals(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writePhotos(t, in, 24, 64, 64, false, 6)
	model := filepath.Join(testkit.Root(), "testdata", "official", "f8_state_dict.pth")
	args := func(out string) []string {
		return []string{"synth", "--model", model, "--clean", in, "--out", out, "--device", "cpu", "--threads", "1", "--tile", "48", "--seed", "3"}
	}
	ref := filepath.Join(dir, "ref")
	if err := runSynth(args(ref)[1:]); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			out := filepath.Join(dir, sig.String())
			var stderr bytes.Buffer
			cmd := ludvaeProcess(t, &stderr, args(out)...)
			deadline := time.Now().Add(60 * time.Second)
			for len(manifestRows(t, filepath.Join(out, synth.Manifest))) < 2 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			cmd.Process.Signal(sig)
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			var err error
			select {
			case err = <-exited:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 20 s after %v", sig)
			}
			rows := manifestRows(t, filepath.Join(out, synth.Manifest))
			if err == nil || !strings.Contains(stderr.String(), "interrupted") || !strings.Contains(stderr.String(), "stopped: ") {
				t.Fatalf("after %v: exit %v, stderr %q", sig, err, stderr.String())
			}
			if len(rows) >= 24 {
				t.Fatalf("the run finished before %v reached it: the test proves nothing", sig)
			}
			listed := map[string]bool{}
			for _, r := range rows {
				listed[r.L], listed[r.H] = true, true
			}
			for name := range folderFiles(t, out) {
				if strings.Contains(name, ".tmp") {
					t.Errorf("temporary file %s left behind", name)
				}
				if (strings.HasPrefix(name, "L/") || strings.HasPrefix(name, "H/")) && !listed[name] {
					t.Errorf("%s on disk but not listed", name)
				}
				delete(listed, name)
			}
			if len(listed) > 0 {
				t.Errorf("listed but not on disk: %v", listed)
			}
			t.Logf("%v after %d listed pairs; %s", sig, len(rows), strings.TrimSpace(stderr.String()[strings.LastIndex(stderr.String(), "stopped"):]))
			if err := runSynth(args(out)[1:]); err != nil {
				t.Fatal(err)
			}
			got, want := folderFiles(t, out), folderFiles(t, ref)
			if len(got) != len(want) {
				t.Errorf("%d files after the rerun, want %d", len(got), len(want))
			}
			for name, b := range want {
				if !bytes.Equal(got[name], b) {
					t.Errorf("%s differs from the uninterrupted run's", name)
				}
			}
		})
	}
}
