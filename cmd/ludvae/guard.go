package main

import "github.com/ludvae/ludvae/internal/pathguard"

// guardPaths runs, before any work, the checks every command that reads
// and writes files shares (internal/pathguard): each input exists and is a
// regular file, or a folder where the flag takes one (a named pipe, socket
// or device is refused at once, never opened), and no output is, contains
// or lies inside an input.
func guardPaths(outs []pathguard.Path, dirs, files []pathguard.Path) error {
	for _, d := range dirs {
		if err := pathguard.CheckInput(d.Flag, d.Path, true); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := pathguard.CheckInput(f.Flag, f.Path, false); err != nil {
			return err
		}
	}
	return pathguard.Check(outs, append(append([]pathguard.Path{}, dirs...), files...))
}

// p is pathguard.P.
func p(flag, path string) pathguard.Path { return pathguard.P(flag, path) }

// paths is a list of pathguard paths.
func paths(ps ...pathguard.Path) []pathguard.Path { return ps }

// normalizationFile is the file a --normalization value names, "" for the
// keywords (checkpoint, none, aim19).
func normalizationFile(spec string) string {
	switch spec {
	case "", "checkpoint", "none", "aim19":
		return ""
	}
	return spec
}
