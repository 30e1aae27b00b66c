package httptransport

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/99designs/gqlgen/graphql"

	"github.com/inkgraph/inkgraph/internal/api/incremental"
	"github.com/inkgraph/inkgraph/internal/api/wire"
	"github.com/inkgraph/inkgraph/models"
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
// request error. The answer gqlgen wrote is sent as it is, between the response's
// other parts (wire.Parts), not copied into one body first: with its length given,
// net/http sends the parts as one body, not in chunks.
func writeResult(w http.ResponseWriter, mediaType string, resp *graphql.Response) {
	if resp == nil {
		// gqlgen returns no response when the request context ended (client gone):
		// nobody is left to read a body.
		return
	}
	head, data, tail, err := wire.Parts(resp)
	if err != nil {
		writeBody(w, mediaType, http.StatusOK, nil, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", mediaType+"; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(head)+len(data)+len(tail)))
	w.WriteHeader(http.StatusOK)
	// A write error means the client went away; there is no one left to tell.
	if _, err := w.Write(head); err == nil {
		if _, err = w.Write(data); err == nil {
			_, _ = w.Write(tail)
		}
	}
}

// rateLimited reports whether resp is an operation the server refused to run for rate
// limiting: no data at all (an operation that ran has data, if only null) and nothing
// but RATE_LIMITED errors. It returns the longest retryAfter (whole seconds) among them,
// zero when none says.
func rateLimited(resp *graphql.Response) (int, bool) {
	if resp == nil || resp.Data != nil {
		return 0, false
	}
	return onlyCode(resp.Errors, models.CodeRateLimited)
}

// unavailable reports whether resp is an operation that produced nothing because a
// dependency (the database, Redis, the blob store) could not be reached: no data, or
// data: null, and nothing but SERVICE_UNAVAILABLE errors. A response with some data
// is a partial result, still a 200. It returns the longest retryAfter (whole seconds).
func unavailable(resp *graphql.Response) (int, bool) {
	if resp == nil || (resp.Data != nil && string(resp.Data) != "null") {
		return 0, false
	}
	return onlyCode(resp.Errors, models.CodeServiceUnavailable)
}

// onlyCode reports whether errs is not empty and every error in it has code, with the
// longest retryAfter (whole seconds) among them, zero when none says.
func onlyCode(errs gqlerror.List, code string) (int, bool) {
	if len(errs) == 0 {
		return 0, false
	}
	retryAfter := 0
	for _, err := range errs {
		if err == nil || err.Extensions["code"] != code {
			return 0, false
		}
		switch v := err.Extensions["retryAfter"].(type) {
		case int:
			retryAfter = max(retryAfter, v)
		case int64:
			retryAfter = max(retryAfter, int(v))
		case float64:
			retryAfter = max(retryAfter, int(v+0.999))
		}
	}
	return retryAfter, true
}

// writeRateLimited answers a refused operation with 429 and Retry-After: the operation
// did not run, so the body is its errors without a data entry, like a request error.
func writeRateLimited(w http.ResponseWriter, mediaType string, retryAfter int, resp *graphql.Response) {
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	writeJSON(w, mediaType, http.StatusTooManyRequests, requestErrorBody{Errors: resp.Errors, Extensions: resp.Extensions})
}

// writeUnavailable answers an operation that an outage kept from producing anything
// with 503 and Retry-After. Only application/graphql-response+json does so (the spec
// forbids a 2xx there when no GraphQL response could be produced); the body is the
// errors without a data entry, as the spec wants with a non-2xx status.
func writeUnavailable(w http.ResponseWriter, mediaType string, retryAfter int, resp *graphql.Response) {
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	writeJSON(w, mediaType, http.StatusServiceUnavailable, requestErrorBody{Errors: resp.Errors, Extensions: resp.Extensions})
}

// encodeFailureBody is sent when a response cannot be marshalled (an error's or an
// extension's value that encoding/json refuses, data to compact that is not JSON: see
// internal/api/wire). It is a constant so that this path cannot fail in turn.
const encodeFailureBody = `{"errors":[{"message":"internal server error: the response could not be encoded","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`

// writeJSON marshals v before touching the ResponseWriter, so an encoding failure can
// still change the status to 500.
func writeJSON(w http.ResponseWriter, mediaType string, status int, v any) {
	body, err := json.Marshal(v)
	writeBody(w, mediaType, status, body, err)
}

// writeBody writes an encoded body, or the encoding failure as a 500.
func writeBody(w http.ResponseWriter, mediaType string, status int, body []byte, err error) {
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(encodeFailureBody)
	}
	w.Header().Set("Content-Type", mediaType+"; charset=utf-8")
	w.WriteHeader(status)
	// A write error means the client went away; there is no one left to tell.
	_, _ = w.Write(body)
}

// multipartContentType is the answer to an operation with @defer for a client that
// offered multipart/mixed: the boundary Apollo Client assumes when none is given, and
// the format of the parts.
const multipartContentType = `multipart/mixed; boundary="-"; deferSpec=` + incremental.Spec

// The delimiters of multipart/mixed with boundary "-" (RFC 2046 5.1.1): each part
// starts after CRLF "---" and its headers; the body ends with CRLF "-----".
const (
	partStart = "\r\n---\r\nContent-Type: application/json; charset=utf-8\r\n\r\n"
	partsEnd  = "\r\n-----\r\n"
)

// writeMultipart answers an operation with @defer part by part: first the result
// without the deferred fields, then one payload per deferred fragment as the executor
// gives it, each flushed at once, until a payload says hasNext false (or the client
// goes, which ends ctx and makes responses return nil).
func writeMultipart(ctx context.Context, w http.ResponseWriter, opCtx *graphql.OperationContext,
	first *graphql.Response, responses graphql.ResponseHandler,
) {
	flush := http.NewResponseController(w).Flush
	h := w.Header()
	h.Set("Content-Type", multipartContentType)
	h.Set("Cache-Control", "no-cache")
	// Proxies such as nginx would otherwise hold the parts back until the end.
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	// Data the executor wrote cannot fail to read; were it to, the placeholders stay.
	if trimmed, err := incremental.OmitPlaceholders(opCtx, first); err == nil {
		first = trimmed
	}
	payload := incremental.Initial(first)
	for {
		if writePart(w, payload) != nil {
			return
		}
		if !payload.HasNext {
			break
		}
		// A flush error means the writer cannot stream; the parts still arrive at the end.
		_ = flush()
		resp := incremental.Next(ctx, responses)
		if resp == nil {
			break
		}
		payload = incremental.Subsequent(resp)
	}
	_, _ = io.WriteString(w, partsEnd)
	_ = flush()
}

// writePart writes one payload as a part. A payload that cannot be marshalled (a
// resolver produced invalid raw JSON) is replaced by an error that ends the sequence.
func writePart(w io.Writer, p incremental.Payload) error {
	body, err := json.Marshal(p)
	if err != nil {
		body = []byte(`{"errors":[{"message":"internal server error: the response could not be encoded","extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"hasNext":false}`)
	}
	if _, err := io.WriteString(w, partStart); err != nil {
		return err
	}
	_, err = w.Write(body)
	return err
}

// mergeRest reads the rest of a deferred operation's responses and folds them into
// first, for a client that wants one response. Should the responses not fit together
// (a bug, not bad input), the client gets an INTERNAL error rather than a part of them.
func mergeRest(ctx context.Context, first *graphql.Response, responses graphql.ResponseHandler) *graphql.Response {
	all := []*graphql.Response{first}
	for last := first; last.HasNext != nil && *last.HasNext; {
		if last = incremental.Next(ctx, responses); last == nil {
			break
		}
		all = append(all, last)
	}
	merged, err := incremental.Merge(all)
	if err != nil {
		return &graphql.Response{Data: json.RawMessage("null"), Errors: gqlerror.List{{
			Message:    "internal server error: the deferred parts could not be merged",
			Extensions: map[string]any{"code": models.CodeInternal},
		}}}
	}
	return merged
}
