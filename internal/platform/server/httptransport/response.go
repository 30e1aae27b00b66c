package httptransport

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/99designs/gqlgen/graphql"
)

// Error codes (extensions.code) for the request errors this package raises itself.
// gqlgen's own parse and validation errors keep GRAPHQL_PARSE_FAILED and
// GRAPHQL_VALIDATION_FAILED.
const (
	// ErrCodeBadRequest marks a request that is not a well-formed GraphQL-over-HTTP
	// request (body, parameters, media types, operation not allowed on this transport).
	ErrCodeBadRequest = "BAD_REQUEST"
	// ErrCodePayloadTooLarge marks a request body over the server's size limit.
	ErrCodePayloadTooLarge = "PAYLOAD_TOO_LARGE"
)

// failure is a request error raised by this package rather than by gqlgen.
type failure struct {
	status  int
	code    string
	message string
	allow   string // Allow header value, for 405
}

func badRequest(message string) *failure {
	return &failure{status: http.StatusBadRequest, code: ErrCodeBadRequest, message: message}
}

func unsupportedMediaType(message string) *failure {
	return &failure{status: http.StatusUnsupportedMediaType, code: ErrCodeBadRequest, message: message}
}

func notAcceptable() *failure {
	return &failure{
		status:  http.StatusNotAcceptable,
		code:    ErrCodeBadRequest,
		message: "Accept header allows no supported media type: accept application/graphql-response+json or application/json",
	}
}

// requestErrorBody is a response to a request that did not execute. It has no data entry
// at all (not even null): the spec reserves data for executed operations, and clients of
// application/graphql-response+json rely on its absence.
type requestErrorBody struct {
	Errors     gqlerror.List  `json:"errors"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// writeFailure answers with one of this package's own request errors.
func writeFailure(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, mediaType string, f *failure) {
	err := &gqlerror.Error{Message: f.message, Extensions: map[string]any{"code": f.code}}
	var header http.Header
	if f.allow != "" {
		header = http.Header{"Allow": {f.allow}}
	}
	writeRequestErrors(ctx, w, exec, mediaType, f.status, header, gqlerror.List{err})
}

// writeRequestErrors sends request errors through gqlgen's DispatchError, so the error
// presenter and response middleware see them as they would with gqlgen's transports,
// then writes them without a data entry.
func writeRequestErrors(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor,
	mediaType string, status int, header http.Header, errs gqlerror.List,
) {
	body := requestErrorBody{Errors: errs}
	if resp := exec.DispatchError(ctx, errs); resp != nil {
		body = requestErrorBody{Errors: resp.Errors, Extensions: resp.Extensions}
	}
	if len(body.Errors) == 0 {
		// An error presenter may drop errors, but a response without data must still
		// say why: keep a generic one.
		body.Errors = gqlerror.List{{Message: "the request could not be processed"}}
	}
	// Every error must carry a code; an error presenter or extension may have produced
	// errors without one, and those are request errors too.
	for _, err := range body.Errors {
		ensureCode(err, ErrCodeBadRequest)
	}
	for key, values := range header {
		w.Header()[key] = values
	}
	writeJSON(w, mediaType, status, body)
}

// ensureCode sets extensions.code unless the error already has one.
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

// writeResult writes the response of an executed operation. It is always 200: the
// operation ran, so even data: null from a field error is a GraphQL result, not a
// request error.
func writeResult(w http.ResponseWriter, mediaType string, resp *graphql.Response) {
	if resp == nil {
		// gqlgen returns no response when the request context ended (client gone):
		// nobody is left to read a body.
		return
	}
	writeJSON(w, mediaType, http.StatusOK, resp)
}

// encodeFailureBody is sent when a response cannot be marshalled (e.g. a resolver produced
// invalid raw JSON). It is a constant so that this path cannot fail in turn.
const encodeFailureBody = `{"errors":[{"message":"internal server error: the response could not be encoded","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`

// writeJSON marshals v before touching the ResponseWriter, so an encoding failure can
// still change the status to 500.
func writeJSON(w http.ResponseWriter, mediaType string, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(encodeFailureBody)
	}
	w.Header().Set("Content-Type", mediaType+"; charset=utf-8")
	w.WriteHeader(status)
	// A write error means the client went away; there is no one left to tell.
	_, _ = w.Write(body)
}
