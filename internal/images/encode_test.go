package images

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestToUint8Rounding: quantization is KAIR's
// np.uint8((img.clip(0,1)*255.).round()) on a float32 image — clip, the
// product rounded to float32, then round half to even — and likewise with
// 65535 for 16 bits. Expected values were computed with numpy 1.24; the
// first five inputs are float32 values whose float32 product with 255 is
// exactly k+0.5.
func TestToUint8Rounding(t *testing.T) {
	for _, tc := range []struct {
		in     float32
		u8     uint8
		u16    uint16
		reason string
	}{
		{0.0019607844296842813, 0, 128, "0.5 → 0"},
		{0.0058823530562222, 2, 386, "1.5 → 2"},
		{0.009803921915590763, 2, 642, "2.5 → 2"},
		{0.39411765336990356, 100, 25828, "100.5 → 100"},
		{0.39803922176361084, 102, 26086, "101.5 → 102"},
		{-0.1, 0, 0, "clipped"},
		{0, 0, 0, ""},
		{1, 255, 65535, ""},
		{1.5, 255, 65535, "clipped"},
		{0.2, 51, 13107, ""},
		{0.7, 178, 45874, ""},
		{0.99999, 255, 65534, ""},
	} {
		m := New(1, 1)
		for c := 0; c < 3; c++ {
			m.Set(0, 0, c, tc.in)
		}
		if got := ToUint8(m); got[0] != tc.u8 || got[1] != tc.u8 || got[2] != tc.u8 {
			t.Errorf("ToUint8(%v) = %v, want %d (%s)", tc.in, got, tc.u8, tc.reason)
		}
		if got := ToUint16(m); got[0] != tc.u16 {
			t.Errorf("ToUint16(%v) = %v, want %d (%s)", tc.in, got, tc.u16, tc.reason)
		}
	}
}

// TestSavePNGRoundTrip: 8-bit and 16-bit PNGs read back to exactly the
// quantized values, with the requested bit depth.
func TestSavePNGRoundTrip(t *testing.T) {
	const w, h = 11, 6
	dir := t.TempDir()
	for _, tc := range []struct {
		bits  int
		model string
		grid  float32
	}{{8, "*image.RGBA", 255}, {16, "*image.RGBA64", 65535}} {
		m := New(w, h)
		for c := 0; c < 3; c++ {
			for i := range m.Plane(c) {
				// values on the bit depth's grid, plus out-of-range ones
				m.Plane(c)[i] = float32((i*97+c*1013)%int(tc.grid+1)) / tc.grid
			}
		}
		m.Set(0, 0, 0, -0.5)
		m.Set(1, 0, 0, 1.5)
		p := filepath.Join(dir, "out.png")
		if err := SavePNG(p, m, tc.bits); err != nil {
			t.Fatal(err)
		}
		f, _ := os.Open(p)
		raw, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := typeName(raw); got != tc.model {
			t.Errorf("%d-bit PNG decodes as %s, want %s", tc.bits, got, tc.model)
		}
		back, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		m.Set(0, 0, 0, 0)
		m.Set(1, 0, 0, 1)
		for i := range m.Pix {
			if back.Pix[i] != m.Pix[i] {
				t.Fatalf("%d-bit: value %d read back as %v, want %v", tc.bits, i, back.Pix[i], m.Pix[i])
			}
		}
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("%d-bit: file mode %v, %v; want 0644", tc.bits, st.Mode(), err)
		}
	}
}

func typeName(m image.Image) string {
	switch m.(type) {
	case *image.RGBA:
		return "*image.RGBA"
	case *image.RGBA64:
		return "*image.RGBA64"
	}
	return "other"
}

// TestSavePNGAtomic: a failed write leaves no temporary file and keeps the
// old file; a successful write replaces it.
func TestSavePNGAtomic(t *testing.T) {
	dir := t.TempDir()
	m := New(4, 4)
	leftovers := func() []string {
		var tmp []string
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp") {
				tmp = append(tmp, e.Name())
			}
		}
		return tmp
	}

	// Renaming over a non-empty folder fails after the data is written.
	blocker := filepath.Join(dir, "blocked.png")
	os.MkdirAll(filepath.Join(blocker, "x"), 0o755)
	if err := SavePNG(blocker, m, 8); err == nil || !strings.Contains(err.Error(), blocker) {
		t.Errorf("SavePNG over a folder: error %v, want one naming %s", err, blocker)
	}
	if tmp := leftovers(); len(tmp) != 0 {
		t.Errorf("temporary files left behind: %q", tmp)
	}

	// Bad bit depth and missing folder.
	if err := SavePNG(filepath.Join(dir, "x.png"), m, 12); err == nil {
		t.Error("SavePNG with 12 bits succeeded")
	}
	if err := SavePNG(filepath.Join(dir, "missing", "x.png"), m, 8); err == nil {
		t.Error("SavePNG into a missing folder succeeded")
	}

	// A read-only folder (only meaningful when not running as root).
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		if err := SavePNG(filepath.Join(ro, "x.png"), m, 8); err == nil {
			t.Error("SavePNG into a read-only folder succeeded")
		}
		if entries, _ := os.ReadDir(ro); len(entries) != 0 {
			t.Errorf("read-only folder holds %v", entries)
		}
	}

	// Replacing an existing file.
	p := filepath.Join(dir, "img.png")
	if err := SavePNG(p, m, 8); err != nil {
		t.Fatal(err)
	}
	m.Set(0, 0, 1, 1)
	if err := SavePNG(p, m, 16); err != nil {
		t.Fatal(err)
	}
	back, err := Load(p)
	if err != nil || back.At(0, 0, 1) != 1 {
		t.Errorf("replaced file reads %v, %v", back, err)
	}
	if tmp := leftovers(); len(tmp) != 0 {
		t.Errorf("temporary files left behind: %q", tmp)
	}
}
