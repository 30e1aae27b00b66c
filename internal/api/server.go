// Package api wires Inkgraph's HTTP surface in one place: the GraphQL handler with
// its transports, limits (depth, complexity, the per-tier rate limit), error presenter
// and loaders; GraphiQL; health; and the middleware every request passes (client
// address, request ID and logging, CORS, body limit, auth).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/inkgraph/inkgraph/dataloaders"
	"github.com/inkgraph/inkgraph/internal/api/httptransport"
	"github.com/inkgraph/inkgraph/internal/api/playground"
	"github.com/inkgraph/inkgraph/internal/api/ssetransport"
	"github.com/inkgraph/inkgraph/internal/api/webhookhttp"
	"github.com/inkgraph/inkgraph/internal/api/wstransport"
	"github.com/inkgraph/inkgraph/internal/app"
	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/backup/localhttp"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/platform/buildinfo"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/models"
	"github.com/inkgraph/inkgraph/resolvers"
)

// instrumentation names the server's tracer.
const instrumentation = "github.com/inkgraph/inkgraph/internal/api"

// queryCacheSize is how many parsed documents are kept (and their costs).
const queryCacheSize = 1000

// graphqlPath is the GraphQL endpoint's: every transport's.
const graphqlPath = "/graphql"

// stripeWebhookPath is where Stripe delivers events.
const stripeWebhookPath = "/webhooks/stripe"

// Readiness reports whether the server can serve: the database answers and its
// migrations are current.
type Readiness func(ctx context.Context) error

// Deps are what the server serves.
type Deps struct {
	Config config.Config
	Logger *slog.Logger
	// Services are the areas, as app.NewServices assembled them.
	Services *app.Services
	Ready    Readiness
	// Now is the clock of the rate limit's tier cache and of the WebSocket upgrade
	// rate; time.Now when nil.
	Now func() time.Time
	// TracerProvider makes the server's spans; otel.GetTracerProvider() (what
	// tracing.Setup installed) when nil.
	TracerProvider trace.TracerProvider
	// Propagator reads a caller's trace context (traceparent); otel's global one
	// (W3C, as tracing.Setup installs it) when nil.
	Propagator propagation.TextMapPropagator
}

// Server is Inkgraph's HTTP server.
type Server struct {
	cfg     config.Config
	logger  *slog.Logger
	tokens  *auth.Tokens
	handler http.Handler
	ws      *wstransport.Transport

	tracer trace.Tracer
	// tp made tracer: tracing.Off(tp) skips starting spans that would record nothing.
	tp         trace.TracerProvider
	propagator propagation.TextMapPropagator
	// propagation are the propagator's headers, canonical.
	propagation []string
	// routes is the API's mux, which names a request's route.
	routes     *http.ServeMux
	httpSeries seriesCache

	// revocations are the ended sessions every access token is checked against;
	// accounts checks a socket's session once when it opens.
	revocations *auth.Revocations
	accounts    *auth.Service

	// streams ends Server-Sent Events subscriptions at shutdown: they are ordinary
	// requests that http.Server.Shutdown would otherwise wait for indefinitely.
	streams     context.Context
	stopStreams context.CancelFunc
}

// New builds the server.
func New(d Deps) *Server {
	svc := d.Services
	s := &Server{cfg: d.Config, logger: d.Logger, tokens: svc.Accounts.Tokens(),
		revocations: svc.Accounts.Revocations(), accounts: svc.Accounts}
	s.streams, s.stopStreams = context.WithCancel(context.Background())
	tp := d.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	s.tracer, s.tp = tp.Tracer(instrumentation), tp
	s.propagator = d.Propagator
	if s.propagator == nil {
		s.propagator = otel.GetTextMapPropagator()
	}
	// W3C's headers (what tracing.Setup installs, perhaps after New: the global
	// propagator tells its fields only once set), and any others this one reads.
	s.propagation = []string{"Traceparent", "Tracestate", "Baggage"}
	for _, f := range s.propagator.Fields() {
		if k := http.CanonicalHeaderKey(f); !slices.Contains(s.propagation, k) {
			s.propagation = append(s.propagation, k)
		}
	}
	s.ws = &wstransport.Transport{
		Authenticate: s.authenticateSocket,
		InitTimeout:  d.Config.WSInitTimeout,
		KeepAlive:    d.Config.KeepAlive,
		CheckOrigin:  s.socketOriginAllowed,
		Logger:       d.Logger,
		Limits:       socketLimits(d.Config),
		ClientKey:    socketClient,
		Now:          d.Now,
	}

	res := &resolvers.Resolver{
		Accounts: svc.Accounts, Wizard: svc.Wizard, Billing: svc.Billing, Audit: svc.Audit, Backups: svc.Backups,
		Chat: svc.Chat, Playbooks: svc.Playbooks, Conversations: svc.Conversations, Teams: svc.Teams,
		Knowledge: svc.Knowledge, Logger: d.Logger,
	}
	gql := handler.New(resolvers.NewSchema(res))
	// Transports are tried in order: WebSocket upgrades and SSE first, so the plain
	// GET and POST transports only see what is theirs.
	gql.AddTransport(s.ws)
	gql.AddTransport(&ssetransport.Transport{KeepAlive: d.Config.KeepAlive, Now: d.Now, Logger: d.Logger, Detach: sseOperation, Watch: s.watchSSEOperation})
	gql.AddTransport(transport.Options{AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions}})
	gql.AddTransport(httptransport.GET{})
	gql.AddTransport(httptransport.POST{})
	queries := lru.New[*ast.QueryDocument](queryCacheSize)
	gql.SetQueryCache(queries)
	gql.SetParserTokenLimit(d.Config.MaxQueryTokens)
	if d.Config.Production {
		gql.SetDisableSuggestion(true)
		gql.SetValidationRulesFn(rulesWithoutSuggestions)
	} else {
		gql.Use(extension.Introspection{})
	}
	persisted := newPersistedQueries(svc, d.Logger)
	gql.Use(persisted)
	// After persisted queries, which fill the query in; before parsing and validation.
	gql.Use(ShapeLimits{
		FieldsPerSet: d.Config.MaxQueryFieldsPerSet, Selections: d.Config.MaxQuerySelections,
		Aliases: d.Config.MaxQueryAliases, FragmentSpreads: d.Config.MaxQueryFragmentSpreads,
		Directives: d.Config.MaxQueryDirectives, Variables: d.Config.MaxQueryVariables,
		IntrospectionFields: d.Config.MaxIntrospectionFields,
		NoIntrospection:     d.Config.Production,
		TokenLimit:          d.Config.MaxQueryTokens, Cache: queries,
	})
	gql.Use(&ComplexityLimit{Limit: d.Config.MaxQueryComplexity, Documents: queryCacheSize})
	gql.Use(NewDepthLimit(d.Config.MaxQueryDepth, queryCacheSize))
	gql.Use(DeferOnQueriesOnly{})
	gql.Use(sessionCookies{}) // the browser's cookies from a sign-in's or sign-out's answer
	// The operation interceptors, outermost first, in one chain.
	chain := operationChain{dataloaders.Extension{Sources: dataloaders.Sources{
		UsersByIDs:  svc.Accounts.UsersByIDs,
		Summary:     svc.Wizard.Summary,
		TeamMembers: svc.Teams.MembersOfTeams,
	}}}
	// The operation's ID, span, metrics and log: outside the rate limit, so a refusal
	// is logged with its operation's ID and counted with its code.
	obs := &observer{logger: d.Logger, tracer: s.tracer, tp: tp, names: &operationNames{}}
	chain = append(chain, obs)
	presenter := resolvers.ErrorPresenter(d.Logger)
	// Before the rate limit: an operation acting in a team spends the team's budget,
	// at the team's tier and seats.
	chain = append(chain, &teamGuard{teams: svc.Teams, audit: svc.Audit, logger: d.Logger})
	if d.Config.RateLimits {
		chain = append(chain, newRateLimit(d, presenter))
	}
	// Inside the rate limit, so refused keys still spend their owner's budget.
	chain = append(chain, &scopeGuard{present: presenter, audit: svc.Accounts.AuditKeyUse, logger: d.Logger})
	// The team guard's refusals, inside the rate limit and after the scopes:
	// operations refused for the team they name still spend the caller's own budget;
	// and the membership of its admitted subscriptions, followed only for operations
	// within their budget and scopes.
	chain = append(chain, teamInside{teams: svc.Teams, present: presenter, logger: d.Logger})
	// Inside the rate limit: only an admitted, valid operation registers its query.
	chain = append(chain, apqRegistrar{persisted})
	// Inside the rate limit: a refused subscription never counts as open.
	chain = append(chain, &subscriptionGauge{})
	gql.Use(chain)
	gql.Use(observerResponses{obs})
	gql.SetErrorPresenter(presenter)
	gql.SetRecoverFunc(resolvers.RecoverFunc(d.Logger))

	mux := http.NewServeMux()
	mux.Handle(graphqlPath, gql)
	// Stripe's own endpoint: no bearer token, signed body instead.
	mux.Handle("POST "+stripeWebhookPath, webhookhttp.Handler(svc.Billing, d.Logger))
	if !d.Config.Production {
		// The schema as SDL, for code generators: served where introspection is.
		mux.Handle("GET /schema.graphql", schemaHandler(resolvers.NewSchema(res).Schema()))
	}
	if d.Config.Playground {
		// GraphiQL from embedded assets at / and under /playground/; off, both are 404.
		page, err := playground.New(graphqlPath)
		if err != nil {
			panic(fmt.Sprintf("playground: the embedded assets are broken: %v", err)) // the binary's own files
		}
		page.Register(mux)
	}
	health := struct {
		Status string `json:"status"`
		buildinfo.Info
	}{"ok", buildinfo.Get()}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, health)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := d.Ready(ctx); err != nil {
			// The reason may name hosts and users: it goes to the log, not to the caller.
			s.logger.WarnContext(r.Context(), "not ready", "error", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})

	s.routes = mux
	// The API's middleware, the same on both ways in.
	apiChain := func(h http.Handler) http.Handler { return s.cors(s.limitBody(s.authenticate(h))) }
	api := apiChain(routed(mux))
	// The same chain straight to the GraphQL handler, for the path nearly every
	// request has: both muxes would choose it for that path, at a cost in matching
	// that showed on the request path's profile.
	graphqlAPI := apiChain(routedTo(graphqlPath, gql))
	root := http.NewServeMux()
	root.Handle("/", api)
	if d.Config.MetricsPublic {
		// Asked for: the admin listener serves it anyway. The profiler never is here.
		root.Handle("GET /metrics", metricsHandler())
	}
	if svc.LocalBlobs != nil {
		// Signed blob URLs: the signature is the credential, and a backup may be far
		// larger than any GraphQL request, so neither the body limit nor auth applies.
		blobs := localhttp.Handler(svc.LocalBlobs, d.Logger)
		root.Handle("PUT "+localhttp.Pattern, blobs)
		root.Handle("GET "+localhttp.Pattern, blobs)
	}
	s.handler = s.observe(byPath(graphqlPath, graphqlAPI, routed(root)))
	return s
}

// newRateLimit builds the per-tier rate limit from d.
func newRateLimit(d Deps, present graphql.ErrorPresenterFunc) *rateLimit {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	return &rateLimit{limiter: d.Services.Limiter, tiers: newTierCache(d.Services.Tiers, now), present: present, logger: d.Logger,
		now: now, schema: d.Config.SchemaRateLimit}
}

// Handler returns the server's root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves on ln until ctx ends, then shuts down gracefully: it stops accepting,
// interrupts the chat and playbook runs, which end with a retryable ERROR (after
// their USAGE) so that their clients know the answer was cut off, waits until those
// have gone out, then completes the other open subscriptions (WebSocket clients get
// complete and close 1001, SSE clients a complete event) and waits for running
// requests, all within ShutdownTimeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	runs := llm.NewDrain()
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		// Every request carries the drain, for the runs it starts.
		BaseContext: func(net.Listener) context.Context { return llm.WithDrain(context.Background(), runs) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.logger.Info("serving", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.logger.Info("shutting down", "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()

	var wg sync.WaitGroup
	var httpErr, wsErr error
	wg.Go(func() { httpErr = hs.Shutdown(sctx) })
	// The runs end first, each with its last events, while their subscriptions may
	// still send them: completing a subscription lets only its complete through. A
	// run counts until its subscription (or request) is over, last message sent.
	runs.Stop()
	if err := runs.Wait(sctx); err != nil {
		s.logger.Warn("chat or playbook runs still open at the shutdown deadline", "error", err)
	}
	s.stopStreams()
	wg.Go(func() { wsErr = s.ws.Shutdown(sctx) })
	wg.Wait()
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return errors.Join(httpErr, wsErr)
}

// authenticateSocket reads the access token from a WebSocket's connection_init payload:
// {"authorization": "Bearer <token>"}, or the token under another common key (see
// lookupAuthorization). No token: the connection is anonymous. A bad token, or one whose
// session has ended or does not exist: refused (4403).
func (s *Server) authenticateSocket(ctx context.Context, payload map[string]any) (context.Context, time.Time, error) {
	if team, ok := socketTeam(payload); ok {
		ctx = models.WithRequestedTeam(ctx, team)
	}
	raw := lookupAuthorization(payload)
	if raw == "" {
		// Non-browser clients may authenticate the upgrade request's header instead;
		// the connection then lives no longer than that token (or its session) either.
		if caller, err := models.CallerFrom(ctx); err == nil {
			return s.socketSession(ctx, caller)
		}
		if err := models.TokenErrorFrom(ctx); err != nil {
			return ctx, time.Time{}, socketAuthError(err)
		}
		return ctx, time.Time{}, nil
	}
	caller, err := s.verifyCredential(ctx, bearer(raw))
	if err != nil {
		return ctx, time.Time{}, socketAuthError(err)
	}
	return s.socketSession(models.WithCaller(ctx, caller), caller)
}

// socketTeam is the team a socket's operations act in: "team" in its connection_init
// payload (or X-Inkgraph-Team under "headers"), else the upgrade request's header,
// "" for none. A value that is not a string is returned as text, so that the guard
// refuses it rather than acting in the personal space.
func socketTeam(payload map[string]any) (string, bool) {
	v, ok := payloadValue(payload, teamParam)
	if !ok {
		if headers, hok := payloadValue(payload, "headers"); hok {
			if m, isMap := headers.(map[string]any); isMap {
				v, ok = payloadValue(m, teamHeader)
			}
		}
	}
	if !ok {
		return "", false
	}
	if s, isString := v.(string); isString {
		return requestedTeam(s), true
	}
	return fmt.Sprint(v), true
}

// payloadValue is the non-null value of key in a connection_init payload: under its
// exact spelling first (so that a payload with both "team" and "Team" does not depend
// on the map's order), else under any letter case.
func payloadValue(payload map[string]any, key string) (any, bool) {
	if v, ok := payload[key]; ok {
		return v, v != nil
	}
	for k, v := range payload {
		if strings.EqualFold(k, key) {
			return v, v != nil
		}
	}
	return nil, false
}

// verifyCredential returns the caller a bearer credential stands for: an access token
// (checked by signature, no database read) or an API key (`ink_…`, read from the
// database, which records its use).
func (s *Server) verifyCredential(ctx context.Context, credential string) (models.Caller, error) {
	if auth.IsAPIKey(credential) {
		return s.accounts.AuthenticateAPIKey(ctx, credential)
	}
	return s.tokens.Verify(credential)
}

// socketAuthError is how a socket's refused credential closes it: 4403 with the
// reason when the credential is bad, 1011 (retry) when it could not be checked (an API
// key's database read failed).
func socketAuthError(err error) error {
	if models.ErrorCode(err) != models.CodeUnauthenticated {
		return fmt.Errorf("%w: %s", wstransport.ErrAuthUnavailable, models.ErrorMessage(err))
	}
	return errors.New(models.ErrorMessage(err))
}

// Close reasons (with 4403) of a socket whose session ended or whose API key was revoked.
const (
	reasonSessionRevoked = "session revoked: sign in again"
	reasonAPIKeyRevoked  = "API key revoked" //nolint:gosec // a close reason, not a credential
)

// socketSession lets a socket live as long as its token and its session: it closes
// with 4403 when the session is revoked, on any instance. The watch comes before the
// check, so a revocation between the two is not missed; it ends with the connection.
// The check reads the session once: a token naming a session that does not exist is
// refused here. A database that does not answer then lets the socket open on the
// revocation set alone (logged): refusing with 4403 would tell clients to stop
// reconnecting for good.
func (s *Server) socketSession(ctx context.Context, caller models.Caller) (context.Context, time.Time, error) {
	if revoke, ok := wstransport.Revoker(ctx); ok {
		reason := reasonSessionRevoked
		if caller.APIKeyID != "" {
			reason = reasonAPIKeyRevoked
		}
		stop := s.revocations.Watch(auth.CredentialID(caller), func() { revoke(reason) })
		context.AfterFunc(ctx, stop)
	}
	if err := s.accounts.CheckSession(ctx, caller); err != nil {
		if models.ErrorCode(err) != models.CodeUnauthenticated {
			s.logger.ErrorContext(ctx, "check a socket's session: opened on the revocation set alone", "error", err)
			return ctx, caller.ExpiresAt, nil
		}
		return ctx, time.Time{}, errors.New(models.ErrorMessage(err))
	}
	return ctx, caller.ExpiresAt, nil
}

// tokenKeys are the connectionParams keys socket clients put an access token under, in
// the order they are looked up (any case of each): the HTTP header's name, then the
// names graphql-ws, Apollo and urql examples use.
var tokenKeys = []string{"authorization", "authToken", "token", "accessToken", "access_token"}

// lookupAuthorization finds the access token in a connection_init payload: under one of
// tokenKeys, or under one of them inside "headers" (as GraphiQL sends it), with or
// without "Bearer ". An empty result means none was sent. A value that is not a string
// is returned as text, so that it is refused as a bad token rather than ignored.
func lookupAuthorization(payload map[string]any) string {
	for _, key := range tokenKeys {
		v, ok := payloadValue(payload, key)
		if !ok {
			continue
		}
		if s, isString := v.(string); isString {
			if strings.TrimSpace(s) != "" {
				return s
			}
			continue
		}
		if strings.EqualFold(key, "authorization") {
			// Refused (4403) rather than taken for anonymous: it was meant as a token.
			return fmt.Sprint(v)
		}
		// Another client's field of the same name (a number, an object): not ours.
	}
	if headers, ok := payloadValue(payload, "headers"); ok {
		if m, isMap := headers.(map[string]any); isMap {
			return lookupAuthorization(m)
		}
	}
	return ""
}

func bearer(v string) string {
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return strings.TrimSpace(v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
