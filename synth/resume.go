package synth

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ludvae/ludvae/internal/atomicfile"
)

// resume finds how many of this process's pairs (mine, in order) an
// earlier run with the same settings finished: the leading ones that its
// manifest, or another manifest in the folder (a shard's, or the merged
// one), lists exactly as this run would, with both files on disk. It
// rewrites this process's manifest to list just those, drops any other
// manifest that lists a pair this run will make again, removes every other
// file of this process's pairs (finished by a run that stopped before it
// could list them; this run writes them again, byte for byte), temporary
// files left by a crash and files no pair of the run names, and opens the
// manifest to append to.
func (o *Options) resume(all, mine []Record, log io.Writer) (done int, manifest *os.File, err error) {
	path := filepath.Join(o.Out, o.manifestName())
	// A crash while this manifest was rewritten leaves its temporary file.
	if es, err := os.ReadDir(o.Out); err == nil {
		for _, e := range es {
			if t, ok := atomicfile.Target(e.Name()); ok && t == o.manifestName() {
				os.Remove(filepath.Join(o.Out, e.Name()))
			}
		}
	}
	listed, others, err := o.listedPairs(path)
	if err != nil {
		return 0, nil, err
	}
	for done < len(mine) && listed[mine[done].Stream] == mine[done] && pairExists(o.Out, mine[done]) {
		done++
	}
	err = atomicfile.Write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, r := range mine[:done] {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("--out: %w", err)
	}
	if err := o.dropStaleManifests(others, mine[done:], log); err != nil {
		return 0, nil, err
	}
	if err := o.removeStale(all, mine, done, log); err != nil {
		return 0, nil, err
	}
	manifest, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, nil, fmt.Errorf("--out: %w", err)
	}
	if done > 0 {
		fmt.Fprintf(log, "resuming %s: %d of %d pairs already written\n", o.Out, done, len(mine))
	}
	return done, manifest, nil
}

// listedPairs reads every manifest in the folder (own first), by stream:
// what the earlier runs finished. others are the manifests besides own.
func (o *Options) listedPairs(own string) (listed map[uint64]Record, others map[string][]Record, err error) {
	names, _ := filepath.Glob(filepath.Join(o.Out, "manifest*.jsonl"))
	listed, others = map[uint64]Record{}, map[string][]Record{}
	for _, p := range append(names, own) { // own last: its rows win
		recs, err := readManifest(p)
		if err != nil {
			return nil, nil, fmt.Errorf("--out: %w", err)
		}
		for _, r := range recs {
			listed[r.Stream] = r
		}
		if p != own {
			others[p] = recs
		}
	}
	return listed, others, nil
}

// dropStaleManifests removes the other manifests that list a pair this run
// makes again (its files are about to be removed): a shard's rerun drops
// the merged manifest.jsonl, which --merge writes again; an unsharded rerun
// drops the shards' manifests, which its own manifest supersedes.
func (o *Options) dropStaleManifests(others map[string][]Record, todo []Record, log io.Writer) error {
	redo := make(map[uint64]bool, len(todo))
	for _, r := range todo {
		redo[r.Stream] = true
	}
	for p, recs := range others {
		for _, r := range recs {
			if redo[r.Stream] {
				if err := os.Remove(p); err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				fmt.Fprintf(log, "removed %s: it lists pairs this run makes again\n", p)
				break
			}
		}
	}
	return nil
}

// removeStale deletes, under L/ and H/, the files of this process's pairs
// still to do, files that no pair of the run names, and temporary files.
// A shard leaves the other shards' files and temporaries alone: they may be
// writing them right now.
func (o *Options) removeStale(all, mine []Record, done int, log io.Writer) error {
	named := make(map[string]bool, 2*len(all))
	for _, r := range all {
		named[r.L], named[r.H] = true, true
	}
	ours := make(map[string]bool, 2*len(mine))
	for _, r := range mine {
		ours[r.L], ours[r.H] = true, true
	}
	keep := make(map[string]bool, 2*done)
	for _, r := range mine[:done] {
		keep[r.L], keep[r.H] = true, true
	}
	removed := 0
	for _, d := range []string{DirL, DirH} {
		err := filepath.WalkDir(filepath.Join(o.Out, d), func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(o.Out, p)
			rel = filepath.ToSlash(rel)
			target, temp := tempTarget(rel)
			switch {
			case temp && o.Shards > 1 && named[target] && !ours[target]:
				return nil // another shard's file in the making
			case !temp && (keep[rel] || named[rel] && !ours[rel]):
				return nil // listed here, or another shard's pair
			}
			removed++
			return os.Remove(p)
		})
		if err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("--out: clearing stale files: %w", err)
		}
	}
	if removed > 0 {
		fmt.Fprintf(log, "removed %d stale or unlisted files from %s\n", removed, o.Out)
	}
	return nil
}

// tempTarget maps a temporary file of package atomicfile (".NAME.tmp-N"
// beside NAME) to the file it was to become.
func tempTarget(rel string) (string, bool) {
	dir, name := filepath.Split(rel)
	t, ok := atomicfile.Target(name)
	return dir + t, ok
}
