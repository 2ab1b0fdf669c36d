// Package pathguard keeps a command's outputs away from its inputs and opens
// input files without blocking.
//
// Check is the one output guard every ludvae command that writes calls
// before any work, as rsync and restic refuse to write into what they read:
// an output (file or folder) that is an input, contains one, or lies inside
// one is refused, naming both paths. Paths are compared by what they name,
// not by how they are spelled: symlinks are resolved, and existing files
// and folders are compared by identity (device and inode), so "../w/D.pth",
// a symlink and a hard link to an input are all caught.
//
// OpenRegular, ReadFile and CheckInput refuse named pipes, sockets and
// devices where a regular file is wanted, without ever waiting in open(2):
// opening a FIFO for reading blocks until a writer comes, which a user's
// Ctrl-C cannot always interrupt.
package pathguard

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Path is a path a command reads or writes, with the flag that gave it
// ("--out"; "argument" for positional ones).
type Path struct {
	Flag string
	Path string
}

// P is shorthand for Path{flag, path}.
func P(flag, path string) Path { return Path{flag, path} }

// relation is how an output stands to an input.
type relation int

const (
	unrelated relation = iota
	same               // the output is the input
	inside             // the output lies inside the input (a folder)
	contains           // the output (a folder) holds the input
)

// Check refuses the first output that is, lies inside or contains one of
// the inputs, naming both. Empty paths are skipped (flags not given), and
// so are inputs that do not exist: the command reports those itself.
// Outputs need not exist yet; their nearest existing folder decides.
func Check(outs, ins []Path) error {
	for _, o := range outs {
		if o.Path == "" {
			continue
		}
		for _, i := range ins {
			if i.Path == "" {
				continue
			}
			r, err := relate(o.Path, i.Path)
			if err != nil {
				return fmt.Errorf("%s %s: %w", o.Flag, o.Path, err)
			}
			switch r {
			case same:
				return fmt.Errorf("%s %s is %s %s: writing it would destroy what this command reads; give an output outside the inputs", o.Flag, o.Path, i.Flag, i.Path)
			case inside:
				return fmt.Errorf("%s %s lies inside %s %s: the outputs would overwrite or mix with what this command reads (and be read as inputs by the next run); give an output outside the inputs", o.Flag, o.Path, i.Flag, i.Path)
			case contains:
				return fmt.Errorf("%s %s contains %s %s: the outputs would overwrite or mix with what this command reads; give an output outside the inputs", o.Flag, o.Path, i.Flag, i.Path)
			}
		}
	}
	return nil
}

// Distinct refuses two outputs of one command that are the same path or
// one inside the other, so that one never overwrites the other.
func Distinct(outs ...Path) error {
	for a := range outs {
		for b := a + 1; b < len(outs); b++ {
			if outs[a].Path == "" || outs[b].Path == "" {
				continue
			}
			ra, err := resolveOut(outs[a].Path)
			if err != nil {
				return fmt.Errorf("%s %s: %w", outs[a].Flag, outs[a].Path, err)
			}
			rb, err := resolveOut(outs[b].Path)
			if err != nil {
				return fmt.Errorf("%s %s: %w", outs[b].Flag, outs[b].Path, err)
			}
			sa, ea := os.Stat(outs[a].Path)
			sb, eb := os.Stat(outs[b].Path)
			if ra == rb || (ea == nil && eb == nil && os.SameFile(sa, sb)) {
				return fmt.Errorf("%s %s and %s %s name the same path; give each its own", outs[a].Flag, outs[a].Path, outs[b].Flag, outs[b].Path)
			}
			if under(ra, rb) || under(rb, ra) {
				return fmt.Errorf("%s %s and %s %s lie one inside the other; give each its own folder", outs[a].Flag, outs[a].Path, outs[b].Flag, outs[b].Path)
			}
		}
	}
	return nil
}

// relate says how output o stands to the existing input i.
func relate(o, i string) (relation, error) {
	si, err := os.Stat(i)
	if err != nil {
		return unrelated, nil // a missing input is the command's to report
	}
	ri, err := filepath.EvalSymlinks(i)
	if err != nil {
		return unrelated, nil
	}
	if ri, err = filepath.Abs(ri); err != nil {
		return unrelated, err
	}
	ro, err := resolveOut(o)
	if err != nil {
		return unrelated, err
	}
	so, oErr := os.Stat(o)
	// By identity first: the same file or folder under any spelling or
	// link (hard links included), and, for a folder input, any existing
	// folder above the output that is that input (a bind mount, say).
	if oErr == nil && os.SameFile(so, si) {
		return same, nil
	}
	if si.IsDir() {
		for a := ro; ; a = filepath.Dir(a) {
			if sa, err := os.Stat(a); err == nil && os.SameFile(sa, si) {
				if a == ro {
					return same, nil
				}
				return inside, nil
			}
			if a == filepath.Dir(a) {
				break
			}
		}
	}
	if oErr == nil && so.IsDir() {
		for a := filepath.Dir(ri); ; a = filepath.Dir(a) {
			if sa, err := os.Stat(a); err == nil && os.SameFile(sa, so) {
				return contains, nil
			}
			if a == filepath.Dir(a) {
				break
			}
		}
	}
	// Then by resolved path, for outputs that do not exist yet.
	switch {
	case ro == ri:
		return same, nil
	case si.IsDir() && under(ro, ri):
		return inside, nil
	case under(ri, ro):
		return contains, nil
	}
	return unrelated, nil
}

// resolveOut is the absolute path o will have once written: its nearest
// existing ancestor with symlinks resolved, followed by the rest of o.
func resolveOut(o string) (string, error) {
	abs, err := filepath.Abs(o)
	if err != nil {
		return "", err
	}
	rest := ""
	for p := abs; ; p = filepath.Dir(p) {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(r, rest), nil
		} else if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return "", err
		}
		if p == filepath.Dir(p) {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
	}
}

// under says whether path p lies strictly inside folder dir (both clean
// and absolute).
func under(p, dir string) bool {
	if dir == string(filepath.Separator) {
		return p != dir
	}
	return strings.HasPrefix(p, dir+string(filepath.Separator))
}
