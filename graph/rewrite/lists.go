package main

import (
	"bytes"
	"fmt"
	"regexp"
)

// concurrentList is a list marshalled by gqlgen with a goroutine an element; its group
// is the element's marshaler.
var concurrentList = regexp.MustCompile(`\tret := graphql\.MarshalSliceConcurrently\(ctx, len\(v\), 0, false, func\(ctx context\.Context, i int\) graphql\.Marshaler \{\n\t\tfc := graphql\.GetFieldContext\(ctx\)\n\t\tfc\.Result = &v\[i\]\n\t\treturn ec\.(marshal[\pL\pN_]+)\(ctx, sel, v\[i\]\)\n\t\}\)\n`)

// sequentialList is the same list marshalled element after element (graph/list.go).
const sequentialList = "\tret := marshalList(ctx, len(v), func(ctx context.Context, i int) graphql.Marshaler {\n"

// waits is what in a function's body may wait: a resolver, run on a goroutine of its
// own or not (scheduled by gqlgen's ResolveConcurrently or, once rewritten,
// resolveLater).
var waits = regexp.MustCompile(`ResolveConcurrently\(|resolveLater\(|ResolveRootConcurrently\(|ec\.Resolvers\.|ec\.Directives\.`)

// calls is a call of the executor's own functions.
var calls = regexp.MustCompile(`\bec\.([\pL\pN_]+)\(`)

// sequentialLists has every list whose elements cannot wait, however deep, marshal
// them one after the other rather than on a goroutine each.
func sequentialLists(src []byte) ([]byte, error) {
	all := bytes.Count(src, []byte("graphql.MarshalSliceConcurrently("))
	if lists := len(concurrentList.FindAllIndex(src, -1)); lists != all {
		return nil, fmt.Errorf("%d of %d lists are not in gqlgen's shape: gqlgen changed, update graph/rewrite/lists.go", all-lists, all)
	}
	mayWait := waitingFunctions(src)
	out, _ := replaceEach(src, concurrentList, func(out *bytes.Buffer, g [][]byte) bool {
		if mayWait[string(g[1])] {
			return false
		}
		out.WriteString(sequentialList)
		out.Write(g[0][bytes.IndexByte(g[0], '\n')+1:])
		return true
	})
	return out, nil
}

// waitingFunctions are the executor's functions that may wait: those that run a
// resolver, and those that call one that may, however deep. The other methods ec
// has (gqlgen's, for errors and @defer, and graph's) run none.
func waitingFunctions(src []byte) map[string]bool {
	head := regexp.MustCompile(`(?m)^func \(ec \*executionContext\) ([\pL\pN_]+)\(`)
	heads := head.FindAllSubmatchIndex(src, -1)
	callees := map[string][]string{}
	mayWait := map[string]bool{}
	for i, at := range heads {
		end := len(src)
		if i+1 < len(heads) {
			end = heads[i+1][0]
		}
		name, body := string(src[at[2]:at[3]]), src[at[1]:end]
		mayWait[name] = waits.Match(body)
		for _, c := range calls.FindAllSubmatch(body, -1) {
			callees[name] = append(callees[name], string(c[1]))
		}
	}
	for changed := true; changed; {
		changed = false
		for name, cs := range callees {
			for _, c := range cs {
				if !mayWait[name] && mayWait[c] {
					mayWait[name], changed = true, true
				}
			}
		}
	}
	return mayWait
}

// elementList is a list marshaler as gqlgen writes it for elements marshalled one
// after the other, or as sequentialLists leaves one gqlgen marshals concurrently (an
// enum's, whose element gqlgen gives a field context of its own): its groups are the
// function's head (with its nil check, for a nullable list) and the element's
// marshaler.
var elementList = regexp.MustCompile(`(?m)^(func \(ec \*executionContext\) marshal[NO][\pL\pN_]+\(ctx context\.Context, sel ast\.SelectionSet, v \[\][\w.]+\) graphql\.Marshaler \{\n(?:\tif v == nil \{\n\t\treturn graphql\.Null\n\t\}\n)?)` +
	`(?:\tret := make\(graphql\.Array, len\(v\)\)\n\tfor i := range v \{\n\t\tret\[i\] = ec\.(marshal[\pL\pN_]+)\(ctx, sel, v\[i\]\)\n\t\}\n` +
	`|` + regexp.QuoteMeta(sequentialList) + `\t\tfc := graphql\.GetFieldContext\(ctx\)\n\t\tfc\.Result = &v\[i\]\n\t\treturn ec\.(marshal[\pL\pN_]+)\(ctx, sel, v\[i\]\)\n\t\}\)\n)` +
	`\n\tfor _, e := range ret \{\n\t\tif e == graphql\.Null \{\n\t\t\treturn graphql\.Null\n\t\t\}\n\t\}\n\n\treturn ret\n\}\n`)

// stringListCall is the body stringLists writes.
const stringListCall = "\treturn marshalStrings(v)\n}\n"

// stringLists has every list whose elements are written by MarshalString (strings,
// IDs, enums held as strings, none of which fails) return graph/list.go's
// stringList: one allocation where gqlgen's makes an array and a marshaler per
// element.
func stringLists(src []byte) ([]byte, error) {
	if bytes.Contains(src, []byte(stringListCall)) {
		return src, nil // rewritten already
	}
	m := marshalers{src: src, seen: map[string]verdict{}}
	out, rewritten := replaceEach(src, elementList, func(out *bytes.Buffer, g [][]byte) bool {
		element := g[2] // the element's marshaler, in either shape
		if element == nil {
			element = g[3]
		}
		if body := m.body(string(element)); body == nil || !quotedString.Match(body) {
			return false
		}
		out.Write(g[1]) // the function's head, its nil check
		out.WriteString(stringListCall)
		return true
	})
	if rewritten == 0 {
		return nil, fmt.Errorf("no list of strings in gqlgen's shape: gqlgen changed, update graph/rewrite/lists.go")
	}
	return out, nil
}

// objectByValue is the body of a marshaler of an object held by value: gqlgen's
// takes the address of its own copy, which moves the copy to the heap, an allocation
// for every object so written. Its group is the object's function.
var objectByValue = regexp.MustCompile(`^\treturn ec\.(_\w+)\(ctx, sel, &v\)\n$`)

// The calls addressedObjects rewrites: a list's element, and a plain field's value
// read from its object (as plainFields writes it). Their groups: the marshaler, and
// for the field the value's type and the value.
var (
	elementByValue = regexp.MustCompile(`ec\.(marshalN[\pL\pN_]+)\(ctx, sel, v\[i\]\)`)
	fieldByValue   = regexp.MustCompile(`\t\t\tfunc\(ctx context\.Context\) \(([\w.]+), error\) \{\n\t\t\t\treturn (obj(?:\.\w+)+), nil\n\t\t\t\},\n\t\t\tec\.(marshalN[\pL\pN_]+), `)
)

// What addressedObjects writes: for a list's element, and for a field's value.
const (
	addressedElement = "(ctx, sel, &v[i])"
	addressedField   = "\t\t\t\treturn &obj."
)

// addressedObjects has an object held by value in a list, or in a field of its
// parent, written from where it is (&v[i], &obj.Field) by its object's function,
// rather than through its marshaler, which copies it to the heap. The objects are
// not changed while they are written, so the answer is the same.
func addressedObjects(src []byte) ([]byte, error) {
	m := marshalers{src: src, seen: map[string]verdict{}}
	byValue := func(marshal []byte) []byte {
		body := m.body(string(marshal))
		if body == nil {
			return nil
		}
		if f := objectByValue.FindSubmatch(body); f != nil {
			return f[1]
		}
		return nil
	}
	rewritten := 0
	src = elementByValue.ReplaceAllFunc(src, func(call []byte) []byte {
		f := byValue(elementByValue.FindSubmatch(call)[1])
		if f == nil {
			return call
		}
		rewritten++
		return []byte("ec." + string(f) + addressedElement)
	})
	src = fieldByValue.ReplaceAllFunc(src, func(call []byte) []byte {
		g := fieldByValue.FindSubmatch(call)
		f := byValue(g[3])
		if f == nil {
			return call
		}
		rewritten++
		return fmt.Appendf(nil, "\t\t\tfunc(ctx context.Context) (*%s, error) {\n\t\t\t\treturn &%s, nil\n\t\t\t},\n\t\t\tec.%s, ", g[1], g[2], f)
	})
	if rewritten == 0 && !bytes.Contains(src, []byte(addressedElement)) && !bytes.Contains(src, []byte(addressedField)) {
		return nil, fmt.Errorf("no object held by value in gqlgen's shape: gqlgen changed, update graph/rewrite/lists.go")
	}
	return src, nil
}

// stringListLeaf is a plain leaf's list read from its object's field, as plainLeaves
// writes it; its groups are the marshaler and the value.
var stringListLeaf = regexp.MustCompile(`\t\treturn ec\.(marshal[NO][\pL\pN_]+)\(ctx, field\.Selections, (obj(?:\.\w+)+)\)\n`)

// The bodies stringLists leaves a list of strings' marshaler, non-null and nullable.
const (
	nonNullStrings  = "\t" + `return marshalStrings(v)` + "\n"
	nullableStrings = "\tif v == nil {\n\t\treturn graphql.Null\n\t}\n" + nonNullStrings
)

// stringListsInPlace has a plain leaf that is a list of strings read from its
// object's field written from there (graph/list.go's marshalStringsAt), without the
// list's slice boxed: what is written is read when the response is, and the objects
// do not change meanwhile.
func stringListsInPlace(src []byte) ([]byte, error) {
	if bytes.Contains(src, []byte("return marshalStringsAt(")) {
		return src, nil // rewritten already
	}
	m := marshalers{src: src, seen: map[string]verdict{}}
	rewritten := 0
	src = stringListLeaf.ReplaceAllFunc(src, func(leaf []byte) []byte {
		g := stringListLeaf.FindSubmatch(leaf)
		switch string(m.body(string(g[1]))) {
		case nonNullStrings:
			rewritten++
			return fmt.Appendf(nil, "\t\treturn marshalStringsAt(&%s)\n", g[2])
		case nullableStrings:
			rewritten++
			return fmt.Appendf(nil, "\t\tif v := &%s; *v != nil {\n\t\t\treturn marshalStringsAt(v)\n\t\t}\n\t\treturn graphql.Null\n", g[2])
		}
		return leaf
	})
	if rewritten == 0 {
		return nil, fmt.Errorf("no plain leaf's list of strings in the shape plainLeaves and stringLists write: update graph/rewrite/lists.go")
	}
	return src, nil
}
