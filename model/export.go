package model

import (
	"fmt"

	"github.com/ludvae/ludvae/internal/atomicfile"
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
	var sm *tb.ScriptModule
	err := tb.Try(func() {
		sm = tb.NewScriptModule(ScriptName)
		m.defineScript(sm, out)
	})
	if sm != nil {
		defer sm.Close()
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	// Written beside the target and renamed (package atomicfile), so a
	// failure never leaves a truncated module at path; 0644 and synced as
	// every file ludvae writes.
	if err := atomicfile.WriteNamed(path, sm.Save); err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	return nil
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

// scriptSource is the generator's TorchScript: noisyCopy and walk with
// priorLatent on a scriptMachine, then, when mapped, out_scale and
// out_shift.
func (m *LUDVAE) scriptSource(mapped bool) string {
	s := &scriptMachine{}
	s.b.WriteString("def forward(self, clean: Tensor, sigma: Tensor, temperature: float = 1.0) -> Tensor:\n")
	s.line("s = sigma.to(device=clean.device, dtype=clean.dtype).reshape(-1, 1, 1, 1) / 255.0")
	h := noisyCopy[string](s, "clean", "s")
	y := walk[string](m, s, h, priorLatent[string](m, s))
	if mapped {
		s.line("%s = %s * self.out_scale.to(%s.dtype) + self.out_shift.to(%s.dtype)", y, y, y, y)
	}
	s.line("return %s", y)
	return s.b.String()
}
