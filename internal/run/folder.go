package run

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ludvae/ludvae/internal/atomicfile"
	"github.com/ludvae/ludvae/internal/pidlock"
	tb "github.com/ludvae/ludvae/torchbind"
)

// The run folder's files besides the checkpoints (whose names each trainer
// gives, CheckpointFiles).
const (
	// LockName is the file a trainer holds an exclusive lock on while it
	// runs, and in which it writes its PID (package pidlock). Both
	// trainers take the same file, so neither can start in a folder the
	// other is writing.
	LockName = "train.lock"
	// ConfigName is the run's configuration (Folder.WriteConfig).
	ConfigName = "config.json"
	// LogName is the table of logged steps (Folder.OpenLog).
	LogName = "log.csv"
)

// ErrRunLocked says another trainer holds the run folder.
var ErrRunLocked = errors.New("the run folder is in use by another trainer")

// leftoverDepth is how deep below the folder a start looks for temporary
// files: the folder and its subfolders (train's samples/).
const leftoverDepth = 1

// Folder is a trainer's run folder, open for one run: it holds the lock
// (unless joined), and knows its checkpoints' names.
type Folder struct {
	Dir         string
	Checkpoints CheckpointFiles
	lock        *pidlock.Lock // nil when joined
	closed      bool

	// What Abandon restores: whether Open made Dir, and config.json as
	// Open found it.
	fresh     bool
	record    []byte
	hadRecord bool
}

// Open makes dir if needed, takes its lock without waiting (another
// trainer holding it is ErrRunLocked, naming its PID), and removes the
// temporary files a killed trainer left, listing them on log. The folder
// is the trainer's until Close.
func Open(dir string, ckpts CheckpointFiles, log io.Writer) (*Folder, error) {
	_, statErr := os.Stat(dir)
	fresh := errors.Is(statErr, fs.ErrNotExist)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	l, err := lock(dir)
	if err != nil {
		if fresh {
			os.Remove(dir)
		}
		return nil, err
	}
	f := &Folder{Dir: dir, Checkpoints: ckpts, lock: l, fresh: fresh}
	f.record, err = os.ReadFile(f.Path(ConfigName))
	f.hadRecord = err == nil
	if err := removeLeftovers(dir, log); err != nil {
		f.Abandon()
		return nil, err
	}
	return f, nil
}

// Join opens dir for a process that shares it with the one that Opened it
// (another rank of a distributed run on the same machine): it makes dir
// if needed, and neither locks nor cleans it.
func Join(dir string, ckpts CheckpointFiles) (*Folder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	return &Folder{Dir: dir, Checkpoints: ckpts}, nil
}

// Close lets the folder go; it is safe on nil and more than once.
func (f *Folder) Close() {
	if f != nil {
		f.lock.Release()
		f.closed = true
	}
}

// Abandon lets the folder go after a start refused before it trained (no
// usable images, crops larger than them …), leaving nothing the start made,
// which would describe a run that never was: config.json as Open found it
// (none, if there was none) and, if Open made the folder, neither its lock
// and log.csv nor the folder itself (if nothing else is in it). Only
// training writes checkpoints. On a joined or already closed folder it
// only lets go; it is safe on nil.
func (f *Folder) Abandon() {
	if f == nil || f.closed || f.lock == nil {
		f.Close()
		return
	}
	path := f.Path(ConfigName)
	if !f.hadRecord {
		os.Remove(path)
	} else if now, _ := os.ReadFile(path); !bytes.Equal(now, f.record) {
		atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(f.record); return err })
	}
	if f.fresh {
		// Removed while still held, so that it is never another trainer's
		// lock, taken once ours was let go; one that starts meanwhile
		// locks a new file, and this start writes nothing more.
		os.Remove(f.Path(LogName))
		os.Remove(f.Path(LockName))
	}
	f.Close()
	if f.fresh {
		os.Remove(f.Dir) // only if nothing else is in it
	}
}

// lock takes the run folder's lock without waiting.
func lock(dir string) (*pidlock.Lock, error) {
	path := filepath.Join(dir, LockName)
	l, err := pidlock.TryLock(path)
	if errors.Is(err, pidlock.ErrLocked) {
		return nil, fmt.Errorf("--out %s: %w (%s; stop it, or give another --out)", dir, ErrRunLocked, pidlock.Holder(path))
	}
	if err != nil {
		return nil, fmt.Errorf("--out %s: %w", dir, err)
	}
	return l, nil
}

// removeLeftovers deletes the temporary files an earlier, killed trainer
// left between writing a file and renaming it into place (package
// atomicfile names them all). Called only with the lock held: another
// trainer's files in flight would otherwise look the same.
func removeLeftovers(dir string, log io.Writer) error {
	removed, err := atomicfile.RemoveTemps(dir, leftoverDepth)
	if err != nil {
		return fmt.Errorf("--out %s: removing temporary files left by an earlier run: %w", dir, err)
	}
	if len(removed) > 0 {
		var names []string
		for _, r := range removed {
			names = append(names, filepath.Base(r))
		}
		fmt.Fprintf(log, "removed %d temporary file(s) left by an interrupted run: %v\n", len(removed), names)
	}
	return nil
}

// Path is name inside the folder.
func (f *Folder) Path(name string) string { return filepath.Join(f.Dir, name) }

// List lists the folder's checkpoints, oldest first.
func (f *Folder) List() ([]string, error) { return f.Checkpoints.List(f.Dir) }

// Newest is the newest checkpoint's path, "" when there is none.
func (f *Folder) Newest() (string, error) {
	ck, err := f.List()
	if err != nil || len(ck) == 0 {
		return "", err
	}
	return ck[len(ck)-1], nil
}

// Save writes step's checkpoint (CheckpointFiles.Save) and keeps the
// newest keep.
func (f *Folder) Save(step int, m Weights, opt *tb.Adam, keep int, more func(d *tb.Dict)) (string, error) {
	return f.Checkpoints.Save(f.Dir, step, m, opt, keep, more)
}

// OpenLog (re)opens log.csv with header, keeping the rows of an earlier
// log up to resumeStep (OpenCSV).
func (f *Folder) OpenLog(header []string, resumeStep int) (*CSVLog, [][]string, error) {
	return OpenCSV(f.Path(LogName), header, resumeStep)
}

// WriteConfig writes config.json atomically: cfg's JSON, followed by
// "overrides", every setting changed with --override (Accept), oldest
// first. A resumed run keeps the overrides recorded by earlier starts and
// adds added. cfg must encode as a JSON object without an "overrides" key.
func (f *Folder) WriteConfig(cfg any, resumed bool, added []Override) error {
	path := f.Path(ConfigName)
	var old struct {
		Overrides []Override `json:"overrides"`
	}
	if b, err := os.ReadFile(path); err == nil && resumed {
		json.Unmarshal(b, &old) // an unreadable record only loses its history
	}
	data, err := configJSON(cfg, append(old.Overrides, added...))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// configJSON is cfg indented by two spaces with overrides appended as its
// last member, byte for byte what encoding/json writes for a struct that
// embeds cfg's type beside an `json:"overrides,omitempty"` field (the
// format config.json has always had).
func configJSON(cfg any, overrides []Override) ([]byte, error) {
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	if len(data) < 2 || data[0] != '{' {
		return nil, fmt.Errorf("a run's configuration must be a JSON object, not %.20s", data)
	}
	if len(overrides) > 0 {
		ov, err := json.MarshalIndent(overrides, "  ", "  ")
		if err != nil {
			return nil, err
		}
		head := data[:len(data)-1] // without the closing brace
		if string(data) == "{}" {
			head = []byte("{\n")
		} else {
			head = append(head[:len(head)-1], ",\n"...) // the newline before it
		}
		data = append(append(append(head, `  "overrides": `...), ov...), "\n}"...)
	}
	return append(data, '\n'), nil
}
