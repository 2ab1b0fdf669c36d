package images

import (
	"github.com/ludvae/ludvae/internal/job"
)

// LoadAll decodes paths with Load in parallel (job.Workers(0) goroutines)
// and returns the images in the order of paths.
//
// An image smaller than minSize pixels in either dimension is an error
// wrapping ErrTooSmall that names the file and its size (minSize <= 0
// accepts any size). Without skipBad the first failing path (in the order
// of paths) fails the whole call and no images are returned. With skipBad,
// unreadable, corrupt and too-small files are left out and their errors
// (each a *FileError) returned as skipped, in the order of paths; the
// images returned are then the remaining ones, in order.
func LoadAll(paths []string, skipBad bool, minSize int) (imgs []*Image, skipped []error, err error) {
	out := make([]*Image, len(paths))
	errs := make([]error, len(paths))
	// Paths are taken in increasing order and, when not skipping, none
	// after a failure: every path before the first failure is still
	// decoded, and the error reported is deterministic.
	job.ForEach(len(paths), min(job.Workers(0), len(paths)), func(_, i int) error {
		out[i], errs[i] = load(paths[i], minSize)
		if skipBad {
			return nil
		}
		return errs[i]
	})
	imgs = out[:0]
	for i := range paths {
		if errs[i] != nil {
			if !skipBad {
				return nil, nil, errs[i]
			}
			skipped = append(skipped, errs[i])
			continue
		}
		imgs = append(imgs, out[i])
	}
	return imgs, skipped, nil
}
