package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
)

// PathFor is where the store of the images under source lives: beside the
// folder, named after it (data/clean → data/clean.lvs; downscaled ×4:
// data/clean.x4.lvs), or, when storeDir is set, in storeDir under the
// folder's name and a hash of its absolute path (clean-1a2b3c4d.lvs), so
// that folders of the same name do not share a store.
func PathFor(source string, downscale int, storeDir string) (string, error) {
	abs, err := filepath.Abs(source)
	if err != nil {
		return "", err
	}
	suffix := ".lvs"
	if downscale > 1 {
		suffix = fmt.Sprintf(".x%d.lvs", downscale)
	}
	if storeDir == "" {
		return abs + suffix, nil
	}
	h := sha256.Sum256([]byte(abs))
	return filepath.Join(storeDir, filepath.Base(abs)+"-"+hex.EncodeToString(h[:4])+suffix), nil
}
