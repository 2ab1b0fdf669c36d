package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/pathguard"
)

// Store is an open image store. Its images are read with positioned reads,
// safe for concurrent use; nothing of the pixels is held in memory.
type Store struct {
	Dir   string
	Index Index
	imgs  []*Image // one per entry, nil for entries with an Error
}

// Image is one stored image.
type Image struct {
	*Entry
	f   *os.File
	bps int // bytes per sample
}

// IsStore reports whether dir holds an index.json (a store, or something
// Open will explain is not one).
func IsStore(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, indexName))
	return err == nil && st.Mode().IsRegular()
}

// DownscaleOf is the factor the store in dir shrank its images by.
func DownscaleOf(dir string) (int, error) {
	idx, err := readIndex(dir)
	if err != nil {
		return 0, err
	}
	return idx.Downscale, nil
}

// Open opens the store in dir for reading. A store whose build did not
// finish, of another format version, or whose pixel files are missing or of
// the wrong size is refused with an error that says so.
func Open(dir string) (*Store, error) {
	idx, err := readIndex(dir)
	if err != nil {
		return nil, err
	}
	if !idx.Complete {
		return nil, fmt.Errorf("store %s is incomplete: its build was interrupted (%d images so far); build it again from %s (ludvae prepare store, or ludvae train on the folder)", dir, len(idx.Images), idx.Source)
	}
	s := &Store{Dir: dir, Index: *idx, imgs: make([]*Image, len(idx.Images))}
	for i := range s.Index.Images {
		e := &s.Index.Images[i]
		if e.Error != "" {
			continue
		}
		m, err := openImage(dir, e)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.imgs[i] = m
	}
	return s, nil
}

func openImage(dir string, e *Entry) (*Image, error) {
	name := filepath.Join(dir, filepath.FromSlash(e.File))
	f, err := pathguard.OpenRegular(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("store %s: the pixels of %s (%s) are missing; rebuild the store", dir, e.Path, e.File)
		}
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	if st.Size() != e.pixelBytes() {
		f.Close()
		return nil, fmt.Errorf("store %s: %s (the pixels of %s) holds %d bytes, want %d for %dx%d %s: truncated or damaged; rebuild the store",
			dir, e.File, e.Path, st.Size(), e.pixelBytes(), e.Width, e.Height, e.DType)
	}
	return &Image{Entry: e, f: f, bps: sampleBytes(e.DType)}, nil
}

// Close closes the pixel files.
func (s *Store) Close() error {
	for _, m := range s.imgs {
		if m != nil {
			m.f.Close()
		}
	}
	s.imgs = nil
	return nil
}

// Len is the number of entries, including those with an Error.
func (s *Store) Len() int { return len(s.Index.Images) }

// Image returns entry i's image, or nil when the entry has an Error.
func (s *Store) Image(i int) *Image { return s.imgs[i] }

// SourcePath is entry i's source file, under root (the folder as the user
// named it; the index's absolute Source when root is "").
func (s *Store) SourcePath(root string, i int) string {
	if root == "" {
		root = s.Index.Source
	}
	return filepath.Join(root, filepath.FromSlash(s.Index.Images[i].Path))
}

// ReadRect reads the w×h rectangle whose top-left pixel is (x, y) into dst
// (w×h, planar), with the values Load gives the source file. buf is
// scratch space that may be reused across calls; the grown buffer is
// returned.
func (m *Image) ReadRect(dst *images.Image, x, y int, buf []byte) ([]byte, error) {
	return m.ReadAugmented(dst, x, y, 0, buf)
}

// ReadAugmented reads the rectangle at (x, y) transformed by augmentation
// mode (images.Augment's 0..7) into dst: the rectangle is dst's size, with
// width and height swapped for the odd (transposing) modes. The transform
// is applied as the pixels are converted, not as a second pass: the
// result equals images.Augment of ReadRect's. One positioned read per row
// of tiles the rectangle covers.
func (m *Image) ReadAugmented(dst *images.Image, x, y, mode int, buf []byte) ([]byte, error) {
	w, h := dst.W, dst.H
	if mode&1 == 1 {
		w, h = h, w
	}
	if x < 0 || y < 0 || w <= 0 || h <= 0 || x > m.Width-w || y > m.Height-h || mode < 0 || mode >= images.Modes {
		return buf, fmt.Errorf("store: %dx%d rectangle at (%d,%d), mode %d, outside the %dx%d image %s", w, h, x, y, mode, m.Width, m.Height, m.Path)
	}
	tileBytes := Tile * Tile * images.Channels * m.bps
	tilesX := (m.Width + Tile - 1) / Tile
	tx0, ty0 := x/Tile, y/Tile
	ntx, nty := (x+w-1)/Tile-tx0+1, (y+h-1)/Tile-ty0+1
	run := ntx * tileBytes // the tiles of one tile row that the rectangle covers
	buf = grow(buf, nty*run)
	for i := range nty {
		off := (int64(ty0+i)*int64(tilesX) + int64(tx0)) * int64(tileBytes)
		if _, err := m.f.ReadAt(buf[i*run:(i+1)*run], off); err != nil {
			return buf, fmt.Errorf("store: reading %s (the pixels of %s): %w", m.f.Name(), m.Path, err)
		}
	}
	m.scatter(dst, buf, x-tx0*Tile, y-ty0*Tile, w, h, ntx, mode)
	return buf, nil
}

// placement says where the rectangle's pixel (r, c) lands in an output
// of width ow under an augmentation mode: at p0 + r·dr + c·dc (the
// inverse of images.Augment's reading order).
func placement(mode, w, h, ow int) (p0, dr, dc int) {
	switch mode {
	case 0:
		return 0, ow, 1
	case 1: // transpose
		return 0, 1, ow
	case 2: // upside down
		return (h - 1) * ow, -ow, 1
	case 3:
		return h - 1, -1, ow
	case 4: // left-right
		return w - 1, ow, -1
	case 5:
		return (w - 1) * ow, 1, -ow
	case 6:
		return (h-1)*ow + w - 1, -ow, -1
	default: // 7, anti-transpose
		return (w-1)*ow + h - 1, -1, -ow
	}
}

// scatter converts the w×h rectangle at (x, y) of tiles (ntx tiles per row
// of tiles, as ReadAugmented read them) into dst's planes, placed as mode
// says.
func (m *Image) scatter(dst *images.Image, tiles []byte, x, y, w, h, ntx, mode int) {
	n := dst.W * dst.H
	px := images.Channels * m.bps
	p0, dr, dc := placement(mode, w, h, dst.W)
	R, G, B := dst.Pix[:n], dst.Pix[n:2*n], dst.Pix[2*n:3*n]
	var vals [Tile * images.Channels]float32
	for r := range h {
		ty, iy := (y+r)/Tile, (y+r)%Tile
		for j := 0; j < w; {
			tx, ix := (x+j)/Tile, (x+j)%Tile
			seg := min(Tile-ix, w-j)
			at := ((ty*ntx+tx)*Tile*Tile + iy*Tile + ix) * px
			pos := p0 + r*dr + j*dc
			if m.bps == 1 { // the common case, without the conversion's copy
				src := tiles[at : at+3*seg]
				for k := range seg {
					p := src[3*k : 3*k+3 : 3*k+3]
					o := pos + k*dc
					R[o], G[o], B[o] = images.Value8(p[0]), images.Value8(p[1]), images.Value8(p[2])
				}
			} else {
				decodeSamples(vals[:seg*images.Channels], tiles[at:at+seg*px], m.DType)
				for k := range seg {
					o := pos + k*dc
					R[o], G[o], B[o] = vals[3*k], vals[3*k+1], vals[3*k+2]
				}
			}
			j += seg
		}
	}
}

// Load reads the whole image.
func (m *Image) Load() (*images.Image, error) {
	dst := images.New(m.Width, m.Height)
	_, err := m.ReadRect(dst, 0, 0, nil)
	return dst, err
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// DropCache asks the kernel to drop the store's pixels from the page
// cache (clean pages only; nothing is lost), so that a benchmark can
// measure reads from the disk.
func (s *Store) DropCache() error {
	for _, m := range s.imgs {
		if m == nil {
			continue
		}
		if err := unix.Fadvise(int(m.f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
			return fmt.Errorf("store %s: %w", s.Dir, err)
		}
	}
	return nil
}
