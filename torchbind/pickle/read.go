package pickle

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/ludvae/ludvae/internal/pathguard"
)

// Load reads the torch.save checkpoint at path. See Read.
func Load(path string) (any, error) {
	f, err := pathguard.OpenRegular(path)
	if err != nil {
		return nil, fmt.Errorf("pickle: load: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("pickle: load: %w", err)
	}
	v, err := read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("pickle: load %s: %w", path, err)
	}
	return v, nil
}

// Read decodes a torch.save zip checkpoint of size bytes from r and returns
// its object graph. Storage records are read only when a tensor refers to
// them, and tensors sharing a record share one *Storage.
func Read(r io.ReaderAt, size int64) (any, error) {
	v, err := read(r, size)
	if err != nil {
		return nil, fmt.Errorf("pickle: %w", err)
	}
	return v, nil
}

func read(r io.ReaderAt, size int64) (any, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		var head [2]byte
		if n, _ := r.ReadAt(head[:], 0); n == 2 && head[0] == opProto {
			return nil, errors.New("legacy (non-zip, pre-1.6) torch.save format is not supported")
		}
		return nil, fmt.Errorf("not a torch zip checkpoint: %w", err)
	}
	a, err := openArchive(zr, size)
	if err != nil {
		return nil, err
	}
	if f := a.files[recordByteOrder]; f != nil {
		b, err := a.readRecord(f, 64)
		if err != nil {
			return nil, err
		}
		if order := strings.TrimSpace(string(b)); order != "little" {
			return nil, fmt.Errorf("unsupported byteorder %q (only little-endian checkpoints are supported)", order)
		}
	}
	pkl, err := a.readRecord(a.files[recordPickle], -1)
	if err != nil {
		return nil, err
	}
	return unpickle(pkl, a.persistentLoad)
}

// archive is an opened checkpoint: the records of its top folder.
type archive struct {
	size     int64
	files    map[string]*zip.File // record name relative to the folder
	storages map[string]*Storage  // by key
}

// openArchive finds the folder holding data.pkl (torch names it after the
// file, but any name is accepted) and indexes the records in it.
func openArchive(zr *zip.Reader, size int64) (*archive, error) {
	prefix, found := "", false
	for _, f := range zr.File {
		name := f.Name
		if strings.HasSuffix(name, "/"+recordPickle) && strings.Count(name, "/") == 1 {
			prefix, found = strings.TrimSuffix(name, recordPickle), true
			break
		}
	}
	if !found {
		for _, f := range zr.File {
			if f.Name == recordPickle || strings.HasSuffix(f.Name, "/"+recordPickle) {
				prefix, found = strings.TrimSuffix(f.Name, recordPickle), true
				break
			}
		}
	}
	if !found {
		return nil, errors.New("zip archive has no data.pkl record (not a torch.save checkpoint)")
	}
	a := &archive{size: size, files: map[string]*zip.File{}, storages: map[string]*Storage{}}
	for _, f := range zr.File {
		if rest, ok := strings.CutPrefix(f.Name, prefix); ok {
			if _, dup := a.files[rest]; !dup {
				a.files[rest] = f
			}
		}
	}
	return a, nil
}

// readRecord returns the contents of f, verifying its CRC. limit < 0 means
// no limit beyond the archive size.
func (a *archive) readRecord(f *zip.File, limit int64) ([]byte, error) {
	n := f.UncompressedSize64
	if limit >= 0 && n > uint64(limit) {
		return nil, fmt.Errorf("record %s is %d bytes, more than the %d expected", f.Name, n, limit)
	}
	if f.Method == zip.Store && n > uint64(a.size) {
		return nil, fmt.Errorf("record %s claims %d bytes in an archive of %d bytes", f.Name, n, a.size)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", f.Name, err)
	}
	defer rc.Close()
	var buf []byte
	if f.Method == zip.Store {
		buf = make([]byte, n)
		if _, err := io.ReadFull(rc, buf); err != nil {
			return nil, fmt.Errorf("record %s: %w", f.Name, err)
		}
		// Reading to EOF makes archive/zip check the CRC-32.
		var one [1]byte
		if m, err := rc.Read(one[:]); m != 0 || err != io.EOF {
			if err == nil || err == io.EOF {
				err = errors.New("longer than its declared size")
			}
			return nil, fmt.Errorf("record %s: %w", f.Name, err)
		}
		return buf, nil
	}
	if n > math.MaxInt32*64 {
		return nil, fmt.Errorf("record %s claims %d bytes", f.Name, n)
	}
	buf, err = io.ReadAll(io.LimitReader(rc, int64(n)+1))
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", f.Name, err)
	}
	if uint64(len(buf)) != n {
		return nil, fmt.Errorf("record %s: size %d differs from declared %d", f.Name, len(buf), n)
	}
	return buf, nil
}

// persistentLoad resolves torch's persistent ids,
// ('storage', storage_type, key, location, numel), to *Storage.
func (a *archive) persistentLoad(pid any) (any, error) {
	t, ok := pid.(Tuple)
	if !ok || len(t) != 5 {
		return nil, fmt.Errorf("persistent id %s is not a 5-tuple", typeName(pid))
	}
	if kind, _ := t[0].(string); kind != persistentStorageID {
		return nil, fmt.Errorf("persistent id of kind %v, want %q", t[0], persistentStorageID)
	}
	sc, ok := t[1].(storageClass)
	if !ok {
		return nil, fmt.Errorf("persistent id storage type is %s", typeName(t[1]))
	}
	var key string
	switch k := t[2].(type) {
	case string:
		key = k
	case int64:
		key = strconv.FormatInt(k, 10)
	default:
		return nil, fmt.Errorf("persistent id key is %s", typeName(t[2]))
	}
	loc, ok := t[3].(string)
	if !ok {
		return nil, fmt.Errorf("persistent id location is %s", typeName(t[3]))
	}
	numel, ok := t[4].(int64)
	if !ok || numel < 0 {
		return nil, fmt.Errorf("persistent id numel is %v", t[4])
	}
	if s, ok := a.storages[key]; ok {
		if s.DType != sc.dtype {
			return nil, fmt.Errorf("storage %s is used as both %s and %s", key, s.DType, sc.dtype)
		}
		return s, nil
	}
	f := a.files[recordDataDir+key]
	if f == nil {
		return nil, fmt.Errorf("storage record data/%s is missing", key)
	}
	es := int64(sc.dtype.Size())
	if numel > a.size/es {
		return nil, fmt.Errorf("storage %s of %d elements cannot fit in the archive", key, numel)
	}
	need := numel * es
	data, err := a.readRecord(f, -1)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) < need {
		return nil, fmt.Errorf("storage record data/%s has %d bytes, %d %s elements need %d", key, len(data), numel, sc.dtype, need)
	}
	s := &Storage{DType: sc.dtype, Data: data[:need:need], Device: loc}
	a.storages[key] = s
	return s, nil
}
