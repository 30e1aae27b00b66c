package httptransport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// The parameter errors below never quote the request: bodies and query strings may
// carry secrets (tokens in variables), and error messages end up in client logs.

// readBody reads the POST body. The server wraps r.Body in http.MaxBytesReader before
// any transport runs, so hitting that limit surfaces here and becomes a 413.
func readBody(r *http.Request) ([]byte, *failure) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &failure{
			status:  http.StatusRequestEntityTooLarge,
			code:    ErrCodePayloadTooLarge,
			message: fmt.Sprintf("request body is larger than %d bytes", tooLarge.Limit),
		}
	case err != nil:
		return nil, badRequest("could not read the request body")
	}
	return body, nil
}

// decodeBody parses a POST body: exactly one JSON object whose members have the types the
// spec gives them. Unknown members are ignored, as the spec allows.
//
// A well-formed body is decoded in one pass (decodeParams); a body that pass does not
// accept is taken apart again by checkBody, whose checks, one step at a time, choose the
// error to answer with. Both accept exactly the same bodies, with the same parameters.
func decodeBody(body []byte) (*graphql.RawParams, *failure) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("request body is empty: send a JSON object with a query")
	}
	if params, ok := decodeParams(body); ok {
		return params, nil
	}
	return checkBody(body)
}

// decodeParams decodes a well-formed body in one pass, numbers kept as json.Number (as
// decodeObjectParam keeps them), or reports false for a body it does not accept: not
// one JSON object, or a parameter of the wrong type. The commonest bodies are read by
// decodeCommon, the others into a map of their members.
func decodeParams(body []byte) (*graphql.RawParams, bool) {
	if params, ok := decodeCommon(body); ok {
		return params, true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var members map[string]any
	if dec.Decode(&members) != nil || members == nil || !onlyJSONSpace(body[dec.InputOffset():]) {
		return nil, false
	}
	params := &graphql.RawParams{}
	var ok bool
	documentID, hasDocumentID := members["documentId"].(string)
	if members["documentId"] != nil && !hasDocumentID {
		return nil, false
	}
	if query := members["query"]; query != nil {
		if params.Query, ok = query.(string); !ok {
			return nil, false
		}
	} else if extensions, _ := members["extensions"].(map[string]any); !hasPersistedQuery(extensions) && !hasDocumentID {
		return nil, false
	}
	if name, present := members["operationName"]; present && name != nil {
		if params.OperationName, ok = name.(string); !ok {
			return nil, false
		}
	}
	if params.Variables, ok = objectParam(members, "variables"); !ok {
		return nil, false
	}
	if params.Extensions, ok = objectParam(members, "extensions"); !ok {
		return nil, false
	}
	if hasDocumentID && useDocumentID(params, documentID) != nil {
		return nil, false
	}
	return params, true
}

// objectParam is a decoded variables or extensions member: absent and null both give nil.
func objectParam(members map[string]any, name string) (map[string]any, bool) {
	value, present := members[name]
	if !present || value == nil {
		return nil, true
	}
	object, ok := value.(map[string]any)
	return object, ok
}

// onlyJSONSpace reports whether rest holds nothing but JSON whitespace.
func onlyJSONSpace(rest []byte) bool {
	for _, c := range rest {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// checkBody parses a body step by step and answers the first step it fails with its
// error; decodeBody calls it for the bodies decodeParams does not accept.
func checkBody(body []byte) (*graphql.RawParams, *failure) {
	value, err := decodeSingleValue(body)
	if err != nil {
		return nil, badRequest("request body is not valid JSON")
	}
	var members map[string]json.RawMessage
	if !isJSONObject(value) || json.Unmarshal(value, &members) != nil {
		return nil, badRequest("request body must be a JSON object")
	}
	return paramsFromJSON(members)
}

// decodeSingleValue checks that data holds one JSON value and nothing after it, which
// json.Decoder.Decode alone would let through.
func decodeSingleValue(data []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var value json.RawMessage
	if err := dec.Decode(&value); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return value, nil
}

// paramsFromJSON checks each parameter's JSON type strictly: query a string,
// operationName a string or null, variables and extensions an object or null.
func paramsFromJSON(members map[string]json.RawMessage) (*graphql.RawParams, *failure) {
	params := &graphql.RawParams{}
	var documentID string
	rawID, hasDocumentID := members["documentId"]
	if hasDocumentID = hasDocumentID && !isJSONNull(rawID); hasDocumentID && json.Unmarshal(rawID, &documentID) != nil {
		return nil, badRequest("the documentId parameter must be a string or null")
	}
	query, ok := members["query"]
	if !ok || isJSONNull(query) {
		// A persisted-query request may leave the query out: the persisted-query
		// extension looks the hash up, or answers PERSISTED_QUERY_NOT_FOUND.
		var extensions map[string]json.RawMessage
		if !hasDocumentID && (json.Unmarshal(members["extensions"], &extensions) != nil || !rawPersistedQuery(extensions)) {
			return nil, badRequest("the query parameter is missing")
		}
	} else if json.Unmarshal(query, &params.Query) != nil {
		return nil, badRequest("the query parameter must be a string")
	}
	if name, ok := members["operationName"]; ok && !isJSONNull(name) {
		if json.Unmarshal(name, &params.OperationName) != nil {
			return nil, badRequest("the operationName parameter must be a string or null")
		}
	}
	var fail *failure
	if params.Variables, fail = decodeObjectParam("variables", members["variables"]); fail != nil {
		return nil, fail
	}
	if params.Extensions, fail = decodeObjectParam("extensions", members["extensions"]); fail != nil {
		return nil, fail
	}
	if hasDocumentID {
		if fail = useDocumentID(params, documentID); fail != nil {
			return nil, fail
		}
	}
	return params, nil
}

// decodeObjectParam decodes variables or extensions: absent and null both give nil.
// Numbers stay json.Number, as in gqlgen, so large integers keep their precision.
func decodeObjectParam(name string, raw json.RawMessage) (map[string]any, *failure) {
	if raw == nil || isJSONNull(raw) {
		return nil, nil
	}
	if !isJSONObject(raw) {
		return nil, badRequest(fmt.Sprintf("the %s parameter must be a JSON object or null", name))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var object map[string]any
	if err := dec.Decode(&object); err != nil {
		return nil, badRequest(fmt.Sprintf("the %s parameter must be a JSON object or null", name))
	}
	return object, nil
}

// paramsFromQueryString reads GET parameters: query and operationName as plain strings,
// variables and extensions as URL-encoded JSON objects.
func paramsFromQueryString(rawQuery string) (*graphql.RawParams, *failure) {
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, badRequest("the URL query string is malformed")
	}
	extensions, extensionsFail := decodeURLObjectParam("extensions", values)
	hasDocumentID := values.Has("documentId")
	if !values.Has("query") && !hasDocumentID && (extensionsFail != nil || !hasPersistedQuery(extensions)) {
		return nil, badRequest("the query parameter is missing")
	}
	params := &graphql.RawParams{
		Query:         values.Get("query"),
		OperationName: values.Get("operationName"),
		Extensions:    extensions,
	}
	var fail *failure
	if params.Variables, fail = decodeURLObjectParam("variables", values); fail != nil {
		return nil, fail
	}
	if extensionsFail != nil {
		return nil, extensionsFail
	}
	if hasDocumentID {
		if fail = useDocumentID(params, values.Get("documentId")); fail != nil {
			return nil, fail
		}
	}
	return params, nil
}

// useDocumentID is ApplyDocumentID answering a bad ID as a bad request.
func useDocumentID(params *graphql.RawParams, id string) *failure {
	if err := ApplyDocumentID(params, id); err != nil {
		return badRequest(err.Error())
	}
	return nil
}

// ApplyDocumentID puts a documentId (graphql-codegen client preset's persisted
// documents; the GraphQL-over-HTTP persisted-documents proposal's "sha256:<hex>") in
// extensions.persistedQuery, where the persisted-query extension looks documents up
// whichever way a client named them. A request naming one document both ways must
// name the same one. The SSE transport reads the parameter with it too.
func ApplyDocumentID(params *graphql.RawParams, id string) error {
	if id == "" {
		return errors.New("the documentId parameter must not be empty")
	}
	if pq, present := params.Extensions["persistedQuery"]; present && pq != nil {
		named, _ := pq.(map[string]any)
		other, _ := named["sha256Hash"].(string)
		if !sameDocumentID(id, other) {
			return errors.New("documentId and extensions.persistedQuery name different documents")
		}
		return nil
	}
	extensions := make(map[string]any, len(params.Extensions)+1)
	maps.Copy(extensions, params.Extensions)
	extensions["persistedQuery"] = map[string]any{"version": json.Number("1"), "sha256Hash": id}
	params.Extensions = extensions
	return nil
}

// sameDocumentID compares two document IDs without their "sha256:" prefixes and
// without regard to case (hex digits).
func sameDocumentID(a, b string) bool {
	return strings.EqualFold(trimSHA256Prefix(a), trimSHA256Prefix(b))
}

func trimSHA256Prefix(id string) string {
	const prefix = "sha256:"
	if len(id) >= len(prefix) && strings.EqualFold(id[:len(prefix)], prefix) {
		return id[len(prefix):]
	}
	return id
}

// hasPersistedQuery reports whether extensions carry a persistedQuery member (Apollo's
// automatic persisted queries): such a request may leave the query out, and the
// persisted-query extension then answers it from its cache or with
// PERSISTED_QUERY_NOT_FOUND. The member's shape is that extension's to check.
func hasPersistedQuery(extensions map[string]any) bool {
	return extensions["persistedQuery"] != nil
}

// decodeURLObjectParam decodes a URL parameter holding a JSON object; an empty or absent
// parameter means none was given.
func decodeURLObjectParam(name string, values url.Values) (map[string]any, *failure) {
	encoded := values.Get(name)
	if encoded == "" {
		return nil, nil
	}
	raw, err := decodeSingleValue([]byte(encoded))
	if err != nil {
		return nil, badRequest(fmt.Sprintf("the %s parameter must be a URL-encoded JSON object", name))
	}
	return decodeObjectParam(name, raw)
}

// rawPersistedQuery is hasPersistedQuery for extensions not yet decoded.
func rawPersistedQuery(extensions map[string]json.RawMessage) bool {
	pq, ok := extensions["persistedQuery"]
	return ok && !isJSONNull(pq)
}

// The JSON type checks look at the first byte only: the value has already been
// validated as JSON by the decoder, and json.RawMessage values carry no leading space.

func isJSONNull(raw json.RawMessage) bool   { return string(raw) == "null" }
func isJSONObject(raw json.RawMessage) bool { return len(raw) > 0 && raw[0] == '{' }
