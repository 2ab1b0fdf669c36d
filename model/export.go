package model

import (
	"fmt"
	"os"
	"path/filepath"

	tb "github.com/ludvae/ludvae/torchbind"
)

// ScriptName is the TorchScript class of the exported C2N generator.
const ScriptName = "__torch__.ludvae.Generator"

// ColourMap is a per-channel affine map y·Scale + Shift of generated
// images: the way back from the colour statistics a model was trained in to
// the degraded domain's (AIM19's normalization).
type ColourMap struct{ Scale, Shift [3]float64 }

// ExportTorchScript writes the C2N generator as a TorchScript module for
// Python: torch.jit.load(path) gives a module whose
//
//	forward(clean: Tensor[N,C,H,W] in [0,1], sigma: Tensor[N] (0–255 scale),
//	        temperature: float = 1.0) -> Tensor
//
// draws fresh noise from torch's RNG on the module's device (so it works on
// CUDA after .to("cuda")) and applies out, if not nil, to what it decodes
// (unclamped, as the network's own output is). Parameters are saved in
// float32 on the CPU under their state-dict names with '.' replaced by '_';
// out's as the buffers out_scale and out_shift.
func (m *LUDVAE) ExportTorchScript(path string, out *ColourMap) error {
	if out != nil && m.Config.Channels != 3 {
		return fmt.Errorf("export %s: a colour map needs 3 channels, the model has %d", path, m.Config.Channels)
	}
	// Written beside the target and renamed, so a failure never leaves a
	// truncated module at path.
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	var sm *tb.ScriptModule
	err = tb.Try(func() {
		sm = tb.NewScriptModule(ScriptName)
		m.defineScript(sm, out)
	})
	if sm != nil {
		defer sm.Close()
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	if err := sm.Save(tmp.Name()); err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	// CreateTemp made the file 0600; give it the mode of every other file
	// ludvae writes (torchbind/pickle.Save's rule), and make it durable.
	if err := finishFile(tmp.Name(), path); err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// finishFile gives a finished temporary file the mode its target should
// have (0644 when new, the old file's permission bits when replacing one)
// and syncs it.
func finishFile(tmp, target string) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(target); err == nil && st.Mode().IsRegular() {
		mode = st.Mode().Perm()
	}
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Chmod(mode); err != nil {
		return err
	}
	return f.Sync()
}

// defineScript fills the generator's script module: the parameters in
// float32 on the CPU, out's buffers, the source.
func (m *LUDVAE) defineScript(sm *tb.ScriptModule, out *ColourMap) {
	tb.WithScope(func(*tb.Scope) {
		tb.NoGrad(func() {
			for _, p := range m.Params() {
				sm.RegisterParameter(scriptName(p.Name), p.Tensor.To(tb.Float32, tb.CPU))
			}
			if out != nil {
				sm.RegisterBuffer("out_scale", tb.FromSlice(out.Scale[:], 1, 3, 1, 1).ToDType(tb.Float32))
				sm.RegisterBuffer("out_shift", tb.FromSlice(out.Shift[:], 1, 3, 1, 1).ToDType(tb.Float32))
			}
		})
	})
	sm.Define(m.scriptSource(out != nil))
}

// scriptSource is the generator's TorchScript: walk on a scriptMachine,
// between the preprocessing h and, when mapped, out_scale and out_shift.
func (m *LUDVAE) scriptSource(mapped bool) string {
	s := &scriptMachine{}
	s.b.WriteString(blockDef() + "\n")
	s.b.WriteString("def forward(self, clean: Tensor, sigma: Tensor, temperature: float = 1.0) -> Tensor:\n")
	s.line("s = sigma.to(device=clean.device, dtype=clean.dtype).reshape(-1, 1, 1, 1) / 255.0")
	s.line("h = clean + torch.randn_like(clean) * s")
	y := walk[string](m, s, "h", s.prior(m))
	if mapped {
		s.line("%s = %s * self.out_scale.to(%s.dtype) + self.out_shift.to(%s.dtype)", y, y, y, y)
	}
	s.line("return %s", y)
	return s.b.String()
}
