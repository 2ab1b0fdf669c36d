package synth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ludvae/ludvae/internal/images"
)

// pending is a pair handed to a writer; done receives the writer's result
// once both files are in place (or neither is).
type pending struct {
	rec  Record
	done chan error
}

// committer appends manifest rows in input order, each only once both of
// its files are complete on disk. After the first failure (a writer's or
// its own) it lists nothing more and deletes the files of pairs that
// complete anyway, so the manifest and the files always agree; fail is
// called once, to stop the run.
type committer struct {
	out      string
	manifest io.Writer
	fail     context.CancelFunc
	n        int   // rows appended
	err      error // the first failure
}

// run consumes queue until it is closed.
func (c *committer) run(queue <-chan *pending) {
	for p := range queue {
		werr := <-p.done
		if c.err == nil && werr != nil {
			c.stop(werr)
		}
		if c.err != nil {
			if werr == nil {
				removePair(c.out, p.rec)
			}
			continue
		}
		line, err := json.Marshal(p.rec)
		if err == nil {
			// One write per row on an O_APPEND file: a crash can cut only
			// the last row short, which resume ignores.
			_, err = c.manifest.Write(append(line, '\n'))
		}
		if err != nil {
			c.stop(fmt.Errorf("manifest: %w", err))
			removePair(c.out, p.rec)
			continue
		}
		c.n++
	}
}

func (c *committer) stop(err error) {
	c.err = err
	c.fail()
}

// writePair writes the degraded output and its clean counterpart, each
// atomically; if the second fails the first is removed, so a pair is
// either complete or absent.
func writePair(dir string, hr, out *images.Image, rec Record) error {
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, rec.L)), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, rec.H)), 0o755); err != nil {
		return err
	}
	if err := images.SavePNG(filepath.Join(dir, rec.L), out, 8); err != nil {
		return err
	}
	if err := images.SavePNG(filepath.Join(dir, rec.H), hr, 8); err != nil {
		os.Remove(filepath.Join(dir, rec.L))
		return err
	}
	return nil
}

// removePair deletes both files of a pair that will not be listed.
func removePair(dir string, r Record) {
	os.Remove(filepath.Join(dir, r.L))
	os.Remove(filepath.Join(dir, r.H))
}
