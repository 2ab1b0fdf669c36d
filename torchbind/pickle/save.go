package pickle

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/ludvae/ludvae/internal/atomicfile"
)

// Save writes v to path as a torch.save checkpoint (see Write), using the
// file's base name without extension as the archive folder, as torch does.
//
// Save is atomic (package atomicfile): it writes a temporary file in the
// same directory, syncs it and renames it over path. On error nothing at
// path changes and the temporary file is removed. A new file gets mode
// 0644; an existing file keeps its permission bits.
func Save(path string, v any) error {
	return saveWith(path, v, nil)
}

// saveWith is Save with an optional wrapper around the temporary file's
// writer (tests inject failures through it).
func saveWith(path string, v any, wrap func(io.Writer) io.Writer) error {
	_, base := filepath.Split(path)
	if base == "" {
		return fmt.Errorf("pickle: save %s: no file name", path)
	}
	name := strings.TrimSuffix(base, filepath.Ext(base))
	err := atomicfile.Write(path, func(w io.Writer) error {
		// Large tensors pass through; the small pickle records gather.
		bw := bufio.NewWriterSize(w, 1<<20)
		var out io.Writer = bw
		if wrap != nil {
			out = wrap(bw)
		}
		if err := write(out, v, name); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("pickle: save %s: %w", path, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops the path of an atomicfile error, which Save's message
// names already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path != "" {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
