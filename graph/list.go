package graph

import (
	"context"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// marshalList marshals a list's elements one after the other on the caller's
// goroutine, as gqlgen's MarshalSliceConcurrently does on a goroutine each: every
// element in a field context holding its index, a panic recovered as that element's
// error and null.
//
// graph/rewrite has a list use it where no field of its elements, however deep,
// runs a resolver: marshalling them only reads memory, so a goroutine each (and its
// closure, field context and index, four allocations and a scheduling) buys
// nothing. A list whose elements may wait on a resolver keeps gqlgen's goroutines,
// so that a loader batches the elements' keys.
func marshalList(ctx context.Context, n int, marshal func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	ret := make(graphql.Array, n)
	if n == 0 {
		return ret
	}
	// The elements' contexts, each with its field context and index, in one slice:
	// with WithFieldContext they were three allocations an element.
	elements := make([]fieldCtx, n)
	for i := range n {
		e := &elements[i]
		e.init(ctx, graphql.FieldContext{Index: &e.index})
		e.index = i
		ret[i] = marshalElement(e, i, marshal)
	}
	return ret
}

func marshalElement(ctx context.Context, i int, marshal func(ctx context.Context, i int) graphql.Marshaler) (ret graphql.Marshaler) {
	defer func() {
		if r := recover(); r != nil {
			graphql.AddError(ctx, graphql.Recover(ctx, r))
			ret = graphql.Null
		}
	}()
	return marshal(ctx, i)
}

// stringList is a list of strings (String, ID or an enum held as a string) written as
// gqlgen writes its graphql.Array of MarshalString's: gqlgen's allocates the array and
// a marshaler for every string, this one the list's slice header. graph/rewrite has
// the generated marshaler of such a list return it (marshalStrings) where the
// element's marshaler is MarshalString's, which never fails.
type stringList[S ~string] []S

func (l stringList[S]) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, "[")
	for i, s := range l {
		if i != 0 {
			_, _ = io.WriteString(w, ",")
		}
		graphql.MarshalString(string(s)).MarshalGQL(w)
	}
	_, _ = io.WriteString(w, "]")
}

// marshalStrings is v as the generated code's list marshaler returns it.
func marshalStrings[S ~string](v []S) graphql.Marshaler { return stringList[S](v) }

// stringsAt is a list of strings written from where it is, its object's field: as
// stringList, and held without an allocation (a pointer). graph/rewrite has a plain
// leaf that is such a list read from its object's field return it
// (marshalStringsAt).
type stringsAt[S ~string] struct{ v *[]S }

func (l stringsAt[S]) MarshalGQL(w io.Writer) { stringList[S](*l.v).MarshalGQL(w) }

// marshalStringsAt is *v as the generated code's plain leaf returns it.
func marshalStringsAt[S ~string](v *[]S) graphql.Marshaler { return stringsAt[S]{v} }
