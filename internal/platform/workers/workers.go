// Package workers runs functions on goroutines that keep the stacks they grew.
//
// A new goroutine starts with a small stack and grows it, copying it each time,
// as deep calls need: a resolver reaching the database (Bun, database/sql, pgx)
// grows one two or three times. A pooled goroutine keeps the stack it grew (the
// most recently idle one is taken first), and grows it while shallow before a task
// (growStack) when the garbage collector has shrunk it meanwhile. The garbage
// collector halves a waiting goroutine's stack only while less than a quarter of it
// is in use, so deep work done once on a goroutine that then waits a long time (a
// socket's reader, a chat) leaves it a larger stack until a collection, and the
// stack it grew into memory the heap keeps: such work is better done here.
package workers

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Pool runs functions on goroutines it keeps: an idle one when there is one (the
// last to become idle), else a new one. A goroutine idle for the pool's idle time
// ends. It never makes a function wait for another, as with a goroutine each.
type Pool struct {
	idleFor time.Duration
	mu      sync.Mutex
	idle    []*worker // the most recently idle last
}

type worker struct {
	tasks chan Task
}

// A Task is work to run on a pool's goroutine. A pointer to a task that keeps what
// it needs in itself is given to the pool without an allocation, where a closure
// capturing the same is one.
type Task interface{ Run() }

// Func is a function as a Task.
type Func func()

func (f Func) Run() { f() }

// New returns a pool whose goroutines end once idle for idleFor.
func New(idleFor time.Duration) *Pool { return &Pool{idleFor: idleFor} }

// Go runs f on one of p's goroutines.
func (p *Pool) Go(f func()) { p.Run(Func(f)) }

// Run runs t on one of p's goroutines.
func (p *Pool) Run(t Task) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.tasks <- t
		return
	}
	p.mu.Unlock()
	go p.work(&worker{tasks: make(chan Task, 1)}, t)
}

// Do runs f on one of p's goroutines and returns when it has returned: the caller's
// stack stays as it is, however deep f goes.
func (p *Pool) Do(f func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	p.Go(func() {
		defer wg.Done()
		f()
	})
	wg.Wait()
}

// work runs t, then the tasks given to w until it has been idle for p.idleFor.
func (p *Pool) work(w *worker, t Task) {
	timer := time.NewTimer(p.idleFor)
	defer timer.Stop()
	// grown is its own address when the stack was last grown: the runtime moves a
	// stack it grows or shrinks, so while grown's address is the same, the stack is
	// (almost always) the one growStack left, and growing it again would only clear
	// 16 KB of it (a few microseconds, the stack being cold in the cache) for each
	// task. Should a stack shrunk twice land where the grown one was, its task grows
	// it as it goes, as a new goroutine's would: slower, never wrong.
	var grown uintptr
	for {
		if uintptr(unsafe.Pointer(&grown)) != grown {
			growStack()
			grown = uintptr(unsafe.Pointer(&grown))
		}
		t.Run()
		t = nil // an idle goroutine keeps no answer alive
		p.mu.Lock()
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		timer.Reset(p.idleFor)
		select {
		case t = <-w.tasks:
		case <-timer.C:
			if p.retire(w) {
				return
			}
			t = <-w.tasks // taken from the idle list just now: its task is on the way
		}
	}
}

// retire takes w off the idle list and reports whether it was there.
func (p *Pool) retire(w *worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.idle {
		if x == w {
			p.idle = slices.Delete(p.idle, i, i+1)
			return true
		}
	}
	return false
}

// growStack grows the calling goroutine's stack to 32 KiB, if it is smaller, while it
// is shallow: a resolver reaching the database needs about that much, and growing a
// shallow stack copies a few frames, where growing it in the resolver's depths copies
// and adjusts them all, two or three times. The garbage collector halves an idle
// goroutine's stack, so a task can find it shrunk. (CockroachDB's growstack does the
// same before its requests.)
//
//go:noinline
func growStack() byte {
	stackGrowths.Add(1)
	var frame [16 << 10]byte // on the stack: only a byte of it is read
	return frame[stackIndex]
}

// stackGrowths counts growStack's calls (TestGrowsAShrunkStackOnly reads it): one
// atomic add a growth, which is rare.
var stackGrowths atomic.Int64

// stackIndex is a variable, so that growStack's frame is not optimised away.
var stackIndex = 0
