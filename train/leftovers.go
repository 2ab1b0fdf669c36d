package train

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// tempPatterns are the temporary files a trainer writes beside its outputs
// before renaming them into place (torchbind/pickle.Save for checkpoints,
// images.WriteAtomic for config.json, loss.png and the sample grids). A
// process killed between create and rename leaves one behind.
var tempPatterns = []string{
	".ckpt_*.pth.tmp-*",
	".config.json.tmp*",
	".loss.png.tmp*",
	filepath.Join("samples", ".step_*.png.tmp*"),
}

// removeLeftovers deletes the temporary files an earlier, crashed trainer
// left in the run folder. Called only with the run's lock held: another
// trainer's files in flight would otherwise look the same.
func removeLeftovers(dir string, log io.Writer) error {
	var removed []string
	for _, p := range tempPatterns {
		ms, err := filepath.Glob(filepath.Join(dir, p))
		if err != nil {
			return fmt.Errorf("--out %s: %w", dir, err)
		}
		for _, m := range ms {
			if err := os.Remove(m); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("--out %s: removing a temporary file left by an earlier run: %w", dir, err)
			}
			removed = append(removed, filepath.Base(m))
		}
	}
	if len(removed) > 0 {
		fmt.Fprintf(log, "removed %d temporary file(s) left by an interrupted run: %v\n", len(removed), removed)
	}
	return nil
}
