package ssetransport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inkgraph/inkgraph/internal/api/httptransport"
	"github.com/inkgraph/inkgraph/models"
)

// Error codes (extensions.code) of the request errors this package raises itself;
// gqlgen's parse and validation errors keep theirs.
const (
	// CodeBadRequest marks a request that is not a well-formed request of the protocol.
	CodeBadRequest = "BAD_REQUEST"
	// CodePayloadTooLarge marks a body over the server's size limit.
	CodePayloadTooLarge = "PAYLOAD_TOO_LARGE"
)

// failure is a request error: the status it is answered with, its code and message,
// and the parameter or header it concerns.
type failure struct {
	status  int
	code    string
	field   string
	message string
}

func badRequest(field, message string) *failure {
	return &failure{status: http.StatusBadRequest, code: CodeBadRequest, field: field, message: message}
}

// writeFailure answers with one request error.
func writeFailure(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, f *failure) {
	err := &gqlerror.Error{Message: f.message, Extensions: map[string]any{"code": f.code}}
	if f.field != "" {
		err.Extensions["field"] = f.field
	}
	writeErrors(ctx, w, exec, f.status, gqlerror.List{err})
}

// writeErrors answers a request that did not run with errors, as JSON without data.
// They go through gqlgen's DispatchError, so the error presenter sees them as it sees
// the other transports'.
func writeErrors(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, status int, errs gqlerror.List) {
	if resp := exec.DispatchError(ctx, errs); resp != nil && len(resp.Errors) > 0 {
		errs = resp.Errors
	}
	for _, err := range errs {
		ensureCode(err, CodeBadRequest)
	}
	body, merr := json.Marshal(struct {
		Errors gqlerror.List `json:"errors"`
	}{errs})
	if merr != nil {
		body = []byte(`{"errors":[{"message":"the request could not be processed","extensions":{"code":"BAD_REQUEST"}}]}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// ensureCode sets extensions.code unless the error has one.
func ensureCode(err *gqlerror.Error, code string) {
	if err == nil {
		return
	}
	if _, ok := err.Extensions["code"]; ok {
		return
	}
	if err.Extensions == nil {
		err.Extensions = map[string]any{}
	}
	err.Extensions["code"] = code
}

// readParams reads a request's GraphQL parameters: from the URL for GET, from a JSON
// body for POST. No message quotes the request: it may carry secrets.
func readParams(r *http.Request) (*graphql.RawParams, *failure) {
	start := graphql.Now()
	var params *graphql.RawParams
	var fail *failure
	if r.Method == http.MethodGet {
		params, fail = paramsFromQuery(r.URL.RawQuery)
	} else {
		params, fail = paramsFromBody(r)
	}
	if fail != nil {
		return nil, fail
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	return params, nil
}

// paramsFromBody reads a POST body: one JSON object, Content-Type application/json.
func paramsFromBody(r *http.Request) (*graphql.RawParams, *failure) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" ||
		(params["charset"] != "" && !equalFoldAny(params["charset"], "utf-8", "utf8")) {
		return nil, &failure{status: http.StatusUnsupportedMediaType, code: CodeBadRequest, field: "Content-Type",
			message: "send the GraphQL request as a JSON body with Content-Type: application/json"}
	}
	if r.Body == nil {
		return nil, badRequest("body", "the request body is empty: send a JSON object with a query")
	}
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &failure{status: http.StatusRequestEntityTooLarge, code: CodePayloadTooLarge, field: "body",
			message: fmt.Sprintf("request body is larger than %d bytes", tooLarge.Limit)}
	case err != nil:
		return nil, badRequest("body", "could not read the request body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var members map[string]json.RawMessage
	if err := dec.Decode(&members); err != nil || members == nil {
		return nil, badRequest("body", "the request body must be a JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badRequest("body", "the request body must be one JSON object, with nothing after it")
	}
	out := &graphql.RawParams{}
	var fail *failure
	if out.Extensions, fail = objectParam("extensions", members["extensions"]); fail != nil {
		return nil, fail
	}
	if raw := members["documentId"]; raw != nil && string(raw) != "null" {
		var id string
		if json.Unmarshal(raw, &id) != nil {
			return nil, badRequest("documentId", "the documentId parameter must be a string or null")
		}
		if err := httptransport.ApplyDocumentID(out, id); err != nil {
			return nil, badRequest("documentId", err.Error())
		}
	}
	switch query := members["query"]; {
	case query == nil || string(query) == "null":
		if out.Extensions["persistedQuery"] == nil {
			return nil, badRequest("query", "the query parameter is missing")
		}
	case json.Unmarshal(query, &out.Query) != nil:
		return nil, badRequest("query", "the query parameter must be a string")
	}
	if name := members["operationName"]; name != nil && string(name) != "null" {
		if json.Unmarshal(name, &out.OperationName) != nil {
			return nil, badRequest("operationName", "the operationName parameter must be a string or null")
		}
	}
	if out.Variables, fail = objectParam("variables", members["variables"]); fail != nil {
		return nil, fail
	}
	return out, nil
}

// paramsFromQuery reads GET parameters: query and operationName as they are,
// variables and extensions as URL-encoded JSON objects.
func paramsFromQuery(rawQuery string) (*graphql.RawParams, *failure) {
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, badRequest("query", "the URL query string is malformed")
	}
	out := &graphql.RawParams{Query: values.Get("query"), OperationName: values.Get("operationName")}
	var fail *failure
	if out.Extensions, fail = objectParam("extensions", json.RawMessage(values.Get("extensions"))); fail != nil {
		return nil, fail
	}
	if out.Variables, fail = objectParam("variables", json.RawMessage(values.Get("variables"))); fail != nil {
		return nil, fail
	}
	if values.Has("documentId") {
		if err := httptransport.ApplyDocumentID(out, values.Get("documentId")); err != nil {
			return nil, badRequest("documentId", err.Error())
		}
	}
	if out.Query == "" && out.Extensions["persistedQuery"] == nil {
		return nil, badRequest("query", "the query parameter is missing")
	}
	return out, nil
}

// objectParam decodes variables or extensions: absent, empty and null give nil.
// Numbers stay json.Number, as gqlgen keeps them.
func objectParam(name string, raw json.RawMessage) (map[string]any, *failure) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var object map[string]any
	if raw[0] != '{' || dec.Decode(&object) != nil {
		return nil, badRequest(name, fmt.Sprintf("the %s parameter must be a JSON object or null", name))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badRequest(name, fmt.Sprintf("the %s parameter must be a JSON object or null", name))
	}
	return object, nil
}

func equalFoldAny(s string, options ...string) bool {
	for _, o := range options {
		if strings.EqualFold(s, o) {
			return true
		}
	}
	return false
}

// operationIDOf returns a single-connection operation's ID (extensions.operationId).
func operationIDOf(params *graphql.RawParams) (string, *failure) {
	const field = "extensions.operationId"
	raw, ok := params.Extensions["operationId"]
	if !ok || raw == nil {
		return "", badRequest(field, "a single-connection operation needs an ID: send it as extensions.operationId")
	}
	id, ok := raw.(string)
	if !ok || id == "" || len(id) > maxOperationIDLen {
		return "", badRequest(field, fmt.Sprintf("extensions.operationId must be a string of 1 to %d characters", maxOperationIDLen))
	}
	return id, nil
}

// maxOperationIDLen bounds a client's operation IDs (graphql-sse sends UUIDs).
const maxOperationIDLen = 128

// notFound answers a token that names no stream of the caller's.
func notFound() *failure {
	return &failure{status: http.StatusNotFound, code: models.CodeNotFound, field: StreamHeader,
		message: "no event stream has this token for this caller: it expired, it closed, or it was never reserved; reserve one with PUT"}
}
