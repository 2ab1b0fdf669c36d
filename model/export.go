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

// ExportTorchScript writes the C2N generator as a TorchScript module for
// Python: torch.jit.load(path) gives a module whose
//
//	forward(clean: Tensor[N,C,H,W] in [0,1], sigma: Tensor[N] (0–255 scale),
//	        temperature: float = 1.0) -> Tensor
//
// draws fresh noise from torch's RNG on the module's device (so it works on
// CUDA after .to("cuda")). Parameters are saved in float32 on the CPU under
// their state-dict names with '.' replaced by '_'.
func (m *LUDVAE) ExportTorchScript(path string) error {
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
			})
		})
		sm.Define(m.scriptSource())
		if err := sm.Save(tmp.Name()); err != nil {
			panic(err)
		}
	})
	if err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

func scriptName(key string) string { return strings.ReplaceAll(key, ".", "_") }

// scriptSource writes the generator's TorchScript, unrolled over the levels.
func (m *LUDVAE) scriptSource() string {
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
	w("    return %s", conv(block("d", "dec_1"), "outconv"))
	return b.String()
}
