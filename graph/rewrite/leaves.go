package main

import (
	"bytes"
	"fmt"
	"regexp"
)

// leafField is a field function as gqlgen writes it for a field with no resolver,
// directive or argument: ResolveField with a field context, a closure returning the
// value, no middleware and a closure calling the marshaler. Its groups: the function's
// head, the field context's name, the value, the value's type, the marshaler and
// whether a panic is recovered.
var leafField = regexp.MustCompile(`(?m)^(func \(ec \*executionContext\) _\w+\(ctx context\.Context, field graphql\.CollectedField, obj \*?[\w.]+\) \(ret graphql\.Marshaler\) \{\n)` +
	`\treturn graphql\.ResolveField\(\n\t\tctx,\n\t\tec\.OperationContext,\n\t\tfield,\n` +
	`\t\tfunc\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{\n\t\t\treturn ec\.(fieldContext_\w+)\(ctx, field\)\n\t\t\},\n` +
	`\t\tfunc\(ctx context\.Context\) \(any, error\) \{\n\t\t\treturn (obj(?:\.\w+)+(?:\(\))?), nil\n\t\t\},\n` +
	`\t\tnil,\n` +
	`\t\tfunc\(ctx context\.Context, selections ast\.SelectionSet, v ([^)]+)\) graphql\.Marshaler \{\n\t\t\treturn ec\.(marshal[\pL\pN_]+)\(ctx, selections, v\)\n\t\t\},\n` +
	`\t\t(true|false),\n\t\t(?:true|false),\n\t\)\n\}\n`)

// leafContext is the field context gqlgen writes for a scalar or enum field without
// a resolver: a leaf, whose field context no child needs. Its group: the object's
// type.
var leafContext = `\(_ context\.Context, field graphql\.CollectedField\) \(fc \*graphql\.FieldContext, err error\) \{\n\treturn graphql\.NewScalarFieldContext\("(\w+)", field, (?:true|false), false, "\w+"\)\n\}\n`

// plainLeaf is the guard graph/leaf.go's plainLeaves adds: ec has no field
// middleware, so nothing would see the field's context.
const plainLeaf = "\tif ec.plainLeaves() {\n"

// plainLeaves adds to every plain leaf field function a first branch that writes the
// value with its marshaler, where the marshaler cannot report an error: an error
// names the field by its context's path, which the branch makes only for a panic
// (graph/leaf.go's recoverLeaf, as gqlgen's ResolveField recovers one). A leaf whose
// marshaler may (a null for a non-null field, a list marshalled concurrently) keeps
// gqlgen's path alone, or takes the branch only for the values that cannot fail (a
// time that is not zero, a finite float).
func plainLeaves(src []byte) ([]byte, error) {
	if bytes.Contains(src, []byte(plainLeaf)) {
		return src, nil // rewritten already
	}
	m := marshalers{src: src, seen: map[string]verdict{}}
	out, rewritten := replaceEach(src, leafField, func(out *bytes.Buffer, g [][]byte) bool {
		head, fieldContext, value, marshal, recovers := g[1], string(g[2]), g[3], string(g[5]), string(g[6]) == "true"
		leaf := regexp.MustCompile(`func \(ec \*executionContext\) ` + fieldContext + leafContext).FindSubmatch(src)
		if leaf == nil {
			return false // an object's field: its children's contexts need its own
		}
		v := m.verdict(marshal)
		if !v.plain {
			return false
		}
		out.Write(head)
		out.WriteString(plainLeaf)
		if recovers {
			fmt.Fprintf(out, "\t\tdefer recoverLeaf(ctx, ec.OperationContext, field, %q, &ret)\n", leaf[1])
		}
		if v.guard == "" {
			fmt.Fprintf(out, "\t\treturn ec.%s(ctx, field.Selections, %s)\n", marshal, value)
		} else {
			fmt.Fprintf(out, "\t\tif v := %s; %s {\n\t\t\treturn ec.%s(ctx, field.Selections, v)\n\t\t}\n", value, v.guard, marshal)
		}
		out.WriteString("\t}\n")
		out.Write(g[0][len(head):])
		return true
	})
	if rewritten == 0 {
		return nil, fmt.Errorf("no plain leaf field in gqlgen's shape: gqlgen changed, update graph/rewrite/leaves.go")
	}
	return out, nil
}

// verdict is whether a marshaler may be called outside gqlgen's field context, and
// the condition on its value v under which it may.
type verdict struct {
	plain bool
	guard string
}

// marshalers classifies gqlgen's marshalers by their bodies.
type marshalers struct {
	src  []byte
	seen map[string]verdict
}

// neverNull are the scalar marshalers that return a value for every input; their
// marshaler's null check cannot fire.
var neverNull = `(?:graphql\.MarshalString|graphql\.MarshalInt64|graphql\.MarshalID|scalar\.MarshalBoolean|scalar\.MarshalInt)`

// The marshaler bodies a plain leaf may use, from after the function's brace to its
// closing one.
var (
	// A type that is its own marshaler.
	returnsItself = regexp.MustCompile(`^\treturn v\n$`)
	// A nullable pointer: null for nil, else a scalar marshalled without the context
	// (no error either way), a time as timesInPlace leaves it too.
	nullable = regexp.MustCompile(`^\tif v == nil \{\n\t\treturn graphql\.Null\n\t\}\n(?:\t_ = sel\n\t_ = ctx\n\tres := [\w.]+\([^\n]*\)\n\treturn res\n|\treturn v\n|\treturn scalar\.MarshalTimeAt\(v\)\n)$`)
	// A non-null scalar whose marshaler returns a value for every input.
	nonNull = regexp.MustCompile(`^\t_ = sel\n\tres := ` + neverNull + `\([^\n]*\)\n\tif res == graphql\.Null \{\n\t\tgraphql\.AddInvalidNullFromMarshaler\(ctx, "\w+!"\)\n\t\}\n\treturn res\n$`)
	// A nullable scalar that is not a pointer, marshalled without the context.
	nullableValue = regexp.MustCompile(`^\t_ = sel\n\t_ = ctx\n\tres := [\w.]+\([^\n]*\)\n\treturn res\n$`)
	// A non-null time: null, and an error, only for the zero time.
	nonNullTime = regexp.MustCompile(`^\t_ = sel\n\tres := scalar\.MarshalTime\(v\)\n\tif res == graphql\.Null \{\n\t\tgraphql\.AddInvalidNullFromMarshaler\(ctx, "Time!"\)\n\t\}\n\treturn res\n$`)
	// A non-null float: an error only for NaN and the infinities.
	nonNullFloat = regexp.MustCompile(`^\t_ = sel\n\tres := graphql\.MarshalFloatContext\(v\)\n\tif res == graphql\.Null \{\n\t\tgraphql\.AddInvalidNullFromMarshaler\(ctx, "Float!"\)\n\t\}\n\treturn graphql\.WrapContextMarshaler\(ctx, res\)\n$`)
	// A list marshalled element by element on this goroutine.
	list = regexp.MustCompile(`^\tret := make\(graphql\.Array, len\(v\)\)\n\tfor i := range v \{\n\t\tret\[i\] = ec\.(marshal[\pL\pN_]+)\(ctx, sel, v\[i\]\)\n\t\}\n\n\tfor _, e := range ret \{\n\t\tif e == graphql\.Null \{\n\t\t\treturn graphql\.Null\n\t\t\}\n\t\}\n\n\treturn ret\n$`)
)

// body is the body of the marshaler name, from after its brace to its closing one,
// or nil if there is none.
func (m *marshalers) body(name string) []byte {
	body := regexp.MustCompile(`(?s)\nfunc \(ec \*executionContext\) ` + name + `\(ctx context\.Context, sel ast\.SelectionSet, v [^)]+\) graphql\.Marshaler \{\n(.*?\n)\}\n`).FindSubmatch(m.src)
	if body == nil {
		return nil
	}
	return body[1]
}

func (m *marshalers) verdict(name string) verdict {
	if v, ok := m.seen[name]; ok {
		return v
	}
	body := m.body(name)
	var v verdict
	switch {
	case body == nil:
	case returnsItself.Match(body), nullable.Match(body), nonNull.Match(body), nullableValue.Match(body):
		v.plain = true
	case nonNullTime.Match(body):
		v = verdict{plain: true, guard: "!v.IsZero()"}
	case nonNullFloat.Match(body):
		v = verdict{plain: true, guard: "finite(v)"}
	default:
		// An element's guard would be needed for every element: lists take only
		// elements that need none.
		if el := list.FindSubmatch(body); el != nil {
			v.plain = m.verdict(string(el[1])) == verdict{plain: true}
		}
	}
	m.seen[name] = v
	return v
}

// Where a time or a float is written from where it is (scalar.MarshalTimeAt,
// MarshalFloatAt): a nullable time's marshaler, given a pointer, and a plain leaf's
// non-null time or float read from its object's field. Their groups: the leaf's
// value and its marshaler.
var (
	nullableTime = regexp.MustCompile(`(?m)^(func \(ec \*executionContext\) marshalOTime2ᚖtimeᚐTime\(ctx context\.Context, sel ast\.SelectionSet, v \*time\.Time\) graphql\.Marshaler \{\n\tif v == nil \{\n\t\treturn graphql\.Null\n\t\}\n)\t_ = sel\n\t_ = ctx\n\tres := scalar\.MarshalTime\(\*v\)\n\treturn res\n\}\n`)
	timeLeaf     = regexp.MustCompile(`\t\tif v := (obj(?:\.\w+)+); !v\.IsZero\(\) \{\n\t\t\treturn ec\.(marshal[\pL\pN_]+)\(ctx, field\.Selections, v\)\n`)
	floatLeaf    = regexp.MustCompile(`\t\tif v := (obj(?:\.\w+)+); finite\(v\) \{\n\t\t\treturn ec\.(marshal[\pL\pN_]+)\(ctx, field\.Selections, v\)\n`)
)

// timeAt is the call timesInPlace writes.
const timeAt = "return scalar.MarshalTimeAt(v)\n"

// timesInPlace has a time or a float read from its object written from where it is:
// the objects are not changed while they are written, so the answer is the same,
// without a marshaler allocated for each (and for a float, a wrapper and fmt's
// boxing).
func timesInPlace(src []byte) ([]byte, error) {
	if bytes.Contains(src, []byte(timeAt)) {
		return src, nil // rewritten already
	}
	m := marshalers{src: src, seen: map[string]verdict{}}
	rewritten := 0
	src = nullableTime.ReplaceAllFunc(src, func(f []byte) []byte {
		rewritten++
		return append(nullableTime.FindSubmatch(f)[1], "\t"+timeAt+"}\n"...)
	})
	src = timeLeaf.ReplaceAllFunc(src, func(leaf []byte) []byte {
		g := timeLeaf.FindSubmatch(leaf)
		if body := m.body(string(g[2])); body == nil || !nonNullTime.Match(body) {
			return leaf
		}
		rewritten++
		return fmt.Appendf(nil, "\t\tif v := &%s; !v.IsZero() {\n\t\t\t%s", g[1], timeAt)
	})
	src = floatLeaf.ReplaceAllFunc(src, func(leaf []byte) []byte {
		g := floatLeaf.FindSubmatch(leaf)
		if body := m.body(string(g[2])); body == nil || !nonNullFloat.Match(body) {
			return leaf
		}
		rewritten++
		return fmt.Appendf(nil, "\t\tif v := &%s; finite(*v) {\n\t\t\treturn scalar.MarshalFloatAt(v)\n", g[1])
	})
	if rewritten == 0 {
		return nil, fmt.Errorf("no time in gqlgen's shape: gqlgen changed, update graph/rewrite/leaves.go")
	}
	return src, nil
}
