package noisestats

import (
	"fmt"

	"github.com/ludvae/ludvae/internal/images"
)

// Noise returns degraded − clean, computed in float32 as PyTorch computes
// it on images loaded as float32 in [0,1] (DANet's and NAFlow's metrics
// start from that difference). The images must have the same size.
func Noise(degraded, clean *images.Image) (*images.Image, error) {
	if degraded.W != clean.W || degraded.H != clean.H {
		return nil, fmt.Errorf("noisestats: degraded image is %dx%d, clean one %dx%d", degraded.W, degraded.H, clean.W, clean.H)
	}
	noise := &images.Image{W: clean.W, H: clean.H, Pix: make([]float32, len(clean.Pix))}
	for i, v := range degraded.Pix {
		noise.Pix[i] = v - clean.Pix[i]
	}
	return noise, nil
}
