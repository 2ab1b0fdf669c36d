package restore

import (
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// A signal may abandon a CPU training step under way (run.StepGate): the
// checkpoint of the steps done is then saved, from another goroutine, while
// the step's forward and backward passes run. They leave the weights and
// Adam's state alone, but the forward pass in training mode updates the
// batch norms' running statistics and batch counts in place, so those are
// saved from settled: copies taken after each completed step (and at the
// start), which is exactly what a save between steps would have written.
// On CUDA the signal waits for the step, which takes a fraction of a
// second there (train.abandonable says why).

// settled holds copies of the network's buffers (model.DnCNN.Buffers) as
// the last completed step left them.
type settled struct {
	names        []string
	live, copies []*tb.Tensor
}

// newSettled copies m's buffers; the copies persist until close.
func newSettled(m *model.DnCNN) (s *settled, err error) {
	s = &settled{}
	err = tb.Try(func() {
		for _, b := range m.Buffers() {
			s.names, s.live = append(s.names, b.Name), append(s.live, b.Tensor)
			s.copies = append(s.copies, b.Tensor.Clone().Persist())
		}
	})
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// capture copies the buffers again, after a completed step (on the
// runtime's thread, while the step gate holds off a save).
func (s *settled) capture() error {
	return tb.Try(func() {
		for i, c := range s.copies {
			c.CopyFrom(s.live[i])
		}
	})
}

func (s *settled) close() {
	if s == nil {
		return
	}
	for _, c := range s.copies {
		c.Close()
	}
}

// settledNet is the network as the last completed step left it: its
// parameters, which only an update changes, and the copies of its buffers.
type settledNet struct {
	m *model.DnCNN
	s *settled
}

func (n settledNet) StateDict() *tb.Dict {
	d := n.m.StateDict()
	for i, name := range n.s.names {
		d.Set(name, n.s.copies[i])
	}
	return d
}

func (n settledNet) LoadStateDict(d *tb.Dict) error { return n.m.LoadStateDict(d) }
