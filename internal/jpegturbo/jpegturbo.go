// Package jpegturbo decodes JPEG files with libjpeg-turbo (Debian's
// libjpeg62-turbo, linked statically through cgo) so that ludvae sees the
// same pixels as PIL and OpenCV, and so as KAIR and BasicSR: the accurate
// integer IDCT (JDCT_ISLOW) and fancy upsampling of subsampled chroma. Go's
// image/jpeg differs from them by up to tens of grey levels on ordinary
// 4:2:0 photos, which would change the very noise LUD-VAE learns.
//
// It is the one package besides torchbind that imports "C": a JPEG decoder
// that matches libjpeg-turbo bit for bit has to be libjpeg-turbo. The C side
// (jt.c) installs an error manager that returns instead of calling exit(),
// so corrupt and truncated files are errors, never a crash.
package jpegturbo

// #cgo LDFLAGS: -l:libjpeg.a
// #include <stdlib.h>
// #include "jt.h"
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// ErrTruncated is wrapped by the error Decode returns when the data ends
// before the last row of pixels.
var ErrTruncated = errors.New("truncated")

// ColorSpace is the colour space of a JPEG's samples, as libjpeg reads it
// from the file's markers.
type ColorSpace int

// The colour spaces libjpeg distinguishes (jpeglib.h's J_COLOR_SPACE).
const (
	Unknown ColorSpace = iota
	Gray
	RGB
	YCbCr
	CMYK
	YCCK
)

var colorSpaceNames = [...]string{"unknown", "grey", "RGB", "YCbCr", "CMYK", "YCCK"}

// String names the colour space.
func (c ColorSpace) String() string {
	if c >= 0 && int(c) < len(colorSpaceNames) {
		return colorSpaceNames[c]
	}
	return fmt.Sprintf("colour space %d", int(c))
}

// Config is what a JPEG's header declares.
type Config struct {
	Width, Height int
	Components    int
	ColorSpace    ColorSpace
	Progressive   bool
}

// Image is a decoded JPEG: 8-bit samples, row by row, channels interleaved.
type Image struct {
	Width, Height int
	// Channels is 1 for grey files and 3 (R, G, B) for every other kind.
	Channels int
	Pix      []byte
}

// Decode decodes the JPEG in data. If accept is not nil it is called with
// the header before any pixel is decoded (for size limits), and an error it
// returns is returned unchanged. Grey files decode to one channel; YCbCr and
// RGB files to RGB; CMYK and YCCK files to RGB with PIL's conversion
// (CMYKToRGB). Other component counts are refused.
func Decode(data []byte, accept func(Config) error) (*Image, error) {
	if len(data) == 0 {
		return nil, errors.New("libjpeg: empty data")
	}
	// libjpeg keeps reading data between the two C calls below: pinned,
	// it may hold the Go pointer without a copy of the file.
	var pin runtime.Pinner
	pin.Pin(&data[0])
	defer pin.Unpin()
	var msg [C.JT_MSG_LEN]C.char
	var dec *C.jt_dec
	var hdr C.jt_header
	code := C.jt_open((*C.uchar)(unsafe.Pointer(&data[0])), C.size_t(len(data)), &dec, &hdr, &msg[0])
	if code != 0 {
		return nil, failure(code, "read header", &msg)
	}
	defer C.jt_close(dec)
	cfg := Config{int(hdr.width), int(hdr.height), int(hdr.components), ColorSpace(hdr.color_space), hdr.progressive != 0}
	channels, err := channelsFor(cfg)
	if err != nil {
		return nil, err
	}
	if accept != nil {
		if err := accept(cfg); err != nil {
			return nil, err
		}
	}
	pix := make([]byte, cfg.Width*cfg.Height*channels)
	code = C.jt_decode(dec, C.int(channels), (*C.uchar)(unsafe.Pointer(&pix[0])), &msg[0])
	if code != 0 {
		return nil, failure(code, "decode", &msg)
	}
	if channels == 4 {
		pix = CMYKToRGB(pix)
		channels = 3
	}
	return &Image{cfg.Width, cfg.Height, channels, pix}, nil
}

// channelsFor is the number of channels libjpeg is asked for: grey stays
// grey, CMYK stays CMYK (converted here, as PIL converts it), everything
// else becomes RGB.
func channelsFor(cfg Config) (int, error) {
	switch {
	case cfg.Components == 1:
		return 1, nil
	case cfg.Components == 3 && (cfg.ColorSpace == YCbCr || cfg.ColorSpace == RGB):
		return 3, nil
	case cfg.Components == 4 && (cfg.ColorSpace == CMYK || cfg.ColorSpace == YCCK):
		return 4, nil
	}
	return 0, fmt.Errorf("libjpeg: unsupported JPEG: %d components in colour space %v", cfg.Components, cfg.ColorSpace)
}

// failure turns a C return code and message into an error.
func failure(code C.int, what string, msg *[C.JT_MSG_LEN]C.char) error {
	text := C.GoString(&msg[0])
	if code == C.JT_TRUNCATED {
		return fmt.Errorf("libjpeg: %s: %w: %s", what, ErrTruncated, text)
	}
	return fmt.Errorf("libjpeg: %s: %s", what, text)
}

// CMYKToRGB converts CMYK samples as libjpeg returns them for a JPEG into
// RGB the way PIL does. PIL reads a JPEG's CMYK inverted (Adobe's
// convention, rawmode "CMYK;I": its C = 255 - s for libjpeg's sample s),
// then Image.convert("RGB") computes each of R, G, B from C, M, Y as
// n - round(C*n/255) with n = 255 - K (Pillow 9's cmyk2rgb, MULDIV255
// rounding). It returns a new slice of 3 bytes per pixel.
func CMYKToRGB(cmyk []byte) []byte {
	rgb := make([]byte, len(cmyk)/4*3)
	for i, j := 0, 0; i+3 < len(cmyk); i, j = i+4, j+3 {
		n := int(cmyk[i+3]) // 255 - K, K = 255 - s
		for c := 0; c < 3; c++ {
			rgb[j+c] = byte(n - muldiv255(255-int(cmyk[i+c]), n))
		}
	}
	return rgb
}

// muldiv255 is a*b/255 rounded, computed as Pillow's MULDIV255 macro does.
func muldiv255(a, b int) int {
	t := a*b + 128
	return ((t >> 8) + t) >> 8
}
