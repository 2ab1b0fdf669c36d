package metrics

import (
	"fmt"
	"math"

	"github.com/ludvae/ludvae/internal/images"
)

// PSNR is KAIR's calculate_psnr(img1, img2, border): with the border
// cropped from each side, 20·log10(255 / sqrt(MSE)) over all remaining
// values of the HWC images a and b (h rows, w columns, c channels, values
// on the 0–255 scale). Identical images give +Inf; a border that leaves
// nothing gives NaN (numpy's mean of an empty array). It panics if a or b
// is not h*w*c long or border is negative.
func PSNR(a, b []float64, h, w, c, border int) float64 {
	checkShape("PSNR", len(a), len(b), h, w, c, border)
	return psnr(a, b, h, w, c, border)
}

// PSNRUint8 is PSNR on uint8 HWC images (KAIR's usual input).
func PSNRUint8(a, b []uint8, h, w, c, border int) float64 {
	checkShape("PSNRUint8", len(a), len(b), h, w, c, border)
	return psnr(a, b, h, w, c, border)
}

// psnr sums the squared differences inside the border in float64.
func psnr[T float64 | uint8](a, b []T, h, w, c, border int) float64 {
	var sum float64
	n := 0
	for y := border; y < h-border; y++ {
		lo, hi := (y*w+border)*c, (y*w+w-border)*c
		for i := lo; i < hi; i++ {
			d := float64(a[i]) - float64(b[i])
			sum += d * d
		}
		n += hi - lo
	}
	return psnrFromMSE(sum, n)
}

func psnrFromMSE(sum float64, n int) float64 {
	if n <= 0 {
		return math.NaN()
	}
	mse := sum / float64(n)
	if mse == 0 {
		return math.Inf(1)
	}
	return 20 * math.Log10(255/math.Sqrt(mse))
}

// PSNRImage is PSNR between two RGB images after quantizing both to uint8
// as KAIR does before measuring (images.ToUint8: clip, ×255, round half to
// even). Differently sized images are an error.
func PSNRImage(a, b *images.Image, border int) (float64, error) {
	if err := sameSize(a, b, border); err != nil {
		return 0, err
	}
	return PSNRUint8(images.ToUint8(a), images.ToUint8(b), a.H, a.W, images.Channels, border), nil
}

func checkShape(fn string, la, lb, h, w, c, border int) {
	if h < 0 || w < 0 || c <= 0 || border < 0 || la != h*w*c || lb != la {
		panic(fmt.Sprintf("metrics.%s: images of %d and %d values for h=%d w=%d c=%d border=%d", fn, la, lb, h, w, c, border))
	}
}

func sameSize(a, b *images.Image, border int) error {
	if a.W != b.W || a.H != b.H {
		return fmt.Errorf("metrics: comparing a %dx%d image with a %dx%d one", a.W, a.H, b.W, b.H)
	}
	if border < 0 {
		return fmt.Errorf("metrics: negative border %d", border)
	}
	return nil
}
