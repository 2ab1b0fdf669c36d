package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestHelperBuild is not a test: TestKillMidBuild runs the test binary
// with it to have a build to kill.
func TestHelperBuild(t *testing.T) {
	dir, src := os.Getenv("STORE_HELPER_DIR"), os.Getenv("STORE_HELPER_SRC")
	if dir == "" {
		return
	}
	Build(context.Background(), dir, src, Options{Workers: 1, SaveEvery: 1, Progress: func(done, total int) {
		fmt.Printf("progress %d\n", done)
	}})
}

// TestKillMidBuild: a build killed with SIGKILL part way leaves no store
// that Open takes as valid, and the next build resumes from what the dead
// one committed.
func TestKillMidBuild(t *testing.T) {
	root := t.TempDir()
	src, dir := filepath.Join(root, "d"), filepath.Join(root, "d.lvs")
	writeSource(t, src, 24, 160, 160, 1)
	cmd := exec.Command(os.Args[0], "-test.run", "^TestHelperBuild$")
	cmd.Env = append(os.Environ(), "STORE_HELPER_DIR="+dir, "STORE_HELPER_SRC="+src)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "progress 5" {
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if s, err := Open(dir); err == nil {
		s.Close()
		t.Fatal("a killed build left a store that opens")
	} else if !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("open after kill -9: %v", err)
	}
	var log strings.Builder
	s := build(t, dir, src, Options{Log: &log})
	if s.Images != 24 || s.Reused < 4 || !strings.Contains(log.String(), "resuming") {
		t.Fatalf("build after kill -9: %+v, log %q", s, log.String())
	}
	sameAsDecoded(t, dir)
}

// TestFullDisk: a build that runs out of space stops with the device's
// error naming the store, leaves nothing Open accepts, and completes once
// there is room (a tmpfs made small, then grown).
func TestFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root (CI runs as root)")
	}
	root := t.TempDir()
	src := filepath.Join(root, "d")
	writeSource(t, src, 10, 100, 100, 1) // 30,000 bytes of pixels each
	mnt := filepath.Join(root, "small")
	os.MkdirAll(mnt, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	defer exec.Command("umount", mnt).Run()
	dir := filepath.Join(mnt, "d.lvs")
	_, err := Build(context.Background(), dir, src, Options{})
	if err == nil || !strings.Contains(err.Error(), "no space left") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("build on a full disk: %v", err)
	}
	if s, err := Open(dir); err == nil {
		s.Close()
		t.Fatal("a store that ran out of space opens")
	}
	if out, err := exec.Command("mount", "-o", "remount,size=1m", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v: %s", err, out)
	}
	if s := build(t, dir, src, Options{}); s.Images != 10 {
		t.Fatalf("build with room: %+v", s)
	}
	sameAsDecoded(t, dir)
}
