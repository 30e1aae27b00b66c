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
		"var parsedSchema = parseSchema(func() *ast.Schema { return gqlparser.MustLoadSchema(schemaSources()...) })\n"},
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

// The schema's sources, which gqlgen reads into a variable in package init: each
// file's embedded bytes copied twice (ReadFile, then string), about 440 KB of fresh
// memory at every start of the process, for a schema parsed later anyway. The
// variable becomes the function schemaSources, which the parse calls (schemaRewrites
// write that call).
const (
	sourcesVar  = "var sources = []*ast.Source{\n"
	sourcesFunc = "func schemaSources() []*ast.Source {\n\treturn []*ast.Source{\n"
)

// sourceEntry is one of gqlgen's sources as it writes an embedded file: anything else
// (a source written inline, as a raw string) is not rewritten.
var sourceEntry = regexp.MustCompile(`^\t\{Name: "[^"\n]*", Input: sourceData\("[^"\n]*"\), BuiltIn: (?:true|false)\},\n$`)

// lazySources makes the sources variable the function schemaSources, its entries
// indented as gofmt indents them. It fails unless the variable is found once, each of
// its entries an embedded file (or the function once: rewritten already).
func lazySources(src []byte) ([]byte, error) {
	switch vars, funcs := bytes.Count(src, []byte(sourcesVar)), bytes.Count(src, []byte(sourcesFunc)); {
	case vars == 0 && funcs == 1:
		return src, nil // rewritten already
	case vars != 1 || funcs != 0:
		return nil, fmt.Errorf("the schema's sources: %q %d times, %q %d times, want one of them once: gqlgen changed, update graph/rewrite/schema.go",
			sourcesVar, vars, sourcesFunc, funcs)
	}
	start := bytes.Index(src, []byte(sourcesVar))
	var out bytes.Buffer
	out.Write(src[:start])
	out.WriteString(sourcesFunc)
	rest := src[start+len(sourcesVar):]
	for len(rest) > 0 {
		end := bytes.IndexByte(rest, '\n') + 1
		if end == 0 {
			end = len(rest)
		}
		line := rest[:end]
		rest = rest[end:]
		if string(line) == "}\n" {
			out.WriteString("\t}\n}\n")
			if !bytes.HasPrefix(rest, []byte("\n")) {
				out.WriteByte('\n') // gofmt's blank line after a function
			}
			out.Write(rest)
			return out.Bytes(), nil
		}
		if !sourceEntry.Match(line) {
			return nil, fmt.Errorf("the schema's sources: %q is not an embedded file's: gqlgen changed, update graph/rewrite/schema.go", line)
		}
		out.WriteByte('\t')
		out.Write(line)
	}
	return nil, fmt.Errorf("the schema's sources: %q has no end: gqlgen changed, update graph/rewrite/schema.go", sourcesVar)
}

// replaceEach writes src with what replace puts in place of each match of re.
// replace is given the match's submatches (as FindSubmatch gives them, a group not
// matched nil) and writes the match's replacement into out, or reports false to
// leave the match as it is (what it wrote then is dropped). replaceEach returns the
// result and how many matches were replaced.
func replaceEach(src []byte, re *regexp.Regexp, replace func(out *bytes.Buffer, g [][]byte) bool) ([]byte, int) {
	var out bytes.Buffer
	last, replaced := 0, 0
	for _, at := range re.FindAllSubmatchIndex(src, -1) {
		g := make([][]byte, len(at)/2)
		for i := range g {
			if at[2*i] >= 0 {
				g[i] = src[at[2*i]:at[2*i+1]]
			}
		}
		kept := out.Len()
		out.Write(src[last:at[0]])
		if !replace(&out, g) {
			out.Truncate(kept)
			continue
		}
		last = at[1]
		replaced++
	}
	out.Write(src[last:])
	return out.Bytes(), replaced
}
