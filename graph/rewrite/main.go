// Command rewrite rewrites gqlgen's generated executor where graph does the same work
// with fewer allocations:
//
//   - each object's field set and @defer group are built with graph's newFieldSet
//     and newDeferredGroup (graph/fieldset.go), its fields collected with graph's
//     collectFields (graph/collect.go), which remembers them between operations,
//     and its __typename is a constant (graph/fieldset.go's typeName);
//   - an object keeps the strings of its plain string leaves in its field set
//     (graph/fieldset.go's setString), not in a marshaler allocated for each;
//   - a plain leaf field (a scalar or enum read from the object's own field or
//     method, with no resolver, directive or argument) is written at once when no
//     extension intercepts fields (graph/leaf.go), without gqlgen's field context
//     and closures;
//   - any other field without argument or directive (an object, a list, a
//     resolver's value) is resolved by graph's resolve (graph/resolve.go) when no
//     extension intercepts fields: its field context and context in one
//     allocation, its value typed, without gqlgen's closures and middleware;
//   - an object's field resolved concurrently is scheduled with its field function
//     and object (graph/dispatch.go's resolveLater), not in a closure allocated for
//     each;
//   - an object held by value in a list or in its parent's field is written from
//     where it is, not from a copy its marshaler moves to the heap;
//   - a time read from its object's field is written from there
//     (scalar.MarshalTimeAt), not from a marshaler allocated for each;
//   - a list whose elements run no resolver is marshalled element after element
//     (graph/list.go), not on a goroutine each, and a list of strings is one
//     marshaler (graph/list.go's stringList), not one a string, written from its
//     object's field when it is a plain leaf's (marshalStringsAt);
//   - the schema is parsed on first use or by PrepareSchema (graph/schema.go), not
//     in package init, where every program importing graph paid for it before main,
//     and its sources are read from the binary then too, not into a variable;
//   - a query's or mutation's response is written into a buffer the size of the
//     operation's last response (graph/response.go), not one grown from empty.
//
// Writing a value from where it is (a time, a float, an object held by value, a list
// of strings) reads it when the response is written, not when it is resolved: an
// object a resolver returns must not change until then. None does: the services
// return objects of their own for each operation, and events are new objects.
//
// It runs after gqlgen in go generate ./resolvers, and fails when gqlgen no longer
// writes what it rewrites, so that an upgrade is noticed.
//
//	go run ./graph/rewrite graph/generated.go
package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
)

// rewrites are gqlgen's lines and graph's, and the call every one of gqlgen's
// lines makes (so a call written otherwise is noticed).
var rewrites = []struct{ gqlgens, ours, call string }{
	{"out := graphql.NewFieldSet(fields)\n", "out := newFieldSet(fields)\n", "graphql.NewFieldSet("},
	{"deferred := graphql.NewDeferredGroup(ctx)\n", "deferred := newDeferredGroup(ctx, fields)\n", "graphql.NewDeferredGroup("},
	{"fields := graphql.CollectFields(ec.OperationContext, sel, ", "fields := collectFields(ec.OperationContext, sel, ", "graphql.CollectFields("},
	{"out.Values[i] = graphql.MarshalString(\"", "out.Values[i] = typeName(\"", "graphql.MarshalString(\""},
}

// deferredUses are the only ways the generated code may use an object's @defer
// group: newDeferredGroup gives an object without a deferred field a group with
// neither field set nor views, safe only while every use is one of these (handed to
// gqlgen's ResolveConcurrently, or once rewritten resolveLater, which touch them for
// a deferred field alone; its views
// counted, and the group handed on when it has any).
var deferredUses = []string{
	"deferred := newDeferredGroup(ctx, fields)\n",
	"&deferred, i,",
	"len(deferred.Defers)",
	"ec.ProcessDeferredGroup(deferred)",
}

// deferredWord is every use of the group's variable.
var deferredWord = regexp.MustCompile(`\bdeferred\b`)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "rewrite:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: rewrite <generated.go>")
	}
	src, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	for _, r := range rewrites {
		n := bytes.Count(src, []byte(r.gqlgens))
		if n == 0 && bytes.Contains(src, []byte(r.ours)) {
			continue // rewritten already
		}
		if n == 0 {
			return fmt.Errorf("%s has no %q: gqlgen changed, update the rewrite (graph/fieldset.go, graph/collect.go)", args[0], r.gqlgens)
		}
		if calls := bytes.Count(src, []byte(r.call)); calls != n {
			return fmt.Errorf("%s calls %s %d times otherwise than as %q: gqlgen changed", args[0], r.call, calls-n, r.gqlgens)
		}
		src = bytes.ReplaceAll(src, []byte(r.gqlgens), []byte(r.ours))
	}
	known := 0
	for _, use := range deferredUses {
		known += bytes.Count(src, []byte(use))
	}
	if all := len(deferredWord.FindAllIndex(src, -1)); all != known {
		return fmt.Errorf("%s uses an object's @defer group in %d ways newDeferredGroup does not provide for: gqlgen changed, update graph/fieldset.go", args[0], all-known)
	}
	if src, err = plainLeaves(src); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if src, err = stringLeaves(src); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if src, err = plainFields(src); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if src, err = sequentialLists(src); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if src, err = stringLists(src); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if src, err = stringListsInPlace(src); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if src, err = laterFields(src); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if src, err = addressedObjects(src); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if src, err = timesInPlace(src); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if src, err = lazySchema(src); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if src, err = lazySources(src); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if src, err = sizedResponses(src); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	return os.WriteFile(args[0], src, 0o644)
}
