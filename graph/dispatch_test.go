package graph

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// operationContext is what a field set's dispatch needs of an operation: the context
// errors are added to and gqlgen's panic recovery.
func operationContext() (context.Context, *graphql.OperationContext) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter,
		func(_ context.Context, r any) error { return fmt.Errorf("recovered: %v", r) })
	return ctx, &graphql.OperationContext{RecoverFunc: func(_ context.Context, r any) error { return fmt.Errorf("recovered: %v", r) }}
}

// TestDispatchResolvesConcurrently: the scheduled fields run at once (each waits for
// all the others, which would never end if they ran one after another), every value
// lands at its field, and what makes the object invalid is counted as gqlgen counts
// it: null for a non-null field, RequiredNull for a nullable one.
//
// Not parallel: with other tests' objects resolving on the pool meanwhile, the cores
// would count as busy and the fields run one after another (TestDispatchWhenBusy).
func TestDispatchResolvesConcurrently(t *testing.T) {
	ctx, oc := operationContext()
	const n = 6
	fields := make([]graphql.CollectedField, n)
	for i := range fields {
		fields[i] = graphql.CollectedField{Field: &ast.Field{Alias: fmt.Sprint("f", i), Name: fmt.Sprint("f", i)}}
	}
	for round := range 3 { // the later rounds on the pool's goroutines
		m := newFieldSet(fields)
		var all sync.WaitGroup
		all.Add(n)
		for i := range n {
			value := graphql.Marshaler(graphql.MarshalInt(i))
			switch i {
			case 2:
				value = graphql.Null // non-null below: invalid
			case 3:
				value = graphql.Null // nullable: a null, not invalid
			case 4:
				value = graphql.RequiredNull // nullable, but a non-null child was null: invalid
			}
			scheduleFunc(m, oc, i, i != 3 && i != 4, func(context.Context) graphql.Marshaler {
				all.Done()
				all.Wait()
				return value
			})
		}
		done := make(chan struct{})
		go func() { m.Dispatch(ctx); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: the fields did not run concurrently", round)
		}
		require.Equal(t, uint32(2), m.Invalids)
		for i, v := range m.Values {
			switch i {
			case 2, 3:
				require.Equal(t, graphql.Null, v)
			case 4:
				require.Equal(t, graphql.RequiredNull, v)
			default:
				require.Equal(t, fmt.Sprint(i), written(v))
			}
		}
		require.Empty(t, graphql.GetErrors(ctx))
	}
}

// TestDispatchWhenBusy: while other objects keep the cores busy (busyAt), an object's
// fields are resolved one after another on the caller's goroutine, in order, their
// values and invalid fields as ever; otherwise on the pool too. Not parallel: it sets
// the count of objects resolving.
func TestDispatchWhenBusy(t *testing.T) {
	ctx, oc := operationContext()
	fields := make([]graphql.CollectedField, 4)
	for i := range fields {
		fields[i] = graphql.CollectedField{Field: &ast.Field{Alias: fmt.Sprint("f", i), Name: fmt.Sprint("f", i)}}
	}
	dispatch := func() (order []int, goroutines map[uint64]bool, m *fieldSet) {
		m = newFieldSet(fields)
		var mu sync.Mutex
		goroutines = map[uint64]bool{}
		for i := range fields {
			value := graphql.Marshaler(graphql.MarshalInt(i))
			if i == 1 {
				value = graphql.Null // non-null: invalid
			}
			scheduleFunc(m, oc, i, true, func(context.Context) graphql.Marshaler {
				mu.Lock()
				defer mu.Unlock()
				order = append(order, i)
				goroutines[goroutineID()] = true
				time.Sleep(time.Millisecond) // long enough for the pool's goroutines to take the others
				return value
			})
		}
		m.Dispatch(ctx)
		return order, goroutines, m
	}

	busy := busyAt()
	resolving.Add(busy)
	order, goroutines, m := dispatch()
	resolving.Add(-busy)
	require.Equal(t, []int{0, 1, 2, 3}, order, "one after another, in order")
	require.Equal(t, map[uint64]bool{goroutineID(): true}, goroutines, "on the caller's goroutine")
	require.Equal(t, uint32(1), m.Invalids)
	require.Equal(t, "3", written(m.Values[3]))
	require.Equal(t, int32(0), resolving.Load())

	_, goroutines, _ = dispatch()
	require.Greater(t, len(goroutines), 1, "idle cores: on the pool too")
	require.Equal(t, int32(0), resolving.Load(), "counted while resolving only")
}

// TestDispatchNestedIsNotBusy: an object resolved inside another's field does not take
// the object above it, which only waits, for another operation: with nothing else
// resolving, its fields run at once too (they wait for each other here, which would
// never end one after another). Not parallel: the count of operations resolving is
// the process's.
func TestDispatchNestedIsNotBusy(t *testing.T) {
	ctx, oc := operationContext()
	fields := func(n int) []graphql.CollectedField {
		f := make([]graphql.CollectedField, n)
		for i := range f {
			f[i] = graphql.CollectedField{Field: &ast.Field{Alias: fmt.Sprint("f", i), Name: fmt.Sprint("f", i)}}
		}
		return f
	}
	child := func(ctx context.Context) graphql.Marshaler {
		m := newFieldSet(fields(2))
		var both sync.WaitGroup
		both.Add(2)
		for i := range 2 {
			scheduleFunc(m, oc, i, true, func(context.Context) graphql.Marshaler {
				both.Done()
				both.Wait()
				return graphql.MarshalInt(i)
			})
		}
		m.Dispatch(ctx)
		return m
	}
	parent := newFieldSet(fields(2))
	scheduleFunc(parent, oc, 0, true, child)
	scheduleFunc(parent, oc, 1, true, child)
	done := make(chan struct{})
	go func() { parent.Dispatch(ctx); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the nested objects' fields did not run at once")
	}
	require.Equal(t, `{"f0":0,"f1":1}`, written(parent.Values[0]))
	require.Equal(t, int32(0), resolving.Load())
}

// TestDispatchRecoversAPanic: a field whose resolver panics is null, with the panic
// as the operation's error, as gqlgen's recovery makes it, and the pool goes on.
func TestDispatchRecoversAPanic(t *testing.T) {
	t.Parallel()
	ctx, oc := operationContext()
	fields := make([]graphql.CollectedField, 3)
	m := newFieldSet(fields)
	for i := range 3 {
		scheduleFunc(m, oc, i, true, func(context.Context) graphql.Marshaler {
			if i > 0 {
				panic(fmt.Sprint("field ", i))
			}
			return graphql.MarshalInt(i)
		})
	}
	m.Dispatch(ctx)
	require.Equal(t, uint32(2), m.Invalids)
	require.Equal(t, "0", written(m.Values[0]))
	require.Equal(t, []graphql.Marshaler{graphql.Null, graphql.Null}, m.Values[1:])
	var messages []string
	for _, err := range graphql.GetErrors(ctx) {
		var gqlErr *gqlerror.Error
		require.True(t, errors.As(err, &gqlErr))
		messages = append(messages, gqlErr.Message)
	}
	require.ElementsMatch(t, []string{"recovered: field 1", "recovered: field 2"}, messages)
}

// scheduleFunc schedules field i of m as the generated code does (resolveLater),
// with f, recovering a panic, as the field's value.
func scheduleFunc(m *fieldSet, oc *graphql.OperationContext, i int, nonNull bool, f func(context.Context) graphql.Marshaler) {
	resolveLater(m, executionContextOf(oc), nil, i, true, nonNull, f, callFunc)
}

// callFunc is a field function whose object is the function giving its value.
func callFunc(_ *executionContext, ctx context.Context, _ graphql.CollectedField, f func(context.Context) graphql.Marshaler) graphql.Marshaler {
	return f(ctx)
}

// written is what v writes.
func written(v graphql.Marshaler) string {
	var b strings.Builder
	v.MarshalGQL(&b)
	return b.String()
}

// goroutineID reads the running goroutine's ID from its stack's header.
func goroutineID() uint64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	var id uint64
	_, _ = fmt.Sscanf(string(buf), "goroutine %d ", &id)
	return id
}

// thing is an object whose fields TestResolveLater resolves.
type thing struct{ base int }

// TestResolveLater: a field scheduled with resolveLater is resolved by its function,
// given the execution context, its field and its object; a panic is its error and
// null, counted as invalid for a non-null field; a deferred field is left to gqlgen's
// field set of its group, null in the object's until its payload.
func TestResolveLater(t *testing.T) {
	t.Parallel()
	ctx, oc := operationContext()
	ec := executionContextOf(oc)
	fields := make([]graphql.CollectedField, 3)
	for i := range fields {
		fields[i] = graphql.CollectedField{Field: &ast.Field{Alias: fmt.Sprint("f", i), Name: fmt.Sprint("f", i)}}
	}
	fields[2].Deferrables = []*graphql.Deferrable{{Label: "later"}}
	obj := &thing{base: 40}
	value := func(got *executionContext, _ context.Context, field graphql.CollectedField, o *thing) graphql.Marshaler {
		if got != ec {
			panic("another execution context") // the field's error: the test fails below
		}
		switch field.Alias {
		case "f1":
			panic("field 1")
		case "f2":
			return graphql.MarshalString("deferred")
		}
		return graphql.MarshalInt(o.base + 2)
	}
	m := newFieldSet(fields)
	deferred := graphql.NewDeferredGroup(ctx)
	for i := range fields {
		resolveLater(m, ec, &deferred, i, true, true, obj, value)
	}
	require.Len(t, m.tasks, 2, "the deferred field is the group's")
	m.Dispatch(ctx)
	require.Equal(t, "42", written(m.Values[0]))
	require.Equal(t, graphql.Null, m.Values[1])
	require.Equal(t, graphql.Null, m.Values[2], "null until its payload")
	require.Equal(t, uint32(1), m.Invalids)
	require.Len(t, graphql.GetErrors(ctx), 1)
	require.Equal(t, "recovered: field 1", graphql.GetErrors(ctx)[0].Message)

	require.Contains(t, deferred.Defers, "later")
	deferred.FieldSet.Dispatch(ctx)
	require.Equal(t, `"deferred"`, written(deferred.FieldSet.Values[0]))
}

// TestResolveLaterAllocatesNoClosure: scheduling fields with resolveLater allocates
// the object's task list alone (and the field set), where a closure each is
// gqlgen's. (Run alone: AllocsPerRun counts every goroutine's.)
func TestResolveLaterAllocatesNoClosure(t *testing.T) { //nolint:paralleltest // see above
	ctx, oc := operationContext()
	ec := executionContextOf(oc)
	fields := make([]graphql.CollectedField, 4)
	obj := &thing{}
	value := func(*executionContext, context.Context, graphql.CollectedField, *thing) graphql.Marshaler {
		return graphql.Null
	}
	deferred := newDeferredGroup(ctx, fields)
	allocs := testing.AllocsPerRun(100, func() {
		m := newFieldSet(fields)
		for i := range fields {
			resolveLater(m, ec, &deferred, i, true, false, obj, value)
		}
	})
	require.Equal(t, 2.0, allocs, "the field set and its tasks")
}
