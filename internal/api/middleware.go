package api

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/inkgraph/inkgraph/internal/api/wstransport"
	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/models"
)

// cors lets the configured origins call the API from a browser.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := header(r.Header, "Origin")
		if origin == "" || !s.originAllowed(r) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		if s.cfg.CookieSessions && s.originNamed(r) {
			// fetch's credentials: 'include' (cookie sessions) from origins named, never
			// from "*": any site could then send the CSRF header with the cookies.
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS") // PUT, DELETE: SSE's single connection
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, X-Request-ID, X-GraphQL-Event-Stream-Token, "+teamHeader+", "+csrfHeader)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// originAllowed: no Origin (not a browser), the same origin, or one configured.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := header(r.Header, "Origin")
	return origin == "" || slices.Contains(s.cfg.AllowedOrigins, "*") || s.originNamed(r)
}

// originNamed: an Origin that is the server's own or configured by name ("*" aside).
func (s *Server) originNamed(r *http.Request) bool {
	origin := header(r.Header, "Origin")
	if origin == "" {
		return false
	}
	for _, allowed := range s.cfg.AllowedOrigins {
		if strings.EqualFold(allowed, origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// limitBody refuses bodies over MaxBodyBytes with 413: at once when Content-Length
// says so, or when reading passes the limit (the transports answer 413 then).
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == stripeWebhookPath {
			// Stripe's events have their own limit in their handler; a GraphQL limit
			// lowered below an invoice's size must not refuse them for good.
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > s.cfg.MaxBodyBytes {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"errors": []map[string]any{{
				"message":    "request body too large",
				"extensions": map[string]any{"code": "PAYLOAD_TOO_LARGE", "limit": s.cfg.MaxBodyBytes},
			}}})
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate puts the caller of a valid Bearer token (or, without one, of a
// browser's access cookie: cookies.go) in the context. A bad token does
// not fail the request: operations that need a caller say why it was refused, and
// those that do not (signing in, refreshing) still work. A token of an ended session
// is refused at once, on every instance, from the instance's revocation set (no
// database read). A Server-Sent Events stream ends when its token expires or its
// session ends; WebSocket connections do the same in their transport.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := s.withSessionCookies(r.Context(), w, r)
		if team := r.Header[teamHeader]; len(team) > 0 {
			ctx = models.WithRequestedTeam(ctx, requestedTeam(team[0]))
		}
		stream := transportOf(r) == transportSSE
		var caller models.Caller
		var err error
		presented := true
		if h := header(r.Header, "Authorization"); h != "" {
			caller, err = s.verifyCredential(ctx, bearer(h))
			if err == nil {
				err = s.revocations.Check(caller)
			}
		} else {
			// No header: a browser's access cookie, with its CSRF header (cookies.go).
			caller, presented, err = s.cookieCaller(r)
		}
		if presented {
			if err != nil {
				ctx = models.WithTokenError(ctx, err)
			} else {
				ctx = models.WithCaller(ctx, caller)
			}
			if err == nil && stream {
				var cancel context.CancelFunc
				if caller.ExpiresAt.IsZero() { // an API key without expiry
					ctx, cancel = context.WithCancel(ctx)
				} else {
					ctx, cancel = context.WithDeadline(ctx, caller.ExpiresAt)
				}
				defer cancel()
				// As a socket does, the stream lets the event saying its session (or
				// API key) ended go out before it ends.
				defer s.revocations.Watch(auth.CredentialID(caller), func() { time.AfterFunc(wstransport.RevokeDrain, cancel) })()
			}
		}
		if stream {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			defer cancel()
			stop := context.AfterFunc(s.streams, cancel)
			defer stop()
		}
		if ctx != r.Context() {
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// recorder notes the status and size of a response. It passes Flush (SSE) and Hijack
// (WebSocket) through, which the transports need.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := r.ResponseWriter.(http.Hijacker); ok {
		r.status, r.wrote = http.StatusSwitchingProtocols, true
		return h.Hijack()
	}
	return nil, nil, errors.New("hijacking not supported")
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
