package pickle

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Save writes v to path as a torch.save checkpoint (see Write), using the
// file's base name without extension as the archive folder, as torch does.
//
// Save is atomic: it writes a temporary file in the same directory, syncs
// it and renames it over path. On error nothing at path changes and the
// temporary file is removed. A new file gets mode 0644; an existing file
// keeps its permission bits.
func Save(path string, v any) error {
	return saveWith(path, v, nil)
}

// saveWith is Save with an optional wrapper around the temporary file's
// writer (tests inject failures through it).
func saveWith(path string, v any, wrap func(io.Writer) io.Writer) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return fmt.Errorf("pickle: save %s: no file name", path)
	}
	name := strings.TrimSuffix(base, filepath.Ext(base))
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		mode = st.Mode().Perm()
	}

	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("pickle: save %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("pickle: save %s: %w", path, err)
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	var w io.Writer = bw
	if wrap != nil {
		w = wrap(bw)
	}
	if err = write(w, v, name); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = tmp.Chmod(mode); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Make the rename durable; failure here does not undo the save.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
