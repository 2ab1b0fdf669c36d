package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// checkExportPaths refuses, before the model is loaded, export outputs
// that would overwrite the model being read or each other, that name a
// directory, or whose folder does not exist.
func checkExportPaths(model, script, pth string) error {
	outs := []struct{ flag, path, example string }{{"--torchscript", script, "generator.pt"}, {"--pth", pth, "model.pth"}}
	for _, o := range outs {
		if o.path == "" {
			continue
		}
		if st, err := os.Stat(o.path); (err == nil && st.IsDir()) || strings.HasSuffix(o.path, string(filepath.Separator)) {
			return fmt.Errorf("%s %s is a directory; give a file name, such as %s", o.flag, o.path, filepath.Join(o.path, o.example))
		}
		if dir := filepath.Dir(o.path); !isDir(dir) {
			return fmt.Errorf("%s %s: folder %s does not exist", o.flag, o.path, dir)
		}
		if sameFile(o.path, model) {
			return fmt.Errorf("%s %s is the --model file; exporting would replace the model it reads: give another file name", o.flag, o.path)
		}
	}
	if script != "" && pth != "" && sameFile(script, pth) {
		return fmt.Errorf("--torchscript %s and --pth %s name the same file; give each its own", script, pth)
	}
	return nil
}

// sameFile says whether two paths name one file: the same inode when both
// exist (links, other spellings), else the same absolute path.
func sameFile(a, b string) bool {
	sa, ea := os.Stat(a)
	sb, eb := os.Stat(b)
	if ea == nil && eb == nil {
		return os.SameFile(sa, sb)
	}
	aa, err1 := filepath.Abs(a)
	ab, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == ab
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
