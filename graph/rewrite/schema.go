package main

import (
	"bytes"
	"fmt"
	"regexp"
)

// schemaRewrites turn gqlgen's parsedSchema, a variable parsed in package init, into
// a function that parses it once, on first use (graph.parseSchema).
// rewrite is one of gqlgen's lines and the line graph puts in its place.
type rewrite struct{ gqlgens, ours string }

var schemaRewrites = []rewrite{
	{"var parsedSchema = gqlparser.MustLoadSchema(sources...)\n",
		"var parsedSchema = parseSchema(func() *ast.Schema { return gqlparser.MustLoadSchema(sources...) })\n"},
	{"\treturn parsedSchema\n", "\treturn parsedSchema()\n"},
	{"\t\t\tparsedSchema,\n", "\t\t\tparsedSchema(),\n"},
}

// parsedSchemaWord is every use of the variable.
var parsedSchemaWord = regexp.MustCompile(`\bparsedSchema\b`)

// lazySchema applies schemaRewrites, each exactly once, and fails when parsedSchema
// is used in any other way (gqlgen changed).
func lazySchema(src []byte) ([]byte, error) {
	src, err := rewriteOnce(src, schemaRewrites, "the schema", "graph/schema.go")
	if err != nil {
		return nil, err
	}
	if uses := len(parsedSchemaWord.FindAllIndex(src, -1)); uses != len(schemaRewrites) {
		return nil, fmt.Errorf("parsedSchema is used %d times, graph/schema.go knows %d: gqlgen changed", uses, len(schemaRewrites))
	}
	return src, nil
}

// rewriteOnce replaces each of gqlgen's lines with ours, each found exactly once (or
// ours found once: rewritten already), and fails otherwise, naming what and the file
// to update.
func rewriteOnce(src []byte, rewrites []rewrite, what, file string) ([]byte, error) {
	for _, r := range rewrites {
		switch gqlgens, ours := bytes.Count(src, []byte(r.gqlgens)), bytes.Count(src, []byte(r.ours)); {
		case gqlgens == 0 && ours == 1:
			// rewritten already
		case gqlgens == 1 && ours == 0:
			src = bytes.Replace(src, []byte(r.gqlgens), []byte(r.ours), 1)
		default:
			return nil, fmt.Errorf("%s: %q %d times, %q %d times, want one of them once: gqlgen changed, update %s",
				what, r.gqlgens, gqlgens, r.ours, ours, file)
		}
	}
	return src, nil
}

// bufferRewrites size a query's or mutation's response buffer by the operation's last
// response (graph/response.go), where gqlgen starts an empty one each time.
var bufferRewrites = []rewrite{
	{"\t\t\tvar buf bytes.Buffer\n\t\t\tdata.MarshalGQL(&buf)\n\t\t\tresponse.Data = buf.Bytes()\n",
		"\t\t\tbuf := responseBuffer(opCtx.Operation)\n\t\t\tdata.MarshalGQL(buf)\n\t\t\tresponse.Data = rememberResponse(opCtx.Operation, buf.Bytes())\n"},
	{"\t\t\tvar buf bytes.Buffer\n\t\t\tdata.MarshalGQL(&buf)\n\n\t\t\treturn &graphql.Response{\n\t\t\t\tData: buf.Bytes(),\n",
		"\t\t\tbuf := responseBuffer(opCtx.Operation)\n\t\t\tdata.MarshalGQL(buf)\n\n\t\t\treturn &graphql.Response{\n\t\t\t\tData: rememberResponse(opCtx.Operation, buf.Bytes()),\n"},
}

// sizedResponses applies bufferRewrites, each exactly once.
func sizedResponses(src []byte) ([]byte, error) {
	return rewriteOnce(src, bufferRewrites, "the response buffer", "graph/response.go")
}
