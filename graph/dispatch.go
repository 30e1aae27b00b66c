package graph

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/99designs/gqlgen/graphql"
)

// An object's fields with a resolver are resolved concurrently, as gqlgen resolves
// them, but on the goroutines of a pool rather than on a new goroutine each.
//
// gqlgen's FieldSet.Dispatch starts a goroutine for every such field but one. A new
// goroutine starts with a small stack, and a resolver that reaches the database
// (Bun, database/sql, pgx) grows it two or three times, each time copying it and
// walking its frames: about 9% of the onboarding summary's CPU, whose object has
// thirteen such fields. A pooled goroutine keeps the stack it grew (the most recently
// idle one is taken first), and grows it while shallow before a task (growStack)
// when the garbage collector has shrunk it meanwhile. In process, 8 concurrent
// summaries took about 10% less CPU.
//
// Resolving an object's fields at once pays when cores are idle: the summary's five
// reads overlap. When other operations are resolving objects' fields too (half as
// many as there are cores, at least one), the server is under load, and handing each
// field to another goroutine (a wake-up, a switch, the operation's memory cold on
// another core) mostly costs: with 8 clients, about 130 µs of CPU a summary, 10% of
// its throughput. The object's fields are then resolved one after another on the
// caller's goroutine. (The count is of operations resolving, not of busy cores: with
// a slow database, operations waiting on it count too.) So a field's resolver must
// never wait for a sibling field's (none does: the summary's fields share their reads
// through sync.Once, the users loader gathers keys for a fixed time, the members
// loader holds a mutex); resolved one after another, two such fields would never end.
//
// fieldSet's ResolveConcurrently and Dispatch stand in for gqlgen's (the generated
// code calls them on the field set); a deferred field, whose value travels in a
// later payload of its group's field set, is handed to gqlgen's as before.

// task is a field to resolve when its object is dispatched.
type task struct {
	i        int
	oc       *graphql.OperationContext
	recovers bool // a panic is the field's error, its value null
	invalid  graphql.Marshaler
	resolve  func(context.Context) graphql.Marshaler
}

// ResolveConcurrently schedules field i's resolution for Dispatch, as gqlgen's does.
func (m *fieldSet) ResolveConcurrently(oc *graphql.OperationContext, deferred *graphql.DeferredGroup, i int, recoverFromPanic, nonNull bool, resolve func(ctx context.Context) graphql.Marshaler) {
	if m.fields[i].IsDeferred() {
		m.FieldSet.ResolveConcurrently(oc, deferred, i, recoverFromPanic, nonNull, resolve)
		return
	}
	// The value that makes the object invalid: gqlgen's invalidResultFor.
	invalid := graphql.RequiredNull
	if nonNull {
		invalid = graphql.Null
	}
	if m.tasks == nil {
		m.tasks = make([]task, 0, len(m.fields)-i)
	}
	m.tasks = append(m.tasks, task{i: i, oc: oc, recovers: recoverFromPanic, invalid: invalid, resolve: resolve})
}

// Dispatch resolves the scheduled fields, the first on this goroutine and the others
// on pooled ones, and returns when all are resolved, as gqlgen's does; all on this
// goroutine, one after another, when enough other operations are resolving (busyAt).
func (m *fieldSet) Dispatch(ctx context.Context) {
	m.FieldSet.Dispatch(ctx) // what gqlgen's holds: an operation's root fields (ResolveRootConcurrently)
	switch len(m.tasks) {
	case 0:
		return
	case 1:
		m.resolve(ctx, &m.tasks[0])
		return
	}
	var others int32
	if ctx.Value(resolvingKey{}) != nil {
		others = resolving.Load() - 1 // an object above this one counts its operation
	} else {
		others = resolving.Add(1) - 1
		defer resolving.Add(-1)
		ctx = context.WithValue(ctx, resolvingKey{}, true)
	}
	if others >= busyAt() {
		for k := range m.tasks { // the server is busy: one after another (see above)
			m.resolve(ctx, &m.tasks[k])
		}
		return
	}
	var wg sync.WaitGroup
	wg.Add(len(m.tasks) - 1)
	for k := 1; k < len(m.tasks); k++ {
		t := &m.tasks[k]
		resolvers.run(func() {
			defer wg.Done()
			m.resolve(ctx, t)
		})
	}
	m.resolve(ctx, &m.tasks[0])
	wg.Wait()
}

// resolving counts the operations resolving an object's fields (two or more) at this
// moment: an operation counts once, at its outermost such object, which marks its
// fields' context (resolvingKey) so that the objects below neither count it again
// nor take it for another's.
var resolving atomic.Int32

type resolvingKey struct{}

// busyAt is how many other operations resolving objects' fields make the server busy:
// half as many as there are cores, at least one.
func busyAt() int32 { return int32(max(1, runtime.GOMAXPROCS(0)/2)) }

// resolve sets t's field's value and counts it when it makes the object invalid.
func (m *fieldSet) resolve(ctx context.Context, t *task) {
	v := t.value(ctx)
	m.Values[t.i] = v
	if v == t.invalid {
		atomic.AddUint32(&m.Invalids, 1)
	}
}

// value is the field's value: gqlgen's recoverToNull.
func (t *task) value(ctx context.Context) (v graphql.Marshaler) {
	if t.recovers {
		defer func() {
			if r := recover(); r != nil {
				t.oc.Error(ctx, t.oc.Recover(ctx, r))
				v = graphql.Null
			}
		}()
	}
	return t.resolve(ctx)
}

// resolvers is the pool the field sets' tasks run on.
//
// A goroutine idle for a second ends: a burst's goroutines do not outlive it by much.
var resolvers = &pool{idleFor: time.Second}

// pool runs functions on goroutines it keeps: an idle one when there is one (the last
// to become idle), else a new one. A goroutine idle for idleFor ends. It never makes
// a function wait for another, as with a goroutine each (but Dispatch, under load,
// resolves an object's fields one after another: see the top of this file).
type pool struct {
	idleFor time.Duration
	mu      sync.Mutex
	idle    []*worker // the most recently idle last
}

type worker struct {
	tasks chan func()
}

// run runs f on one of p's goroutines.
func (p *pool) run(f func()) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.tasks <- f
		return
	}
	p.mu.Unlock()
	go p.work(&worker{tasks: make(chan func(), 1)}, f)
}

// work runs f, then the tasks given to w until it has been idle for p.idleFor.
func (p *pool) work(w *worker, f func()) {
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
		f()
		f = nil // an idle goroutine keeps no answer alive
		p.mu.Lock()
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		timer.Reset(p.idleFor)
		select {
		case f = <-w.tasks:
		case <-timer.C:
			if p.retire(w) {
				return
			}
			f = <-w.tasks // taken from the idle list just now: its task is on the way
		}
	}
}

// retire takes w off the idle list and reports whether it was there.
func (p *pool) retire(w *worker) bool {
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

// stackGrowths counts growStack's calls (TestPoolGrowsAShrunkStackOnly reads it):
// one atomic add a growth, which is rare.
var stackGrowths atomic.Int64

// stackIndex is a variable, so that growStack's frame is not optimised away.
var stackIndex = 0
