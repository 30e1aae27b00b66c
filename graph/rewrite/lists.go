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
// own or not.
var waits = regexp.MustCompile(`ResolveConcurrently\(|ResolveRootConcurrently\(|ec\.Resolvers\.|ec\.Directives\.`)

// calls is a call of the executor's own functions.
var calls = regexp.MustCompile(`\bec\.([\pL\pN_]+)\(`)

// sequentialLists has every list whose elements cannot wait, however deep, marshal
// them one after the other rather than on a goroutine each.
func sequentialLists(src []byte) ([]byte, error) {
	all := bytes.Count(src, []byte("graphql.MarshalSliceConcurrently("))
	lists := concurrentList.FindAllSubmatchIndex(src, -1)
	if len(lists) != all {
		return nil, fmt.Errorf("%d of %d lists are not in gqlgen's shape: gqlgen changed, update graph/rewrite/lists.go", all-len(lists), all)
	}
	mayWait := waitingFunctions(src)
	var out bytes.Buffer
	last := 0
	for _, at := range lists {
		if mayWait[string(src[at[2]:at[3]])] {
			continue
		}
		out.Write(src[last:at[0]])
		out.WriteString(sequentialList)
		out.Write(src[at[0]+bytes.IndexByte(src[at[0]:], '\n')+1 : at[1]])
		last = at[1]
	}
	out.Write(src[last:])
	return out.Bytes(), nil
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
