package graph

import (
	"context"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// fieldSet is the field set of every object the executor writes: gqlgen's FieldSet,
// written to JSON without the three allocations gqlgen's MarshalGQL makes for each
// field (a heap copy of it, the iterator's closure) and object (a map of the names
// written). An answer of many small objects, such as the onboarding summary, made
// about half its allocations there. The JSON is the same, byte for byte.
//
// generated.go builds it where gqlgen writes graphql.NewFieldSet, and the @defer
// group with newDeferredGroup where gqlgen writes graphql.NewDeferredGroup:
// graph/rewrite rewrites the calls after gqlgen generates the file (go generate
// ./resolvers).
//
// gqlgen's FieldSet is held by value, so an object is two allocations (this and its
// values), not three.
type fieldSet struct {
	graphql.FieldSet // resolution and @defer, gqlgen's; dispatch on a pool (dispatch.go)
	fields           []graphql.CollectedField
	tasks            []task // fields to resolve concurrently, at Dispatch

	// The values of the object's plain string leaves, in field order (setString):
	// the first few in the set itself.
	strs    []string
	strsBuf [4]string
}

// stringLeaf stands in Values for a field whose value is in strs. Its type has no
// size: every interface holding it is the same, and allocates nothing.
var stringLeaf graphql.Marshaler = stringInSet{}

type stringInSet struct{}

// MarshalGQL is never called: fieldSet.MarshalGQL writes the string it stands for.
func (stringInSet) MarshalGQL(io.Writer) { panic("graph: a string leaf written outside its field set") }

// setString sets field i's value to s, written as gqlgen's MarshalString writes it.
// Fields are set in order, as the generated code's loop sets them. gqlgen's
// MarshalString holds s in a closure allocated for each; an object's first four are
// kept in its field set, any more in a slice grown as they come.
func (m *fieldSet) setString(i int, s string) {
	if m.strs == nil {
		m.strs = m.strsBuf[:0]
	}
	m.strs = append(m.strs, s)
	m.Values[i] = stringLeaf
}

// setStringRecovering is setString with the value read by value, whose panic is
// field i's error (on its path, the field null), as graph/leaf.go's recoverLeaf has
// it for the field's own function.
func (m *fieldSet) setStringRecovering(ctx context.Context, oc *graphql.OperationContext, field graphql.CollectedField, object string, i int, value func() string) {
	defer recoverLeaf(ctx, oc, field, object, &m.Values[i])
	m.setString(i, value())
}

// newFieldSet is the field set of an object with fields: one allocation, its values
// with it, for an object of up to 16 fields without a deferred one.
//
// gqlgen's FieldSet keeps its own copy of the fields, which it reads only for @defer
// (its views of the fields; MarshalGQL is fieldSet's), and NewFieldSet is the only
// way to set it: an object with a deferred field takes gqlgen's, copied (its lock and
// slices are fresh, and the copy does not escape).
func newFieldSet(fields []graphql.CollectedField) *fieldSet {
	if anyDeferred(fields) {
		return &fieldSet{FieldSet: *graphql.NewFieldSet(fields), fields: fields}
	}
	var m *fieldSet
	switch n := len(fields); {
	case n <= 4:
		s := new(struct {
			fieldSet
			values [4]graphql.Marshaler
		})
		m = &s.fieldSet
		m.Values = s.values[:n]
	case n <= 8:
		s := new(struct {
			fieldSet
			values [8]graphql.Marshaler
		})
		m = &s.fieldSet
		m.Values = s.values[:n]
	case n <= 16:
		s := new(struct {
			fieldSet
			values [16]graphql.Marshaler
		})
		m = &s.fieldSet
		m.Values = s.values[:n]
	default:
		m = &fieldSet{}
		m.Values = make([]graphql.Marshaler, n)
	}
	m.fields = fields
	return m
}

func anyDeferred(fields []graphql.CollectedField) bool {
	for i := range fields {
		if fields[i].IsDeferred() {
			return true
		}
	}
	return false
}

// smallFieldSet is the most fields whose names are checked for repeats one against
// the other, rather than with a map.
const smallFieldSet = 32

// MarshalGQL writes the object as gqlgen's FieldSet.MarshalGQL does: its fields in
// order, a name written once, the first (CollectFields keeps a response name twice
// only where the two come from unrelated types' fragments, such as __typename on a
// union and in one of its members').
func (m *fieldSet) MarshalGQL(w io.Writer) {
	var written map[string]struct{}
	if len(m.fields) > smallFieldSet {
		written = make(map[string]struct{}, len(m.fields))
	}
	_, _ = io.WriteString(w, "{")
	first := true
	strs := m.strs // the string leaves' values, taken in turn
	for i := range m.fields {
		alias := m.fields[i].Alias
		isString := m.Values[i] == stringLeaf
		if repeated(m.fields[:i], alias, written) {
			if isString {
				strs = strs[1:]
			}
			continue
		}
		if !first {
			_, _ = io.WriteString(w, `,"`)
		} else {
			_, _ = io.WriteString(w, `"`)
			first = false
		}
		// A response name is a GraphQL name ([_A-Za-z][_0-9A-Za-z]*): nothing in it
		// is escaped in JSON.
		_, _ = io.WriteString(w, alias)
		_, _ = io.WriteString(w, `":`)
		if isString {
			graphql.MarshalString(strs[0]).MarshalGQL(w)
			strs = strs[1:]
			continue
		}
		m.Values[i].MarshalGQL(w)
	}
	_, _ = io.WriteString(w, "}")
}

// repeated reports whether alias was written before: one of before's, or in written
// when the set is large.
func repeated(before []graphql.CollectedField, alias string, written map[string]struct{}) bool {
	if written != nil {
		if _, ok := written[alias]; ok {
			return true
		}
		written[alias] = struct{}{}
		return false
	}
	for i := range before {
		if before[i].Alias == alias {
			return true
		}
	}
	return false
}

// newDeferredGroup is gqlgen's NewDeferredGroup for an object with a deferred field
// among fields; for any other (nearly every object) an empty group, which costs
// nothing, where gqlgen's computes the object's path and allocates a field set and a
// map. The generated code reads the group's field set and views only for a deferred
// field (resolveLater hands it to gqlgen's FieldSet.ResolveConcurrently), and hands
// it on only when it has views.
func newDeferredGroup(ctx context.Context, fields []graphql.CollectedField) graphql.DeferredGroup {
	if anyDeferred(fields) {
		return graphql.NewDeferredGroup(ctx)
	}
	return graphql.DeferredGroup{Context: ctx}
}

// typeName is an object's __typename as the generated code writes it: a constant, so
// the interface holding it is static data, where gqlgen's MarshalString allocates a
// closure for every object (clients such as Apollo's ask every object's __typename).
type typeName string

func (t typeName) MarshalGQL(w io.Writer) { graphql.MarshalString(string(t)).MarshalGQL(w) }
