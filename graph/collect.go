package graph

import (
	"sync/atomic"
	"unsafe"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// collectFields is gqlgen's CollectFields, remembered from one operation to the next.
//
// gqlgen collects an object's fields (its selections with fragments merged) once per
// object type and selection set per operation: each time it makes a key (with a
// hash of the type's names), a map of the fragments visited and the fields, about
// 100 allocations for the onboarding summary's request. The fields depend only on the selection set, the
// type and its document's fragments, unless a directive (@skip, @include, @defer)
// reads the operation's variables; gqlgen's query cache hands every request of a
// document the same parsed selection sets. So a selection set without a directive,
// in itself or in a fragment it spreads, keeps its fields in a table, keyed by the
// selection set's and the type's addresses; any other is collected by gqlgen each
// time, as before.
//
// The table is direct-mapped: two selection sets in one slot take turns. An entry
// holds its selection set, so the address it is found by cannot be another's while
// it is there. What is handed out is read, never written: gqlgen shares it between
// the objects of an operation already.
func collectFields(oc *graphql.OperationContext, sel ast.SelectionSet, satisfies []string) []graphql.CollectedField {
	if len(sel) == 0 || len(satisfies) == 0 {
		return graphql.CollectFields(oc, sel, satisfies)
	}
	slot := &collected[collectedSlot(&sel[0], &satisfies[0])]
	if e := slot.Load(); e != nil && e.is(sel, satisfies) {
		if e.variable {
			return graphql.CollectFields(oc, sel, satisfies)
		}
		return e.fields
	}
	fields := graphql.CollectFields(oc, sel, satisfies)
	e := &collectedEntry{sel: sel, satisfies: satisfies, variable: hasDirective(oc.Doc, sel, map[string]bool{}, 0)}
	if !e.variable {
		e.fields = fields
	}
	slot.Store(e)
	return fields
}

// collected is the table of collected fields.
var collected [1024]atomic.Pointer[collectedEntry]

type collectedEntry struct {
	sel       ast.SelectionSet
	satisfies []string
	// variable is set for a selection set with a directive somewhere in it: its
	// fields are collected every time.
	variable bool
	fields   []graphql.CollectedField
}

// is reports whether e is the entry of sel for the type satisfying satisfies.
func (e *collectedEntry) is(sel ast.SelectionSet, satisfies []string) bool {
	return len(e.sel) == len(sel) && &e.sel[0] == &sel[0] &&
		len(e.satisfies) == len(satisfies) && &e.satisfies[0] == &satisfies[0]
}

// collectedSlot returns the slot of a selection set and a type, from their addresses.
func collectedSlot(sel *ast.Selection, satisfies *string) uint64 {
	addr := uint64(uintptr(unsafe.Pointer(sel))) ^ uint64(uintptr(unsafe.Pointer(satisfies)))*31
	return (addr * 0x9e3779b97f4a7c15) >> (64 - 10) // Fibonacci hashing to 10 bits: len(collected)
}

// maxFragmentDepth bounds how deep hasDirective follows fragment spreads; validation
// rejects cycles, and a deeper document is treated as having a directive.
const maxFragmentDepth = 32

// hasDirective reports whether a selection, an inline fragment or a spread fragment
// in sel, or in the fragments it spreads, carries a directive: what CollectFields
// reads of an operation besides its selection sets. A fragment is looked into once
// (visited), as CollectFields does.
func hasDirective(doc *ast.QueryDocument, sel ast.SelectionSet, visited map[string]bool, depth int) bool {
	if depth > maxFragmentDepth {
		return true
	}
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if len(s.Directives) > 0 {
				return true
			}
		case *ast.InlineFragment:
			if len(s.Directives) > 0 || hasDirective(doc, s.SelectionSet, visited, depth+1) {
				return true
			}
		case *ast.FragmentSpread:
			if len(s.Directives) > 0 || doc == nil {
				return true
			}
			if visited[s.Name] {
				continue
			}
			visited[s.Name] = true
			f := doc.Fragments.ForName(s.Name)
			if f == nil || len(f.Directives) > 0 || hasDirective(doc, f.SelectionSet, visited, depth+1) {
				return true
			}
		default:
			return true
		}
	}
	return false
}
