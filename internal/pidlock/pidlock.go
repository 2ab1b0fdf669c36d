// Package pidlock is an exclusive lock on a file that names its holder: an
// flock(2) on the open file, and the holder's PID written into it for the
// messages of those who find it taken. The kernel drops the lock when the
// process ends, however it ends, so a kill -9 never leaves a stale lock.
// The file is never removed: unlinking a locked file would let a second
// process lock a new file of the same name while the first still holds the
// old one.
package pidlock

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ErrLocked is wrapped by TryLock's error when another process holds the
// lock; the error names it (Holder).
var ErrLocked = errors.New("locked by another process")

// Lock is a held lock.
type Lock struct{ f *os.File }

// TryLock takes the lock on path (creating the file) without waiting.
func TryLock(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s)", ErrLocked, Holder(path))
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The PID is for people; the lock itself is what excludes.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Holder names the process that holds the lock on path, as far as its file
// says ("PID 123").
func Holder(path string) string {
	b, err := os.ReadFile(path)
	pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || perr != nil {
		return "its PID is not recorded yet"
	}
	return fmt.Sprintf("PID %d", pid)
}

// Release lets the lock go; it is safe to call more than once and on nil.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	l.f.Close() // closing the only descriptor drops the flock
	l.f = nil
}
