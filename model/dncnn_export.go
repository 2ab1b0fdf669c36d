package model

import (
	"fmt"
	"strings"

	"github.com/ludvae/ludvae/internal/atomicfile"
	tb "github.com/ludvae/ludvae/torchbind"
)

// DnCNNScriptName is the TorchScript class of the exported denoiser.
const DnCNNScriptName = "__torch__.ludvae.DnCNN"

// ExportTorchScript writes the denoiser as a TorchScript module for
// Python: torch.jit.load(path) gives a module whose forward(noisy:
// Tensor[N,C,H,W] in [0,1]) -> Tensor returns the denoised images
// (unclamped), computed as the network's evaluation mode does (batch norm
// with the running statistics). Parameters and buffers are saved in
// float32 on the CPU under their state-dict names with '.' replaced by '_'.
func (m *DnCNN) ExportTorchScript(path string) error {
	// Written beside the target and renamed (package atomicfile), so that
	// a failure never leaves a truncated module at path; 0644 and synced as
	// every file ludvae writes (the module was once left 0600, unsynced).
	err := atomicfile.WriteNamed(path, func(tmp string) error {
		var sm *tb.ScriptModule
		err := tb.Try(func() {
			sm = tb.NewScriptModule(DnCNNScriptName)
			tb.WithScope(func(*tb.Scope) {
				tb.NoGrad(func() {
					m.visit(func(name string, t *tb.Tensor, trainable bool) {
						if strings.HasSuffix(name, "num_batches_tracked") {
							return // evaluation mode never reads it
						}
						v := t.To(tb.Float32, tb.CPU)
						if trainable {
							sm.RegisterParameter(scriptName(name), v)
						} else {
							sm.RegisterBuffer(scriptName(name), v)
						}
					})
				})
			})
			sm.Define(m.scriptSource())
		})
		if sm != nil {
			defer sm.Close()
		}
		if err != nil {
			return err
		}
		return sm.Save(tmp)
	})
	if err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	return nil
}

// scriptSource is dncnnWalk on a scriptMachine.
func (m *DnCNN) scriptSource() string {
	s := &scriptMachine{}
	s.b.WriteString("def forward(self, noisy: Tensor) -> Tensor:\n")
	s.line("return %s", dncnnWalk[string](m, s, "noisy"))
	return s.b.String()
}
