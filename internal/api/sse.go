package api

import (
	"context"
	"time"

	"github.com/inkgraph/inkgraph/internal/api/wstransport"
	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/models"
)

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

// watchSSEOperation cancels a single-connection operation when the credential of the
// POST that started it (a session, or an API key) is revoked: it may not be the one of
// the stream's GET, whose own revocation the authenticate middleware watches. As a
// socket does, the operation lets the event saying its session ended go out first.
func (s *Server) watchSSEOperation(ctx context.Context, cancel context.CancelFunc) (stop func()) {
	caller, ok := models.SignedIn(ctx)
	if !ok {
		return func() {}
	}
	return s.revocations.Watch(auth.CredentialID(caller), func() { time.AfterFunc(wstransport.RevokeDrain, cancel) })
}
