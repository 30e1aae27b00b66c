package httptransport

import (
	"net/http"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/99designs/gqlgen/graphql"
)

// POST serves GraphQL requests sent as a JSON body (Content-Type: application/json).
// It runs queries and mutations; subscriptions need the SSE or websocket transport.
type POST struct{}

var _ graphql.Transport = POST{}

// Supports claims every POST that the SSE and websocket transports (registered before
// this one) did not take, including POSTs with a missing or wrong Content-Type: answering
// those here gives the client a spec-conformant 415 with a JSON error instead of gqlgen's
// generic "transport not supported".
func (POST) Supports(r *http.Request) bool {
	return r.Method == http.MethodPost && !isWebSocketUpgrade(r) && !acceptsEventStream(r)
}

// Do answers one POST request.
func (POST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	serve(w, r, exec, readPOSTParams, postGate)
}

func readPOSTParams(r *http.Request) (*graphql.RawParams, *failure) {
	if fail := checkContentType(r); fail != nil {
		return nil, fail
	}
	body, fail := readBody(r)
	if fail != nil {
		return nil, fail
	}
	return decodeBody(body)
}

// subscriptionMessage explains why a subscription cannot run over plain HTTP.
const subscriptionMessage = "subscriptions need a streaming transport: WebSocket or SSE"

// postGate lets queries and mutations through. A subscription over a single response is
// a request error with the usual status for the media type.
func postGate(op *ast.OperationDefinition, mediaType string) *failure {
	if op.Operation == ast.Subscription {
		return &failure{status: requestErrorStatus(mediaType), code: ErrCodeBadRequest, message: subscriptionMessage}
	}
	return nil
}
