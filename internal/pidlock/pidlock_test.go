package pidlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTryLock: a held lock is refused naming the holder's PID, and free
// again once released (twice, harmlessly).
func TestTryLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	l, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = TryLock(path)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("PID %d", os.Getpid())) {
		t.Fatalf("second lock: %v", err)
	}
	l.Release()
	l.Release()
	again, err := TryLock(path)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again.Release()
	if _, err := TryLock(filepath.Join(path, "below-a-file")); err == nil {
		t.Error("a lock under a file was taken")
	}
}
