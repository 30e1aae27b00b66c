package httptransport

import (
	"net/http"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/99designs/gqlgen/graphql"
)

// GET serves GraphQL queries sent as URL parameters (query, operationName, and
// URL-encoded JSON variables and extensions). GET must be safe, so it runs queries only.
type GET struct{}

var _ graphql.Transport = GET{}

// Supports claims GET requests except websocket handshakes, which are GETs too.
func (GET) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && !isWebSocketUpgrade(r)
}

// Do answers one GET request.
func (GET) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	serve(w, r, exec, readGETParams, getGate)
}

func readGETParams(r *http.Request) (*graphql.RawParams, *failure) {
	return paramsFromQueryString(r.URL.RawQuery)
}

// getGate refuses everything but queries with 405 and Allow: POST, as the spec requires
// for mutations: a GET may be replayed by caches, prefetchers and crawlers.
func getGate(op *ast.OperationDefinition, _ string) *failure {
	switch op.Operation {
	case ast.Query:
		return nil
	case ast.Subscription:
		return &failure{status: http.StatusMethodNotAllowed, code: ErrCodeBadRequest, message: subscriptionMessage, allow: http.MethodPost}
	default:
		return &failure{
			status:  http.StatusMethodNotAllowed,
			code:    ErrCodeBadRequest,
			message: "GET requests can only run queries: send " + string(op.Operation) + " operations with POST",
			allow:   http.MethodPost,
		}
	}
}
