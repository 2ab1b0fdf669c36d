package store

import (
	"path/filepath"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
)

// readWithNumpy is docs/data-at-scale.md's example of reading a store with numpy,
// followed by checks against PIL's decoding of the source files: every
// pixel equal, and the recorded sums those of the values in [0,1].
const readWithNumpy = `
import json, sys
import numpy as np
from PIL import Image

store = sys.argv[1]
index = json.load(open(f"{store}/index.json"))
T = index["tile"]
for e in index["images"]:
    if "error" in e:
        continue
    h, w = e["height"], e["width"]
    th, tw = -(-h // T), -(-w // T)  # tiles down and across, the last ones padded
    tiles = np.fromfile(f"{store}/{e['file']}", dtype=np.dtype(e["dtype"]).newbyteorder("<"))
    img = tiles.reshape(th, tw, T, T, 3).transpose(0, 2, 1, 3, 4).reshape(th * T, tw * T, 3)[:h, :w]
    # the checks
    src = np.asarray(Image.open(f"{index['source']}/{e['path']}").convert("RGB"))
    assert img.dtype == np.uint8 and (img == src).all(), e["path"]
    v = (img.astype(np.float32) / np.float32(255)).astype(np.float64)
    for c in range(3):
        assert abs(v[..., c].sum() - e["sum"][c]) <= 1e-9 * e["sum"][c], (e["path"], c)
        assert abs((v[..., c] ** 2).sum() - e["sum_sq"][c]) <= 1e-9 * e["sum_sq"][c], (e["path"], c)
print(len(index["images"]))
`

// TestNumpyReadsStore: Python with numpy reads a store as docs/data-at-scale.md shows,
// and finds the pixels PIL decodes from the source files.
func TestNumpyReadsStore(t *testing.T) {
	root := t.TempDir()
	src, dir := filepath.Join(root, "d"), filepath.Join(root, "d.lvs")
	writeSource(t, src, 3, 33, 21, 1)
	build(t, dir, src, Options{})
	if got := testkit.RunPython(t, readWithNumpy, dir); got != "3" {
		t.Fatalf("python read %s images, want 3", got)
	}
}
