package train

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/ludvae/ludvae/train/pidlock"
)

// LockName is the file in a run folder that `ludvae train` holds an
// exclusive lock on while it runs, and in which it writes its PID
// (package pidlock).
const LockName = "train.lock"

// ErrRunLocked says another trainer holds the run folder.
var ErrRunLocked = errors.New("the run folder is in use by another ludvae train")

// lockRun takes the run folder's lock without waiting.
func lockRun(dir string) (*pidlock.Lock, error) {
	path := filepath.Join(dir, LockName)
	l, err := pidlock.TryLock(path)
	if errors.Is(err, pidlock.ErrLocked) {
		return nil, fmt.Errorf("--out %s: %w (%s; stop it, or give another --out)", dir, ErrRunLocked, pidlock.Holder(path))
	}
	if err != nil {
		return nil, fmt.Errorf("--out %s: %w", dir, err)
	}
	return l, nil
}
