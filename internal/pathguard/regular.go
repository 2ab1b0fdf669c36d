package pathguard

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// OpenRegular opens path for reading if it is a regular file (after
// symlinks), and refuses a named pipe, socket or device at once, naming
// it. It opens with O_NONBLOCK, so that open(2) of a FIFO with no writer
// returns instead of waiting, then checks the opened file itself (fstat),
// so nothing can be swapped in between. O_NONBLOCK does not change reads
// of a regular file.
func OpenRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, NotRegular(path, st.Mode())
	}
	return f, nil
}

// ReadFile is os.ReadFile for regular files only (OpenRegular).
func ReadFile(path string) ([]byte, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// NotRegular is the error for a path that is not a regular file.
func NotRegular(path string, m os.FileMode) error {
	kind := "not a regular file"
	switch {
	case m.IsDir():
		kind = "a folder, not a file"
	case m&os.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO), not a regular file"
	case m&os.ModeSocket != 0:
		kind = "a socket, not a regular file"
	case m&os.ModeDevice != 0:
		kind = "a device, not a regular file"
	}
	return fmt.Errorf("%s is %s", path, kind)
}

// CheckInput checks an input path given by a flag before any work: a
// folder (where dirOK) or a regular file passes, a named pipe, socket or
// device is refused at once. A path that does not exist passes too: the
// command says so in its own words when it reads it. It only stats, so it
// never blocks.
func CheckInput(flag, path string, dirOK bool) error {
	if path == "" {
		return nil
	}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	if st.Mode().IsRegular() || (dirOK && st.IsDir()) {
		return nil
	}
	return fmt.Errorf("%s: %w", flag, NotRegular(path, st.Mode()))
}
