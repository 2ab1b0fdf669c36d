package model

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
	err = tb.Try(func() {
		sm := tb.NewScriptModule(ScriptName)
		defer sm.Close()
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
		if err := sm.Save(tmp.Name()); err != nil {
			panic(err)
		}
	})
	if err != nil {
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

func scriptName(key string) string { return strings.ReplaceAll(key, ".", "_") }

// scriptSource writes the generator's TorchScript, unrolled over the levels;
// mapped: its output goes through out_scale and out_shift.
func (m *LUDVAE) scriptSource(mapped bool) string {
	L := m.Config.Levels
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	conv := func(x, key string) string {
		k := scriptName(key)
		return fmt.Sprintf("torch.conv2d(%s, self.%s_weight, self.%s_bias)", x, k, k)
	}
	block := func(x, key string) string {
		args := []string{x}
		for i := 0; i < 8; i += 2 {
			k := scriptName(fmt.Sprintf("%s.net.%d", key, i))
			args = append(args, "self."+k+"_weight", "self."+k+"_bias")
		}
		return "self.block(" + strings.Join(args, ", ") + ")"
	}
	proj := func(a, c, key string) string { return conv(fmt.Sprintf("torch.cat([%s, %s], 1)", a, c), key+".proj") }

	w("def block(self, x: Tensor, w0: Tensor, b0: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, w3: Tensor, b3: Tensor) -> Tensor:")
	w("    x = torch.relu(torch.conv2d(x, w0, b0, [1, 1], [1, 1]))")
	w("    x = torch.relu(torch.conv2d(x, w1, b1, [1, 1], [1, 1]))")
	w("    x = torch.relu(torch.conv2d(x, w2, b2, [1, 1], [1, 1]))")
	w("    return torch.conv2d(x, w3, b3, [1, 1], [1, 1])")
	w("")
	w("def forward(self, clean: Tensor, sigma: Tensor, temperature: float = 1.0) -> Tensor:")
	w("    s = sigma.to(device=clean.device, dtype=clean.dtype).reshape(-1, 1, 1, 1) / 255.0")
	w("    h = clean + torch.randn_like(clean) * s")
	w("    a1 = %s", block(conv("h", "inconv"), "enc_1"))
	for l := 2; l <= L; l++ {
		w("    a%d = %s", l, block(fmt.Sprintf("a%d", l-1), fmt.Sprintf("enc_%d", l)))
	}
	w("    z = torch.randn_like(a%d) * temperature", L)
	w("    d = %s", proj(fmt.Sprintf("a%d", L), "z", fmt.Sprintf("proj_%d", L)))
	for l := L - 1; l >= 1; l-- {
		w("    d = %s", block("d", fmt.Sprintf("dec_%d", l+1)))
		w("    b = %s", proj("d", fmt.Sprintf("a%d", l), fmt.Sprintf("proj_c_%d", l)))
		w("    mp = %s", conv("b", fmt.Sprintf("Gauconv_p_%d.m", l)))
		w("    lsp = %s", conv("b", fmt.Sprintf("Gauconv_p_%d.v", l)))
		w("    z = (mp + torch.exp(lsp) * torch.randn_like(mp)) * temperature")
		w("    d = %s", proj("b", "z", fmt.Sprintf("proj_%d", l)))
	}
	w("    y = %s", conv(block("d", "dec_1"), "outconv"))
	if mapped {
		w("    y = y * self.out_scale.to(y.dtype) + self.out_shift.to(y.dtype)")
	}
	w("    return y")
	return b.String()
}
