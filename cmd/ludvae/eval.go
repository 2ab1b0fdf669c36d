package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/job"
	"github.com/ludvae/ludvae/internal/limits"
	"github.com/ludvae/ludvae/synth/metrics"
)

// runEval is `ludvae eval` (PSNR/SSIM of restored images against the
// truth) and `ludvae eval noise` (noise statistics of degradations).
func runEval(args []string) error { return evalCommand(args, os.Stdout, os.Stderr) }

// evalCommand runs `ludvae eval` with its report on stdout and warnings
// and usage on stderr.
func evalCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "noise" {
		return evalNoiseCommand(args[1:], stdout, stderr)
	}
	fs := newFlagSet("eval")
	fs.SetOutput(stderr)
	restored := fs.String("restored", "", "folder of restored (or synthesized) images (required)")
	truth := fs.String("truth", "", "folder of ground-truth images, paired with --restored by name (required)")
	border := fs.Int("border", 0, "pixels cropped from every side before measuring (KAIR uses the SR scale)")
	asJSON := fs.Bool("json", false, "print a JSON document instead of a table")
	yOnly := fs.Bool("y", false, "measure the luma Y only (KAIR's rgb2ycbcr(only_y=True) on the 8-bit images)")
	workers := fs.Int("workers", job.Workers(0), "images measured in parallel")
	lowpass := fs.Float64("lowpass", 0, "blur both images by a Gaussian of this std in pixels first (cv2.GaussianBlur, window 2⌈3σ⌉+1): compares content and colours, not noise")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: ludvae eval --restored DIR --truth DIR [--border N] [--json] [--y] [--lowpass SIGMA]
       ludvae eval noise --synthetic DIR [--synthetic DIR...] --real DIR --clean DIR [--bins 16] [--plot OUT.png] [--json]

PSNR and SSIM with KAIR's definitions (utils_image.calculate_psnr/ssim on
the images quantized to 8 bits) per image and their mean. Files pair by
their path under the folder without the extension (the base name for flat
folders): restored/0001.png pairs with truth/0001.jpg. Run
`+"`ludvae eval noise --help`"+` for the noise statistics.

flags:
`)
		fs.PrintDefaults()
	}
	if err := parseFlagsArgs(fs, args); err != nil {
		return err // pflag.ErrHelp after --help: main exits 0
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (did you mean `ludvae eval noise`?)", fs.Arg(0))
	}
	switch {
	case *restored == "":
		return errors.New("--restored is required")
	case *truth == "":
		return errors.New("--truth is required")
	case *border < 0:
		return fmt.Errorf("--border %d: must be >= 0", *border)
	case *workers < 1:
		return fmt.Errorf("--workers %d: must be >= 1", *workers)
	case *border > limits.MaxSide:
		return limits.Int("--border", *border, limits.MaxSide, fmt.Sprintf("images are at most %d pixels, %d²", limits.MaxPixels, limits.MaxSide))
	case *lowpass < 0 || math.IsNaN(*lowpass):
		return fmt.Errorf("--lowpass %g: must be >= 0 (0: none)", *lowpass)
	case *lowpass > limits.MaxLowPass:
		return fmt.Errorf("--lowpass %g: at most %g (its window of 2⌈3σ⌉+1 taps would be wider than twice the largest image side, %d, which blurs every image to its mean)", *lowpass, limits.MaxLowPass, limits.MaxSide)
	}
	if err := guardPaths(nil, paths(p("--restored", *restored), p("--truth", *truth)), nil); err != nil {
		return err
	}
	rest, err := indexFolder(*restored, "--restored")
	if err != nil {
		return err
	}
	tru, err := indexFolder(*truth, "--truth")
	if err != nil {
		return err
	}
	keys := commonKeys(rest, tru)
	onlyRest, onlyTruth := missingKeys(rest, keys), missingKeys(tru, keys)
	reportUnmatched(stderr, onlyRest, "--restored "+*restored, "--truth "+*truth)
	reportUnmatched(stderr, onlyTruth, "--truth "+*truth, "--restored "+*restored)
	if len(keys) == 0 {
		return fmt.Errorf("no image in --restored %s has a same-named image in --truth %s", *restored, *truth)
	}

	results := make([]imageScore, len(keys))
	err = job.ForEach(len(keys), *workers, func(_, i int) error {
		r, err := scorePair(rest[keys[i]], tru[keys[i]], *border, *yOnly, *lowpass)
		if err != nil {
			return err
		}
		r.Name = keys[i]
		results[i] = r
		return nil
	})
	if err != nil {
		return err
	}
	mean, excluded := scoreMeans(results)
	reportNoSSIM(stderr, excluded, *border)
	if *asJSON {
		doc := evalDoc{Border: *border, LowPass: *lowpass, Channel: "rgb", UnmatchedRestored: onlyRest, UnmatchedTruth: onlyTruth, NoSSIM: excluded}
		if *yOnly {
			doc.Channel = "y"
		}
		doc.Images, doc.Mean = results, mean
		return writeJSON(stdout, doc)
	}
	width := len("image")
	for _, r := range results {
		width = max(width, len(r.Name))
	}
	meanLabel := fmt.Sprintf("mean of %d", len(results))
	width = max(width, len(meanLabel))
	channel := "RGB"
	if *yOnly {
		channel = "Y"
	}
	if *lowpass > 0 {
		channel += fmt.Sprintf(", low-passed by σ %g", *lowpass)
	}
	fmt.Fprintf(stdout, "%-*s  %10s  %8s   (%s, border %d)\n", width, "image", "PSNR (dB)", "SSIM", channel, *border)
	for _, r := range results {
		fmt.Fprintf(stdout, "%-*s  %10.4f  %8s\n", width, r.Name, r.PSNR, ssimText(r.SSIM))
	}
	fmt.Fprintf(stdout, "%-*s  %10.4f  %8s\n", width, meanLabel, mean.PSNR, ssimText(mean.SSIM))
	if note := ssimNote(len(results), len(excluded)); note != "" {
		fmt.Fprintln(stdout, note)
	}
	return nil
}

// imageScore is the PSNR and SSIM of one pair, or their means.
type imageScore struct {
	Name string  `json:"name,omitempty"`
	PSNR float64 `json:"psnr,inf"` // +Inf (identical images) as "inf", not null
	SSIM float64 `json:"ssim"`
}

// scorePair loads a restored and a truth image, low-passes both if
// lowpass > 0, and measures them.
func scorePair(restoredPath, truthPath string, border int, yOnly bool, lowpass float64) (imageScore, error) {
	a, err := images.Load(restoredPath)
	if err != nil {
		return imageScore{}, err
	}
	b, err := images.Load(truthPath)
	if err != nil {
		return imageScore{}, err
	}
	if a.W != b.W || a.H != b.H {
		return imageScore{}, fmt.Errorf("%s is %dx%d but %s is %dx%d", restoredPath, a.W, a.H, truthPath, b.W, b.H)
	}
	if 2*border >= a.W || 2*border >= a.H {
		return imageScore{}, fmt.Errorf("--border %d leaves nothing of the %dx%d images %s and %s", border, a.W, a.H, restoredPath, truthPath)
	}
	if lowpass > 0 {
		if a, err = metrics.LowPass(a, lowpass); err != nil {
			return imageScore{}, fmt.Errorf("--lowpass on %s: %w", restoredPath, err)
		}
		if b, err = metrics.LowPass(b, lowpass); err != nil {
			return imageScore{}, fmt.Errorf("--lowpass on %s: %w", truthPath, err)
		}
	}
	qa, qb := images.ToUint8(a), images.ToUint8(b)
	c := images.Channels
	if yOnly {
		qa, qb, c = kairY(qa), kairY(qb), 1
	}
	return imageScore{
		PSNR: metrics.PSNRUint8(qa, qb, a.H, a.W, c, border),
		SSIM: metrics.SSIMUint8(qa, qb, a.H, a.W, c, border),
	}, nil
}

// kairY is KAIR's rgb2ycbcr(img, only_y=True) on an 8-bit HWC RGB image:
// round(dot(rgb, [65.481, 128.553, 24.966]) / 255 + 16) in float64, numpy's
// round half to even, as uint8 (ITU-R BT.601 luma on the 16–235 range).
func kairY(rgb []uint8) []uint8 {
	y := make([]uint8, len(rgb)/3)
	for i := range y {
		r, g, b := float64(rgb[3*i]), float64(rgb[3*i+1]), float64(rgb[3*i+2])
		y[i] = uint8(math.RoundToEven((r*65.481+g*128.553+b*24.966)/255 + 16))
	}
	return y
}

// evalDoc is the --json output of `ludvae eval`.
type evalDoc struct {
	Images            []imageScore `json:"images"`
	Mean              imageScore   `json:"mean"`
	Border            int          `json:"border"`
	LowPass           float64      `json:"lowpass,omitempty"` // σ of the Gaussian blur applied to both images first
	Channel           string       `json:"channel"`
	UnmatchedRestored []string     `json:"unmatched_restored,omitempty"`
	UnmatchedTruth    []string     `json:"unmatched_truth,omitempty"`
	NoSSIM            []string     `json:"no_ssim,omitempty"` // too small for SSIM's window: left out of its mean
}
