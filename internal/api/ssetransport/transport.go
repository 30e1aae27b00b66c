// Package ssetransport is a gqlgen transport that runs GraphQL operations over
// Server-Sent Events as the graphql-sse library defines the protocol
// (https://github.com/enisdenjo/graphql-sse/blob/master/PROTOCOL.md), in both of its
// modes:
//
//   - Distinct connections: a POST (or GET) that accepts text/event-stream gets a stream
//     of its own, of next events (data: the execution result) and a last complete.
//   - Single connection: a PUT reserves a stream and answers 201 with its token; a GET
//     with the token (X-GraphQL-Event-Stream-Token or ?token=) that accepts
//     text/event-stream opens it; each POST with the token runs one operation, whose ID
//     the client chose (extensions.operationId), and is answered 202: its results come
//     on the stream as next {"id", "payload"} and complete {"id"}; a DELETE with the
//     token and ?operationId= stops one.
//
// Operations run through gqlgen's executor (CreateOperationContext, DispatchOperation),
// so every extension of the server applies to them as to the other transports.
//
// Reservations live in the process's memory: the PUT, the GET and every POST and
// DELETE of one stream must reach the same instance (a load balancer keeps a client on
// one instance by its address or a cookie, or routes on the token). Only a signed-in
// caller may reserve (distinct connections serve anonymous ones), and a reservation
// belongs to the user who made it; another caller presenting its token is answered as
// for an unknown token, and a refused access token with 401. It expires when its stream is not opened within ReservationTTL, ends when
// its stream closes, and a caller holds at most MaxStreamsPerClient of them.
package ssetransport

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/inkgraph/inkgraph/internal/platform/clientip"
	"github.com/inkgraph/inkgraph/models"
)

// The names under which a single-connection client presents its stream's token.
const (
	StreamHeader = "X-GraphQL-Event-Stream-Token"
	StreamParam  = "token"
)

// streamKey is StreamHeader as requests' header maps hold it.
var streamKey = http.CanonicalHeaderKey(StreamHeader)

// Defaults for the zero values of Transport's fields.
const (
	DefaultKeepAlive              = 15 * time.Second
	DefaultReservationTTL         = 30 * time.Second
	DefaultMaxStreamsPerClient    = 8
	DefaultMaxStreams             = 10000
	DefaultMaxOperationsPerStream = 100
)

// Transport is a graphql.Transport for GraphQL over Server-Sent Events. The zero value
// is ready to use with the defaults described on each field. It holds the
// single-connection mode's reservations, so use it as a pointer and do not copy it.
type Transport struct {
	// KeepAlive is how often an idle stream gets a comment line (":"), which keeps
	// proxies from closing it. Zero means DefaultKeepAlive; negative disables it.
	KeepAlive time.Duration
	// ReservationTTL is how long a reserved stream waits to be opened before the
	// reservation lapses. Zero means DefaultReservationTTL.
	ReservationTTL time.Duration
	// MaxStreamsPerClient bounds the reserved and open streams of one caller; a PUT
	// beyond it is answered 429. Zero means DefaultMaxStreamsPerClient.
	MaxStreamsPerClient int
	// MaxStreams bounds the reserved and open streams of the instance; a PUT beyond it
	// is answered 503. Zero means DefaultMaxStreams.
	MaxStreams int
	// MaxOperationsPerStream bounds the running operations of one stream; a POST beyond
	// it is answered 429. Zero means DefaultMaxOperationsPerStream.
	MaxOperationsPerStream int
	// Owner names the caller a request comes from, whose reservations it may use. Nil
	// uses the signed-in user's ID (models.SignedIn), or for an anonymous request its
	// client address (clientip).
	Owner func(r *http.Request) string
	// Detach makes the context a single-connection operation runs in from the context
	// of the POST that started it: the operation outlives that request. It must keep
	// the request's values and drop its cancellation. Nil uses context.WithoutCancel.
	Detach func(ctx context.Context) context.Context
	// Watch runs cancel once the credential of the caller of ctx (the POST that started
	// a single-connection operation) is revoked, and returns what stops watching. Nil
	// watches nothing: an operation then ends with its stream, its DELETE or its
	// token's expiry alone.
	Watch func(ctx context.Context, cancel context.CancelFunc) (stop func())
	// Now is the clock of the reservations' expiry; nil means time.Now.
	Now func() time.Time
	// Logger receives the streams' logs. Nil discards them.
	Logger *slog.Logger

	mu      sync.Mutex
	streams map[string]*stream // by token
	owned   map[string]int     // streams by owner
}

var _ graphql.Transport = (*Transport)(nil)

// Supports claims what is this protocol's: PUT and DELETE, any request carrying a
// stream token, and GETs and POSTs that accept text/event-stream.
func (t *Transport) Supports(r *http.Request) bool {
	switch {
	case r.Method == http.MethodPut || r.Method == http.MethodDelete:
		return true
	case tokenOf(r) != "":
		return true
	default:
		return (r.Method == http.MethodGet || r.Method == http.MethodPost) && acceptsEventStream(r)
	}
}

// Do serves one request of either mode.
func (t *Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	token := tokenOf(r)
	switch {
	case r.Method == http.MethodPut:
		t.reserve(w, r, exec)
	case token == "" && r.Method == http.MethodDelete:
		writeFailure(r.Context(), w, exec, &failure{status: http.StatusBadRequest, code: CodeBadRequest, field: StreamHeader,
			message: "DELETE stops an operation of a single-connection stream: send the stream's token in " + StreamHeader})
	case token == "":
		t.distinct(w, r, exec)
	case r.Method == http.MethodDelete:
		t.stop(w, r, exec, token)
	case r.Method == http.MethodGet && acceptsEventStream(r):
		t.open(w, r, exec, token)
	case r.Method == http.MethodGet || r.Method == http.MethodPost:
		t.execute(w, r, exec, token)
	default:
		w.Header().Set("Allow", "GET, POST, PUT, DELETE")
		writeFailure(r.Context(), w, exec, &failure{status: http.StatusMethodNotAllowed, code: CodeBadRequest, field: "method",
			message: "a single-connection stream takes GET (to open it), POST (to run an operation) and DELETE (to stop one)"})
	}
}

// tokenOf returns the stream token a request presents, or "".
func tokenOf(r *http.Request) string {
	// Read under its canonical key: Get would canonicalize StreamHeader, with an
	// allocation, on every request.
	if v := r.Header[streamKey]; len(v) > 0 {
		if t := strings.TrimSpace(v[0]); t != "" {
			return t
		}
	}
	if r.URL.RawQuery == "" || !strings.Contains(r.URL.RawQuery, StreamParam+"=") {
		return "" // most requests: no query string to parse
	}
	return strings.TrimSpace(r.URL.Query().Get(StreamParam))
}

// acceptsEventStream reports whether the request accepts text/event-stream.
func acceptsEventStream(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		if strings.Contains(v, "text/event-stream") {
			return true
		}
	}
	return false
}

// owner names the caller of r.
func (t *Transport) owner(r *http.Request) string {
	if t.Owner != nil {
		return t.Owner(r)
	}
	if c, ok := models.SignedIn(r.Context()); ok {
		return "user:" + c.UserID
	}
	addr, _ := clientip.From(r.Context())
	return "addr:" + clientip.Key(addr)
}

func (t *Transport) detach(ctx context.Context) context.Context {
	if t.Detach != nil {
		return t.Detach(ctx)
	}
	return context.WithoutCancel(ctx)
}

func (t *Transport) watch(ctx context.Context, cancel context.CancelFunc) (stop func()) {
	if t.Watch != nil {
		return t.Watch(ctx, cancel)
	}
	return func() {}
}

func (t *Transport) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Transport) keepAlive() time.Duration {
	if t.KeepAlive == 0 {
		return DefaultKeepAlive
	}
	return t.KeepAlive
}

func (t *Transport) reservationTTL() time.Duration {
	if t.ReservationTTL <= 0 {
		return DefaultReservationTTL
	}
	return t.ReservationTTL
}

func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

func (t *Transport) logger() *slog.Logger {
	if t.Logger != nil {
		return t.Logger
	}
	return discardLogger
}

var discardLogger = slog.New(slog.DiscardHandler)
