package main

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/ludvae/ludvae/synth/metrics"
)

// scoreMeans averages PSNR over every pair and SSIM over the pairs that
// have one: a region smaller than SSIM's window after the border has no
// SSIM (KAIR's mean of an empty map is NaN), and one NaN would make the
// mean NaN. excluded names those pairs, in results' order; the SSIM mean
// is NaN only when no pair has an SSIM.
func scoreMeans(results []imageScore) (mean imageScore, excluded []string) {
	n := 0
	for _, r := range results {
		mean.PSNR += r.PSNR / float64(len(results))
		if math.IsNaN(r.SSIM) {
			excluded = append(excluded, r.Name)
			continue
		}
		mean.SSIM += r.SSIM
		n++
	}
	mean.SSIM = mean.SSIM / float64(n) // NaN for n = 0: printed as n/a
	return mean, excluded
}

// reportNoSSIM warns that images were too small for SSIM, naming them.
func reportNoSSIM(w io.Writer, names []string, border int) {
	if len(names) == 0 {
		return
	}
	fmt.Fprintf(w, "warning: with --border %d, %d image(s) are smaller than SSIM's %dx%d window; their SSIM is n/a and left out of the SSIM mean: %s\n",
		border, len(names), metrics.SSIMWindow, metrics.SSIMWindow, strings.Join(names, ", "))
}

// ssimText prints an SSIM, or n/a for none.
func ssimText(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.6f", v)
}

// ssimNote says under the table which images the SSIM mean covers, when
// not all of them.
func ssimNote(images, excluded int) string {
	switch {
	case excluded == 0:
		return ""
	case excluded == images:
		return "(SSIM: no image is large enough for its window)"
	}
	return fmt.Sprintf("(SSIM: mean of the %d image(s) large enough for its window)", images-excluded)
}
