package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestVerdict: the marshalers a plain leaf may call outside gqlgen's field context
// are those that cannot report an error, or only for a value a guard excludes.
func TestVerdict(t *testing.T) {
	t.Parallel()
	src := []byte(`
func (ec *executionContext) marshalNString2string(ctx context.Context, sel ast.SelectionSet, v string) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalString(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "String!")
	}
	return res
}

func (ec *executionContext) marshalNString2ᚕstringᚄ(ctx context.Context, sel ast.SelectionSet, v []string) graphql.Marshaler {
	ret := make(graphql.Array, len(v))
	for i := range v {
		ret[i] = ec.marshalNString2string(ctx, sel, v[i])
	}

	for _, e := range ret {
		if e == graphql.Null {
			return graphql.Null
		}
	}

	return ret
}

func (ec *executionContext) marshalNTime2timeᚐTime(ctx context.Context, sel ast.SelectionSet, v time.Time) graphql.Marshaler {
	_ = sel
	res := scalar.MarshalTime(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "Time!")
	}
	return res
}

func (ec *executionContext) marshalNTime2ᚕtimeᚐTimeᚄ(ctx context.Context, sel ast.SelectionSet, v []time.Time) graphql.Marshaler {
	ret := make(graphql.Array, len(v))
	for i := range v {
		ret[i] = ec.marshalNTime2timeᚐTime(ctx, sel, v[i])
	}

	for _, e := range ret {
		if e == graphql.Null {
			return graphql.Null
		}
	}

	return ret
}

func (ec *executionContext) marshalOString2ᚖstring(ctx context.Context, sel ast.SelectionSet, v *string) graphql.Marshaler {
	if v == nil {
		return graphql.Null
	}
	_ = sel
	_ = ctx
	res := graphql.MarshalString(*v)
	return res
}

func (ec *executionContext) marshalNJSON2map(ctx context.Context, sel ast.SelectionSet, v map[string]any) graphql.Marshaler {
	if v == nil {
		graphql.AddInvalidNullError(ctx, "JSON!")
		return graphql.Null
	}
	_ = sel
	res := scalar.MarshalMap(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "JSON!")
	}
	return res
}

func (ec *executionContext) marshalOFloat2float64(ctx context.Context, sel ast.SelectionSet, v float64) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalFloatContext(v)
	return graphql.WrapContextMarshaler(ctx, res)
}

func (ec *executionContext) marshalNCustom2int(ctx context.Context, sel ast.SelectionSet, v int) graphql.Marshaler {
	_ = sel
	res := scalar.MarshalCustom(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "Custom!")
	}
	return res
}
`)
	m := marshalers{src: src, seen: map[string]verdict{}}
	for name, want := range map[string]verdict{
		"marshalNString2string":       {plain: true},
		"marshalNString2ᚕstringᚄ":     {plain: true},
		"marshalOString2ᚖstring":      {plain: true},
		"marshalNTime2timeᚐTime":      {plain: true, guard: "!v.IsZero()"},
		"marshalNTime2ᚕtimeᚐTimeᚄ":    {}, // every element would need the guard
		"marshalNJSON2map":            {}, // null for nil, with an error
		"marshalOFloat2float64":       {}, // the context marshals it
		"marshalNCustom2int":          {}, // a scalar not known never to be null
		"marshalNNotInTheSource2bool": {},
	} {
		require.Equal(t, want, m.verdict(name), name)
	}
}

// TestWaitingFunctions: a function waits when it runs a resolver or calls one that
// does, however deep, through cycles too.
func TestWaitingFunctions(t *testing.T) {
	t.Parallel()
	src := []byte(`
func (ec *executionContext) _Team(ctx context.Context, sel ast.SelectionSet, obj *models.Team) graphql.Marshaler {
	out.ResolveConcurrently(ec.OperationContext, &deferred, i, true, true, func(ctx context.Context) graphql.Marshaler {
		return ec._Team_members(ctx, field, obj)
	})
}
func (ec *executionContext) marshalNTeam2ᚖTeam(ctx context.Context, sel ast.SelectionSet, v *models.Team) graphql.Marshaler {
	return ec._Team(ctx, sel, v)
}
func (ec *executionContext) _Step(ctx context.Context, sel ast.SelectionSet, obj *models.Step) graphql.Marshaler {
	out.Values[i] = ec._Step_key(ctx, field, obj)
	out.Values[i] = ec.marshalNStep2ᚖStep(ctx, field.Selections, obj.Next)
}
func (ec *executionContext) marshalNStep2ᚖStep(ctx context.Context, sel ast.SelectionSet, v *models.Step) graphql.Marshaler {
	return ec._Step(ctx, sel, v)
}
func (ec *executionContext) _Step_key(ctx context.Context, field graphql.CollectedField, obj *models.Step) (ret graphql.Marshaler) {
	if ec.plainLeaves() {
		return ec.marshalNString2string(ctx, field.Selections, obj.Key)
	}
}
func (ec *executionContext) _Query_me(ctx context.Context, field graphql.CollectedField) (ret graphql.Marshaler) {
	return ec.Resolvers.Query().Me(ctx)
}
func (ec *executionContext) _Wrapper(ctx context.Context, sel ast.SelectionSet, obj *Wrapper) graphql.Marshaler {
	return ec.marshalNTeam2ᚖTeam(ctx, sel, obj.Team)
}
`)
	require.Equal(t, map[string]bool{
		"_Team": true, "marshalNTeam2ᚖTeam": true, "_Query_me": true, "_Wrapper": true,
		"_Step": false, "marshalNStep2ᚖStep": false, "_Step_key": false,
	}, waitingFunctions(src))
}

// TestLazySchema: gqlgen's parsedSchema becomes a function parsed on first use, the
// rewrite is idempotent, and a use of parsedSchema it does not know fails it.
func TestLazySchema(t *testing.T) {
	t.Parallel()
	gqlgens := "func (e *executableSchema) Schema() *ast.Schema {\n\treturn parsedSchema\n}\n" +
		"func newExecutionContext() {\n\tx(\n\t\t\tparsedSchema,\n\t)\n}\n" +
		"var parsedSchema = gqlparser.MustLoadSchema(sources...)\n"
	ours, err := lazySchema([]byte(gqlgens))
	require.NoError(t, err)
	require.Equal(t, "func (e *executableSchema) Schema() *ast.Schema {\n\treturn parsedSchema()\n}\n"+
		"func newExecutionContext() {\n\tx(\n\t\t\tparsedSchema(),\n\t)\n}\n"+
		"var parsedSchema = parseSchema(func() *ast.Schema { return gqlparser.MustLoadSchema(schemaSources()...) })\n", string(ours))
	requireIdempotent(t, lazySchema, ours)

	_, err = lazySchema([]byte(gqlgens + "func other() { _ = parsedSchema.Types }\n"))
	require.ErrorContains(t, err, "parsedSchema is used 4 times")
	_, err = lazySchema([]byte(strings.Replace(gqlgens, "\treturn parsedSchema\n", "\treturn e.schema\n", 1)))
	require.ErrorContains(t, err, "gqlgen changed")
}

// TestLazySources: gqlgen's sources variable becomes a function, indented as gofmt
// has it; the rewrite is idempotent, and sources that are not embedded files, or a
// list without its end, fail it.
func TestLazySources(t *testing.T) {
	t.Parallel()
	gqlgens := "var sources = []*ast.Source{\n" +
		"\t{Name: \"a.graphqls\", Input: sourceData(\"a.graphqls\"), BuiltIn: false},\n" +
		"\t{Name: \"b.graphqls\", Input: sourceData(\"b.graphqls\"), BuiltIn: true},\n" +
		"}\n" +
		"var parsedSchema = parseSchema(func() *ast.Schema { return gqlparser.MustLoadSchema(schemaSources()...) })\n"
	ours, err := lazySources([]byte(gqlgens))
	require.NoError(t, err)
	require.Equal(t, "func schemaSources() []*ast.Source {\n\treturn []*ast.Source{\n"+
		"\t\t{Name: \"a.graphqls\", Input: sourceData(\"a.graphqls\"), BuiltIn: false},\n"+
		"\t\t{Name: \"b.graphqls\", Input: sourceData(\"b.graphqls\"), BuiltIn: true},\n"+
		"\t}\n}\n\n"+
		"var parsedSchema = parseSchema(func() *ast.Schema { return gqlparser.MustLoadSchema(schemaSources()...) })\n", string(ours))
	formatted, err := format.Source(ours)
	require.NoError(t, err)
	require.Equal(t, string(formatted), string(ours), "gofmt would change it")
	requireIdempotent(t, lazySources, ours)

	inline := strings.Replace(gqlgens, `Input: sourceData("b.graphqls")`, "Input: `type Query {\n}\n`", 1)
	_, err = lazySources([]byte(inline))
	require.ErrorContains(t, err, "is not an embedded file's")
	_, err = lazySources([]byte("var sources = []*ast.Source{\n"))
	require.ErrorContains(t, err, "no end")
	_, err = lazySources([]byte(gqlgens + gqlgens))
	require.ErrorContains(t, err, "gqlgen changed")
}

// TestRewriteIsIdempotent: the committed generated code is the rewrite's own output,
// so rewriting it again changes nothing (go generate runs it on gqlgen's output; a
// rewrite that did not know its own output would fail there after a partial run).
func TestRewriteIsIdempotent(t *testing.T) {
	t.Parallel()
	committed, err := os.ReadFile("../generated.go")
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "generated.go")
	require.NoError(t, os.WriteFile(file, committed, 0o644))
	require.NoError(t, run([]string{file}))
	again, err := os.ReadFile(file)
	require.NoError(t, err)
	require.True(t, bytes.Equal(committed, again), "rewriting graph/generated.go again changed it")
}

// TestSizedResponses: gqlgen's empty response buffers of a query and a mutation are
// sized by the operation's last response, the rewrite is idempotent, and a file
// without them fails it.
func TestSizedResponses(t *testing.T) {
	t.Parallel()
	gqlgens := "\t\t\tvar buf bytes.Buffer\n\t\t\tdata.MarshalGQL(&buf)\n\t\t\tresponse.Data = buf.Bytes()\n" +
		"\t\t\tvar buf bytes.Buffer\n\t\t\tdata.MarshalGQL(&buf)\n\n\t\t\treturn &graphql.Response{\n\t\t\t\tData: buf.Bytes(),\n"
	ours, err := sizedResponses([]byte(gqlgens))
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(string(ours), "buf := responseBuffer(opCtx.Operation)\n"))
	require.Equal(t, 2, strings.Count(string(ours), "rememberResponse(opCtx.Operation, buf.Bytes())"))
	require.NotContains(t, string(ours), "var buf bytes.Buffer")
	requireIdempotent(t, sizedResponses, ours)

	_, err = sizedResponses([]byte(strings.Replace(gqlgens, "data.MarshalGQL(&buf)\n\t\t\tresponse", "data.MarshalGQL(w)\n\t\t\tresponse", 1)))
	require.ErrorContains(t, err, "gqlgen changed")
}

// TestStringLeaves: an object's call of a plain string leaf read from the object's
// own field or method becomes setStringRecovering (or setString when its function
// recovers no panic), gqlgen's call kept for operations whose leaves are not plain;
// a leaf of another marshaler is left alone; the rewrite is
// idempotent, and a file with no such leaf fails it.
func TestStringLeaves(t *testing.T) {
	t.Parallel()
	src := `
func (ec *executionContext) marshalNString2string(ctx context.Context, sel ast.SelectionSet, v string) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalString(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "String!")
	}
	return res
}

func (ec *executionContext) marshalNInt2int(ctx context.Context, sel ast.SelectionSet, v int) graphql.Marshaler {
	_ = sel
	res := scalar.MarshalInt(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "Int!")
	}
	return res
}

func (ec *executionContext) _Thing_name(ctx context.Context, field graphql.CollectedField, obj *models.Thing) (ret graphql.Marshaler) {
	if ec.plainLeaves() {
		defer recoverLeaf(ctx, ec.OperationContext, field, "Thing", &ret)
		return ec.marshalNString2string(ctx, field.Selections, obj.Name)
	}
}

func (ec *executionContext) _Thing_code(ctx context.Context, field graphql.CollectedField, obj *models.Thing) (ret graphql.Marshaler) {
	if ec.plainLeaves() {
		return ec.marshalNString2string(ctx, field.Selections, obj.Code)
	}
}

func (ec *executionContext) _Thing_label(ctx context.Context, field graphql.CollectedField, obj *models.Thing) (ret graphql.Marshaler) {
	if ec.plainLeaves() {
		defer recoverLeaf(ctx, ec.OperationContext, field, "Thing", &ret)
		return ec.marshalNString2string(ctx, field.Selections, obj.Label())
	}
}

func (ec *executionContext) _Thing_count(ctx context.Context, field graphql.CollectedField, obj *models.Thing) (ret graphql.Marshaler) {
	if ec.plainLeaves() {
		defer recoverLeaf(ctx, ec.OperationContext, field, "Thing", &ret)
		return ec.marshalNInt2int(ctx, field.Selections, obj.Count)
	}
}

func (ec *executionContext) _Thing(ctx context.Context, sel ast.SelectionSet, obj *models.Thing) graphql.Marshaler {
	for i, field := range fields {
		switch field.Name {
		case "name":
			out.Values[i] = ec._Thing_name(ctx, field, obj)
		case "code":
			out.Values[i] = ec._Thing_code(ctx, field, obj)
		case "label":
			out.Values[i] = ec._Thing_label(ctx, field, obj)
		case "count":
			out.Values[i] = ec._Thing_count(ctx, field, obj)
		}
	}
}
`
	ours, err := stringLeaves([]byte(src))
	require.NoError(t, err)
	got := string(ours)
	require.Contains(t, got, "\t\tcase \"name\":\n\t\t\tif ec.plainLeaves() {\n"+
		"\t\t\t\tout.setStringRecovering(ctx, ec.OperationContext, field, \"Thing\", i, func() string { return string(obj.Name) })\n"+
		"\t\t\t} else {\n\t\t\t\tout.Values[i] = ec._Thing_name(ctx, field, obj)\n\t\t\t}\n")
	require.Contains(t, got, "\t\t\t\tout.setString(i, string(obj.Code))\n")
	require.Contains(t, got, "\t\t\t\tout.setStringRecovering(ctx, ec.OperationContext, field, \"Thing\", i, func() string { return string(obj.Label()) })\n", "a method's value")
	require.Contains(t, got, "\t\tcase \"count\":\n\t\t\tout.Values[i] = ec._Thing_count(ctx, field, obj)\n", "not a string")
	require.Equal(t, 3, strings.Count(got, "out.setString"))

	requireIdempotent(t, stringLeaves, ours)

	_, err = stringLeaves([]byte(strings.ReplaceAll(src, "return ec.marshalNString2string(ctx, field.Selections, obj.", "return ec.other(ctx, obj.")))
	require.ErrorContains(t, err, "no plain string leaf")
}

// TestPlainFields: an object's field, a root field, a resolver's and a scalar's whose marshaler
// may fail take graph's resolve first, typed, with their field context's object and
// flags; a field reading its arguments (fc) or with a field context of another shape
// is left alone; the rewrite is idempotent, and a file with no such field fails it.
func TestPlainFields(t *testing.T) {
	t.Parallel()
	field := func(name, value, typ, marshal string) string {
		return `func (ec *executionContext) _Thing_` + name + `(ctx context.Context, field graphql.CollectedField, obj *models.Thing) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Thing_` + name + `(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return ` + value + `
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v ` + typ + `) graphql.Marshaler {
			return ec.` + marshal + `(ctx, selections, v)
		},
		true,
		false,
	)
}
`
	}
	objectContext := func(name, method, resolver string) string {
		return `func (ec *executionContext) fieldContext_Thing_` + name + `(_ context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	fc = &graphql.FieldContext{
		Object:     "Thing",
		Field:      field,
		IsMethod:   ` + method + `,
		IsResolver: ` + resolver + `,
		Child: func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.childFields_Part(ctx, field)
		},
	}
	return fc, nil
}

`
	}
	src := field("part", "obj.Part, nil", "*models.Part", "marshalOPart2ᚖPart") + objectContext("part", "false", "false") +
		field("parts", "ec.Resolvers.Thing().Parts(ctx, obj)", "[]*models.Part", "marshalNPart2ᚕᚖPartᚄ") + objectContext("parts", "true", "true") +
		field("kind", "obj.Kind()", "models.Kind", "marshalNKind2Kind") +
		`func (ec *executionContext) fieldContext_Thing_kind(_ context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	return graphql.NewScalarFieldContext("Thing", field, true, false, "Kind")
}

` +
		field("first", `ec.Resolvers.Thing().First(ctx, obj, fc.Args["n"].(int))`, "[]*models.Part", "marshalNPart2ᚕᚖPartᚄ") + objectContext("first", "true", "true") +
		field("other", "obj.Other, nil", "*models.Part", "marshalOPart2ᚖPart") +
		`func (ec *executionContext) fieldContext_Thing_other(ctx context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	fc = &graphql.FieldContext{
		Object: "Thing",
	}
	return fc, nil
}
`
	root := strings.NewReplacer("_Thing_parts(ctx context.Context, field graphql.CollectedField, obj *models.Thing)", "_Query_things(ctx context.Context, field graphql.CollectedField)",
		"fieldContext_Thing_parts", "fieldContext_Query_things", "ec.Resolvers.Thing().Parts(ctx, obj)", "ec.Resolvers.Query().Things(ctx)", `"Thing"`, `"Query"`).
		Replace(field("parts", "ec.Resolvers.Thing().Parts(ctx, obj)", "[]*models.Part", "marshalNPart2ᚕᚖPartᚄ") + objectContext("parts", "true", "true"))
	src += root
	ours, err := plainFields([]byte(src))
	require.NoError(t, err)
	got := string(ours)
	require.Contains(t, got, "_Query_things(ctx context.Context, field graphql.CollectedField) (ret graphql.Marshaler) {\n\tif ec.plainLeaves() {\n"+
		"\t\treturn resolve(ctx, ec.OperationContext, field, plainField{object: \"Query\", method: true, resolver: true},\n"+
		"\t\t\tfunc(ctx context.Context) ([]*models.Part, error) {\n\t\t\t\treturn ec.Resolvers.Query().Things(ctx)\n", "a root field")
	require.Contains(t, got, "(ret graphql.Marshaler) {\n\tif ec.plainLeaves() {\n"+
		"\t\treturn resolve(ctx, ec.OperationContext, field, plainField{object: \"Thing\", method: false, resolver: false},\n"+
		"\t\t\tfunc(ctx context.Context) (*models.Part, error) {\n\t\t\t\treturn obj.Part, nil\n\t\t\t},\n"+
		"\t\t\tec.marshalOPart2ᚖPart, true, false)\n\t}\n\treturn graphql.ResolveField(\n")
	require.Contains(t, got, "plainField{object: \"Thing\", method: true, resolver: true},\n"+
		"\t\t\tfunc(ctx context.Context) ([]*models.Part, error) {\n\t\t\t\treturn ec.Resolvers.Thing().Parts(ctx, obj)\n")
	require.Contains(t, got, "plainField{object: \"Thing\", method: true, resolver: false},\n"+
		"\t\t\tfunc(ctx context.Context) (models.Kind, error) {\n\t\t\t\treturn obj.Kind()\n")
	require.Equal(t, 4, strings.Count(got, "return resolve("), "not first (arguments) nor other (another field context)")
	require.Equal(t, 6, strings.Count(got, "return graphql.ResolveField("))

	requireIdempotent(t, plainFields, ours)

	_, err = plainFields([]byte(strings.ReplaceAll(src, "\t\tnil,\n", "\t\tec.directives,\n")))
	require.ErrorContains(t, err, "gqlgen changed")
}

// TestStringLists: a list, nullable or not, marshalled element by element or as
// sequentialLists leaves an enum's, whose element's marshaler is MarshalString's
// becomes stringList; a list of another element is left alone; the rewrite is
// idempotent, and a file with no such list fails it.
func TestStringLists(t *testing.T) {
	t.Parallel()
	element := func(name, marshal string) string {
		return `func (ec *executionContext) ` + name + `(ctx context.Context, sel ast.SelectionSet, v string) graphql.Marshaler {
	_ = sel
	res := ` + marshal + `
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "X!")
	}
	return res
}

`
	}
	const check = `
	for _, e := range ret {
		if e == graphql.Null {
			return graphql.Null
		}
	}

	return ret
}

`
	list := func(name, typ, nilCheck, el string) string {
		return `func (ec *executionContext) ` + name + `(ctx context.Context, sel ast.SelectionSet, v []` + typ + `) graphql.Marshaler {
` + nilCheck + `	ret := make(graphql.Array, len(v))
	for i := range v {
		ret[i] = ec.` + el + `(ctx, sel, v[i])
	}
` + check
	}
	enumList := `func (ec *executionContext) marshalNPlatform2ᚕPlatformᚄ(ctx context.Context, sel ast.SelectionSet, v []models.Platform) graphql.Marshaler {
	ret := marshalList(ctx, len(v), func(ctx context.Context, i int) graphql.Marshaler {
		fc := graphql.GetFieldContext(ctx)
		fc.Result = &v[i]
		return ec.marshalNPlatform2Platform(ctx, sel, v[i])
	})
` + check
	src := "\n" + element("marshalNString2string", "graphql.MarshalString(v)") +
		element("marshalNPlatform2Platform", "graphql.MarshalString(string(v))") +
		element("marshalNInt2int", "scalar.MarshalInt(v)") +
		list("marshalNString2ᚕstringᚄ", "string", "", "marshalNString2string") +
		list("marshalOString2ᚕstringᚄ", "string", "\tif v == nil {\n\t\treturn graphql.Null\n\t}\n", "marshalNString2string") +
		list("marshalNInt2ᚕintᚄ", "int", "", "marshalNInt2int") + enumList
	ours, err := stringLists([]byte(src))
	require.NoError(t, err)
	got := string(ours)
	require.Contains(t, got, "marshalNString2ᚕstringᚄ(ctx context.Context, sel ast.SelectionSet, v []string) graphql.Marshaler {\n\treturn marshalStrings(v)\n}\n")
	require.Contains(t, got, "marshalOString2ᚕstringᚄ(ctx context.Context, sel ast.SelectionSet, v []string) graphql.Marshaler {\n\tif v == nil {\n\t\treturn graphql.Null\n\t}\n\treturn marshalStrings(v)\n}\n")
	require.Contains(t, got, "marshalNPlatform2ᚕPlatformᚄ(ctx context.Context, sel ast.SelectionSet, v []models.Platform) graphql.Marshaler {\n\treturn marshalStrings(v)\n}\n")
	require.Contains(t, got, list("marshalNInt2ᚕintᚄ", "int", "", "marshalNInt2int"), "not strings")
	require.Equal(t, 3, strings.Count(got, "marshalStrings(v)"))

	requireIdempotent(t, stringLists, ours)

	_, err = stringLists([]byte(strings.ReplaceAll(src, "graphql.MarshalString(", "graphql.MarshalOther(")))
	require.ErrorContains(t, err, "gqlgen changed")
}

// TestLaterFields: an object's field scheduled with gqlgen's closure is scheduled with
// resolveLater, its flags and field function kept; the rewrite is idempotent, and a
// file where one is written otherwise fails it.
func TestLaterFields(t *testing.T) {
	t.Parallel()
	field := func(name, recovers, nonNull string) string {
		return `		case "` + name + `":
			out.ResolveConcurrently(ec.OperationContext, &deferred, i,
				` + recovers + `, ` + nonNull + `,
				func(ctx context.Context) graphql.Marshaler {
					return ec._Thing_` + name + `(ctx, field, obj)
				})
`
	}
	src := "\t\tswitch field.Name {\n" + field("parts", "true", "true") + field("owner", "true", "false") + "\t\t}\n"
	ours, err := laterFields([]byte(src))
	require.NoError(t, err)
	require.Equal(t, "\t\tswitch field.Name {\n"+
		"\t\tcase \"parts\":\n\t\t\tresolveLater(out, ec, &deferred, i, true, true, obj, (*executionContext)._Thing_parts)\n"+
		"\t\tcase \"owner\":\n\t\t\tresolveLater(out, ec, &deferred, i, true, false, obj, (*executionContext)._Thing_owner)\n"+
		"\t\t}\n", string(ours))

	requireIdempotent(t, laterFields, ours)

	_, err = laterFields([]byte(strings.Replace(src, "return ec._Thing_owner(ctx, field, obj)", "return ec._Thing_owner(ctx, field, obj, 1)", 1)))
	require.ErrorContains(t, err, "1 of 2 fields")
}

// TestAddressedObjects: a list's element and a plain field's value read from its
// object, held by value and marshalled by a marshaler that copies them, are written
// by the object's function from where they are; a resolver's value, and a
// marshaler of another body, are left alone; the rewrite is idempotent, and a file
// with no such object fails it.
func TestAddressedObjects(t *testing.T) {
	t.Parallel()
	src := `
func (ec *executionContext) marshalNTerm2Term(ctx context.Context, sel ast.SelectionSet, v models.Term) graphql.Marshaler {
	return ec._Term(ctx, sel, &v)
}

func (ec *executionContext) marshalNOther2Other(ctx context.Context, sel ast.SelectionSet, v models.Other) graphql.Marshaler {
	return ec._Other(ctx, sel, v.Ptr())
}

func (ec *executionContext) marshalNTerm2ᚕTermᚄ(ctx context.Context, sel ast.SelectionSet, v []models.Term) graphql.Marshaler {
	ret := marshalList(ctx, len(v), func(ctx context.Context, i int) graphql.Marshaler {
		return ec.marshalNTerm2Term(ctx, sel, v[i])
	})
}

func (ec *executionContext) marshalNOther2ᚕOtherᚄ(ctx context.Context, sel ast.SelectionSet, v []models.Other) graphql.Marshaler {
	ret := marshalList(ctx, len(v), func(ctx context.Context, i int) graphql.Marshaler {
		return ec.marshalNOther2Other(ctx, sel, v[i])
	})
}

func (ec *executionContext) _Thing_term(ctx context.Context, field graphql.CollectedField, obj *models.Thing) (ret graphql.Marshaler) {
	if ec.plainLeaves() {
		return resolve(ctx, ec.OperationContext, field, plainField{object: "Thing", method: false, resolver: false},
			func(ctx context.Context) (models.Term, error) {
				return obj.Inner.Term, nil
			},
			ec.marshalNTerm2Term, true, true)
	}
}

func (ec *executionContext) _Thing_resolved(ctx context.Context, field graphql.CollectedField, obj *models.Thing) (ret graphql.Marshaler) {
	if ec.plainLeaves() {
		return resolve(ctx, ec.OperationContext, field, plainField{object: "Thing", method: true, resolver: true},
			func(ctx context.Context) (models.Term, error) {
				return ec.Resolvers.Thing().Resolved(ctx, obj)
			},
			ec.marshalNTerm2Term, true, true)
	}
}
`
	ours, err := addressedObjects([]byte(src))
	require.NoError(t, err)
	got := string(ours)
	require.Contains(t, got, "\t\treturn ec._Term(ctx, sel, &v[i])\n")
	require.Contains(t, got, "\t\treturn ec.marshalNOther2Other(ctx, sel, v[i])\n", "another marshaler")
	require.Contains(t, got, "\t\t\tfunc(ctx context.Context) (*models.Term, error) {\n\t\t\t\treturn &obj.Inner.Term, nil\n\t\t\t},\n\t\t\tec._Term, true, true)\n")
	require.Contains(t, got, "\t\t\tfunc(ctx context.Context) (models.Term, error) {\n\t\t\t\treturn ec.Resolvers.Thing().Resolved(ctx, obj)\n\t\t\t},\n\t\t\tec.marshalNTerm2Term, true, true)\n", "a resolver's value")

	requireIdempotent(t, addressedObjects, ours)

	// A file whose only objects held by value are fields' is idempotent too.
	fieldsOnly := strings.ReplaceAll(src, "v[i])\n\t})", "v[i], 0)\n\t})")
	ours, err = addressedObjects([]byte(fieldsOnly))
	require.NoError(t, err)
	require.NotContains(t, string(ours), "&v[i]")
	requireIdempotent(t, addressedObjects, ours)

	_, err = addressedObjects([]byte(strings.ReplaceAll(src, "&v)", "&v, 1)")))
	require.ErrorContains(t, err, "gqlgen changed")
}

// TestTimesInPlace: the nullable time's marshaler, and a plain leaf's non-null time
// or float read from its object's field, write the value from where it is; a leaf
// whose marshaler is another, or whose value is a method's, is left alone; the rewrite is idempotent, and a file with no
// such time fails it.
func TestTimesInPlace(t *testing.T) {
	t.Parallel()
	src := `
func (ec *executionContext) marshalNTime2timeᚐTime(ctx context.Context, sel ast.SelectionSet, v time.Time) graphql.Marshaler {
	_ = sel
	res := scalar.MarshalTime(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "Time!")
	}
	return res
}

func (ec *executionContext) marshalOTime2ᚖtimeᚐTime(ctx context.Context, sel ast.SelectionSet, v *time.Time) graphql.Marshaler {
	if v == nil {
		return graphql.Null
	}
	_ = sel
	_ = ctx
	res := scalar.MarshalTime(*v)
	return res
}

func (ec *executionContext) _Thing_createdAt(ctx context.Context, field graphql.CollectedField, obj *models.Thing) (ret graphql.Marshaler) {
	if ec.plainLeaves() {
		defer recoverLeaf(ctx, ec.OperationContext, field, "Thing", &ret)
		if v := obj.Key.CreatedAt; !v.IsZero() {
			return ec.marshalNTime2timeᚐTime(ctx, field.Selections, v)
		}
	}
}

func (ec *executionContext) marshalNOther2Other(ctx context.Context, sel ast.SelectionSet, v models.Other) graphql.Marshaler {
	_ = sel
	res := other.Marshal(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "Other!")
	}
	return res
}

func (ec *executionContext) _Thing_ratio(ctx context.Context, field graphql.CollectedField, obj *models.Thing) (ret graphql.Marshaler) {
	if ec.plainLeaves() {
		if v := obj.Ratio; !v.IsZero() {
			return ec.marshalNOther2Other(ctx, field.Selections, v)
		}
	}
}

func (ec *executionContext) marshalNFloat2float64(ctx context.Context, sel ast.SelectionSet, v float64) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalFloatContext(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "Float!")
	}
	return graphql.WrapContextMarshaler(ctx, res)
}

func (ec *executionContext) _Thing_score(ctx context.Context, field graphql.CollectedField, obj *models.Thing) (ret graphql.Marshaler) {
	if ec.plainLeaves() {
		if v := obj.Score; finite(v) {
			return ec.marshalNFloat2float64(ctx, field.Selections, v)
		}
	}
}

func (ec *executionContext) _Thing_percentage(ctx context.Context, field graphql.CollectedField, obj *models.Thing) (ret graphql.Marshaler) {
	if ec.plainLeaves() {
		if v := obj.Percentage(); finite(v) {
			return ec.marshalNFloat2float64(ctx, field.Selections, v)
		}
	}
}
`
	ours, err := timesInPlace([]byte(src))
	require.NoError(t, err)
	got := string(ours)
	require.Contains(t, got, "v *time.Time) graphql.Marshaler {\n\tif v == nil {\n\t\treturn graphql.Null\n\t}\n\treturn scalar.MarshalTimeAt(v)\n}\n")
	require.Contains(t, got, "\t\tif v := &obj.Key.CreatedAt; !v.IsZero() {\n\t\t\treturn scalar.MarshalTimeAt(v)\n\t\t}\n")
	require.Contains(t, got, "\t\tif v := obj.Ratio; !v.IsZero() {\n\t\t\treturn ec.marshalNOther2Other(ctx, field.Selections, v)\n", "another marshaler")
	require.Equal(t, 2, strings.Count(got, "MarshalTimeAt"))
	require.Contains(t, got, "\t\tif v := &obj.Score; finite(*v) {\n\t\t\treturn scalar.MarshalFloatAt(v)\n")
	require.Contains(t, got, "\t\tif v := obj.Percentage(); finite(v) {\n\t\t\treturn ec.marshalNFloat2float64(ctx, field.Selections, v)\n", "a method's value")
	require.Equal(t, verdict{plain: true}, (&marshalers{src: ours, seen: map[string]verdict{}}).verdict("marshalOTime2ᚖtimeᚐTime"), "still a plain leaf's")

	requireIdempotent(t, timesInPlace, ours)

	_, err = timesInPlace([]byte(strings.NewReplacer("scalar.MarshalTime(", "scalar.MarshalOther(", "graphql.MarshalFloatContext(", "graphql.MarshalOther(").Replace(src)))
	require.ErrorContains(t, err, "gqlgen changed")
}

// TestStringListsInPlace: a plain leaf's list of strings read from its object's field,
// non-null or nullable, is written from there; a method's list, or a list of another
// marshaler, is left alone; the rewrite is idempotent, and a file with no such leaf
// fails it.
func TestStringListsInPlace(t *testing.T) {
	t.Parallel()
	src := "\nfunc (ec *executionContext) marshalNString2ᚕstringᚄ(ctx context.Context, sel ast.SelectionSet, v []string) graphql.Marshaler {\n" + nonNullStrings + "}\n" +
		"\nfunc (ec *executionContext) marshalOString2ᚕstringᚄ(ctx context.Context, sel ast.SelectionSet, v []string) graphql.Marshaler {\n" + nullableStrings + "}\n" +
		"\nfunc (ec *executionContext) marshalNInt2ᚕintᚄ(ctx context.Context, sel ast.SelectionSet, v []int) graphql.Marshaler {\n\treturn ints(v)\n}\n" + `
func (ec *executionContext) _Thing_tags(ctx context.Context, field graphql.CollectedField, obj *models.Thing) (ret graphql.Marshaler) {
	if ec.plainLeaves() {
		defer recoverLeaf(ctx, ec.OperationContext, field, "Thing", &ret)
		return ec.marshalNString2ᚕstringᚄ(ctx, field.Selections, obj.Inner.Tags)
	}
}

func (ec *executionContext) _Thing_notes(ctx context.Context, field graphql.CollectedField, obj *models.Thing) (ret graphql.Marshaler) {
	if ec.plainLeaves() {
		return ec.marshalOString2ᚕstringᚄ(ctx, field.Selections, obj.Notes)
	}
}

func (ec *executionContext) _Thing_counts(ctx context.Context, field graphql.CollectedField, obj *models.Thing) (ret graphql.Marshaler) {
	if ec.plainLeaves() {
		return ec.marshalNInt2ᚕintᚄ(ctx, field.Selections, obj.Counts)
	}
}

func (ec *executionContext) _Thing_words(ctx context.Context, field graphql.CollectedField, obj *models.Thing) (ret graphql.Marshaler) {
	if ec.plainLeaves() {
		return ec.marshalNString2ᚕstringᚄ(ctx, field.Selections, obj.Words())
	}
}
`
	ours, err := stringListsInPlace([]byte(src))
	require.NoError(t, err)
	got := string(ours)
	require.Contains(t, got, "\t\tdefer recoverLeaf(ctx, ec.OperationContext, field, \"Thing\", &ret)\n\t\treturn marshalStringsAt(&obj.Inner.Tags)\n\t}\n")
	require.Contains(t, got, "\t\tif v := &obj.Notes; *v != nil {\n\t\t\treturn marshalStringsAt(v)\n\t\t}\n\t\treturn graphql.Null\n\t}\n")
	require.Contains(t, got, "return ec.marshalNInt2ᚕintᚄ(ctx, field.Selections, obj.Counts)\n", "not strings")
	require.Contains(t, got, "return ec.marshalNString2ᚕstringᚄ(ctx, field.Selections, obj.Words())\n", "a method's")

	requireIdempotent(t, stringListsInPlace, ours)

	_, err = stringListsInPlace([]byte(strings.ReplaceAll(src, "return marshalStrings(v)", "return other(v)")))
	require.ErrorContains(t, err, "no plain leaf's list of strings")
}

// requireIdempotent: rewriting a rewrite's output again changes nothing.
func requireIdempotent(t *testing.T, rewrite func([]byte) ([]byte, error), out []byte) {
	t.Helper()
	again, err := rewrite(out)
	require.NoError(t, err)
	require.Equal(t, string(out), string(again))
}

// TestReplaceEach: each match replace takes is replaced, the others and the text
// between them stay, what replace wrote before declining is dropped, and the count
// is of the matches replaced.
func TestReplaceEach(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`<(\w+)(?:=(\w+))?>`)
	out, n := replaceEach([]byte("a <x=1> b <skip> c <y> d"), re, func(out *bytes.Buffer, g [][]byte) bool {
		if string(g[1]) == "skip" {
			out.WriteString("dropped")
			return false
		}
		out.WriteString(strings.ToUpper(string(g[1])))
		fmt.Fprintf(out, "%v", g[2] == nil)
		return true
	})
	require.Equal(t, "a Xfalse b <skip> c Ytrue d", string(out))
	require.Equal(t, 2, n)
	out, n = replaceEach([]byte("none here"), re, func(*bytes.Buffer, [][]byte) bool { return true })
	require.Equal(t, "none here", string(out))
	require.Zero(t, n)
}
