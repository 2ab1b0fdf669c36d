package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/ludvae/ludvae/internal/pidlock"
)

const lockName = "lock"

// acquire takes dir's lock, waiting while another process holds it (its
// PID is reported to log once) until ctx is done.
func acquire(ctx context.Context, dir string, log io.Writer) (*pidlock.Lock, error) {
	name := filepath.Join(dir, lockName)
	told := false
	for {
		l, err := pidlock.TryLock(name)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, pidlock.ErrLocked) {
			return nil, fmt.Errorf("store %s: %w", dir, err)
		}
		if !told && log != nil {
			fmt.Fprintf(log, "store %s: waiting for %s, which is building it\n", dir, pidlock.Holder(name))
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
