package prepare

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ludvae/ludvae/internal/atomicfile"
	"github.com/ludvae/ludvae/internal/pathguard"
)

// ManifestVersion is the prepare.json format Run writes and ReadManifest
// accepts.
const ManifestVersion = 1

// Manifest is the content of prepare.json (fields described in the package
// documentation).
type Manifest struct {
	// Version is ManifestVersion.
	Version int `json:"version"`
	// Dataset is "sidd", "aim19" or "ntire20"; also the training preset.
	Dataset string `json:"dataset"`
	// From is the download folder, absolute.
	From string `json:"from"`
	// Layout is "sidd-small", "raw", "deflow" or "mixed".
	Layout string `json:"layout"`
	// CleanSource and NoisySource are the folders the images came from.
	CleanSource string `json:"clean_source"`
	NoisySource string `json:"noisy_source"`
	// Clean and Noisy count the images in the clean and noisy folders.
	Clean int `json:"clean"`
	Noisy int `json:"noisy"`
	// ExpectedClean and ExpectedNoisy are the counts of a complete download.
	ExpectedClean int `json:"expected_clean"`
	ExpectedNoisy int `json:"expected_noisy"`
	// DownscaleClean is the factor by which training shrinks each clean
	// image (MATLAB-style bicubic) when it loads it; 1 means none.
	DownscaleClean int `json:"downscale_clean"`
	// Mode is "symlink" or "copy".
	Mode string `json:"mode"`
	// Options are the options Run was given.
	Options ManifestOptions `json:"options"`
	// CleanScenes and NoisyScenes are SIDD's scenes per domain with
	// Options.Disjoint.
	CleanScenes []string `json:"clean_scenes,omitempty"`
	NoisyScenes []string `json:"noisy_scenes,omitempty"`
	// Warnings are the shortfalls accepted with AllowPartial, and notes.
	Warnings []string `json:"warnings,omitempty"`
}

// ManifestOptions records the Options that change what Run prepares.
type ManifestOptions struct {
	Disjoint     bool  `json:"disjoint"`
	Seed         int64 `json:"seed"`
	AllowPartial bool  `json:"allow_partial"`
}

// ReadManifest reads dataDir/prepare.json, checking its version and that
// downscale_clean is at least 1.
func ReadManifest(dataDir string) (Manifest, error) {
	var m Manifest
	path := filepath.Join(dataDir, ManifestFile)
	b, err := pathguard.ReadFile(path)
	if err != nil {
		return m, fmt.Errorf("prepare: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("prepare: %s: %w", path, err)
	}
	if m.Version != ManifestVersion {
		return m, fmt.Errorf("prepare: %s: version %d, want %d", path, m.Version, ManifestVersion)
	}
	if m.DownscaleClean < 1 {
		return m, fmt.Errorf("prepare: %s: downscale_clean %d, want 1 or more", path, m.DownscaleClean)
	}
	return m, nil
}

// FindManifest returns the manifest describing cleanDir when cleanDir is
// the clean folder of a prepared DATA_DIR (DATA_DIR/clean with a
// DATA_DIR/prepare.json beside it); ok is false, with no error, when there
// is no such file. Training calls it on its --clean folder to learn
// downscale_clean.
func FindManifest(cleanDir string) (m Manifest, ok bool, err error) {
	abs, err := filepath.Abs(cleanDir)
	if err != nil {
		return m, false, err
	}
	if filepath.Base(abs) != CleanDir {
		return m, false, nil
	}
	dataDir := filepath.Dir(abs)
	if _, err := os.Stat(filepath.Join(dataDir, ManifestFile)); errors.Is(err, os.ErrNotExist) {
		return m, false, nil
	}
	m, err = ReadManifest(dataDir)
	return m, err == nil, err
}

// writeManifest writes m as indented JSON through a temporary file, so that
// path is never half-written.
func writeManifest(path string, m Manifest) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, buf.Bytes()) {
		return nil
	}
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	return nil
}
