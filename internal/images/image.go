package images

import "fmt"

// Channels is the number of colour channels of every Image (RGB).
const Channels = 3

// Image is an RGB image stored planar (CHW): the value of channel c at
// column x, row y is Pix[c*H*W + y*W + x]. Values are in [0,1] for decoded
// images; only the quantizers (ToUint8, ToUint16, SavePNG) clamp.
type Image struct {
	W, H int
	Pix  []float32
}

// New returns a black w×h image. It panics if w or h is negative.
func New(w, h int) *Image {
	if w < 0 || h < 0 {
		panic(fmt.Sprintf("images.New: negative size %dx%d", w, h))
	}
	return &Image{W: w, H: h, Pix: make([]float32, Channels*w*h)}
}

// At returns channel c at column x, row y.
func (m *Image) At(x, y, c int) float32 {
	return m.Pix[m.index(x, y, c)]
}

// Set sets channel c at column x, row y to v.
func (m *Image) Set(x, y, c int, v float32) {
	m.Pix[m.index(x, y, c)] = v
}

func (m *Image) index(x, y, c int) int {
	if uint(x) >= uint(m.W) || uint(y) >= uint(m.H) || uint(c) >= Channels {
		panic(fmt.Sprintf("images: pixel (%d,%d) channel %d outside %dx%d image", x, y, c, m.W, m.H))
	}
	return (c*m.H+y)*m.W + x
}

// Plane returns channel c as a slice of H*W values (row-major), sharing
// memory with m.
func (m *Image) Plane(c int) []float32 {
	n := m.W * m.H
	return m.Pix[c*n : (c+1)*n : (c+1)*n]
}

// Clone returns a deep copy of m.
func (m *Image) Clone() *Image {
	return &Image{W: m.W, H: m.H, Pix: append([]float32(nil), m.Pix...)}
}

// Crop returns a copy of the w×h rectangle whose top-left pixel is (x, y).
// It panics if the rectangle does not lie inside m.
func (m *Image) Crop(x, y, w, h int) *Image {
	if x < 0 || y < 0 || w < 0 || h < 0 || x > m.W-w || y > m.H-h {
		panic(fmt.Sprintf("images: crop %dx%d at (%d,%d) outside %dx%d image", w, h, x, y, m.W, m.H))
	}
	out := New(w, h)
	for c := 0; c < Channels; c++ {
		src, dst := m.Plane(c), out.Plane(c)
		for r := 0; r < h; r++ {
			copy(dst[r*w:(r+1)*w], src[(y+r)*m.W+x:])
		}
	}
	return out
}

// FromUint8 builds an image from interleaved 8-bit RGB (HWC, the layout of
// a numpy uint8 image), mapping v to v/255. It panics if len(hwc) is not
// 3*w*h.
func FromUint8(w, h int, hwc []uint8) *Image {
	if len(hwc) != Channels*w*h {
		panic(fmt.Sprintf("images.FromUint8: %d bytes for a %dx%d RGB image", len(hwc), w, h))
	}
	m := New(w, h)
	n := w * h
	r, g, b := m.Plane(0), m.Plane(1), m.Plane(2)
	for i := 0; i < n; i++ {
		r[i] = lut8[hwc[3*i]]
		g[i] = lut8[hwc[3*i+1]]
		b[i] = lut8[hwc[3*i+2]]
	}
	return m
}

// ToHWC returns m's values interleaved (HWC, numpy's layout for images).
func ToHWC(m *Image) []float32 {
	n := m.W * m.H
	out := make([]float32, Channels*n)
	for c := 0; c < Channels; c++ {
		p := m.Plane(c)
		for i, v := range p {
			out[Channels*i+c] = v
		}
	}
	return out
}

// lut8[v] is float32(v)/255, the exact float32 of v/255.
var lut8 = func() (t [256]float32) {
	for v := range t {
		t[v] = float32(v) / 255
	}
	return
}()

// Value8 is the value Load gives an 8-bit sample v: float32(v)/255.
func Value8(v uint8) float32 { return lut8[v] }

// Value16 is the value Load gives a 16-bit sample v: float32(v)/65535.
func Value16(v uint16) float32 { return float32(v) / 65535 }
