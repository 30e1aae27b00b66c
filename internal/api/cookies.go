package api

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/inkgraph/inkgraph/internal/platform/clientip"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inkgraph/inkgraph/models"
)

// Cookie sessions (INKGRAPH_COOKIE_SESSIONS) keep a browser's tokens where its scripts
// cannot read them. A request asks for them with the CSRF header: a sign-in (any root
// mutation answering AuthPayload) then sets the access and refresh tokens as HttpOnly,
// SameSite=Strict cookies scoped to /graphql and answers them as empty strings;
// refreshToken and logout without an argument read the refresh cookie; logout clears
// both. A request without Authorization is authenticated by the access cookie only
// with the CSRF header (OWASP's custom request header: a cross-site page cannot send it
// without a CORS preflight, which only allowed origins pass), and a WebSocket upgrade
// (which cannot carry it) only from an Origin allowed by name or the server's own.
// A bearer client, which sends no CSRF header, sees nothing of this.
const (
	// csrfHeader marks a request as a browser's that uses cookie sessions.
	csrfHeader = "X-Inkgraph-CSRF"
	// accessCookie and refreshCookie hold the session's tokens.
	accessCookie  = "inkgraph_access"
	refreshCookie = "inkgraph_refresh"
	// cookiePath scopes both cookies to the API: pages, health and blob URLs on the same
	// host never receive them.
	cookiePath = graphqlPath
)

// csrfKey is csrfHeader as requests' header maps hold it.
var csrfKey = http.CanonicalHeaderKey(csrfHeader)

// errCSRFHeader refuses a session cookie sent without the CSRF header.
var errCSRFHeader = models.Errorf(models.CodeUnauthenticated,
	"the session cookie authenticates only requests with the '%s: 1' header: send it with every request", csrfHeader)

// cookieCaller authenticates a request that has no Authorization header by its access
// cookie. presented is false when there is no cookie to use (or cookie sessions are
// off): the request is anonymous. Otherwise err says why the cookie was refused.
func (s *Server) cookieCaller(r *http.Request) (caller models.Caller, presented bool, err error) {
	if !s.cfg.CookieSessions {
		return models.Caller{}, false, nil
	}
	c, cerr := r.Cookie(accessCookie)
	if cerr != nil || c.Value == "" {
		if header(r.Header, csrfKey) != "" && hasCookie(r, refreshCookie) {
			// The access cookie lapsed with its token (Max-Age): say what to do.
			return models.Caller{}, true, models.Errorf(models.CodeUnauthenticated, "access token expired: refresh it (refreshToken without an argument uses the session cookie)")
		}
		return models.Caller{}, false, nil
	}
	if transportOf(r) == transportWebSocket {
		// A browser cannot add a header to a WebSocket upgrade; the Origin it sends is
		// checked instead (and the upgrade refused: socketOriginAllowed).
		if !s.originNamed(r) {
			return models.Caller{}, true, models.Errorf(models.CodeUnauthenticated, "the session cookie authenticates sockets only from an allowed Origin")
		}
	} else if header(r.Header, csrfKey) == "" {
		return models.Caller{}, true, errCSRFHeader
	}
	caller, err = s.tokens.Verify(c.Value)
	if err == nil {
		err = s.revocations.Check(caller)
	}
	return caller, true, err
}

// socketOriginAllowed is the WebSocket upgrade's Origin check: an upgrade the access
// cookie would authenticate needs an Origin allowed by name (not by "*") or the
// server's own; a missing Origin is not enough, as it is for other clients.
func (s *Server) socketOriginAllowed(r *http.Request) bool {
	if s.cfg.CookieSessions && header(r.Header, "Authorization") == "" && hasCookie(r, accessCookie) {
		return s.originNamed(r)
	}
	return s.originAllowed(r)
}

// withSessionCookies prepares a request for cookie sessions: it puts the refresh
// cookie (or why it cannot be used) in the context for refreshToken and logout, keeps
// a GET answered for a cookie out of shared caches, and,
// for a plain POST with the CSRF header, the response's cookies for sessionCookies to
// set. Only such a POST may spend the refresh cookie: its answer can carry the
// successor, which a socket or an event stream (headers long sent) could not.
func (s *Server) withSessionCookies(ctx context.Context, w http.ResponseWriter, r *http.Request) context.Context {
	if !s.cfg.CookieSessions {
		return ctx
	}
	csrf := header(r.Header, csrfKey) != ""
	post := r.Method == http.MethodPost && transportOf(r) == transportHTTP
	c, err := r.Cookie(refreshCookie)
	present := err == nil && c.Value != ""
	switch {
	case !present && csrf:
		ctx = models.WithRefreshCookie(ctx, "", models.Errorf(models.CodeUnauthenticated, "no session cookie: sign in again"))
	case !present:
		// Neither cookie nor header: refreshToken needs its argument, as it always did.
	case !csrf:
		ctx = models.WithRefreshCookie(ctx, "", errCSRFHeader)
	case !post:
		ctx = models.WithRefreshCookie(ctx, "", models.Errorf(models.CodeUnauthenticated, "the session cookie is used by a plain POST only: its answer sets the new cookies"))
	default:
		ctx = models.WithRefreshCookie(ctx, c.Value, nil)
	}
	if r.Method == http.MethodGet && hasCookie(r, accessCookie) {
		// A query answered for a cookie: no shared cache may keep it for the next
		// visitor (one with Authorization would not store it anyway, RFC 9111 3.5).
		w.Header().Set("Cache-Control", "private, no-store")
	}
	if csrf && post {
		ctx = context.WithValue(ctx, responseCookiesKey{}, &responseCookies{
			header: w.Header(), secure: s.secureCookies(r),
			accessTTL: s.cfg.AccessTokenTTL, refreshTTL: s.cfg.RefreshTokenTTL,
		})
	}
	return ctx
}

func hasCookie(r *http.Request, name string) bool {
	c, err := r.Cookie(name)
	return err == nil && c.Value != ""
}

// secureCookies reports whether the cookies get the Secure attribute: always, except
// on plain HTTP to a loopback host from a loopback peer, unforwarded, for a page on
// plain-HTTP loopback (a developer's machine, where browsers would not send a Secure
// cookie back over http). Behind a TLS-terminating
// proxy, X-Forwarded-Proto is believed from TrustedProxies only.
func (s *Server) secureCookies(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return true
	}
	addr := peer.Addr().Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(addr) {
			for _, v := range r.Header.Values("X-Forwarded-Proto") {
				if strings.Contains(strings.ToLower(v), "https") {
					return true
				}
			}
			break
		}
	}
	return !addr.IsLoopback() || !clientip.LoopbackHost(r.Host) || behindProxy(r) || !plainLoopbackOrigin(r)
}

// behindProxy reports whether the request says it was forwarded: a proxy on this
// machine (nginx's proxy_pass to 127.0.0.1 sends a loopback Host by default) may be
// terminating TLS for a public site.
func behindProxy(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"} {
		if r.Header.Get(h) != "" {
			return true
		}
	}
	return false
}

// plainLoopbackOrigin reports whether the page asking is itself on plain HTTP on
// this machine, or names no origin (not a browser's request): a browser's POST
// always carries Origin, so a page served over https gets Secure cookies whatever
// the hops between.
func plainLoopbackOrigin(r *http.Request) bool {
	origin := header(r.Header, "Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Scheme == "http" && clientip.LoopbackHost(u.Host)
}

type responseCookiesKey struct{}

// responseCookies sets the session cookies on one plain POST's response, whose headers
// are written after the operation ran.
type responseCookies struct {
	mu                    sync.Mutex
	header                http.Header
	secure                bool
	accessTTL, refreshTTL time.Duration
}

// signIn sets the session's cookies.
func (c *responseCookies) signIn(p *models.AuthPayload) {
	c.set(accessCookie, p.AccessToken, int(c.accessTTL/time.Second))
	c.set(refreshCookie, p.RefreshToken, int(c.refreshTTL/time.Second))
}

// signOut clears them.
func (c *responseCookies) signOut() {
	c.set(accessCookie, "", -1)
	c.set(refreshCookie, "", -1)
}

// set replaces the response's cookie name: of two sign-ins in one operation, the
// later's cookies are the ones sent. A negative maxAge clears it (Max-Age=0).
func (c *responseCookies) set(name, value string, maxAge int) {
	cookie := (&http.Cookie{ //nolint:gosec // Secure is off only on plain HTTP between loopback addresses (secureCookies)
		Name: name, Value: value, Path: cookiePath, MaxAge: maxAge,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteStrictMode,
	}).String()
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.header["Set-Cookie"][:0:0]
	for _, v := range c.header["Set-Cookie"] {
		if !strings.HasPrefix(v, name+"=") {
			kept = append(kept, v)
		}
	}
	c.header["Set-Cookie"] = append(kept, cookie)
}

// sessionCookies is the gqlgen extension that sets the cookies from what a mutation's
// root fields answered: any *models.AuthPayload (register, login, refreshToken, a
// provider's sign-in) sets them and goes out with its tokens emptied; a
// *models.LogoutPayload, or a sign-out refused as UNAUTHENTICATED (its token was
// already dead), clears them. Only mutations of requests that asked for cookies
// (withSessionCookies) are touched: other operations pay nothing per field.
type sessionCookies struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = sessionCookies{}

// ExtensionName names the extension.
func (sessionCookies) ExtensionName() string { return "SessionCookies" }

// Validate accepts every schema.
func (sessionCookies) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext wraps the field middleware of a mutation that may set cookies.
func (sessionCookies) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	jar, ok := ctx.Value(responseCookiesKey{}).(*responseCookies)
	if !ok || op.Operation == nil || op.Operation.Operation != ast.Mutation {
		return nil
	}
	inner := op.ResolverMiddleware
	op.ResolverMiddleware = func(ctx context.Context, next graphql.Resolver) (any, error) {
		res, err := inner(ctx, next)
		// A root field's parent is the operation's object (Mutation), which has none.
		if fc := graphql.GetFieldContext(ctx); fc == nil || fc.Parent == nil || fc.Parent.Parent != nil {
			return res, err
		}
		switch v := res.(type) {
		case *models.AuthPayload:
			if err == nil && v != nil {
				jar.signIn(v)
				redacted := *v
				redacted.AccessToken, redacted.RefreshToken = "", ""
				return &redacted, nil
			}
		case *models.LogoutPayload:
			if err == nil || models.ErrorCode(err) == models.CodeUnauthenticated {
				jar.signOut()
			}
		}
		return res, err
	}
	return nil
}
