package images

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/png" // register PNG
	"io"
	"os"
	"syscall"

	"github.com/ludvae/ludvae/internal/jpegturbo"
	"github.com/ludvae/ludvae/internal/limits"
	_ "golang.org/x/image/tiff" // register TIFF
	_ "golang.org/x/image/webp" // register WebP
)

// MaxPixels bounds the width×height a file may declare before Load refuses
// it (a guard against decompression bombs); 1<<28 pixels is 3 GiB of
// float32 RGB.
var MaxPixels = limits.MaxPixels

// ErrTooSmall is wrapped by the error LoadAll reports for an image smaller
// than its minimum size.
var ErrTooSmall = errors.New("image too small")

// FileError is the error Load, LoadAll and SavePNG return: the file and
// what went wrong with it.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return "images: " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }

// Load decodes a PNG (8 or 16 bit; grey, grey+alpha, paletted, RGB, RGBA),
// JPEG, TIFF or WebP file into an RGB image. JPEGs are decoded by
// libjpeg-turbo exactly as PIL and OpenCV decode them (package jpegturbo;
// CMYK converted as PIL converts it). Grey is replicated to the
// three channels, alpha is dropped (colours are taken un-premultiplied),
// 8-bit samples become v/255 and 16-bit samples v/65535. Errors are
// *FileError values naming the path and the reason.
func Load(path string) (*Image, error) {
	return load(path, 0)
}

// load decodes path, refusing images smaller than minSize on either side
// (checked from the header, before decoding the pixels).
func load(path string, minSize int) (*Image, error) {
	d, err := decodeFile(path, minSize)
	if err != nil {
		return nil, err
	}
	return d.image(), nil
}

// Load8 decodes path as Load does. When the file's samples are all 8-bit
// levels (8-bit PNG without alpha to un-premultiply, grey, JPEG, ...) it
// returns them interleaved (HWC, RGB) in hwc, with m nil: the same values
// as Load's times 255, without the four-times larger float32 image. Any
// other file comes back in m, as Load returns it.
func Load8(path string) (hwc []byte, w, h int, m *Image, err error) {
	d, err := decodeFile(path, 0)
	if err != nil {
		return nil, 0, 0, nil, err
	}
	if hwc, w, h = d.rgb8(); hwc != nil {
		return hwc, w, h, nil, nil
	}
	return nil, 0, 0, d.image(), nil
}

// decoded is a file's pixels as its decoder gave them.
type decoded struct {
	src  image.Image      // every format but JPEG
	jpeg *jpegturbo.Image // JPEG: 8-bit samples, 1 or 3 interleaved channels
}

// decodeFile decodes path, refusing images smaller than minSize on either
// side (checked from the header, before decoding the pixels).
func decodeFile(path string, minSize int) (decoded, error) {
	f, err := openRegular(path)
	if err != nil {
		return decoded{}, &FileError{path, err}
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if magic, _ := br.Peek(2); string(magic) == jpegMagic {
		m, err := decodeJPEG(path, br, minSize)
		return decoded{jpeg: m}, err
	}
	cfg, format, err := image.DecodeConfig(br)
	if err != nil {
		return decoded{}, &FileError{path, fmt.Errorf("decode header: %w", err)}
	}
	if err := checkSize(format, cfg.Width, cfg.Height, minSize); err != nil {
		return decoded{}, &FileError{path, err}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return decoded{}, &FileError{path, err}
	}
	br.Reset(f)
	src, _, err := image.Decode(br)
	if err != nil {
		return decoded{}, &FileError{path, fmt.Errorf("decode %s: %w", format, err)}
	}
	return decoded{src: src}, nil
}

// image converts d with Load's rules.
func (d decoded) image() *Image {
	if d.jpeg != nil {
		return fromInterleaved(d.jpeg.Pix, d.jpeg.Width, d.jpeg.Height, d.jpeg.Channels)
	}
	return FromImage(d.src)
}

// rgb8 returns d's samples as interleaved 8-bit RGB when each of them is
// exactly an 8-bit level under Load's rules, else nil.
func (d decoded) rgb8() (hwc []byte, w, h int) {
	if j := d.jpeg; j != nil {
		if j.Channels == 3 {
			return j.Pix[:3*j.Width*j.Height], j.Width, j.Height
		}
		return grey8(j.Pix, j.Width, j.Height, j.Width), j.Width, j.Height
	}
	b := d.src.Bounds()
	w, h = b.Dx(), b.Dy()
	switch s := d.src.(type) {
	case *image.NRGBA: // alpha dropped, colours as stored
		return rgba8(s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], w, h, s.Stride, false), w, h
	case *image.RGBA: // premultiplied: exact only where opaque
		return rgba8(s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], w, h, s.Stride, true), w, h
	case *image.Gray:
		return grey8(s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], w, h, s.Stride), w, h
	case *image.YCbCr:
		return ycbcr8(s, b), w, h
	case *image.NYCbCrA:
		return ycbcr8(&s.YCbCr, b), w, h
	}
	return nil, 0, 0
}

// rgba8 copies the colours of 4-byte pixels; with opaque set it gives nil
// if a pixel is not fully opaque.
func rgba8(pix []byte, w, h, stride int, opaque bool) []byte {
	out := make([]byte, 3*w*h)
	for y := range h {
		row := pix[y*stride : y*stride+4*w]
		for x := range w {
			p := row[4*x : 4*x+4 : 4*x+4]
			if opaque && p[3] != 0xff {
				return nil
			}
			copy(out[3*(y*w+x):], p[:3])
		}
	}
	return out
}

func grey8(pix []byte, w, h, stride int) []byte {
	out := make([]byte, 3*w*h)
	for y := range h {
		for x, v := range pix[y*stride : y*stride+w] {
			i := 3 * (y*w + x)
			out[i], out[i+1], out[i+2] = v, v, v
		}
	}
	return out
}

// ycbcr8 converts as fromYCbCr does.
func ycbcr8(s *image.YCbCr, b image.Rectangle) []byte {
	w := b.Dx()
	out := make([]byte, 3*w*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			yi, ci := s.YOffset(x, y), s.COffset(x, y)
			i := 3 * ((y-b.Min.Y)*w + (x - b.Min.X))
			out[i], out[i+1], out[i+2] = color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
		}
	}
	return out
}

// jpegMagic starts every JPEG file (the SOI marker).
const jpegMagic = "\xff\xd8"

// decodeJPEG decodes the JPEG read from r with libjpeg-turbo, checking the
// size its header declares before decoding the pixels.
func decodeJPEG(path string, r io.Reader, minSize int) (*jpegturbo.Image, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &FileError{path, fmt.Errorf("read: %w", err)}
	}
	m, err := jpegturbo.Decode(data, func(c jpegturbo.Config) error {
		return checkSize("jpeg", c.Width, c.Height, minSize)
	})
	if err != nil {
		return nil, &FileError{path, fmt.Errorf("decode jpeg: %w", err)}
	}
	return m, nil
}

// checkSize refuses a declared size that is empty or above MaxPixels, or
// smaller than minSize on either side (wrapping ErrTooSmall).
func checkSize(format string, w, h, minSize int) error {
	if w <= 0 || h <= 0 || w > MaxPixels/h {
		return fmt.Errorf("%s declares unsupported size %dx%d", format, w, h)
	}
	if w < minSize || h < minSize {
		return fmt.Errorf("%w: %dx%d, need at least %dx%d", ErrTooSmall, w, h, minSize, minSize)
	}
	return nil
}

// fromInterleaved converts 8-bit samples, row by row with ch (1 or 3)
// interleaved channels, to an RGB Image (grey replicated, v/255).
func fromInterleaved(pix []byte, w, h, ch int) *Image {
	m := New(w, h)
	R, G, B := m.Plane(0), m.Plane(1), m.Plane(2)
	if ch == 1 {
		for i, v := range pix[:w*h] {
			R[i], G[i], B[i] = lut8[v], lut8[v], lut8[v]
		}
		return m
	}
	for i := range w * h {
		p := pix[3*i : 3*i+3]
		R[i], G[i], B[i] = lut8[p[0]], lut8[p[1]], lut8[p[2]]
	}
	return m
}

// openRegular opens path for reading if it is a regular file. It opens
// without blocking, so that a named pipe or a device among the images is
// refused instead of waited on forever.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, unwrapPathError(err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("not a regular file (%s)", st.Mode().Type())
	}
	return f, nil
}

// unwrapPathError drops the *fs.PathError wrapper, whose message repeats
// the path FileError already names.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// FromImage converts a decoded image.Image to an RGB Image with the rules
// of Load: grey replicated, alpha dropped with colours un-premultiplied,
// 8-bit samples v/255, 16-bit samples v/65535.
func FromImage(src image.Image) *Image {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	m := New(w, h)
	R, G, B := m.Plane(0), m.Plane(1), m.Plane(2)
	switch s := src.(type) {
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				i := y*w + x
				R[i], G[i], B[i] = lut8[row[4*x]], lut8[row[4*x+1]], lut8[row[4*x+2]]
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				i := y*w + x
				p := row[4*x : 4*x+4]
				if p[3] == 0xff {
					R[i], G[i], B[i] = lut8[p[0]], lut8[p[1]], lut8[p[2]]
				} else {
					R[i], G[i], B[i] = unpremul(uint32(p[0]), uint32(p[1]), uint32(p[2]), uint32(p[3]))
				}
			}
		}
	case *image.NRGBA64:
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				i := y*w + x
				R[i], G[i], B[i] = u16(row[8*x:]), u16(row[8*x+2:]), u16(row[8*x+4:])
			}
		}
	case *image.RGBA64:
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				i := y*w + x
				p := row[8*x : 8*x+8]
				a := uint32(p[6])<<8 | uint32(p[7])
				if a == 0xffff {
					R[i], G[i], B[i] = u16(p), u16(p[2:]), u16(p[4:])
				} else {
					R[i], G[i], B[i] = unpremul(be16(p), be16(p[2:]), be16(p[4:]), a)
				}
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				v := lut8[row[x]]
				i := y*w + x
				R[i], G[i], B[i] = v, v, v
			}
		}
	case *image.Gray16:
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				v := u16(row[2*x:])
				i := y*w + x
				R[i], G[i], B[i] = v, v, v
			}
		}
	case *image.YCbCr:
		fromYCbCr(s, b, R, G, B)
	case *image.NYCbCrA:
		fromYCbCr(&s.YCbCr, b, R, G, B)
	case *image.Paletted:
		pal := make([][3]float32, len(s.Palette))
		for k, c := range s.Palette {
			pal[k] = colorValues(c)
		}
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				i := y*w + x
				var v [3]float32 // out-of-palette indices read as black, as image.Paletted.At does
				if k := int(row[x]); k < len(pal) {
					v = pal[k]
				}
				R[i], G[i], B[i] = v[0], v[1], v[2]
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := colorValues(src.At(b.Min.X+x, b.Min.Y+y))
				i := y*w + x
				R[i], G[i], B[i] = v[0], v[1], v[2]
			}
		}
	}
	return m
}

// fromYCbCr converts with the standard library's (JFIF) YCbCr→RGB rounding.
func fromYCbCr(s *image.YCbCr, b image.Rectangle, R, G, B []float32) {
	w := b.Dx()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			yi, ci := s.YOffset(x, y), s.COffset(x, y)
			r, g, bb := color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
			i := (y-b.Min.Y)*w + (x - b.Min.X)
			R[i], G[i], B[i] = lut8[r], lut8[g], lut8[bb]
		}
	}
}

// colorValues returns the un-premultiplied RGB of any colour in [0,1].
func colorValues(c color.Color) [3]float32 {
	switch c := c.(type) {
	case color.NRGBA:
		return [3]float32{lut8[c.R], lut8[c.G], lut8[c.B]}
	case color.NRGBA64:
		return [3]float32{float32(c.R) / 65535, float32(c.G) / 65535, float32(c.B) / 65535}
	case color.Gray:
		v := lut8[c.Y]
		return [3]float32{v, v, v}
	case color.Gray16:
		v := float32(c.Y) / 65535
		return [3]float32{v, v, v}
	case color.RGBA:
		if c.A == 0xff {
			return [3]float32{lut8[c.R], lut8[c.G], lut8[c.B]}
		}
		r, g, b := unpremul(uint32(c.R), uint32(c.G), uint32(c.B), uint32(c.A))
		return [3]float32{r, g, b}
	}
	// Anything else: RGBA() is 16-bit premultiplied. An 8-bit value v
	// arrives as v*0x101, and float32(v*257)/65535 is exactly float32(v)/255.
	r, g, b, a := c.RGBA()
	if a == 0xffff {
		return [3]float32{float32(r) / 65535, float32(g) / 65535, float32(b) / 65535}
	}
	rr, gg, bb := unpremul(r, g, b, a)
	return [3]float32{rr, gg, bb}
}

// unpremul returns premultiplied r, g, b with alpha a (all on the same
// scale) as straight colour values in [0,1]; fully transparent pixels,
// whose colour is lost, become black.
func unpremul(r, g, b, a uint32) (float32, float32, float32) {
	if a == 0 {
		return 0, 0, 0
	}
	fa := float64(a)
	f := func(v uint32) float32 { return float32(min(float64(v)/fa, 1)) }
	return f(r), f(g), f(b)
}

func be16(p []byte) uint32 { return uint32(p[0])<<8 | uint32(p[1]) }

// u16 reads a big-endian 16-bit sample as v/65535.
func u16(p []byte) float32 { return float32(be16(p)) / 65535 }
