package degrade

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"

	"github.com/ludvae/ludvae/internal/images"
)

// JPEGRoundTrip returns img encoded as a JPEG of the given quality (1..100)
// with Go's image/jpeg (4:2:0 chroma subsampling) and decoded again. The
// image is first quantized to 8 bits as images.ToUint8 does. A quality
// outside 1..100 is an error.
func JPEGRoundTrip(img *images.Image, quality int) (*images.Image, error) {
	if quality < 1 || quality > 100 {
		return nil, fmt.Errorf("degrade: JPEG quality %d outside 1..100", quality)
	}
	if img.W == 0 || img.H == 0 {
		return img.Clone(), nil
	}
	q := images.ToUint8(img)
	rgba := image.NewRGBA(image.Rect(0, 0, img.W, img.H))
	for i := 0; i < img.W*img.H; i++ {
		copy(rgba.Pix[4*i:4*i+3], q[3*i:3*i+3])
		rgba.Pix[4*i+3] = 0xff
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("degrade: JPEG encode of a %dx%d image: %w", img.W, img.H, err)
	}
	dec, err := jpeg.Decode(&buf)
	if err != nil {
		return nil, fmt.Errorf("degrade: decoding our own JPEG: %w", err)
	}
	return images.FromImage(dec), nil
}
