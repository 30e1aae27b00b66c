package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// fieldCtx is a context holding a field's context, the two in one allocation:
// what graphql.WithFieldContext makes in two (the field context, then the
// context.WithValue holding it). graphql.GetFieldContext finds the field context in
// it as in WithFieldContext's, and every other value, the deadline and the
// cancellation are its parent's.
//
// Lists marshalled element by element (list.go) make their elements' contexts in
// one slice, and a field resolved by resolve (resolve.go) makes its own.
type fieldCtx struct {
	context.Context
	fc    graphql.FieldContext
	index int // fc.Index of a list's element points here
}

// init makes c a child of parent holding fc, as graphql.WithFieldContext does: fc's
// parent is parent's field context.
func (c *fieldCtx) init(parent context.Context, fc graphql.FieldContext) {
	c.Context = parent
	c.fc = fc
	c.fc.Parent = graphql.GetFieldContext(parent)
}

func (c *fieldCtx) Value(key any) any {
	if key == fieldContextKey {
		return &c.fc
	}
	return c.Context.Value(key)
}

// fieldContextKey is the key graphql.GetFieldContext looks its field context up by
// (gqlgen's own, of a type it does not export): the key a context sees asked.
// TestFieldCtx fails if gqlgen looks it up otherwise.
var fieldContextKey = func() any {
	var probe keyProbe
	graphql.GetFieldContext(&probe)
	return probe.key
}()

// keyProbe is a context that remembers the key it was last asked for.
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}
