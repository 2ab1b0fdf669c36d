package prepare

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ludvae/ludvae/internal/pathguard"
)

// SIDD-Small names (as SIDD_Small_sRGB_Only.zip unpacks).
const (
	siddRoot      = "SIDD_Small_sRGB_Only"
	siddData      = "Data"
	siddGT        = "GT_SRGB_010.PNG"
	siddNoisy     = "NOISY_SRGB_010.PNG"
	siddInstances = "Scene_Instances.txt"
)

// siddScene is one scene folder and the actual names of its two files (""
// when absent; matched case-insensitively).
type siddScene struct {
	name, gt, noisy string
}

func planSIDD(from string, disjoint bool, seed int64) (plan, error) {
	p := plan{layout: "sidd-small", downscale: 1}
	data, err := findSIDDData(from)
	if err != nil {
		return p, err
	}
	scenes, err := readSIDDScenes(data)
	if err != nil {
		return p, err
	}
	p.cleanSource, p.noisySource = data, data

	present := make(map[string]bool, len(scenes))
	var complete []string
	var missing []string
	for _, s := range scenes {
		present[s.name] = true
		if s.gt != "" && s.noisy != "" {
			complete = append(complete, s.name)
		}
		if s.gt == "" {
			missing = append(missing, s.name+"/"+siddGT)
		}
		if s.noisy == "" {
			missing = append(missing, s.name+"/"+siddNoisy)
		}
	}
	// Whole scene folders can only be named from the scene list.
	listed, listFile := readSceneInstances(data)
	absent := 0
	for _, name := range listed {
		if !present[name] {
			missing = append(missing, name+"/")
			absent++
		}
	}
	if len(complete) < SIDDSmallScenes {
		msg := fmt.Sprintf("%s holds %d complete scenes (%s and %s), expected %d (SIDD-Small sRGB)",
			data, len(complete), siddGT, siddNoisy, SIDDSmallScenes)
		if len(missing) > 0 {
			msg += "; missing: " + listSome(missing)
		}
		incomplete := len(scenes) - len(complete)
		if unnamed := SIDDSmallScenes - len(complete) - incomplete - absent; unnamed > 0 {
			if listFile == "" {
				msg += fmt.Sprintf("; %d scene folders absent (their names are unknown without %s listing all %d scenes)",
					unnamed, siddInstances, SIDDSmallScenes)
			} else {
				msg += fmt.Sprintf("; %d more scene folders than %s names", unnamed, listFile)
			}
		}
		p.shortfalls = append(p.shortfalls, msg)
	} else if len(complete) > SIDDSmallScenes {
		p.warnings = append(p.warnings, fmt.Sprintf("%s holds %d complete scenes, more than SIDD-Small's %d",
			data, len(complete), SIDDSmallScenes))
	}

	byName := make(map[string]siddScene, len(scenes))
	for _, s := range scenes {
		byName[s.name] = s
	}
	add := func(dst *[]item, scene, file string) {
		*dst = append(*dst, item{src: filepath.Join(data, scene, file), name: scene + "_" + file})
	}
	if !disjoint {
		p.expClean, p.expNoisy = SIDDSmallScenes, SIDDSmallScenes
		for _, s := range scenes {
			if s.gt != "" {
				add(&p.clean, s.name, s.gt)
			}
			if s.noisy != "" {
				add(&p.noisy, s.name, s.noisy)
			}
		}
		return p, nil
	}
	p.expClean, p.expNoisy = (SIDDSmallScenes+1)/2, SIDDSmallScenes/2
	if len(complete) < len(scenes) {
		p.warnings = append(p.warnings, fmt.Sprintf("--disjoint splits complete scenes only: %d incomplete scenes left out",
			len(scenes)-len(complete)))
	}
	p.cleanScenes, p.noisyScenes = SplitScenes(complete, seed)
	for _, s := range p.cleanScenes {
		add(&p.clean, s, byName[s].gt)
	}
	for _, s := range p.noisyScenes {
		add(&p.noisy, s, byName[s].noisy)
	}
	return p, nil
}

// findSIDDData returns the folder holding SIDD-Small's scene folders: from
// itself, from/Data or from/SIDD_Small_sRGB_Only/Data.
func findSIDDData(from string) (string, error) {
	cands := []string{from, filepath.Join(from, siddData), filepath.Join(from, siddRoot, siddData)}
	for _, c := range cands {
		scenes, err := readSIDDScenes(c)
		if err != nil {
			continue
		}
		for _, s := range scenes {
			if s.gt != "" || s.noisy != "" {
				return c, nil
			}
		}
	}
	return "", fmt.Errorf("prepare sidd: no SIDD-Small scene folders (<scene>/%s, <scene>/%s) in %s, %s or %s: --from should be the folder SIDD_Small_sRGB_Only.zip was unpacked in",
		siddGT, siddNoisy, cands[0], cands[1], cands[2])
}

// readSIDDScenes lists the scene folders in data (sorted; hidden folders
// and macOS's __MACOSX skipped) with their GT and NOISY files.
func readSIDDScenes(data string) ([]siddScene, error) {
	entries, err := os.ReadDir(data)
	if err != nil {
		return nil, err
	}
	var scenes []siddScene
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || name == "__MACOSX" || !isDir(filepath.Join(data, name)) {
			continue
		}
		files, err := os.ReadDir(filepath.Join(data, name))
		if err != nil {
			return nil, err
		}
		s := siddScene{name: name}
		for _, f := range files {
			switch {
			case f.IsDir():
			case strings.EqualFold(f.Name(), siddGT):
				s.gt = f.Name()
			case strings.EqualFold(f.Name(), siddNoisy):
				s.noisy = f.Name()
			}
		}
		scenes = append(scenes, s)
	}
	sort.Slice(scenes, func(i, j int) bool { return scenes[i].name < scenes[j].name })
	return scenes, nil
}

// readSceneInstances reads the scene names of a Scene_Instances.txt beside
// or inside data. It trusts the file only when it names exactly
// SIDDSmallScenes distinct scenes (SIDD's other packages list other sets).
func readSceneInstances(data string) (names []string, file string) {
	for _, path := range []string{filepath.Join(filepath.Dir(data), siddInstances), filepath.Join(data, siddInstances)} {
		f, err := pathguard.OpenRegular(path)
		if err != nil {
			continue
		}
		seen := map[string]bool{}
		var list []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line != "" && !seen[line] {
				seen[line] = true
				list = append(list, line)
			}
		}
		f.Close()
		if sc.Err() == nil && len(list) == SIDDSmallScenes {
			sort.Strings(list)
			return list, path
		}
	}
	return nil, ""
}

// SplitScenes splits scene names into two disjoint halves for SIDD's
// --disjoint: it sorts the names, shuffles them with seed, and gives the
// first ⌈n/2⌉ to the clean domain and the rest to the degraded one (each
// half returned sorted). The shuffle is a Fisher–Yates pass from the last
// position down, drawing j = r mod (i+1) with r from SplitMix64 started at
// seed, so a split never depends on the Go version and can be reproduced
// elsewhere.
func SplitScenes(scenes []string, seed int64) (clean, noisy []string) {
	s := append([]string(nil), scenes...)
	sort.Strings(s)
	rng := splitMix64(seed)
	for i := len(s) - 1; i > 0; i-- {
		j := int(rng.next() % uint64(i+1))
		s[i], s[j] = s[j], s[i]
	}
	half := (len(s) + 1) / 2
	clean = append([]string(nil), s[:half]...)
	noisy = append([]string(nil), s[half:]...)
	sort.Strings(clean)
	sort.Strings(noisy)
	return clean, noisy
}

// splitMix64 is Steele, Lea and Flood's SplitMix64 generator (OOPSLA 2014),
// the state being the seed.
type splitMix64 uint64

func (s *splitMix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// srSpec describes one super-resolution data set: its two folders as the
// archives unpack (DeFlow's preparation adds scale folders inside them).
type srSpec struct {
	dataset, title       string
	cleanName, noisyName string
	expClean, expNoisy   int
}

var (
	aim19Spec = srSpec{
		dataset: AIM19, title: "AIM 2019 Real-World SR track 2",
		cleanName: "train-clean-images", noisyName: "train-noisy-images",
		expClean: AIM19Clean, expNoisy: AIM19Noisy,
	}
	ntire20Spec = srSpec{
		dataset: NTIRE20, title: "NTIRE 2020 Real-World SR track 1",
		cleanName: "Corrupted-tr-y", noisyName: "Corrupted-tr-x",
		expClean: NTIRE20Clean, expNoisy: NTIRE20Noisy,
	}
)

// searchDepth is how many folder levels below --from the SR folders are
// looked for (from/NAME, from/X/NAME).
const searchDepth = 2

func planSR(from string, spec srSpec) (plan, error) {
	p := plan{expClean: spec.expClean, expNoisy: spec.expNoisy}
	cleanTop, err := findNamedDir(from, spec.cleanName, spec.dataset)
	if err != nil {
		return p, err
	}
	noisyTop, err := findNamedDir(from, spec.noisyName, spec.dataset)
	if err != nil {
		return p, err
	}
	var cleanDeflow, noisyDeflow bool
	switch {
	case isDir(filepath.Join(cleanTop, "4x")):
		// DeFlow's ×4-downscaled copy: what the LUD-VAE authors train on.
		p.cleanSource, p.downscale, cleanDeflow = filepath.Join(cleanTop, "4x"), 1, true
	case isDir(filepath.Join(cleanTop, "1x")):
		p.cleanSource, p.downscale, cleanDeflow = filepath.Join(cleanTop, "1x"), 4, true
	default:
		p.cleanSource, p.downscale = unnest(cleanTop), 4
	}
	if d := filepath.Join(noisyTop, "1x"); isDir(d) {
		p.noisySource, noisyDeflow = d, true
	} else {
		p.noisySource = unnest(noisyTop)
	}
	switch {
	case cleanDeflow && noisyDeflow:
		p.layout = "deflow"
	case !cleanDeflow && !noisyDeflow:
		p.layout = "raw"
	default:
		p.layout = "mixed"
	}
	for _, d := range []struct {
		dir, role string
		exp       int
		items     *[]item
	}{
		{p.cleanSource, "clean target images", spec.expClean, &p.clean},
		{p.noisySource, "degraded source images", spec.expNoisy, &p.noisy},
	} {
		names, err := imageFiles(d.dir)
		if err != nil {
			return p, fmt.Errorf("prepare %s: %w", spec.dataset, err)
		}
		for _, n := range names {
			*d.items = append(*d.items, item{src: filepath.Join(d.dir, n), name: n})
		}
		switch {
		case len(names) < d.exp:
			msg := fmt.Sprintf("%s holds %d images, expected %d (%s, %s)", d.dir, len(names), d.exp, spec.title, d.role)
			if gaps := numberedGaps(names, d.exp); len(gaps) > 0 {
				msg += "; missing by the numbering: " + listSome(gaps)
			}
			p.shortfalls = append(p.shortfalls, msg)
		case len(names) > d.exp:
			p.warnings = append(p.warnings, fmt.Sprintf("%s holds %d images, more than the %d of %s's %s",
				d.dir, len(names), d.exp, spec.title, d.role))
		}
	}
	return p, nil
}

// findNamedDir finds the one folder called name in from or up to
// searchDepth levels below it (hidden folders skipped).
func findNamedDir(from, name, dataset string) (string, error) {
	var found []string
	level := []string{from}
	for depth := 1; depth <= searchDepth && len(level) > 0; depth++ {
		var next []string
		for _, dir := range level {
			entries, err := os.ReadDir(dir)
			if err != nil {
				continue
			}
			for _, e := range entries {
				p := filepath.Join(dir, e.Name())
				if strings.HasPrefix(e.Name(), ".") || !isDir(p) {
					continue
				}
				if e.Name() == name {
					found = append(found, p)
				} else {
					next = append(next, p)
				}
			}
		}
		level = next
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("prepare %s: no folder %s in %s or up to %d levels below it: unpack the archives there (see `ludvae prepare --help`)",
			dataset, name, from, searchDepth)
	case 1:
		return found[0], nil
	default:
		return "", fmt.Errorf("prepare %s: %d folders named %s under %s (%s): point --from at the one to use",
			dataset, len(found), name, from, listSome(found))
	}
}

// unnest returns dir, or dir/NAME when dir holds no images but exactly a
// folder of its own name (an archive unpacked with `unzip -d NAME` that
// already contained NAME/).
func unnest(dir string) string {
	if names, err := imageFiles(dir); err == nil && len(names) > 0 {
		return dir
	}
	inner := filepath.Join(dir, filepath.Base(dir))
	if isDir(inner) {
		return inner
	}
	return dir
}

// numberedGaps names the files missing from a numbered sequence (DIV2K's
// 0001.png…0800.png, Flickr2K's 000001.png…): when every name is digits of
// one width with one extension, and the numbers fit in a run of expected
// numbers from 1 (or from the smallest), it returns the run's absent names.
// Otherwise it returns nil: the names are not predictable.
func numberedGaps(names []string, expected int) []string {
	if len(names) == 0 || len(names) >= expected {
		return nil
	}
	width, ext := -1, ""
	nums := make(map[int]bool, len(names))
	lo, hi := int(^uint(0)>>1), -1
	for _, n := range names {
		e := filepath.Ext(n)
		stem := strings.TrimSuffix(n, e)
		if width < 0 {
			width, ext = len(stem), e
		}
		if len(stem) != width || e != ext || strings.Trim(stem, "0123456789") != "" {
			return nil
		}
		v, err := strconv.Atoi(stem)
		if err != nil {
			return nil
		}
		nums[v] = true
		lo, hi = min(lo, v), max(hi, v)
	}
	start := 1
	if lo < 1 || hi > expected {
		start = lo
	}
	if hi-start >= expected {
		return nil
	}
	var gaps []string
	for v := start; v < start+expected; v++ {
		if !nums[v] {
			gaps = append(gaps, fmt.Sprintf("%0*d%s", width, v, ext))
		}
	}
	return gaps
}

// isDir reports whether path is a folder (following symlinks).
func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
