package model

import (
	"fmt"
	"strconv"
	"strings"
)

// scriptMachine runs walk to write the generator as TorchScript: each value
// is the name of a local variable of forward, each operation a line that
// assigns a new one. The modules' parameters are attributes of the script
// module named after their state-dict keys (scriptName).
type scriptMachine struct {
	b    strings.Builder
	vars int
}

// scriptName is a parameter's attribute name: TorchScript attributes
// cannot contain '.'.
func scriptName(key string) string { return strings.ReplaceAll(key, ".", "_") }

// line writes one line of source, indented by the function body's four spaces.
func (s *scriptMachine) line(format string, args ...any) {
	fmt.Fprintf(&s.b, "    "+format+"\n", args...)
}

// let assigns expr to a new variable and returns its name.
func (s *scriptMachine) let(expr string) string {
	s.vars++
	v := "v" + strconv.Itoa(s.vars)
	s.line("%s = %s", v, expr)
	return v
}

// conv is the expression of convolution c applied to x.
func (s *scriptMachine) conv(c *Conv2d, x string) string {
	k := scriptName(c.name)
	return fmt.Sprintf("torch.conv2d(%s, self.%s_weight, self.%s_bias, [1, 1], [%d, %d])", x, k, k, c.pad, c.pad)
}

// blockDef is the TorchScript method a ConvBlock calls (block), taking
// its convolutions' weights and biases in order.
func blockDef() string {
	var b strings.Builder
	var args []string
	for i := range len(ConvBlock{}.Net) {
		args = append(args, fmt.Sprintf("w%d: Tensor, b%d: Tensor", i, i))
	}
	fmt.Fprintf(&b, "def block(self, x: Tensor, %s) -> Tensor:\n", strings.Join(args, ", "))
	for i := range len(ConvBlock{}.Net) - 1 {
		fmt.Fprintf(&b, "    x = torch.relu(torch.conv2d(x, w%d, b%d, [1, 1], [1, 1]))\n", i, i)
	}
	n := len(ConvBlock{}.Net) - 1
	fmt.Fprintf(&b, "    return torch.conv2d(x, w%d, b%d, [1, 1], [1, 1])\n", n, n)
	return b.String()
}

func (s *scriptMachine) encode(in *Conv2d, blocks []*ConvBlock, h string) []string {
	feats := make([]string, len(blocks))
	f := s.let(s.conv(in, h))
	for l, b := range blocks {
		f = s.block(b, f)
		feats[l] = f
	}
	return feats
}

func (s *scriptMachine) block(b *ConvBlock, x string) string {
	args := []string{x}
	for _, c := range b.Net {
		k := scriptName(c.name)
		args = append(args, "self."+k+"_weight", "self."+k+"_bias")
	}
	return s.let("self.block(" + strings.Join(args, ", ") + ")")
}

func (s *scriptMachine) proj(p *ProjBlock, a, b string) string {
	return s.let(s.conv(p.Proj, fmt.Sprintf("torch.cat([%s, %s], 1)", a, b)))
}

func (s *scriptMachine) output(dec *ConvBlock, out *Conv2d, d string) string {
	return s.let(s.conv(out, s.block(dec, d)))
}

func (s *scriptMachine) release(...string) {}

// prior is generation's latent (as prior.latent computes it) drawn from
// torch's RNG, the temperature being forward's argument.
func (s *scriptMachine) prior(m *LUDVAE) latent[string] {
	return func(l int, b string) string {
		if l == len(m.Enc) {
			return s.let(fmt.Sprintf("torch.randn_like(%s) * temperature", b))
		}
		g := m.GauP[l-1]
		mp, lsp := s.let(s.conv(g.M, b)), s.let(s.conv(g.V, b))
		return s.let(fmt.Sprintf("(%s + torch.exp(%s) * torch.randn_like(%s)) * temperature", mp, lsp, mp))
	}
}
