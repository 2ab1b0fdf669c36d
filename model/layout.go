package model

import (
	"fmt"

	"github.com/ludvae/ludvae/internal/layout"
	tb "github.com/ludvae/ludvae/torchbind"
)

// ToLayout stores the convolution weights in l: channels-last for
// layout.NHWC (ToChannelsLast), contiguous for layout.NCHW. Values and
// names are unchanged; call it before an optimizer is built over the
// parameters.
func (m *LUDVAE) ToLayout(l layout.Layout) error {
	m.blocked = l == layout.Blocked
	if l == layout.NHWC {
		return m.ToChannelsLast()
	}
	return toContiguous(m.params.entries)
}

// Layout is the layout the convolution weights are stored in.
func (m *LUDVAE) Layout() layout.Layout {
	if m.blocked {
		return layout.Blocked
	}
	var ws []*tb.Tensor
	for _, e := range m.params.entries {
		ws = append(ws, *e.slot)
	}
	return layoutOf(ws...)
}

// ToLayout stores the DnCNN's convolution weights in l, as LUDVAE.ToLayout.
func (m *DnCNN) ToLayout(l layout.Layout) error {
	return tb.Try(func() {
		for _, c := range m.Convs {
			c.Weight = relayout(c.Weight, l)
		}
	})
}

// Layout is the layout the DnCNN's convolution weights are stored in.
func (m *DnCNN) Layout() layout.Layout {
	var ws []*tb.Tensor
	for _, c := range m.Convs {
		ws = append(ws, c.Weight)
	}
	return layoutOf(ws...)
}

// InLayout returns x (4-d) in l: channels-last for NHWC, else contiguous.
func InLayout(x *tb.Tensor, l layout.Layout) *tb.Tensor {
	if l == layout.NHWC {
		return x.ChannelsLast()
	}
	return x.Contiguous()
}

// layoutOf is NHWC when a weight is channels-last and not contiguous (a
// 1×1 convolution's weight can be both).
func layoutOf(ws ...*tb.Tensor) layout.Layout {
	for _, w := range ws {
		if w.Dim() == 4 && w.IsChannelsLast() && !w.IsContiguous() {
			return layout.NHWC
		}
	}
	return layout.NCHW
}

func toContiguous(entries []entry) error {
	return tb.Try(func() {
		for _, e := range entries {
			if (*e.slot).Dim() == 4 {
				*e.slot = relayout(*e.slot, layout.NCHW)
			}
		}
	})
}

// relayout returns old in l, closing old, keeping requires-grad.
func relayout(old *tb.Tensor, l layout.Layout) *tb.Tensor {
	var w *tb.Tensor
	tb.NoGrad(func() { w = InLayout(old, l).Persist() })
	if old.RequiresGrad() {
		w.SetRequiresGrad(true)
	}
	old.Close()
	return w
}

// LayoutKey is the layout cache's key of a timing on this machine: its CPU
// model and libtorch's instruction set, libtorch's version and thread
// count, with the task, the shape of the model and input, and precision.
func LayoutKey(task, shape string, precision tb.Precision) layout.Key {
	return layout.Key{CPU: layout.CPUModel(), Capability: tb.CPUCapability(), Threads: tb.NumThreads(),
		Libtorch: tb.LibtorchVersion(), Task: task, Shape: shape, Precision: string(precision)}
}

// ShapeKey names a LUD-VAE and an input batch for LayoutKey.
func ShapeKey(c Config, batch, h, w int) string {
	return fmt.Sprintf("ludvae-f%d-l%d-c%d-in%dx%dx%d", c.Filters, c.Levels, c.Channels, batch, h, w)
}
