package graph

import (
	"context"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestFieldCtx: a fieldCtx is, to gqlgen and to everything else, the context
// graphql.WithFieldContext makes: its field context found, the parent's as its
// parent, every other value, deadline and cancellation the parent's. It fails if
// gqlgen looks its field context up by another key than the one probed.
func TestFieldCtx(t *testing.T) {
	t.Parallel()
	type otherKey struct{}
	parentFC := &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "items"}}}
	base, cancel := context.WithTimeout(context.WithValue(context.Background(), otherKey{}, "other"), time.Hour)
	parent := graphql.WithFieldContext(base, parentFC)

	var c fieldCtx
	c.init(parent, graphql.FieldContext{Object: "Item", Index: &c.index})
	c.index = 3

	require.Same(t, &c.fc, graphql.GetFieldContext(&c))
	require.Same(t, parentFC, c.fc.Parent)
	require.Equal(t, "items[3]", graphql.GetFieldContext(&c).Path().String())
	require.Equal(t, "other", c.Value(otherKey{}))
	deadline, ok := c.Deadline()
	wantDeadline, _ := base.Deadline()
	require.True(t, ok)
	require.Equal(t, wantDeadline, deadline)

	// A field context below it, as gqlgen makes one, has it as its parent.
	child := graphql.WithFieldContext(&c, &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "name"}}})
	require.Same(t, &c.fc, graphql.GetFieldContext(child).Parent)
	require.Equal(t, "items[3].name", graphql.GetFieldContext(child).Path().String())

	// Without a field context above, it has no parent.
	var root fieldCtx
	root.init(context.Background(), graphql.FieldContext{Object: "Query"})
	require.Nil(t, root.fc.Parent)
	require.Same(t, &root.fc, graphql.GetFieldContext(&root))

	// Cancelled with its parent, and so is a context derived from it before.
	derived, stop := context.WithCancel(child)
	defer stop()
	require.NoError(t, derived.Err())
	cancel()
	require.ErrorIs(t, c.Err(), context.Canceled)
	<-c.Done()
	<-derived.Done()
}
