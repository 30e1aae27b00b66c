package ssetransport

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/inkgraph/inkgraph/internal/api/incremental"
)

// distinct serves an operation on a stream of its own: its results as next events,
// then complete. A request that is not a well-formed GraphQL request is answered with
// a JSON error; parse and validation errors, which the protocol wants on the stream,
// come as one next event. The stream ends with the request's context (the client
// leaves, the token expires, the server shuts down): complete goes out even then.
func (t *Transport) distinct(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	params, fail := readParams(r)
	if fail != nil {
		writeFailure(ctx, w, exec, fail)
		return
	}
	ctx = graphql.StartOperationTrace(ctx)
	rc, errs := exec.CreateOperationContext(ctx, params)
	if errs == nil && r.Method == http.MethodGet && rc.Operation.Operation == ast.Mutation {
		w.Header().Set("Allow", http.MethodPost)
		writeFailure(graphql.WithOperationContext(ctx, rc), w, exec, mutationOverGET())
		return
	}

	ew := startStream(w)
	var keepAlive sync.WaitGroup
	stop := make(chan struct{})
	keepAlive.Go(func() { ew.keepAlive(t.keepAlive(), stop) })
	defer func() { close(stop); keepAlive.Wait() }() // nothing writes once Do has returned

	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		if resp == nil {
			resp = &graphql.Response{Errors: errs}
		}
		if b, err := nextEvent("", resp); err == nil {
			_ = ew.write(b)
		}
		_ = ew.write(completeEvent(""))
		return
	}
	ctx, cancel := context.WithCancel(graphql.WithOperationContext(ctx, rc))
	defer cancel()
	t.run(ctx, exec, rc, "", func(b []byte) bool { return ew.write(b) == nil })
	_ = ew.write(completeEvent(""))
}

// run executes an operation and hands each result, as a next event, to send; it
// returns when the results end, ctx ends or send fails. An operation with deferred
// parts (@defer) sends each payload of the incremental delivery format as a next
// event of its own: the first with data and hasNext, then one per deferred fragment
// with incremental, the last with hasNext false.
func (t *Transport) run(ctx context.Context, exec graphql.GraphExecutor, rc *graphql.OperationContext, id string, send func([]byte) bool) {
	// The loop watches the transport's ctx, not the operation's: an operation the
	// server ends (a team subscription whose caller left the team) has its last
	// response, the error saying why, still to send.
	responses, opCtx := exec.DispatchOperation(ctx, rc)
	deferred := false
	for first := true; ctx.Err() == nil; first = false {
		var resp *graphql.Response
		if deferred {
			// The executor waits for deferred parts without watching ctx.
			resp = incremental.Next(opCtx, responses)
		} else {
			resp = responses(opCtx)
		}
		if resp == nil {
			return
		}
		var b []byte
		var err error
		switch {
		case first && incremental.Deferred(resp):
			deferred = true
			// Data the executor wrote cannot fail to read; were it to, the placeholders stay.
			if trimmed, terr := incremental.OmitPlaceholders(rc, resp); terr == nil {
				resp = trimmed
			}
			b, err = nextEvent(id, incremental.Initial(resp))
		case deferred:
			b, err = nextEvent(id, incremental.Subsequent(resp))
		default:
			b, err = nextEvent(id, resp)
		}
		if err != nil {
			t.logger().LogAttrs(opCtx, slog.LevelError, "sse response encoding failed", slog.String("error", err.Error()))
			return
		}
		if !send(b) {
			return
		}
	}
}

// mutationOverGET refuses a mutation sent with GET, which caches and prefetchers may
// replay.
func mutationOverGET() *failure {
	return &failure{status: http.StatusMethodNotAllowed, code: CodeBadRequest, field: "query",
		message: "GET requests cannot run mutations: send them with POST"}
}
