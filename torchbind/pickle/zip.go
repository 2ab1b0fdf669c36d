package pickle

import (
	"archive/zip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
)

// Record names inside the archive folder.
const (
	recordPickle    = "data.pkl"
	recordByteOrder = "byteorder"
	recordVersion   = "version"
	recordDataDir   = "data/"

	// formatVersion is what torch (1.6 through 2.x) writes to <name>/version.
	formatVersion = "3\n"
	// recordAlignment is torch's kFieldAlignment: every record's payload
	// starts at a multiple of 64 bytes in the file.
	recordAlignment = 64
)

// Write encodes v as a torch.save checkpoint whose records live in the
// folder archiveName ("archive" if empty). torch.load reads the result.
//
// Besides the decoded value types (see the package documentation), Write
// accepts Go ints and uints of every size (as int64), float32,
// map[string]any and map[string]*Tensor (as dicts with sorted keys).
func Write(w io.Writer, v any, archiveName string) error {
	if err := write(w, v, archiveName); err != nil {
		return fmt.Errorf("pickle: %w", err)
	}
	return nil
}

func write(w io.Writer, v any, archiveName string) error {
	if archiveName == "" {
		archiveName = "archive"
	}
	if strings.ContainsAny(archiveName, "/\\") {
		return fmt.Errorf("archive name %q contains a path separator", archiveName)
	}
	p := newPickler()
	if err := p.dump(v); err != nil {
		return err
	}
	aw := newArchiveWriter(w, archiveName)
	if err := aw.add(recordPickle, p.out.Bytes()); err != nil {
		return err
	}
	if err := aw.add(recordByteOrder, []byte("little")); err != nil {
		return err
	}
	for i, s := range p.storages {
		if err := aw.add(recordDataDir+strconv.Itoa(i), s.Data); err != nil {
			return err
		}
	}
	if err := aw.add(recordVersion, []byte(formatVersion)); err != nil {
		return err
	}
	return aw.zw.Close()
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// archiveWriter writes stored (uncompressed) records whose payloads are
// aligned to recordAlignment, like torch's PyTorchStreamWriter.
type archiveWriter struct {
	cw   *countingWriter
	zw   *zip.Writer
	name string
}

func newArchiveWriter(w io.Writer, name string) *archiveWriter {
	cw := &countingWriter{w: w}
	return &archiveWriter{cw: cw, zw: zip.NewWriter(cw), name: name}
}

func (a *archiveWriter) add(record string, data []byte) error {
	// Flush so the counter knows where the local header will start.
	if err := a.zw.Flush(); err != nil {
		return err
	}
	name := a.name + "/" + record
	fh := &zip.FileHeader{
		Name:               name,
		Method:             zip.Store,
		CRC32:              crc32.ChecksumIEEE(data),
		CompressedSize64:   uint64(len(data)),
		UncompressedSize64: uint64(len(data)),
		Extra:              alignmentPadding(a.cw.n, len(name)),
	}
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 {
			fh.Flags |= 0x800 // names are UTF-8
			break
		}
	}
	fw, err := a.zw.CreateRaw(fh)
	if err != nil {
		return err
	}
	_, err = fw.Write(data)
	return err
}

// alignmentPadding returns the local-header extra field torch writes: an
// extra block with id "FB" whose 'Z' filler 64-byte aligns the payload of a
// record whose local header starts at offset and names nameLen bytes.
func alignmentPadding(offset int64, nameLen int) []byte {
	const localHeaderLen, blockHeaderLen = 30, 4
	start := offset + localHeaderLen + int64(nameLen) + blockHeaderLen
	pad := (recordAlignment - start%recordAlignment) % recordAlignment
	extra := make([]byte, blockHeaderLen+pad)
	extra[0], extra[1] = 'F', 'B'
	binary.LittleEndian.PutUint16(extra[2:], uint16(pad))
	for i := blockHeaderLen; i < len(extra); i++ {
		extra[i] = 'Z'
	}
	return extra
}
