package graph

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/inkgraph/inkgraph/internal/platform/workers"
)

// An object's fields with a resolver are resolved concurrently, as gqlgen resolves
// them, but on the goroutines of a pool (internal/platform/workers) rather than on a
// new goroutine each.
//
// gqlgen's FieldSet.Dispatch starts a goroutine for every such field but one. A new
// goroutine starts with a small stack, and a resolver that reaches the database
// (Bun, database/sql, pgx) grows it two or three times, each time copying it and
// walking its frames: about 9% of the onboarding summary's CPU, whose object has
// thirteen such fields. A pooled goroutine keeps the stack it grew. In process, 8
// concurrent summaries took about 10% less CPU.
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
// resolveLater and fieldSet's Dispatch stand in for gqlgen's ResolveConcurrently and
// Dispatch (graph/rewrite has the generated code call them); a deferred field, whose
// value travels in a later payload of its group's field set, is handed to gqlgen's
// as before.

// task is a field to resolve when its object is dispatched.
type task struct {
	i        int
	m        *fieldSet
	oc       *graphql.OperationContext
	recovers bool // a panic is the field's error, its value null
	invalid  graphql.Marshaler

	// The field's value: its function, its object and its execution context,
	// called by caller (resolveLater).
	caller  caller
	fn, obj any
	ec      *executionContext

	// Set when the task runs on a pooled goroutine (Run).
	ctx  context.Context //nolint:containedctx // the field's, for the pooled goroutine
	done *sync.WaitGroup
}

// resolveLater schedules field i of m, whose value f writes from obj, for Dispatch,
// as the generated code's call of ResolveConcurrently with a closure calling f does,
// without the closure (an allocation a field: 13 in the onboarding summary's
// object). graph/rewrite writes it where gqlgen writes that call.
func resolveLater[O any](m *fieldSet, ec *executionContext, deferred *graphql.DeferredGroup, i int, recoverFromPanic, nonNull bool,
	obj O, f func(*executionContext, context.Context, graphql.CollectedField, O) graphql.Marshaler,
) {
	if m.fields[i].IsDeferred() {
		field := m.fields[i]
		m.FieldSet.ResolveConcurrently(ec.OperationContext, deferred, i, recoverFromPanic, nonNull, func(ctx context.Context) graphql.Marshaler {
			return f(ec, ctx, field, obj)
		})
		return
	}
	m.schedule(task{i: i, oc: ec.OperationContext, recovers: recoverFromPanic, invalid: invalidResult(nonNull),
		caller: fieldCaller[O]{}, fn: f, obj: obj, ec: ec})
}

// caller calls a task's field function (resolveLater).
type caller interface {
	call(t *task, ctx context.Context) graphql.Marshaler
}

// fieldCaller calls the field function of an object of type O. It has no size, so an
// interface holding it allocates nothing, where the generic function's value would
// be a closure over its type's dictionary.
type fieldCaller[O any] struct{}

func (fieldCaller[O]) call(t *task, ctx context.Context) graphql.Marshaler {
	f := t.fn.(func(*executionContext, context.Context, graphql.CollectedField, O) graphql.Marshaler)
	return f(t.ec, ctx, t.m.fields[t.i], t.obj.(O))
}

// Run resolves the task on a pooled goroutine: the pool takes the task itself, which
// holds what it needs, where a closure would be an allocation for each.
func (t *task) Run() {
	defer t.done.Done()
	t.m.resolve(t.ctx, t)
}

// invalidResult is the value that makes a field's object invalid: gqlgen's
// invalidResultFor.
func invalidResult(nonNull bool) graphql.Marshaler {
	if nonNull {
		return graphql.Null
	}
	return graphql.RequiredNull
}

// schedule adds t, a task for one of m's fields, to resolve at Dispatch.
func (m *fieldSet) schedule(t task) {
	if m.tasks == nil {
		m.tasks = make([]task, 0, len(m.fields)-t.i)
	}
	t.m = m
	m.tasks = append(m.tasks, t)
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
	m.dispatchTasks(ctx)
}

// dispatchTasks resolves two or more scheduled fields.
func (m *fieldSet) dispatchTasks(ctx context.Context) {
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
		t.ctx, t.done = ctx, &wg
		resolvers.Run(t)
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
	return t.caller.call(t, ctx)
}

// resolvers is the pool the field sets' tasks run on.
//
// A goroutine idle for a second ends: a burst's goroutines do not outlive it by much.
var resolvers = workers.New(time.Second)
