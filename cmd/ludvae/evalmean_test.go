package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/synth/metrics"
)

// TestEvalSmallImagesNoNaN: a border that leaves an image smaller than
// SSIM's window gives it no SSIM; the command warns naming it, leaves it
// out of the SSIM mean (the mean is the other images'), and prints no NaN,
// in the table or in JSON.
func TestEvalSmallImagesNoNaN(t *testing.T) {
	dir := t.TempDir()
	rd, td := filepath.Join(dir, "r"), filepath.Join(dir, "t")
	big, small := cliTestImage(40, 40, 1), cliTestImage(40, 16, 2) // border 4 leaves 32x32 and 32x8
	saveCLITestPNG(t, td, "big.png", big)
	saveCLITestPNG(t, td, "small.png", small)
	bigR, smallR := cliTestImage(40, 40, 3), cliTestImage(40, 16, 4)
	saveCLITestPNG(t, rd, "big.png", bigR)
	saveCLITestPNG(t, rd, "small.png", smallR)

	stdout, stderr, err := runCLI(t, evalRun, "--restored", rd, "--truth", td, "--border", "4")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(stdout), "nan") {
		t.Errorf("table prints NaN:\n%s", stdout)
	}
	if !strings.Contains(stderr, "small") || strings.Contains(stderr, "big") || !strings.Contains(stderr, "SSIM") {
		t.Errorf("warning should name small (only): %q", stderr)
	}
	wantSSIM, _ := metrics.SSIMImage(bigR, big, 4)
	meanLine := ""
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "mean of 2") {
			meanLine = l
		}
	}
	if f := strings.Fields(meanLine); len(f) != 5 || f[4] != strings.TrimSpace(ssimText(wantSSIM)) {
		t.Errorf("mean line %q: want the SSIM of big alone, %.6f", meanLine, wantSSIM)
	}

	stdout, _, err = runCLI(t, evalRun, "--restored", rd, "--truth", td, "--border", "4", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Images []struct {
			Name string
			SSIM *float64
		}
		Mean   struct{ SSIM *float64 }
		NoSSIM []string `json:"no_ssim"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if doc.Mean.SSIM == nil || math.Abs(*doc.Mean.SSIM-wantSSIM) > 1e-12 || len(doc.NoSSIM) != 1 || doc.NoSSIM[0] != "small" {
		t.Errorf("JSON mean SSIM %v, no_ssim %v; want %v and [small]", doc.Mean.SSIM, doc.NoSSIM, wantSSIM)
	}

	// Every image too small (big with border 15 is 10x10): no SSIM mean at
	// all, and still no NaN.
	rd2, td2 := filepath.Join(dir, "r2"), filepath.Join(dir, "t2")
	saveCLITestPNG(t, td2, "big.png", big)
	saveCLITestPNG(t, rd2, "big.png", bigR)
	stdout, _, err = runCLI(t, evalRun, "--restored", rd2, "--truth", td2, "--border", "15")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(stdout), "nan") || strings.Count(stdout, "n/a") != 2 || !strings.Contains(stdout, "no image is large enough") {
		t.Errorf("every image too small: want n/a for the image and the mean:\n%s", stdout)
	}
}
