// Package atomicfile writes files so that a reader, or a crash, never sees
// one half-written: the contents go to a temporary file in the target's
// folder, which is synced, given its mode, renamed over the target, and the
// folder synced so that the rename survives a power cut. It is the one
// place ludvae writes a file it means to keep (checkpoints, TorchScript
// modules, images, manifests, config.json, copies), so that one rule
// names the temporary files and every cleaner (IsTemp) recognizes them.
//
// The rule: the temporary file of NAME is ".NAME.tmp-DIGITS" beside it. A
// new file gets mode 0644 (os.CreateTemp's 0600 would hide checkpoints and
// exported modules from other users of a shared machine); a file replaced
// keeps its permission bits.
package atomicfile

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Mode is the permission of a new file.
const Mode fs.FileMode = 0o644

// tempMark follows the target's name in a temporary file's name.
const tempMark = ".tmp-"

// Write writes path atomically with what write puts into the (buffered)
// writer it is given. On any failure, write's included, the temporary file
// is removed and path is as it was.
func Write(path string, write func(w io.Writer) error) error {
	return commit(path, true, func(f *os.File) error {
		bw := bufio.NewWriterSize(f, 1<<16)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// WriteNamed is Write for writers that take a file name rather than a
// writer (libtorch's module saving): write gets the temporary file's path,
// which it may truncate and rewrite.
func WriteNamed(path string, write func(tmp string) error) error {
	return commit(path, true, func(f *os.File) error { return write(f.Name()) })
}

// WriteNew is Write that never replaces a file: where path exists when the
// new one is ready, it fails with an error wrapping fs.ErrExist and leaves
// both as they were. (A hard link puts the file in place; a file system
// without hard links gets a rename after a last check.)
func WriteNew(path string, write func(w io.Writer) error) error {
	return commit(path, false, func(f *os.File) error {
		bw := bufio.NewWriterSize(f, 1<<16)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// WriteJSON writes v as JSON indented by two spaces, with a final newline,
// atomically (config.json, manifests).
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}

// commit runs the protocol; replace says whether an existing path may be
// replaced. Errors of its own steps are *fs.PathError values naming path
// (not the temporary file, which the user never asked for).
func commit(path string, replace bool, write func(*os.File) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return &fs.PathError{Op: "write", Path: path, Err: errors.New("no file name")}
	}
	mode := Mode
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		if !replace {
			return &fs.PathError{Op: "write", Path: path, Err: fs.ErrExist}
		}
		mode = st.Mode().Perm()
	}
	f, err := os.CreateTemp(dir, "."+base+tempMark+"*")
	if err != nil {
		return &fs.PathError{Op: "create", Path: path, Err: cause(err)}
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	step := func(op string, e error) error {
		if e != nil {
			return &fs.PathError{Op: op, Path: path, Err: cause(e)}
		}
		return nil
	}
	if err = step("chmod", f.Chmod(mode)); err != nil {
		return err
	}
	if err = step("sync", f.Sync()); err != nil {
		return err
	}
	if err = step("close", f.Close()); err != nil {
		return err
	}
	if replace {
		err = step("rename", os.Rename(tmp, path))
	} else {
		err = step("link", place(tmp, path))
	}
	if err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil { // make the rename durable; best effort
		d.Sync()
		d.Close()
	}
	return nil
}

// place moves tmp to a path that must not exist: a hard link fails rather
// than replace a file that appeared since the check in commit.
func place(tmp, path string) error {
	err := os.Link(tmp, path)
	if err == nil {
		return os.Remove(tmp)
	}
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	if _, serr := os.Lstat(path); serr == nil {
		return fs.ErrExist
	}
	return os.Rename(tmp, path)
}

// cause is the error inside a *fs.PathError or *os.LinkError, whose path
// would be the temporary file's.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// IsTemp says whether a file's base name is a temporary file of this
// package, or of the spellings earlier versions of ludvae used (".NAME.tmpDIGITS",
// ".NAME.tmp-DIGITS", ".NAME.DIGITS.tmp", ".prepare-DIGITS"), so that a
// cleaner also removes what a crash of an older build left.
func IsTemp(name string) bool {
	_, ok := parse(name)
	return ok
}

// Target is the base name of the file a temporary file was to become, and
// false for a name that is not a temporary file or, for an old spelling,
// does not record its target.
func Target(name string) (string, bool) {
	t, ok := parse(name)
	return t, ok && t != ""
}

// parse recognizes a temporary file's name and returns its target's ("" when
// the name does not say).
func parse(name string) (string, bool) {
	if rest, ok := strings.CutPrefix(name, ".prepare-"); ok && digits(rest) {
		return "", true
	}
	if !strings.HasPrefix(name, ".") {
		return "", false
	}
	// ".NAME.tmp-DIGITS" and ".NAME.tmpDIGITS"
	if i := strings.LastIndex(name, ".tmp"); i > 1 {
		rest := strings.TrimPrefix(name[i+len(".tmp"):], "-")
		if digits(rest) {
			return name[1:i], true
		}
	}
	// ".NAME.DIGITS.tmp"
	if s, ok := strings.CutSuffix(name, ".tmp"); ok {
		if i := strings.LastIndex(s, "."); i > 1 && digits(s[i+1:]) {
			return s[1:i], true
		}
	}
	return "", false
}

// digits says whether s is a non-empty run of decimal digits, which
// os.CreateTemp puts in place of its pattern's "*".
func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// RemoveTemps deletes the temporary files directly in dir and in its
// subfolders depth levels down (0: dir alone), as a killed writer leaves
// them, and returns their paths relative to dir. Only a process that
// knows no other writer is at work there (it holds the folder's lock) may
// call it: a file in flight looks the same as one left by a crash.
func RemoveTemps(dir string, depth int) ([]string, error) {
	var removed []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil // a subfolder that vanished or is unreadable is not ours
		}
		rel, _ := filepath.Rel(dir, p)
		if e.IsDir() {
			if rel != "." && strings.Count(rel, string(filepath.Separator)) >= depth {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() || !IsTemp(e.Name()) {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removed = append(removed, rel)
		return nil
	})
	return removed, err
}
