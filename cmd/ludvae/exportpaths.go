package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ludvae/ludvae/internal/pathguard"
)

// checkExportPaths refuses, before the model is loaded, export outputs
// that name a directory, whose folder does not exist, that would overwrite
// the model (or the --normalization file) being read (guardPaths), or each
// other.
func checkExportPaths(model, norm string, outs ...pathguard.Path) error {
	examples := map[string]string{"--torchscript": "generator.pt", "--pth": "model.pth", "--onnx": "model.onnx"}
	for _, o := range outs {
		if o.Path == "" {
			continue
		}
		if st, err := os.Stat(o.Path); (err == nil && st.IsDir()) || strings.HasSuffix(o.Path, string(filepath.Separator)) {
			return fmt.Errorf("%s %s is a directory; give a file name, such as %s", o.Flag, o.Path, filepath.Join(o.Path, examples[o.Flag]))
		}
		if dir := filepath.Dir(o.Path); !isDir(dir) {
			return fmt.Errorf("%s %s: folder %s does not exist", o.Flag, o.Path, dir)
		}
	}
	if err := guardPaths(outs, nil, paths(p("--model", model), p("--normalization", normalizationFile(norm)))); err != nil {
		return err
	}
	return pathguard.Distinct(outs...)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
