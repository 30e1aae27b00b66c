package main

import (
	"bytes"
	"fmt"
	"regexp"
)

// schemaRewrites turn gqlgen's parsedSchema, a variable parsed in package init, into
// a function that parses it once, on first use (graph.parseSchema).
var schemaRewrites = []struct{ gqlgens, ours string }{
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
	for _, r := range schemaRewrites {
		switch gqlgens, ours := bytes.Count(src, []byte(r.gqlgens)), bytes.Count(src, []byte(r.ours)); {
		case gqlgens == 0 && ours == 1:
			// rewritten already
		case gqlgens == 1 && ours == 0:
			src = bytes.Replace(src, []byte(r.gqlgens), []byte(r.ours), 1)
		default:
			return nil, fmt.Errorf("the schema: %q %d times, %q %d times, want one of them once: gqlgen changed, update graph/schema.go",
				r.gqlgens, gqlgens, r.ours, ours)
		}
	}
	if uses := len(parsedSchemaWord.FindAllIndex(src, -1)); uses != len(schemaRewrites) {
		return nil, fmt.Errorf("parsedSchema is used %d times, graph/schema.go knows %d: gqlgen changed", uses, len(schemaRewrites))
	}
	return src, nil
}

// bufferRewrites size a query's or mutation's response buffer by the operation's last
// response (graph/response.go), where gqlgen starts an empty one each time.
var bufferRewrites = []struct{ gqlgens, ours string }{
	{"\t\t\tvar buf bytes.Buffer\n\t\t\tdata.MarshalGQL(&buf)\n\t\t\tresponse.Data = buf.Bytes()\n",
		"\t\t\tbuf := responseBuffer(opCtx.Operation)\n\t\t\tdata.MarshalGQL(buf)\n\t\t\tresponse.Data = rememberResponse(opCtx.Operation, buf.Bytes())\n"},
	{"\t\t\tvar buf bytes.Buffer\n\t\t\tdata.MarshalGQL(&buf)\n\n\t\t\treturn &graphql.Response{\n\t\t\t\tData: buf.Bytes(),\n",
		"\t\t\tbuf := responseBuffer(opCtx.Operation)\n\t\t\tdata.MarshalGQL(buf)\n\n\t\t\treturn &graphql.Response{\n\t\t\t\tData: rememberResponse(opCtx.Operation, buf.Bytes()),\n"},
}

// sizedResponses applies bufferRewrites, each exactly once.
func sizedResponses(src []byte) ([]byte, error) {
	for _, r := range bufferRewrites {
		switch gqlgens, ours := bytes.Count(src, []byte(r.gqlgens)), bytes.Count(src, []byte(r.ours)); {
		case gqlgens == 0 && ours == 1:
			// rewritten already
		case gqlgens == 1 && ours == 0:
			src = bytes.Replace(src, []byte(r.gqlgens), []byte(r.ours), 1)
		default:
			return nil, fmt.Errorf("the response buffer: %q %d times, %q %d times, want one of them once: gqlgen changed, update graph/response.go",
				r.gqlgens, gqlgens, r.ours, ours)
		}
	}
	return src, nil
}
