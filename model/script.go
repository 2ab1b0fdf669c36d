package model

import (
	"fmt"
	"strconv"
	"strings"
)

// scriptMachine runs a walk to write a network as TorchScript: each value
// is the name of a local variable of forward, each operation a line that
// assigns a new one. The modules' parameters and buffers are attributes of
// the script module named after their state-dict keys (scriptName); the
// temperature is forward's argument of that name.
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
func (s *scriptMachine) let(format string, args ...any) string {
	s.vars++
	v := "v" + strconv.Itoa(s.vars)
	s.line("%s = %s", v, fmt.Sprintf(format, args...))
	return v
}

func (s *scriptMachine) conv(c *Conv2d, x string) string {
	k := scriptName(c.name)
	return s.let("torch.conv2d(%s, self.%s_weight, self.%s_bias, [1, 1], [%d, %d])", x, k, k, c.pad, c.pad)
}

func (s *scriptMachine) convPair(first, second *Conv2d, x string) string {
	return s.conv(second, s.conv(first, x))
}

func (s *scriptMachine) relu(x string) string { return s.let("torch.relu(%s)", x) }

func (s *scriptMachine) cat(a, b string) string { return s.let("torch.cat([%s, %s], 1)", a, b) }

func (s *scriptMachine) add(a, b string) string { return s.let("%s + %s", a, b) }

func (s *scriptMachine) sub(a, b string) string { return s.let("%s - %s", a, b) }

func (s *scriptMachine) mul(a, b string) string { return s.let("%s * %s", a, b) }

// batchNorm is evaluation mode's: the running statistics.
func (s *scriptMachine) batchNorm(b *BatchNorm2d, x string) string {
	n := scriptName(b.name)
	return s.let("torch.batch_norm(%s, self.%s_weight, self.%s_bias, self.%s_running_mean, self.%s_running_var, False, %g, %g, True)",
		x, n, n, n, n, kairBNMomentum, kairBNEps)
}

// normalLike draws from torch's RNG on x's device.
func (s *scriptMachine) normalLike(_ Site, x string) string { return s.let("torch.randn_like(%s)", x) }

func (s *scriptMachine) sample(_ Site, g *gaussian[string], like string) string {
	if g == nil {
		return s.let("torch.randn_like(%s) * temperature", like)
	}
	return s.let("(%s + torch.exp(%s) * torch.randn_like(%s)) * temperature", g.mean, g.logSigma, g.mean)
}

func (s *scriptMachine) release(...string) {}
