package store

import (
	"encoding/binary"
	"io"
	"math"

	"github.com/ludvae/ludvae/internal/images"
)

// encode returns m's pixels as the store keeps them (interleaved HWC,
// little-endian) in the narrowest dtype that holds every value exactly, so
// that a crop read back equals the crop of m bit for bit.
func encode(m *images.Image) (raw []byte, dtype string) {
	if b, ok := encode8(m); ok {
		return b, "uint8"
	}
	if b, ok := encode16(m); ok {
		return b, "uint16"
	}
	return encode32(m), "float32"
}

func encode8(m *images.Image) ([]byte, bool) {
	n := m.W * m.H
	out := make([]byte, images.Channels*n)
	for c := range images.Channels {
		for i, v := range m.Plane(c) {
			q := uint8(math.Round(float64(v) * 255))
			if !(v >= 0 && v <= 1) || images.Value8(q) != v {
				return nil, false
			}
			out[images.Channels*i+c] = q
		}
	}
	return out, true
}

func encode16(m *images.Image) ([]byte, bool) {
	n := m.W * m.H
	out := make([]byte, 2*images.Channels*n)
	for c := range images.Channels {
		for i, v := range m.Plane(c) {
			q := uint16(math.Round(float64(v) * 65535))
			if !(v >= 0 && v <= 1) || images.Value16(q) != v {
				return nil, false
			}
			binary.LittleEndian.PutUint16(out[2*(images.Channels*i+c):], q)
		}
	}
	return out, true
}

func encode32(m *images.Image) []byte {
	n := m.W * m.H
	out := make([]byte, 4*images.Channels*n)
	for c := range images.Channels {
		for i, v := range m.Plane(c) {
			binary.LittleEndian.PutUint32(out[4*(images.Channels*i+c):], math.Float32bits(v))
		}
	}
	return out
}

// channelSums are the per-channel sums of m's values and of their
// squares, accumulated in float64 in the order train's in-memory colour
// statistics used, so the statistics of a store equal them to rounding.
func channelSums(m *images.Image) (sum, sq [3]float64) {
	for c := range images.Channels {
		for _, v := range m.Plane(c) {
			sum[c] += float64(v)
			sq[c] += float64(v) * float64(v)
		}
	}
	return sum, sq
}

// channelSums8 is channelSums of interleaved 8-bit samples: each channel
// accumulates the same values in the same order, so the sums are equal bit
// for bit.
func channelSums8(hwc []byte) (sum, sq [3]float64) {
	for i := 0; i+2 < len(hwc); i += 3 {
		for c := range 3 {
			v := float64(images.Value8(hwc[i+c]))
			sum[c] += v
			sq[c] += v * v
		}
	}
	return sum, sq
}

// decodeSamples converts n samples of dtype from raw (little-endian) to
// their values in [0,1].
func decodeSamples(dst []float32, raw []byte, dtype string) {
	switch dtype {
	case "uint8":
		for i := range dst {
			dst[i] = images.Value8(raw[i])
		}
	case "uint16":
		for i := range dst {
			dst[i] = images.Value16(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	default:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	}
}

// writeTiled writes raw (interleaved HWC rows of width pixels of bps-byte
// samples) as the store lays pixels out: Tile×Tile tiles, row-major
// within a tile and tiles row-major in the image, the right and bottom
// tiles padded with zeros. A crop then reads one contiguous run of bytes
// per row of tiles it covers instead of one per pixel row.
func writeTiled(w io.Writer, raw []byte, width, height, bps int) error {
	px := images.Channels * bps // bytes per pixel
	tileRow := Tile * px        // bytes of one pixel row of a tile
	tilesX := (width + Tile - 1) / Tile
	buf := make([]byte, tilesX*Tile*tileRow)
	for ty := 0; ty*Tile < height; ty++ {
		clear(buf)
		for yy := range min(Tile, height-ty*Tile) {
			row := raw[(ty*Tile+yy)*width*px : (ty*Tile+yy+1)*width*px]
			for tx := range tilesX {
				seg := row[tx*tileRow : min((tx+1)*tileRow, len(row))]
				copy(buf[(tx*Tile+yy)*tileRow:], seg)
			}
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}
