package images

import (
	"fmt"
	"image"
	"image/png"
	"io"
	"math"

	"github.com/ludvae/ludvae/internal/atomicfile"
)

// quantize maps v to 0..scale as KAIR's single2uint/single2uint16 do,
// np.uint8((img.clip(0, 1)*255.).round()) on a float32 image: clip, multiply
// in float32, round half to even. NaN becomes 0.
func quantize(v, scale float32) uint32 {
	if !(v > 0) { // also NaN
		return 0
	}
	if v > 1 {
		v = 1
	}
	p := float32(v * scale) // rounded to float32 as numpy does
	return uint32(math.RoundToEven(float64(p)))
}

// RoundTo8Bit clips m to [0,1] and rounds it to the 8-bit levels in place:
// m as an 8-bit PNG would hold it and Load read it back.
func RoundTo8Bit(m *Image) {
	for i, v := range m.Pix {
		m.Pix[i] = float32(quantize(v, 255)) / 255
	}
}

// ToUint8 returns m as interleaved 8-bit RGB (HWC), each value clipped to
// [0,1], scaled by 255 in float32 and rounded half to even, exactly as
// KAIR's single2uint (np.uint8((img.clip(0,1)*255.).round())).
func ToUint8(m *Image) []uint8 { return toHWC[uint8](m, 255) }

// ToUint16 returns m as interleaved 16-bit RGB (HWC), rounded as KAIR's
// single2uint16 (np.uint16((img.clip(0,1)*65535.).round())).
func ToUint16(m *Image) []uint16 { return toHWC[uint16](m, 65535) }

// toHWC quantizes m's planes to [0, scale] and interleaves them.
func toHWC[T uint8 | uint16](m *Image, scale float32) []T {
	out := make([]T, Channels*m.W*m.H)
	for c := 0; c < Channels; c++ {
		for i, v := range m.Plane(c) {
			out[Channels*i+c] = T(quantize(v, scale))
		}
	}
	return out
}

// SavePNG writes m as an opaque RGB PNG with 8 or 16 bits per sample,
// quantized as ToUint8 / ToUint16. The file is written atomically (package
// atomicfile): readers never see a partial image and a failure leaves no
// file behind.
// Errors are *FileError values.
func SavePNG(path string, m *Image, bits int) error {
	var img image.Image
	switch bits {
	case 8:
		q := ToUint8(m)
		rgba := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
		for i := 0; i < m.W*m.H; i++ {
			copy(rgba.Pix[4*i:4*i+3], q[3*i:3*i+3])
			rgba.Pix[4*i+3] = 0xff
		}
		img = rgba
	case 16:
		q := ToUint16(m)
		rgba := image.NewRGBA64(image.Rect(0, 0, m.W, m.H))
		for i := 0; i < m.W*m.H; i++ {
			p := rgba.Pix[8*i : 8*i+8]
			for c := 0; c < 3; c++ {
				p[2*c], p[2*c+1] = uint8(q[3*i+c]>>8), uint8(q[3*i+c])
			}
			p[6], p[7] = 0xff, 0xff
		}
		img = rgba
	default:
		return &FileError{path, fmt.Errorf("unsupported PNG bit depth %d (want 8 or 16)", bits)}
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
		return &FileError{path, unwrapPathError(err)}
	}
	return nil
}

// WritePNG writes any image.Image (a plot, a montage) as a PNG, atomically
// (package atomicfile).
func WritePNG(path string, img image.Image) error {
	return atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, img) })
}
