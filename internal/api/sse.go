package api

import "context"

// sseOperation is the context a single-connection SSE operation runs in, made from
// the POST that started it: its values (caller, client address, request and trace IDs,
// the shutdown drain) without its end, for the operation outlives the request. It has
// a request state of its own, labelled sse: the operation observer writes there, not
// into the finished request's.
func sseOperation(ctx context.Context) context.Context {
	st := &requestState{transport: transportSSE}
	if parent := stateOf(ctx); parent != nil {
		st.route = parent.route
	}
	return context.WithValue(context.WithoutCancel(ctx), requestStateKey{}, st)
}
