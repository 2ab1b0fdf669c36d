package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockName is the file in a run folder that `ludvae train` holds an
// exclusive flock(2) on while it runs, and in which it writes its PID.
const LockName = "train.lock"

// ErrRunLocked says another trainer holds the run folder.
var ErrRunLocked = errors.New("the run folder is in use by another ludvae train")

// runLock is a held lock on a run folder. The lock belongs to the open file,
// so the kernel releases it when the process ends, however it ends: a
// trainer killed with -9 never leaves a stale lock behind.
type runLock struct{ f *os.File }

// lockRun takes the run folder's lock without waiting. The file is never
// removed: unlinking a locked file would let a second trainer lock a new
// file of the same name while the first still runs.
func lockRun(dir string) (*runLock, error) {
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("--out %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("--out %s: %w (%s; stop it, or give another --out)", dir, ErrRunLocked, holder(path))
		}
		return nil, fmt.Errorf("--out %s: locking %s: %w", dir, LockName, err)
	}
	// The PID is for people and for the refusal above; the lock itself is
	// what excludes.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &runLock{f: f}, nil
}

// holder names the process that holds the lock, as far as its file says.
func holder(path string) string {
	b, err := os.ReadFile(path)
	pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || perr != nil {
		return "its PID is not recorded yet"
	}
	return fmt.Sprintf("PID %d", pid)
}

// release lets the folder go; it is safe to call more than once and on nil.
func (l *runLock) release() {
	if l == nil || l.f == nil {
		return
	}
	l.f.Close() // closing the only descriptor drops the flock
	l.f = nil
}
