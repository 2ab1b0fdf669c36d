package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/ludvae/ludvae/internal/atomicfile"
	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/pathguard"
)

// Format and Version identify index.json; a store of another version is
// refused, never read as something else.
const (
	Format  = "ludvae-image-store"
	Version = 1
)

const indexName = "index.json"

// Tile is the side of the square tiles pixel files are laid out in
// (writeTiled).
const Tile = 32

// Index is a store's index.json.
type Index struct {
	Format    string  `json:"format"`
	Version   int     `json:"version"`
	Source    string  `json:"source"`    // absolute path of the folder it was built from
	Downscale int     `json:"downscale"` // 1, or the factor the images were shrunk by
	Tile      int     `json:"tile"`      // the pixel files' tile side
	Complete  bool    `json:"complete"`  // false while a build is under way or was interrupted
	Images    []Entry `json:"images"`    // sorted by Path
}

// Entry is one source file.
type Entry struct {
	Path         string     `json:"path"`     // relative to the source folder, '/'-separated
	Size         int64      `json:"size"`     // of the source file when decoded
	MtimeNS      int64      `json:"mtime_ns"` // of the source file when decoded
	File         string     `json:"file,omitempty"`
	Width        int        `json:"width,omitempty"`
	Height       int        `json:"height,omitempty"`
	DType        string     `json:"dtype,omitempty"`
	SourceWidth  int        `json:"source_width,omitempty"`
	SourceHeight int        `json:"source_height,omitempty"`
	Sum          [3]float64 `json:"sum"`
	SumSq        [3]float64 `json:"sum_sq"`
	Error        string     `json:"error,omitempty"` // why the file could not be decoded
}

// ErrNotStore is wrapped by the error for a folder without an index.json.
var ErrNotStore = errors.New("not an image store (no index.json)")

// sampleBytes is the size of one sample of a dtype, 0 for an unknown one.
func sampleBytes(dtype string) int {
	switch dtype {
	case "uint8":
		return 1
	case "uint16":
		return 2
	case "float32":
		return 4
	}
	return 0
}

// pixelBytes is the size of the entry's pixel file: whole tiles.
func (e *Entry) pixelBytes() int64 {
	tw, th := int64((e.Width+Tile-1)/Tile), int64((e.Height+Tile-1)/Tile)
	return tw * th * Tile * Tile * images.Channels * int64(sampleBytes(e.DType))
}

// readIndex reads and checks dir's index.json.
func readIndex(dir string) (*Index, error) {
	data, err := pathguard.ReadFile(filepath.Join(dir, indexName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("store %s: %w", dir, ErrNotStore)
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("store %s: %s is not valid JSON (%v)", dir, indexName, err)
	}
	if head.Format != Format {
		return nil, fmt.Errorf("store %s: %s is not a ludvae image store (format %q)", dir, indexName, head.Format)
	}
	if head.Version != Version {
		return nil, &VersionError{Dir: dir, Version: head.Version}
	}
	var idx Index
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&idx); err != nil {
		return nil, fmt.Errorf("store %s: %s: %v", dir, indexName, err)
	}
	if err := idx.check(); err != nil {
		return nil, fmt.Errorf("store %s: %s: %w", dir, indexName, err)
	}
	return &idx, nil
}

// VersionError is a store written by another version of ludvae.
type VersionError struct {
	Dir     string
	Version int
}

func (e *VersionError) Error() string {
	who := "an older"
	if e.Version > Version {
		who = "a newer"
	}
	return fmt.Sprintf("store %s was written by %s ludvae (store format version %d; this one reads version %d)", e.Dir, who, e.Version, Version)
}

// check refuses an index that could make a reader go astray: unsorted or
// repeated paths, pixel files outside px/, sizes that do not add up.
func (idx *Index) check() error {
	if idx.Downscale < 1 {
		return fmt.Errorf("downscale %d", idx.Downscale)
	}
	if idx.Tile != Tile {
		return fmt.Errorf("tile %d (this ludvae lays pixels out in tiles of %d)", idx.Tile, Tile)
	}
	for i := range idx.Images {
		e := &idx.Images[i]
		if i > 0 && idx.Images[i-1].Path >= e.Path {
			return fmt.Errorf("entries not sorted at %q", e.Path)
		}
		if e.Path == "" || path.IsAbs(e.Path) || strings.HasPrefix(path.Clean(e.Path), "..") {
			return fmt.Errorf("entry path %q", e.Path)
		}
		if e.Error != "" {
			continue
		}
		if !validFile(e.File) || sampleBytes(e.DType) == 0 || e.Width <= 0 || e.Height <= 0 || e.SourceWidth < e.Width || e.SourceHeight < e.Height {
			return fmt.Errorf("entry %q: file %q, %dx%d %q from %dx%d", e.Path, e.File, e.Width, e.Height, e.DType, e.SourceWidth, e.SourceHeight)
		}
	}
	return nil
}

// validFile reports whether name is a pixel file name the store makes.
func validFile(name string) bool {
	base, ok := strings.CutPrefix(name, "px/")
	num, ok2 := strings.CutSuffix(base, ".raw")
	if !ok || !ok2 || len(num) == 0 {
		return false
	}
	for _, r := range num {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// writeIndex replaces dir's index.json atomically (temporary file, fsync,
// rename, fsync of the folder).
func writeIndex(dir string, idx *Index) error {
	data, err := json.MarshalIndent(idx, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, indexName), func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}
