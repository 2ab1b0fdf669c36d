package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ludvae/ludvae/train/images"
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
	f, err := os.Open(name)
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

// smallRead is the largest span of a rectangle read in one call; past it,
// a rectangle is read row by row instead of with the rows between.
const smallRead = 256 << 10

// ReadRect reads the w×h rectangle whose top-left pixel is (x, y) into dst
// (w×h, planar), with the values Load gives the source file. buf is
// scratch space that may be reused across calls; the grown buffer is
// returned.
func (m *Image) ReadRect(dst *images.Image, x, y int, buf []byte) ([]byte, error) {
	w, h := dst.W, dst.H
	if x < 0 || y < 0 || w <= 0 || h <= 0 || x > m.Width-w || y > m.Height-h {
		return buf, fmt.Errorf("store: %dx%d rectangle at (%d,%d) outside the %dx%d image %s", w, h, x, y, m.Width, m.Height, m.Path)
	}
	rowBytes := w * images.Channels * m.bps
	stride := int64(m.Width) * images.Channels * int64(m.bps)
	first := (int64(y)*int64(m.Width) + int64(x)) * images.Channels * int64(m.bps)
	span := int64(h-1)*stride + int64(rowBytes)
	var rows [][]byte
	if span <= smallRead {
		buf = grow(buf, int(span))
		if _, err := m.f.ReadAt(buf[:span], first); err != nil {
			return buf, m.readError(err)
		}
		for i := range h {
			rows = append(rows, buf[int64(i)*stride:int64(i)*stride+int64(rowBytes)])
		}
	} else {
		buf = grow(buf, h*rowBytes)
		for i := range h {
			row := buf[i*rowBytes : (i+1)*rowBytes]
			if _, err := m.f.ReadAt(row, first+int64(i)*stride); err != nil {
				return buf, m.readError(err)
			}
			rows = append(rows, row)
		}
	}
	scatter(dst, rows, m.DType)
	return buf, nil
}

func (m *Image) readError(err error) error {
	return fmt.Errorf("store: reading %s (the pixels of %s): %w", m.f.Name(), m.Path, err)
}

// scatter converts interleaved rows into dst's planes.
func scatter(dst *images.Image, rows [][]byte, dtype string) {
	w, n := dst.W, dst.W*dst.H
	vals := make([]float32, w*images.Channels)
	for i, row := range rows {
		decodeSamples(vals, row, dtype)
		for c := range images.Channels {
			plane := dst.Pix[c*n+i*w : c*n+(i+1)*w]
			for j := range plane {
				plane[j] = vals[j*images.Channels+c]
			}
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
