package main

import (
	"bytes"
	"fmt"
	"regexp"
)

// plainStringLeaf is a plain leaf field function (as plainLeaves leaves it) whose
// value is a field of the object or its method's value. Its groups: the function's
// name, the object's name if a panic is recovered, the marshaler and the value.
var plainStringLeaf = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) (_\w+)\(ctx context\.Context, field graphql\.CollectedField, obj \*[\w.]+\) \(ret graphql\.Marshaler\) \{\n` +
	"\t" + `if ec\.plainLeaves\(\) \{\n(?:\t\tdefer recoverLeaf\(ctx, ec\.OperationContext, field, ("\w+"), &ret\)\n)?\t\treturn ec\.(marshal[\pL\pN_]+)\(ctx, field\.Selections, (obj(?:\.\w+)+(?:\(\))?)\)\n\t\}\n`)

// quotedString is the body of a marshaler writing its value as gqlgen's MarshalString
// does (MarshalID is MarshalString), which returns a value for every input.
var quotedString = regexp.MustCompile(`^\t_ = sel\n\tres := graphql\.Marshal(?:String|ID)\((?:v|string\(v\))\)\n\tif res == graphql\.Null \{\n\t\tgraphql\.AddInvalidNullFromMarshaler\(ctx, "\w+!"\)\n\t\}\n\treturn res\n$`)

// fieldCall is an object's field set taking a field function's value.
var fieldCall = regexp.MustCompile(`(?m)^\t\t\tout\.Values\[i\] = ec\.(_\w+)\(ctx, field, obj\)\n`)

// stringSet is what stringLeaves adds to an object's function.
const stringSet = "out.setString"

// stringLeaves has an object keep its plain string leaves (a String, an ID or an enum
// written as a string, read from the object's field or method) in its field set
// (graph/fieldset.go's setString) when its operation's leaves are plain, rather than
// each in a marshaler of its own: gqlgen's MarshalString allocates one for every
// string written.
func stringLeaves(src []byte) ([]byte, error) {
	if bytes.Contains(src, []byte(stringSet)) {
		return src, nil // rewritten already
	}
	m := marshalers{src: src, seen: map[string]verdict{}}
	type leaf struct{ object, value string }
	leaves := map[string]leaf{} // a string leaf's function: its object if recovered, its value
	for _, l := range plainStringLeaf.FindAllSubmatch(src, -1) {
		if body := m.body(string(l[3])); body != nil && quotedString.Match(body) {
			leaves[string(l[1])] = leaf{object: string(l[2]), value: string(l[4])}
		}
	}
	if len(leaves) == 0 {
		return nil, fmt.Errorf("no plain string leaf in the shape plainLeaves writes: update graph/rewrite/strings.go")
	}
	out, rewritten := replaceEach(src, fieldCall, func(out *bytes.Buffer, g [][]byte) bool {
		l, ok := leaves[string(g[1])]
		if !ok {
			return false
		}
		out.WriteString("\t\t\tif ec.plainLeaves() {\n\t\t\t\t")
		if l.object != "" {
			// The field may be promoted through an embedded pointer, nil: the
			// panic is the field's, as in its function.
			fmt.Fprintf(out, "%sRecovering(ctx, ec.OperationContext, field, %s, i, func() string { return string(%s) })\n", stringSet, l.object, l.value)
		} else {
			fmt.Fprintf(out, "%s(i, string(%s))\n", stringSet, l.value)
		}
		out.WriteString("\t\t\t} else {\n\t")
		out.Write(g[0])
		out.WriteString("\t\t\t}\n")
		return true
	})
	if rewritten == 0 {
		return nil, fmt.Errorf("no object sets a plain string leaf as gqlgen writes it: gqlgen changed, update graph/rewrite/strings.go")
	}
	return out, nil
}
