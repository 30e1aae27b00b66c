package main

import (
	"bytes"
	"fmt"
	"regexp"
)

// objectField is a field function as gqlgen writes it for a field without argument or
// directive that plainLeaves left alone: an object, a list, a resolver's value, or a
// scalar whose marshaler may report an error; a root field's has no object. Its groups: the function's head, the
// field context's name, the value (one expression, with its error), the value's type,
// the marshaler, whether a panic is recovered and whether the field is non-null.
var objectField = regexp.MustCompile(`(?m)^(func \(ec \*executionContext\) _\w+\(ctx context\.Context, field graphql\.CollectedField(?:, obj \*?[\w.]+)?\) \(ret graphql\.Marshaler\) \{\n)` +
	`\treturn graphql\.ResolveField\(\n\t\tctx,\n\t\tec\.OperationContext,\n\t\tfield,\n` +
	`\t\tfunc\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{\n\t\t\treturn ec\.(fieldContext_\w+)\(ctx, field\)\n\t\t\},\n` +
	`\t\tfunc\(ctx context\.Context\) \(any, error\) \{\n\t\t\treturn ([^\n]+)\n\t\t\},\n` +
	`\t\tnil,\n` +
	`\t\tfunc\(ctx context\.Context, selections ast\.SelectionSet, v ([^)\n]+)\) graphql\.Marshaler \{\n\t\t\treturn ec\.(marshal[\pL\pN_]+)\(ctx, selections, v\)\n\t\t\},\n` +
	`\t\t(true|false),\n\t\t(true|false),\n\t\)\n\}\n`)

// The field contexts gqlgen writes for a field without arguments, whose groups are
// the object's type, whether the value is a method's and whether a resolver's: a
// scalar's or an enum's, and an object's or a list of objects' (whose Child only a
// field interceptor calls).
var (
	scalarContext = `\(_ context\.Context, field graphql\.CollectedField\) \(fc \*graphql\.FieldContext, err error\) \{\n\treturn graphql\.NewScalarFieldContext\("(\w+)", field, (true|false), (true|false), "\w+"\)\n\}\n`
	objectContext = `\(_ context\.Context, field graphql\.CollectedField\) \(fc \*graphql\.FieldContext, err error\) \{\n\tfc = &graphql\.FieldContext\{\n\t\tObject:     "(\w+)",\n\t\tField:      field,\n\t\tIsMethod:   (true|false),\n\t\tIsResolver: (true|false),\n` +
		`\t\tChild: func\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{\n\t\t\treturn ec\.childFields_\w+\(ctx, field\)\n\t\t\},\n\t\}\n\treturn fc, nil\n\}\n`
)

// readsFieldContext is a value that reads its field context: a field's arguments.
var readsFieldContext = regexp.MustCompile(`\bfc\b`)

// plainResolve is the call plainFields writes.
const plainResolve = "\t\treturn resolve(ctx, ec.OperationContext, field, plainField{"

// plainFields adds to every such field function a first branch that, when
// ec.plainLeaves(), resolves the field with graph/resolve.go's resolve: the same
// field context, the value typed, without gqlgen's closures and middleware.
func plainFields(src []byte) ([]byte, error) {
	if bytes.Contains(src, []byte(plainResolve)) {
		return src, nil // rewritten already
	}
	contexts := map[string]*regexp.Regexp{}
	out, rewritten := replaceEach(src, objectField, func(out *bytes.Buffer, g [][]byte) bool {
		head, fieldContext, value, typ, marshal, recovers, nonNull := g[1], string(g[2]), g[3], g[4], g[5], g[6], g[7]
		if readsFieldContext.Match(value) {
			return false // reads its field context: arguments
		}
		var fc [][]byte
		for _, shape := range []string{scalarContext, objectContext} {
			key := fieldContext + shape
			if contexts[key] == nil {
				contexts[key] = regexp.MustCompile(`func \(ec \*executionContext\) ` + regexp.QuoteMeta(fieldContext) + shape)
			}
			if fc = contexts[key].FindSubmatch(src); fc != nil {
				break
			}
		}
		if fc == nil {
			return false // a field context of another shape: gqlgen's alone
		}
		out.Write(head)
		out.WriteString("\tif ec.plainLeaves() {\n")
		fmt.Fprintf(out, "%sobject: %q, method: %s, resolver: %s},\n", plainResolve, fc[1], fc[2], fc[3])
		fmt.Fprintf(out, "\t\t\tfunc(ctx context.Context) (%s, error) {\n\t\t\t\treturn %s\n\t\t\t},\n", typ, value)
		fmt.Fprintf(out, "\t\t\tec.%s, %s, %s)\n\t}\n", marshal, recovers, nonNull)
		out.Write(g[0][len(head):])
		return true
	})
	if rewritten == 0 {
		return nil, fmt.Errorf("no object's field in gqlgen's shape: gqlgen changed, update graph/rewrite/fields.go")
	}
	return out, nil
}

// concurrentField is an object's field scheduled with a closure calling its field
// function, as gqlgen writes it; its groups are whether a panic is recovered, whether
// the field is non-null and the field function.
var concurrentField = regexp.MustCompile(`(?m)^\t\t\tout\.ResolveConcurrently\(ec\.OperationContext, &deferred, i,\n\t\t\t\t(true|false), (true|false),\n` +
	`\t\t\t\tfunc\(ctx context\.Context\) graphql\.Marshaler \{\n\t\t\t\t\treturn ec\.(_\w+)\(ctx, field, obj\)\n\t\t\t\t\}\)\n`)

// laterCall is what laterFields writes.
const laterCall = "\t\t\tresolveLater(out, ec, &deferred, i, "

// laterFields has every such field scheduled with graph/dispatch.go's resolveLater,
// which keeps the field function and its object in the task rather than in a closure
// allocated for each.
func laterFields(src []byte) ([]byte, error) {
	if bytes.Contains(src, []byte(laterCall)) {
		return src, nil // rewritten already
	}
	all := bytes.Count(src, []byte("out.ResolveConcurrently("))
	fields := len(concurrentField.FindAllIndex(src, -1))
	if fields == 0 || fields != all {
		return nil, fmt.Errorf("%d of %d fields scheduled concurrently are not in gqlgen's shape: gqlgen changed, update graph/rewrite/fields.go", all-fields, all)
	}
	out, _ := replaceEach(src, concurrentField, func(out *bytes.Buffer, g [][]byte) bool {
		fmt.Fprintf(out, "%s%s, %s, obj, (*executionContext).%s)\n", laterCall, g[1], g[2], g[3])
		return true
	})
	return out, nil
}
