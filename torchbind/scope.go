package torchbind

import "sync"

// A Scope owns the tensors created while it is the innermost open scope and
// frees them all when it is closed. Training and synthesis open one per step,
// so libtorch memory stays flat however long they run.
//
// Scopes form a process-wide stack: they are meant for the one goroutine that
// drives the model. Other goroutines (data loading, encoding) work on Go
// slices, or Close the tensors they make themselves.
type Scope struct {
	parent  *Scope
	tensors []*Tensor
	closed  bool
}

var scopes struct {
	sync.Mutex
	top *Scope
}

// NewScope opens a scope nested in the current one.
func NewScope() *Scope {
	scopes.Lock()
	defer scopes.Unlock()
	s := &Scope{parent: scopes.top}
	scopes.top = s
	return s
}

// WithScope runs f in a new scope and closes it afterwards, also when f panics.
func WithScope(f func(s *Scope)) {
	s := NewScope()
	defer s.Close()
	f(s)
}

// Keep moves tensors out of s into its parent scope (or out of every scope
// when s is outermost), so they survive s.Close. It returns its first argument
// for convenience.
func (s *Scope) Keep(ts ...*Tensor) *Tensor {
	scopes.Lock()
	defer scopes.Unlock()
	for _, t := range ts {
		if t == nil || t.scope != s {
			continue
		}
		s.remove(t)
		t.scope = s.parent
		if s.parent != nil {
			s.parent.tensors = append(s.parent.tensors, t)
		}
	}
	if len(ts) == 0 {
		return nil
	}
	return ts[0]
}

// Len is the number of tensors s currently owns.
func (s *Scope) Len() int {
	scopes.Lock()
	defer scopes.Unlock()
	return len(s.tensors)
}

// Close frees every tensor s owns and closes the scopes opened inside it that
// are still open. Closing twice is harmless.
func (s *Scope) Close() {
	scopes.Lock()
	if s.closed {
		scopes.Unlock()
		return
	}
	// Inner scopes left open (a panic unwound past them) close with s.
	for scopes.top != nil && scopes.top != s && scopes.top.isInside(s) {
		inner := scopes.top
		scopes.top = inner.parent
		inner.closed = true
		s.tensors = append(s.tensors, inner.tensors...)
		inner.tensors = nil
	}
	if scopes.top == s {
		scopes.top = s.parent
	}
	s.closed = true
	ts := s.tensors
	s.tensors = nil
	for _, t := range ts {
		t.scope = nil
	}
	scopes.Unlock()
	for _, t := range ts {
		t.Close()
	}
}

func (s *Scope) isInside(outer *Scope) bool {
	for p := s.parent; p != nil; p = p.parent {
		if p == outer {
			return true
		}
	}
	return false
}

// remove drops t from s's list; callers hold scopes' lock.
func (s *Scope) remove(t *Tensor) {
	for i := len(s.tensors) - 1; i >= 0; i-- {
		if s.tensors[i] == t {
			s.tensors[i] = s.tensors[len(s.tensors)-1]
			s.tensors = s.tensors[:len(s.tensors)-1]
			return
		}
	}
}

// track puts a new tensor in the innermost open scope.
func track(t *Tensor) {
	scopes.Lock()
	if s := scopes.top; s != nil {
		t.scope = s
		s.tensors = append(s.tensors, t)
	}
	scopes.Unlock()
}

// untrack takes t out of its scope when it is closed by hand.
func untrack(t *Tensor) {
	scopes.Lock()
	if s := t.scope; s != nil {
		s.remove(t)
		t.scope = nil
	}
	scopes.Unlock()
}

// Persist takes t out of every scope: it lives until Close (or, failing
// that, its finalizer). Model parameters and optimizer state persist.
func (t *Tensor) Persist() *Tensor {
	untrack(t)
	return t
}
