// Package store keeps a training domain's decoded pixels once on disk, so
// that training crops from them with positioned reads instead of decoding
// whole data sets into memory at every start.
//
// A store is a folder (by convention named after its source, clean.lvs for
// clean/):
//
//	index.json       what the store holds; replaced atomically
//	px/000001.raw    one image's pixels in tiles of tile×tile pixels (32),
//	                 tiles row-major, pixels row-major in a tile, interleaved
//	                 RGB, little-endian samples of the entry's dtype, the
//	                 right and bottom tiles padded with zeros; no header
//	lock             flock'ed by the process that builds or refreshes it
//
// index.json is {"format": "ludvae-image-store", "version": 1, "source":
// the folder it was built from, "downscale": k, "tile": 32, "complete":
// true, "images":
// [...]}, one entry per source file in sorted order: "path" (relative to
// source), "size" and "mtime_ns" of the source file when it was decoded,
// "file" (the pixel file, relative to the store), "width", "height" and
// "dtype" ("uint8", "uint16" or "float32") of the stored pixels,
// "source_width" and "source_height" (before any downscaling), and "sum"
// and "sum_sq", per channel, of the pixels' values in [0,1] (for colour
// statistics without reading the pixels). An entry with "error" names a
// file that could not be decoded and has no pixels.
//
// Values are kept exactly: 8-bit sources as uint8 (v/255 when read),
// 16-bit sources as uint16 (v/65535) unless all their values are 8-bit
// levels, anything else (un-premultiplied alpha) as float32. Clean images
// of the super-resolution presets are stored downscaled (MATLAB bicubic,
// rounded to 8 bits), as training uses them.
//
// Tiles make a training crop a few contiguous reads (one per row of tiles
// it covers) instead of one per pixel row: on a 5328-pixel-wide photo a
// 64×64 crop is 2–3 reads instead of 64.
//
// Writes are crash-safe: pixel files are written under temporary names,
// synced and renamed before an index names them, and an index is replaced
// by rename, so a kill -9 or a full disk leaves the previous index, which
// names only complete files. A build interrupted part way leaves an index
// marked incomplete, which a later build resumes and Open refuses.
package store
