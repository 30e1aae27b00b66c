package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/inkgraph/inkgraph/internal/platform/clientip"
	"github.com/inkgraph/inkgraph/internal/platform/logging"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/internal/platform/tracing"
	"github.com/inkgraph/inkgraph/models"
)

// What the server observes of every request and operation: one access line per HTTP
// request, metrics (metrics.HTTPRequests, HTTPDuration, Operations, OperationDuration,
// OpenSubscriptions, RateLimited) and spans ("<METHOD> <route>" per request, "<type>
// <name>" per operation, "<Type>.<field>" per root field). It is on every request's
// path, so it is built to cost little: one context value and one request copy per
// request, no random reads (logging.NewID counts), no regular expression, and the
// operation folded into the access line rather than logged on a line of its own.

// Transports, as the subscriptions gauge labels them.
const (
	transportHTTP      = "http"
	transportWebSocket = "websocket"
	transportSSE       = "sse"
)

// routeUnmatched labels requests no route matched.
const routeUnmatched = "unmatched"

// requestState is what the middleware knows of one request, in one allocation: the
// response recorder, the transport, the route once the mux has matched it, and the
// GraphQL operation a plain HTTP or SSE request ran, for the access line.
type requestState struct {
	rec       recorder
	transport string
	route     string
	op        operationSummary
}

// operationSummary is what the access line says of a request's operation.
type operationSummary struct {
	id, name, kind, code string
}

type requestStateKey struct{}

// stateOf returns the request's state, or nil outside the middleware.
func stateOf(ctx context.Context) *requestState {
	st, _ := ctx.Value(requestStateKey{}).(*requestState)
	return st
}

// serverSpan starts a request's span: made once, as building the option allocates
// (the tracer only reads it).
var serverSpan = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}

// observe is the outermost middleware: it resolves the client's address (the
// connection's peer, or, when the peer is one of TrustedProxies, the right-most
// X-Forwarded-For address that is not; per-address budgets count it), gives the
// request an ID (the caller's X-Request-ID when it is sane), starts its server span
// (continuing the caller's traceparent), and once the request is done counts it and
// writes its access line.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &requestState{rec: recorder{ResponseWriter: w, status: http.StatusOK}, transport: transportOf(r)}
		id := ""
		if v := r.Header["X-Request-Id"]; len(v) > 0 {
			id = v[0]
		}
		if !saneRequestID(id) {
			id = logging.NewID()
		}
		w.Header()["X-Request-Id"] = []string{id}
		addr := clientip.Resolve(r.RemoteAddr, r.Header["X-Forwarded-For"], s.cfg.TrustedProxies)

		ctx := r.Context()
		if s.tracedRequest(r.Header) {
			ctx = s.propagator.Extract(ctx, propagation.HeaderCarrier(r.Header))
		}
		// With tracing off the request's span is its caller's, if it sent one: the
		// one a no-op tracer would start carries nothing else.
		span := trace.SpanFromContext(ctx)
		if !tracing.Off(s.tp) {
			ctx, span = s.tracer.Start(ctx, methodLabel(r.Method), serverSpan...)
		}
		ctx = clientip.With(ctx, addr)
		ctx = logging.WithRequestID(ctx, id)
		ctx = context.WithValue(ctx, requestStateKey{}, st)
		r = r.WithContext(ctx)
		finished := false
		defer func() {
			// A handler that panics (net/http recovers it and drops the connection) is
			// still counted, its span ended and its access line written: as a 500 when
			// it had answered nothing yet.
			if v := recover(); v != nil {
				if !finished {
					if !st.rec.wrote {
						st.rec.status = http.StatusInternalServerError
					}
					s.finish(ctx, r, st, span, addr, start)
				}
				panic(v)
			}
		}()
		next.ServeHTTP(&st.rec, r)
		finished = true
		s.finish(ctx, r, st, span, addr, start)
	})
}

// finish counts a request that is done, ends its span and writes its access line.
func (s *Server) finish(ctx context.Context, r *http.Request, st *requestState, span trace.Span, addr netip.Addr, start time.Time) {
	elapsed := time.Since(start)
	route := st.route
	if route == "" {
		route = s.routeOf(r)
	}
	method := methodLabel(r.Method)
	status := st.rec.status
	m := s.httpSeries.getHTTP(route, method, status)
	if st.transport == transportSSE && strings.HasPrefix(st.rec.Header().Get("Content-Type"), "text/event-stream") {
		// A stream lasts as long as its subscription (hours): counted, but kept
		// out of the route's latency, which it would swamp. Only what was served
		// as a stream: clients such as urql list text/event-stream in the Accept
		// of every request.
		m.requests.Inc()
	} else {
		m.observe(elapsed)
	}
	if span.IsRecording() {
		if route != routeUnmatched {
			span.SetName(method + " " + route)
			span.SetAttributes(attribute.String("http.route", route))
		}
		span.SetAttributes(attribute.String("http.request.method", method),
			attribute.Int("http.response.status_code", status))
		if status >= http.StatusInternalServerError {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
	}
	span.End()
	s.logAccess(ctx, r, st, addr, elapsed)
	if st.transport == transportWebSocket {
		// The socket lives on after this handler returns, with st in its
		// context: let go of the HTTP server's writer (its buffers and the
		// request), which the socket never uses (about 9 KiB a socket).
		st.rec.ResponseWriter = nil
	}
}

// tracedRequest reports whether h has any of the propagator's headers (traceparent,
// tracestate, baggage): Extract looks them up by keys it spells in lower case, which
// costs an allocation each for every request that has none.
func (s *Server) tracedRequest(h http.Header) bool {
	for _, k := range s.propagation {
		if len(h[k]) > 0 {
			return true
		}
	}
	return false
}

// logAccess writes the request's access line, with its operation when it ran one,
// through logging.Log: production's logger writes it without slog's machinery.
func (s *Server) logAccess(ctx context.Context, r *http.Request, st *requestState, addr netip.Addr, elapsed time.Duration) {
	client := ""
	if addr.IsValid() {
		client = addr.String()
	}
	attrs := [10]slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("client", client),
		slog.Int("status", st.rec.status),
		slog.Int("bytes", st.rec.bytes),
		// Whole microseconds: slog's JSON handler formats floats through encoding/json.
		slog.Int64("duration_us", elapsed.Microseconds()),
	}
	n := 6
	if op := st.op; op.kind != "" || op.code != "" {
		attrs[6] = slog.String("operation_id", op.id)
		attrs[7] = slog.String("operation_name", op.name)
		attrs[8] = slog.String("operation_type", op.kind)
		attrs[9] = slog.String("operation_code", op.code)
		n = 10
	}
	logging.Log(ctx, s.logger, slog.LevelInfo, "http request", attrs[:n]...)
}

// routed wraps a mux so that the request's state learns the route it matched.
func routed(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		// ServeMux sets r.Pattern on the request it is given.
		if st := stateOf(r.Context()); st != nil && st.route == "" && r.Pattern != "" && r.Pattern != "/" {
			st.route = patternRoute(r.Pattern)
		}
	})
}

// routedTo serves the requests for route with h, and tells the request's state so.
func routedTo(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st := stateOf(r.Context()); st != nil && st.route == "" {
			st.route = route
		}
		h.ServeHTTP(w, r)
	})
}

// byPath serves requests for exactly path with h, and the others with other.
func byPath(path string, h, other http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path {
			h.ServeHTTP(w, r)
			return
		}
		other.ServeHTTP(w, r)
	})
}

// routeOf is the route of a request answered before it reached the mux (a CORS
// preflight, a body over the limit), or routeUnmatched.
func (s *Server) routeOf(r *http.Request) string {
	if _, pattern := s.routes.Handler(r); pattern != "" && pattern != "/" {
		return patternRoute(pattern)
	}
	return routeUnmatched
}

// patternRoute is a mux pattern's path: "POST /webhooks/stripe" → "/webhooks/stripe".
func patternRoute(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return pattern[i+1:]
	}
	return pattern
}

// header is h.Get(key) for a key in canonical form (http.CanonicalHeaderKey's), read
// without canonicalizing it again as Get does on every call: a few of those on every
// request, and a key not in canonical form (csrfHeader) allocates each time.
func header(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// transportOf tells WebSocket upgrades and Server-Sent Events streams from plain
// requests.
func transportOf(r *http.Request) string {
	if strings.EqualFold(header(r.Header, "Upgrade"), "websocket") {
		return transportWebSocket
	}
	if strings.Contains(header(r.Header, "Accept"), "text/event-stream") {
		return transportSSE
	}
	return transportHTTP
}

// saneRequestID accepts a caller's X-Request-ID only if it is short and plain
// ([A-Za-z0-9._-]{1,64}), so it can be logged and echoed safely.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := range len(id) {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// methodLabel bounds the method label: the standard methods, or OTHER.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodHead, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// statusLabels are the status codes' labels, made once.
var statusLabels = func() (l [600]string) {
	for i := range l {
		l[i] = strconv.Itoa(i)
	}
	return l
}()

func statusLabel(code int) string {
	if code >= 0 && code < len(statusLabels) {
		return statusLabels[code]
	}
	return strconv.Itoa(code)
}

// Operation labels.
const (
	// operationAnonymous labels operations without a name.
	operationAnonymous = "anonymous"
	// operationOther labels named operations beyond the first maxOperationNames.
	operationOther = "other"
	// operationInvalid labels requests refused before an operation was chosen (a
	// document that does not parse, validate or pass the shape limits).
	operationInvalid = "invalid"
	// maxOperationNames is how many distinct operation names a process labels by name:
	// the first that a signed-in caller ran successfully, in the order it sees them.
	// Clients choose names, so a bound keeps the series count fixed; a real frontend
	// has far fewer. A name is admitted only by a successful operation of a signed-in
	// caller, so documents the rate limit or validation refuses, and anonymous probes,
	// cannot use up the slots; until then its operations count as "other".
	maxOperationNames = 200
	// maxOperationNameLen is the longest name labelled as itself: a GraphQL name may
	// be nearly as long as the body, a label should not.
	maxOperationNameLen = 64
)

// operationNames labels operation names, bounded. It is safe for concurrent use.
type operationNames struct {
	known sync.Map // name → struct{}
	mu    sync.Mutex
	count int
}

// label is name's label: "anonymous" when empty; itself when known, or when admit
// is set and the bound allows (it is then known from now on); "other" otherwise,
// and for names longer than maxOperationNameLen.
func (n *operationNames) label(name string, admit bool) string {
	if name == "" {
		return operationAnonymous
	}
	if len(name) > maxOperationNameLen {
		return operationOther
	}
	if _, ok := n.known.Load(name); ok {
		return name
	}
	if !admit {
		return operationOther
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.known.Load(name); ok {
		return name
	}
	if n.count >= maxOperationNames {
		return operationOther
	}
	n.count++
	n.known.Store(name, struct{}{})
	return name
}

// signedIn reports whether ctx has a caller.
func signedIn(ctx context.Context) bool {
	_, ok := models.SignedIn(ctx)
	return ok
}

// outcome is an operation's outcome label: OK, or the first error's extensions.code
// (UNKNOWN when it has none that looks like a code: the label stays bounded).
func outcome(resp *graphql.Response) string {
	if resp == nil || len(resp.Errors) == 0 {
		return "OK"
	}
	code, _ := resp.Errors[0].Extensions["code"].(string)
	if !plainCode(code) {
		return "UNKNOWN"
	}
	return code
}

// plainCode: upper-case letters and underscores, at most 40.
func plainCode(code string) bool {
	if code == "" || len(code) > 40 {
		return false
	}
	for i := range len(code) {
		if c := code[i]; (c < 'A' || c > 'Z') && c != '_' {
			return false
		}
	}
	return true
}

// observer counts operations, times them, traces them and their root fields, and
// gives each its ID. Its operation interceptor runs in the operationChain, outside
// every other but the loaders', so refusals (the rate limit's) are counted with their
// code; its response and root-field interceptors are gqlgen's (observerResponses).
type observer struct {
	logger *slog.Logger
	tracer trace.Tracer
	tp     trace.TracerProvider // made tracer (tracing.Off)
	names  *operationNames
	series seriesCache
	// roots are the schema's root type names by operation type.
	roots map[ast.Operation]string
}

var (
	_ graphql.HandlerExtension     = (*observer)(nil)
	_ graphql.OperationInterceptor = (*observer)(nil)
	_ graphql.ResponseInterceptor  = (*observer)(nil)
	_ graphql.RootFieldInterceptor = (*observer)(nil)
)

func (*observer) ExtensionName() string { return "Observe" }

func (o *observer) Validate(schema graphql.ExecutableSchema) error {
	o.roots = map[ast.Operation]string{}
	for op, t := range map[ast.Operation]*ast.Definition{
		ast.Query: schema.Schema().Query, ast.Mutation: schema.Schema().Mutation, ast.Subscription: schema.Schema().Subscription,
	} {
		if t != nil {
			o.roots[op] = t.Name
		}
	}
	return nil
}

// InterceptOperation gives the operation its ID and span, and counts its outcome at
// its first response (a subscription's first event), or, for a subscription ended
// before any, CANCELLED when it ends.
func (o *observer) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx)
	if op.Operation == nil {
		return next(ctx)
	}
	// The operation's own name: a client need not send operationName for a document
	// of one operation.
	opName := op.Operation.Name
	kind := string(op.Operation.Operation)
	// Whether the caller signed in is asked only when a named operation succeeds (its
	// name may become a label then): an anonymous caller's answer is an error built
	// each time.
	callerCtx := ctx
	id := logging.NewID()
	ctx = logging.WithOperationID(ctx, id)

	st := stateOf(ctx)
	socket := st != nil && st.transport == transportWebSocket
	span := trace.SpanFromContext(ctx)
	switch {
	case tracing.Off(o.tp):
		span = nil // nothing would record the operation's span
	case socket:
		// A socket runs many operations over its life: each is a trace of its own,
		// linked to the connection's.
		opts := []trace.SpanStartOption{trace.WithNewRoot()}
		if link := trace.LinkFromContext(ctx); link.SpanContext.IsValid() {
			opts = append(opts, trace.WithLinks(link))
		}
		ctx, span = o.tracer.Start(ctx, kind, opts...)
	case span.IsRecording() || st == nil:
		ctx, span = o.tracer.Start(ctx, kind)
	default:
		// The request is not traced (tracing is off, or its trace is not sampled):
		// neither are its parts, which saves starting spans no one records. The
		// request's span stays in the context; nothing here ends it.
		span = nil
	}
	if span != nil && span.IsRecording() {
		if opName != "" && len(opName) <= maxOperationNameLen {
			span.SetName(kind + " " + opName)
		}
		span.SetAttributes(attribute.String("graphql.operation.type", kind),
			attribute.String("graphql.operation.name", opName))
	}
	switch {
	case socket:
		// Through logging.Log, as the access lines: every chat's start pays for this
		// line, and slog's handler (its record, the caller's PC, a write of its own)
		// made it about a tenth of a start's CPU time.
		logging.Log(ctx, o.logger, slog.LevelInfo, "graphql operation",
			slog.String("operation_name", opName), slog.String("operation_type", kind))
	case st != nil:
		st.op = operationSummary{id: id, name: opName, kind: kind}
	}

	start := op.Stats.OperationStart
	if start.IsZero() {
		start = time.Now()
	}
	var counted atomic.Bool
	count := func(code string) {
		name := o.names.label(opName, code == "OK" && opName != "" && signedIn(callerCtx))
		o.series.get(name, kind, code).observe(time.Since(start))
		if code != "OK" && span != nil && span.IsRecording() {
			span.SetStatus(codes.Error, code)
		}
	}
	subscription := op.Operation.Operation == ast.Subscription
	if subscription {
		// Runs on a goroutine of its own: it leaves the request's state alone.
		context.AfterFunc(ctx, func() {
			if counted.CompareAndSwap(false, true) {
				count("CANCELLED")
			}
			if span != nil {
				span.End()
			}
		})
	}
	responses := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		if counted.CompareAndSwap(false, true) {
			code := outcome(resp)
			if code != "OK" && span != nil && span.IsRecording() {
				span.RecordError(resp.Errors[0])
			}
			count(code)
			if st != nil && !socket {
				// The transport calls this on the request's goroutine.
				st.op.code = code
			}
			if !subscription && span != nil {
				span.End()
			}
		}
		return resp
	}
}

// InterceptResponse counts the requests refused before their operation ran (parse,
// validation, shape, depth and complexity limits): they never reach
// InterceptOperation.
func (o *observer) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	// InterceptOperation gave every operation that ran an ID.
	if logging.OperationID(ctx) != "" || !graphql.HasOperationContext(ctx) {
		return resp
	}
	op := graphql.GetOperationContext(ctx)
	name, kind, opName := operationInvalid, "none", ""
	if op.Operation != nil {
		opName = op.Operation.Name
		name, kind = o.names.label(opName, false), string(op.Operation.Operation)
	}
	code := outcome(resp)
	m := o.series.get(name, kind, code)
	if op.Stats.OperationStart.IsZero() {
		m.requests.Inc()
	} else {
		m.observe(time.Since(op.Stats.OperationStart))
	}
	if st := stateOf(ctx); st != nil && st.transport != transportWebSocket {
		st.op = operationSummary{name: opName, code: code}
		if op.Operation != nil {
			st.op.kind = kind
		}
	}
	return resp
}

// InterceptRootField traces each root field ("Query.onboardingSummary"), its
// resolver and everything under it; errors on its path are recorded on its span.
func (o *observer) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	fc := graphql.GetRootFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || strings.HasPrefix(fc.Field.Name, "__") ||
		!trace.SpanFromContext(ctx).IsRecording() {
		// As for operations: the parts of an operation not traced are not either.
		return next(ctx)
	}
	root := o.roots[graphql.GetOperationContext(ctx).Operation.Operation]
	ctx, span := o.tracer.Start(ctx, root+"."+fc.Field.Name)
	span.SetAttributes(attribute.String("graphql.field.name", fc.Field.Name))
	m := next(ctx)
	alias := ast.PathName(fc.Field.Alias)
	for _, err := range graphql.GetErrors(ctx) {
		if len(err.Path) > 0 && err.Path[0] == alias {
			span.RecordError(err)
			code, _ := err.Extensions["code"].(string)
			span.SetStatus(codes.Error, code)
			break
		}
	}
	span.End()
	return m
}

// subscriptionGauge counts running subscriptions by transport and root field
// (metrics.OpenSubscriptions): one more when a subscription starts, one less when its
// context ends. It is the innermost operation interceptor, so a subscription the rate
// limit refuses never counts.
type subscriptionGauge struct{}

var (
	_ graphql.HandlerExtension     = (*subscriptionGauge)(nil)
	_ graphql.OperationInterceptor = (*subscriptionGauge)(nil)
)

func (*subscriptionGauge) ExtensionName() string { return "SubscriptionGauge" }

func (*subscriptionGauge) Validate(graphql.ExecutableSchema) error { return nil }

func (g *subscriptionGauge) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx)
	if op.Operation == nil || op.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	field := rootField(op.Operation.SelectionSet, 0)
	transport := transportHTTP
	if st := stateOf(ctx); st != nil {
		transport = st.transport
	}
	gauge := metrics.OpenSubscriptions.WithLabelValues(transport, field)
	gauge.Inc()
	context.AfterFunc(ctx, gauge.Dec)
	return next(ctx)
}

// rootField is the name of a subscription's root field: the first field of sel, in
// itself or in the fragments it spreads, that is not introspection ("" if none). A
// subscription has one root field (validation sees to it), so there is no need for
// gqlgen's CollectFields, whose result the operation would keep for its whole life.
func rootField(sel ast.SelectionSet, depth int) string {
	if depth > 16 { // fragments cannot cycle (validation), but stay bounded
		return ""
	}
	for _, s := range sel {
		var name string
		switch s := s.(type) {
		case *ast.Field:
			name = s.Name
			if strings.HasPrefix(name, "__") {
				name = ""
			}
		case *ast.InlineFragment:
			name = rootField(s.SelectionSet, depth+1)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				name = rootField(s.Definition.SelectionSet, depth+1)
			}
		}
		if name != "" {
			return name
		}
	}
	return ""
}

// seriesCache remembers the collectors of label sets seen, so a request looks its
// series up in one map read rather than through the vectors' label hashing and
// checks. Its keys are bounded as the labels are. It is safe for concurrent use.
type seriesCache struct {
	mu sync.RWMutex
	m  map[seriesKey]*series
}

// seriesKey is a label set: HTTP requests' (route, method, status) or operations'
// (name, type, code).
type seriesKey struct {
	a, b, c string
	n       int
}

// series are one label set's counter and histogram.
type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

func (s *series) observe(d time.Duration) {
	s.requests.Inc()
	s.duration.Observe(d.Seconds())
}

// getHTTP returns the HTTP series of route, method and status.
func (c *seriesCache) getHTTP(route, method string, status int) *series {
	return c.lookup(seriesKey{a: route, b: method, n: status}, func() *series {
		return &series{
			requests: metrics.HTTPRequests.WithLabelValues(route, method, statusLabel(status)),
			duration: metrics.HTTPDuration.WithLabelValues(route),
		}
	})
}

// get returns the operation series of name, type and code.
func (c *seriesCache) get(name, kind, code string) *series {
	return c.lookup(seriesKey{a: name, b: kind, c: code}, func() *series {
		return &series{
			requests: metrics.Operations.WithLabelValues(name, kind, code),
			duration: metrics.OperationDuration.WithLabelValues(name, kind),
		}
	})
}

// lookup returns k's series, made by make the first time.
func (c *seriesCache) lookup(k seriesKey, make func() *series) *series {
	c.mu.RLock()
	s, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[k]; ok {
		return s
	}
	if c.m == nil {
		c.m = map[seriesKey]*series{}
	}
	s = make()
	c.m[k] = s
	return s
}
