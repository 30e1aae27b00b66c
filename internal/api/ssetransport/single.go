package ssetransport

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/models"
)

// streamBuffer is how many events a single-connection stream holds for its writer;
// beyond it an operation waits (only the slow client's own operations do).
const streamBuffer = 64

// stream is one single-connection stream, from its reservation to its end.
type stream struct {
	token, owner string
	expires      time.Time // of the reservation, while the stream is not open

	// ctx ends when the stream closes or its reservation lapses: every operation of
	// the stream ends with it.
	ctx    context.Context
	cancel context.CancelFunc
	// events are what the stream's writer sends, in order.
	events chan []byte
	// gone is closed once no one will read events again.
	gone     chan struct{}
	goneOnce sync.Once
	timer    *time.Timer

	mu      sync.Mutex
	opened  bool
	closing bool                          // no operation may start
	ops     map[string]context.CancelFunc // running operations by ID
	running sync.WaitGroup                // running operations
}

func (s *stream) closeGone() { s.goneOnce.Do(func() { close(s.gone) }) }

// reserve answers a PUT: 201 and a new stream's token, in plain text. A request whose
// access token was refused is refused too, rather than served as anonymous; so is an
// anonymous one: a reservation holds memory and a share of the instance's streams
// until it lapses, and anonymous callers (by address) are too cheap to multiply.
func (t *Transport) reserve(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	if fail := tokenFailure(r); fail != nil {
		writeFailure(ctx, w, exec, fail)
		return
	}
	if _, ok := models.SignedIn(ctx); !ok {
		writeFailure(ctx, w, exec, &failure{status: http.StatusUnauthorized, code: models.CodeUnauthenticated,
			field: "Authorization", message: "single-connection mode (PUT) needs a signed-in caller: send an access token " +
				"in Authorization, or use distinct connections (a POST accepting text/event-stream), which do not"})
		return
	}
	owner := t.owner(r)
	now := t.now()
	t.mu.Lock()
	if t.streams == nil {
		t.streams, t.owned = map[string]*stream{}, map[string]int{}
	}
	if t.owned[owner] >= orDefault(t.MaxStreamsPerClient, DefaultMaxStreamsPerClient) {
		t.sweepLocked(owner, now)
	}
	switch {
	case t.owned[owner] >= orDefault(t.MaxStreamsPerClient, DefaultMaxStreamsPerClient):
		t.mu.Unlock()
		writeFailure(ctx, w, exec, &failure{status: http.StatusTooManyRequests, code: models.CodeRateLimited,
			field: "Authorization", message: fmt.Sprintf("this caller has %d event streams reserved or open, the most it may: close one first",
				orDefault(t.MaxStreamsPerClient, DefaultMaxStreamsPerClient))})
		return
	case len(t.streams) >= orDefault(t.MaxStreams, DefaultMaxStreams):
		t.mu.Unlock()
		writeFailure(ctx, w, exec, &failure{status: http.StatusServiceUnavailable, code: models.CodeServiceUnavailable,
			field: "method", message: "this server has as many event streams as it takes: try again later"})
		return
	}
	s := &stream{token: rand.Text(), owner: owner, expires: now.Add(t.reservationTTL()),
		events: make(chan []byte, streamBuffer), gone: make(chan struct{}), ops: map[string]context.CancelFunc{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	t.streams[s.token] = s
	t.owned[owner]++
	// The clock decides (lookup checks it); the timer only frees the memory of a
	// reservation no one comes back for.
	s.timer = time.AfterFunc(t.reservationTTL(), func() { t.lapse(s) })
	t.mu.Unlock()

	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(s.token))
}

// sweepLocked ends owner's reservations that have lapsed by the clock.
func (t *Transport) sweepLocked(owner string, now time.Time) {
	for _, s := range t.streams {
		if s.owner == owner && s.lapsed(now) {
			t.endLocked(s)
		}
	}
}

// lapsed reports whether s is a reservation never opened whose time is up.
func (s *stream) lapsed(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.opened && !now.Before(s.expires)
}

// lapse ends s if it was never opened. Whether it was, and that it no longer may be,
// are decided in one hold of its lock: open, which checks closing under that lock,
// either claimed it before (and lapse leaves it) or finds it closing.
func (t *Transport) lapse(s *stream) {
	s.mu.Lock()
	if s.opened {
		s.mu.Unlock()
		return
	}
	s.closing = true
	s.mu.Unlock()
	t.mu.Lock()
	t.endLocked(s)
	t.mu.Unlock()
}

// endLocked forgets s and ends what runs on it; only for a stream no writer serves.
func (t *Transport) endLocked(s *stream) {
	t.forgetLocked(s)
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.cancel()
	s.closeGone()
}

// forgetLocked removes s from the reservations, once.
func (t *Transport) forgetLocked(s *stream) {
	if t.streams[s.token] != s {
		return
	}
	delete(t.streams, s.token)
	if t.owned[s.owner]--; t.owned[s.owner] <= 0 {
		delete(t.owned, s.owner)
	}
	s.timer.Stop()
}

// lookup finds the stream token names, if it is the caller's and has not lapsed.
// Another caller's token is answered as an unknown one: tokens are secrets, and the
// answer must not tell they exist.
// A request whose access token was refused is answered 401, not as an anonymous one.
func (t *Transport) lookup(r *http.Request, token string) (*stream, *failure) {
	if fail := tokenFailure(r); fail != nil {
		return nil, fail
	}
	owner := t.owner(r)
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.streams[token]
	if s == nil || s.owner != owner {
		return nil, notFound()
	}
	if s.lapsed(t.now()) {
		t.endLocked(s)
		return nil, notFound()
	}
	return s, nil
}

// tokenFailure is the 401 of a request whose access token was refused (expired, bad,
// revoked), or nil.
func tokenFailure(r *http.Request) *failure {
	if err := models.TokenErrorFrom(r.Context()); err != nil {
		return &failure{status: http.StatusUnauthorized, code: models.CodeUnauthenticated,
			field: "Authorization", message: models.ErrorMessage(err)}
	}
	return nil
}

// open serves a reserved stream: every event its operations send, until the request
// ends (the client leaves, the token expires, the server shuts down). Its operations
// then end, each with its complete, and the stream closes once they have.
func (t *Transport) open(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, token string) {
	s, fail := t.lookup(r, token)
	if fail != nil {
		writeFailure(r.Context(), w, exec, fail)
		return
	}
	if fail := s.claim(); fail != nil {
		writeFailure(r.Context(), w, exec, fail)
		return
	}
	s.timer.Stop()
	defer func() {
		t.mu.Lock()
		t.forgetLocked(s)
		t.mu.Unlock()
	}()

	ew := startStream(w)
	var keepAlive sync.WaitGroup
	stopKeepAlive := make(chan struct{})
	keepAlive.Go(func() { ew.keepAlive(t.keepAlive(), stopKeepAlive) })
	defer func() { close(stopKeepAlive); keepAlive.Wait() }()
	stop := context.AfterFunc(r.Context(), s.cancel)
	defer stop()

	for s.ctx.Err() == nil {
		select {
		case b := <-s.events:
			if ew.write(b) != nil {
				s.cancel()
			}
		case <-s.ctx.Done():
		}
	}
	t.drain(s, ew)
}

// claim marks s opened, unless it is closing (lapsed since lookup) or open already.
func (s *stream) claim() *failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closing:
		return notFound()
	case s.opened:
		return &failure{status: http.StatusConflict, code: models.CodeConflict, field: StreamHeader,
			message: "this event stream is already open: a reservation serves one connection"}
	}
	s.opened = true
	return nil
}

// drain sends the events of the stream's operations until every one has ended (each
// sends its complete last), then lets go of the stream.
func (t *Transport) drain(s *stream, ew *eventWriter) {
	defer s.closeGone()
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	idle := make(chan struct{})
	go func() { s.running.Wait(); close(idle) }()
	for {
		select {
		case b := <-s.events:
			_ = ew.write(b) // after a failure, events are read and dropped
		case <-idle:
			for {
				select {
				case b := <-s.events:
					_ = ew.write(b)
				default:
					return
				}
			}
		}
	}
}

// execute answers a POST (or GET) that runs an operation on a stream: 202 once the
// operation is valid and running, its results on the stream. An invalid one is
// answered as GraphQL over HTTP answers it, with 400 and its errors.
func (t *Transport) execute(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, token string) {
	ctx := r.Context()
	s, fail := t.lookup(r, token)
	if fail != nil {
		writeFailure(ctx, w, exec, fail)
		return
	}
	params, fail := readParams(r)
	if fail != nil {
		writeFailure(ctx, w, exec, fail)
		return
	}
	id, fail := operationIDOf(params)
	if fail != nil {
		writeFailure(ctx, w, exec, fail)
		return
	}

	// The operation outlives this request: it ends with its stream, its DELETE, or
	// the credential it was sent with (its expiry, or its revocation through Watch:
	// this caller's session need not be the one of the stream's GET).
	opCtx := t.detach(ctx)
	var cancel context.CancelFunc
	if c, ok := models.SignedIn(ctx); ok && !c.ExpiresAt.IsZero() {
		opCtx, cancel = context.WithDeadline(opCtx, c.ExpiresAt)
	} else {
		opCtx, cancel = context.WithCancel(opCtx)
	}
	// Its DELETE stops it with llm.ErrStopped: the client ended it, a run is not kept
	// going for it to resume.
	opCtx, stop := context.WithCancelCause(opCtx)
	cancelBoth := cancel
	cancel = func() { stop(nil); cancelBoth() }
	if fail := s.register(id, func() { stop(llm.ErrStopped) }, orDefault(t.MaxOperationsPerStream, DefaultMaxOperationsPerStream)); fail != nil {
		cancel()
		writeFailure(ctx, w, exec, fail)
		return
	}
	stopWithStream := s.bind(cancel)
	stopWatch := t.watch(ctx, cancel)
	end := func() {
		stopWatch()
		stopWithStream()
		cancel()
		s.unregister(id)
	}

	opCtx = graphql.StartOperationTrace(opCtx)
	rc, errs := exec.CreateOperationContext(opCtx, params)
	switch {
	case errs != nil:
		end()
		writeErrors(graphql.WithOperationContext(ctx, rc), w, exec, http.StatusBadRequest, errs)
		return
	case r.Method == http.MethodGet && rc.Operation.Operation == ast.Mutation:
		end()
		w.Header().Set("Allow", http.MethodPost)
		writeFailure(graphql.WithOperationContext(ctx, rc), w, exec, mutationOverGET())
		return
	}

	go t.runOperation(s, id, graphql.WithOperationContext(opCtx, rc), exec, rc, end)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusAccepted)
	body, _ := json.Marshal(map[string]any{"extensions": map[string]string{"operationId": id}})
	_, _ = w.Write(body)
}

// register adds a running operation, unless the stream is closing, has one of that
// ID, or has as many as it may.
func (s *stream) register(id string, cancel context.CancelFunc, limit int) *failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closing:
		return notFound()
	case s.ops[id] != nil:
		return &failure{status: http.StatusConflict, code: models.CodeConflict, field: "extensions.operationId",
			message: "an operation with this ID is running on this stream: choose another ID"}
	case len(s.ops) >= limit:
		return &failure{status: http.StatusTooManyRequests, code: models.CodeRateLimited, field: "extensions.operationId",
			message: fmt.Sprintf("this stream runs %d operations, the most it may: stop one first", limit)}
	}
	s.ops[id] = cancel
	s.running.Add(1)
	return nil
}

// bind runs cancel when the stream ends, unless the returned stop is called first.
func (s *stream) bind(cancel context.CancelFunc) (stop func() bool) {
	return context.AfterFunc(s.ctx, cancel)
}

// unregister forgets a running operation that has sent its last event.
func (s *stream) unregister(id string) {
	s.mu.Lock()
	delete(s.ops, id)
	s.mu.Unlock()
	s.running.Done()
}

// runOperation runs one operation of a stream and sends its results, then its
// complete; end runs last.
func (t *Transport) runOperation(s *stream, id string, ctx context.Context, exec graphql.GraphExecutor,
	rc *graphql.OperationContext, end func(),
) {
	defer end()
	defer func() {
		// complete is the operation's last event, whether or not it ran to its end.
		select {
		case s.events <- completeEvent(id):
		case <-s.gone:
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			t.logger().LogAttrs(ctx, slog.LevelError, "panic in sse operation", slog.String("id", id),
				slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
			b, err := nextEvent(id, &graphql.Response{Errors: gqlerror.List{{
				Message: "internal server error", Extensions: map[string]any{"code": models.CodeInternal},
			}}})
			if err == nil {
				select {
				case s.events <- b:
				case <-s.gone:
				}
			}
		}
	}()
	t.run(ctx, exec, rc, id, func(b []byte) bool {
		select {
		case s.events <- b:
			return true
		case <-ctx.Done():
			return false
		case <-s.gone:
			return false
		}
	})
}

// stop answers a DELETE: the operation named by ?operationId= stops and sends its
// complete. An ID the stream does not run (any more) is answered 200 as well: the
// client may stop an operation that has just completed.
func (t *Transport) stop(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, token string) {
	s, fail := t.lookup(r, token)
	if fail != nil {
		writeFailure(r.Context(), w, exec, fail)
		return
	}
	id := r.URL.Query().Get("operationId")
	if id == "" {
		writeFailure(r.Context(), w, exec, badRequest("operationId",
			"DELETE needs the operation to stop: send its ID as ?operationId="))
		return
	}
	s.mu.Lock()
	cancel := s.ops[id]
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	w.WriteHeader(http.StatusOK)
}
