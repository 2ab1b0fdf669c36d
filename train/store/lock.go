package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const lockName = "lock"

// lock holds an exclusive flock on a store's lock file. The kernel drops
// it when the process dies, so a crashed build never blocks the next one.
type lock struct{ f *os.File }

// acquire takes dir's lock, waiting while another process holds it (its
// PID is reported to log once) until ctx is done.
func acquire(ctx context.Context, dir string, log io.Writer) (*lock, error) {
	name := filepath.Join(dir, lockName)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("store %s: lock %s: %w", dir, name, err)
		}
		if !told {
			fmt.Fprintf(log, "store %s: waiting for %s, which is building it\n", dir, holder(f))
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	// The holder's PID, for the message of a process that has to wait.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &lock{f}, nil
}

// holder names the process in f, as far as it wrote its PID.
func holder(f *os.File) string {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	if pid := strings.TrimSpace(string(b[:n])); pid != "" {
		return "process " + pid
	}
	return "another process"
}

func (l *lock) release() {
	l.f.Truncate(0)
	l.f.Close()
}
