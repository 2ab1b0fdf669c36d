package torchbind

import (
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
)

// A Scope owns the tensors created while it is the innermost open scope of
// its OS thread and frees them all when it is closed. Training and synthesis
// open one per step, so libtorch memory stays flat however long they run.
//
// Scopes stack per OS thread, in the thread's arena: a scope pins its
// goroutine to the thread until it is closed, so it takes the tensors its
// own goroutine creates and no other's. A Runtime owns its thread's arena
// for as long as it runs; elsewhere a thread's arena lasts while a scope is
// open on it. Tensors created where no scope is open belong to nobody: they
// are closed by hand, or persist.
type Scope struct {
	arena   *arena
	parent  *Scope
	tensors []*Tensor
	closed  bool
}

// arena is one OS thread's stack of scopes.
type arena struct {
	tid   int
	top   *Scope
	owned bool // by a Runtime, which removes it when it closes
}

// arenas are the arenas by OS thread. One lock serves them all: what it
// guards (a slice append, a map lookup) is short next to the op that made
// the tensor.
var arenas struct {
	sync.Mutex
	byThread map[int]*arena
	n        atomic.Int32 // len(byThread): when 0, new tensors skip the lookup
}

// threadID is the calling OS thread's id; stable for a goroutine only
// while it is locked to its thread.
func threadID() int { return syscall.Gettid() }

// arenaOf returns the calling thread's arena, made when missing; callers
// hold arenas' lock and have locked their goroutine to its thread.
func arenaOf(tid int) *arena {
	a := arenas.byThread[tid]
	if a == nil {
		if arenas.byThread == nil {
			arenas.byThread = map[int]*arena{}
		}
		a = &arena{tid: tid}
		arenas.byThread[tid] = a
		arenas.n.Add(1)
	}
	return a
}

// dropIfIdle removes a's entry once nothing holds it: no open scope and no
// Runtime. Thread ids are reused after a thread ends.
func (a *arena) dropIfIdle() {
	if a.top == nil && !a.owned && arenas.byThread[a.tid] == a {
		delete(arenas.byThread, a.tid)
		arenas.n.Add(-1)
	}
}

// NewScope opens a scope nested in the current one of this OS thread, and
// pins the calling goroutine to the thread until the scope is closed. Close
// it on the same goroutine (WithScope does).
func NewScope() *Scope {
	runtime.LockOSThread()
	arenas.Lock()
	defer arenas.Unlock()
	a := arenaOf(threadID())
	s := &Scope{arena: a, parent: a.top}
	a.top = s
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
	arenas.Lock()
	defer arenas.Unlock()
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
	arenas.Lock()
	defer arenas.Unlock()
	return len(s.tensors)
}

// Close frees every tensor s owns, closes the scopes opened inside it that
// are still open, and unpins the goroutine as often as they pinned it.
// Closing twice is harmless.
func (s *Scope) Close() {
	arenas.Lock()
	if s.closed {
		arenas.Unlock()
		return
	}
	a := s.arena
	pins := 1
	// Inner scopes left open (a panic unwound past them) close with s.
	for a.top != nil && a.top != s && a.top.isInside(s) {
		inner := a.top
		a.top = inner.parent
		inner.closed = true
		s.tensors = append(s.tensors, inner.tensors...)
		inner.tensors = nil
		pins++
	}
	if a.top == s {
		a.top = s.parent
	}
	a.dropIfIdle()
	s.closed = true
	ts := s.tensors
	s.tensors = nil
	for _, t := range ts {
		t.scope = nil
	}
	arenas.Unlock()
	for _, t := range ts {
		t.Close()
	}
	for range pins {
		runtime.UnlockOSThread()
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

// remove drops t from s's list; callers hold arenas' lock.
func (s *Scope) remove(t *Tensor) {
	for i := len(s.tensors) - 1; i >= 0; i-- {
		if s.tensors[i] == t {
			s.tensors[i] = s.tensors[len(s.tensors)-1]
			s.tensors = s.tensors[:len(s.tensors)-1]
			return
		}
	}
}

// track puts a new tensor in the innermost open scope of the calling
// thread. A goroutine not pinned to its thread has no arena there: only a
// pinned goroutine runs on a thread that has one.
func track(t *Tensor) {
	if arenas.n.Load() == 0 {
		return
	}
	tid := threadID()
	arenas.Lock()
	if a := arenas.byThread[tid]; a != nil && a.top != nil {
		t.scope = a.top
		a.top.tensors = append(a.top.tensors, t)
	}
	arenas.Unlock()
}

// untrack takes t out of its scope when it is closed by hand.
func untrack(t *Tensor) {
	arenas.Lock()
	if s := t.scope; s != nil {
		s.remove(t)
		t.scope = nil
	}
	arenas.Unlock()
}

// Persist takes t out of every scope: it lives until Close (or, failing
// that, its finalizer). Model parameters and optimizer state persist.
func (t *Tensor) Persist() *Tensor {
	untrack(t)
	return t
}
