package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// csrf is the header a browser frontend using cookie sessions sends with every request.
var csrf = http.Header{"X-Inkgraph-Csrf": {"1"}}

// browser is an HTTP client with a real cookie jar, as a browser's fetch with
// credentials: 'include' behaves towards one site.
type browser struct {
	t      *testing.T
	client *http.Client
	jar    *cookiejar.Jar
	server string
}

func newBrowser(t *testing.T, serverURL string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, client: &http.Client{Jar: jar}, jar: jar, server: serverURL}
}

// gqlAnswer is a decoded GraphQL response, with the HTTP response it came in.
type gqlAnswer struct {
	status int
	header http.Header
	Data   map[string]any `json:"data"`
	Errors []gqlError     `json:"errors"`
}

// post sends a GraphQL POST with the given headers (the jar adds the cookies).
func (b *browser) post(query string, vars map[string]any, header http.Header) gqlAnswer {
	b.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(b.t, err)
	return b.raw(http.MethodPost, "/graphql", "application/json", string(body), header)
}

// raw sends any request to the server and decodes a JSON answer when there is one.
func (b *browser) raw(method, path, contentType, body string, header http.Header) gqlAnswer {
	b.t.Helper()
	req, err := http.NewRequest(method, b.server+path, strings.NewReader(body))
	require.NoError(b.t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := b.client.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	a := gqlAnswer{status: resp.StatusCode, header: resp.Header}
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		require.NoError(b.t, json.Unmarshal(raw, &a), "%s", raw)
	}
	return a
}

// cookies are the jar's cookies for the API.
func (b *browser) cookies() map[string]string {
	b.t.Helper()
	u, err := url.Parse(b.server + "/graphql")
	require.NoError(b.t, err)
	out := map[string]string{}
	for _, c := range b.jar.Cookies(u) {
		out[c.Name] = c.Value
	}
	return out
}

// setCookie puts a cookie of the API in the jar, as a forger or an old copy would.
func (b *browser) setCookie(name, value string) {
	b.t.Helper()
	u, err := url.Parse(b.server + "/graphql")
	require.NoError(b.t, err)
	b.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/graphql"}})
}

func (a gqlAnswer) code() string {
	if len(a.Errors) == 0 {
		return ""
	}
	c, _ := a.Errors[0].Extensions["code"].(string)
	return c
}

// setCookies parses the answer's Set-Cookie headers by name.
func setCookies(h http.Header) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range (&http.Response{Header: h}).Cookies() {
		out[c.Name] = c
	}
	return out
}

const (
	cookieRegister = `mutation($email: String!) { register(input: {email: $email, password: "password1"}) { accessToken refreshToken expiresAt user { id } } }`
	cookieLogin    = `mutation($email: String!) { login(input: {email: $email, password: "password1"}) { accessToken refreshToken expiresAt user { id } } }`
	cookieRefresh  = `mutation { refreshToken { accessToken refreshToken expiresAt user { id } } }`
	cookieLogout   = `mutation { logout { sessionId revokedAt } }`
	cookieMe       = `query { me { id } }`
)

// liveSessions counts the sessions not revoked.
func liveSessions(t *testing.T, a *app) int {
	t.Helper()
	n, err := a.db.NewSelect().Model((*models.Session)(nil)).Where("revoked_at IS NULL").Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

// TestCookieSessionSignIn: register and login with the CSRF header set the access and
// refresh cookies (HttpOnly, SameSite=Strict, /graphql, their tokens' lifetimes; not
// Secure on plain-HTTP loopback) and answer the tokens empty; the cookie authenticates
// with the header and, without it, the caller is anonymous and told which header is
// missing. Without the header (a bearer client) nothing changes: tokens in the body,
// no Set-Cookie.
func TestCookieSessionSignIn(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	ts := serve(t, a)
	b := newBrowser(t, ts.URL)

	for _, tc := range []struct{ name, query string }{{"register", cookieRegister}, {"login", cookieLogin}} {
		got := b.post(tc.query, map[string]any{"email": "cookie@example.com"}, csrf)
		require.Empty(t, got.Errors, tc.name)
		p := got.Data[tc.name].(map[string]any)
		require.Empty(t, p["accessToken"], "%s: the token is in the cookie only", tc.name)
		require.Empty(t, p["refreshToken"], tc.name)
		require.NotEmpty(t, p["expiresAt"], tc.name)
		require.NotEmpty(t, p["user"].(map[string]any)["id"], tc.name)

		set := setCookies(got.header)
		require.Len(t, got.header.Values("Set-Cookie"), 2, tc.name)
		for name, maxAge := range map[string]time.Duration{"inkgraph_access": a.cfg.AccessTokenTTL, "inkgraph_refresh": a.cfg.RefreshTokenTTL} {
			c := set[name]
			require.NotNil(t, c, "%s sets %s", tc.name, name)
			require.NotEmpty(t, c.Value)
			require.True(t, c.HttpOnly, name)
			require.Equal(t, http.SameSiteStrictMode, c.SameSite, name)
			require.Equal(t, "/graphql", c.Path, name)
			require.Equal(t, int(maxAge/time.Second), c.MaxAge, name)
			require.False(t, c.Secure, "%s: plain HTTP to 127.0.0.1", name)
			require.Empty(t, c.Domain, "%s: host-only", name)
		}
	}
	require.Len(t, b.cookies(), 2)

	me := b.post(cookieMe, nil, csrf)
	require.Empty(t, me.Errors)
	userID := me.Data["me"].(map[string]any)["id"].(string)
	require.NotEmpty(t, userID)

	// The cookies without the header: anonymous, and told why.
	me = b.post(cookieMe, nil, nil)
	require.Equal(t, "UNAUTHENTICATED", me.code())
	require.Contains(t, me.Errors[0].Message, "X-Inkgraph-CSRF: 1")
	require.Nil(t, me.Data)
	// Operations that need no caller still work.
	plans := b.post(`query { plans { tier } }`, nil, nil)
	require.Empty(t, plans.Errors)

	// A bearer client: the body as ever, no cookies.
	bearer := newBrowser(t, ts.URL)
	got := bearer.post(cookieRegister, map[string]any{"email": "bearer@example.com"}, nil)
	require.Empty(t, got.Errors)
	p := got.Data["register"].(map[string]any)
	require.NotEmpty(t, p["accessToken"])
	require.True(t, strings.HasPrefix(p["refreshToken"].(string), "igr_"), "%v", p["refreshToken"])
	require.Empty(t, got.header.Values("Set-Cookie"))
	require.Empty(t, bearer.cookies())
	me = bearer.post(cookieMe, nil, http.Header{"Authorization": {"Bearer " + p["accessToken"].(string)}})
	require.Empty(t, me.Errors)

	// Bearer wins over the cookie, without the CSRF check.
	b.setCookie("inkgraph_access", "forged")
	me = b.post(cookieMe, nil, http.Header{"Authorization": {"Bearer " + p["accessToken"].(string)}})
	require.Empty(t, me.Errors)
	require.NotEqual(t, userID, me.Data["me"].(map[string]any)["id"])
}

// TestCookieSessionRefreshAndLogout: refreshToken without an argument spends the
// refresh cookie and rotates both cookies; the spent cookie presented again is a reuse
// (the session ends, as with a body token); logout clears both cookies and ends the
// session; each needs the CSRF header; forged cookies are refused.
func TestCookieSessionRefreshAndLogout(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits, func(c *config.Config) { c.RefreshReuseGrace = 0 })
	ts := serve(t, a)
	b := newBrowser(t, ts.URL)
	require.Empty(t, b.post(cookieRegister, map[string]any{"email": "rotate@example.com"}, csrf).Errors)
	first := b.cookies()

	// Without the header the cookie is not spent.
	got := b.post(cookieRefresh, nil, nil)
	require.Equal(t, "UNAUTHENTICATED", got.code())
	require.Contains(t, got.Errors[0].Message, "X-Inkgraph-CSRF")
	require.Empty(t, got.header.Values("Set-Cookie"))

	got = b.post(cookieRefresh, nil, csrf)
	require.Empty(t, got.Errors)
	p := got.Data["refreshToken"].(map[string]any)
	require.Empty(t, p["accessToken"])
	require.Empty(t, p["refreshToken"])
	second := b.cookies()
	require.NotEqual(t, first["inkgraph_refresh"], second["inkgraph_refresh"], "rotated")
	require.NotEqual(t, first["inkgraph_access"], second["inkgraph_access"], "rotated")
	require.Empty(t, b.post(cookieMe, nil, csrf).Errors)

	// A second refresh from the new cookie works: the jar holds the successor.
	require.Empty(t, b.post(cookieRefresh, nil, csrf).Errors)
	third := b.cookies()
	require.Equal(t, 1, liveSessions(t, a))

	// The spent cookie again (a copy taken earlier): reuse, the session ends.
	b.setCookie("inkgraph_refresh", second["inkgraph_refresh"])
	got = b.post(cookieRefresh, nil, csrf)
	require.Equal(t, "UNAUTHENTICATED", got.code())
	require.Contains(t, got.Errors[0].Message, "already used")
	require.Equal(t, 0, liveSessions(t, a))
	b.setCookie("inkgraph_refresh", third["inkgraph_refresh"])
	require.Equal(t, "UNAUTHENTICATED", b.post(cookieRefresh, nil, csrf).code(), "the whole session ended")
	me := b.post(cookieMe, nil, csrf)
	require.Equal(t, "UNAUTHENTICATED", me.code(), "its access cookie too")
	require.Contains(t, me.Errors[0].Message, "ended")

	// A new session; logout needs the header, then ends it and clears the cookies.
	require.Empty(t, b.post(cookieLogin, map[string]any{"email": "rotate@example.com"}, csrf).Errors)
	require.Equal(t, 1, liveSessions(t, a))
	got = b.post(cookieLogout, nil, nil)
	require.Equal(t, "UNAUTHENTICATED", got.code())
	require.Equal(t, 1, liveSessions(t, a), "nothing ended without the header")
	got = b.post(cookieLogout, nil, csrf)
	require.Empty(t, got.Errors)
	require.NotEmpty(t, got.Data["logout"].(map[string]any)["sessionId"])
	require.Equal(t, 0, liveSessions(t, a))
	for name, c := range setCookies(got.header) {
		require.Empty(t, c.Value, name)
		require.Equal(t, -1, c.MaxAge, "%s: Max-Age=0 deletes it", name)
		require.Equal(t, "/graphql", c.Path, name)
	}
	require.Len(t, got.header.Values("Set-Cookie"), 2)
	require.Empty(t, b.cookies(), "the jar dropped both")
	me = b.post(cookieMe, nil, csrf)
	require.Equal(t, "UNAUTHENTICATED", me.code())
	require.Equal(t, "UNAUTHENTICATED", b.post(cookieRefresh, nil, csrf).code(), "no cookie: sign in")

	// Forged cookies: refused, nothing set.
	b.setCookie("inkgraph_access", "eyJhbGciOiJIUzI1NiJ9.e30.forged")
	b.setCookie("inkgraph_refresh", "igr_forged")
	me = b.post(cookieMe, nil, csrf)
	require.Equal(t, "UNAUTHENTICATED", me.code())
	require.Contains(t, me.Errors[0].Message, "invalid access token")
	got = b.post(cookieRefresh, nil, csrf)
	require.Equal(t, "UNAUTHENTICATED", got.code())
	require.Empty(t, got.header.Values("Set-Cookie"))
	// logout with a dead cookie clears it, so that the browser is signed out.
	got = b.post(cookieLogout, nil, csrf)
	require.Equal(t, "UNAUTHENTICATED", got.code())
	require.Empty(t, b.cookies())

	// The argument still wins over the cookie, as bearer clients send it.
	bearer := newBrowser(t, ts.URL)
	reg := bearer.post(cookieRegister, map[string]any{"email": "arg@example.com"}, nil).Data["register"].(map[string]any)
	got = bearer.post(`mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken refreshToken } }`, map[string]any{"r": reg["refreshToken"]}, nil)
	require.Empty(t, got.Errors)
	require.NotEmpty(t, got.Data["refreshToken"].(map[string]any)["refreshToken"])
	got = bearer.post(cookieRefresh, nil, nil)
	require.Equal(t, "BAD_USER_INPUT", got.code(), "no argument, no cookie, no header: as before")
	require.Equal(t, "refreshToken", got.Errors[0].Extensions["field"])
}

// TestCookieCrossSiteRequestsChangeNothing: a page on another site can make the
// browser send the cookies with a form post (urlencoded or text/plain), a JSON post
// without the CSRF header (no-cors), or a GET; none signs out, signs in or creates
// anything, and a GET never runs a mutation, even with the header.
func TestCookieCrossSiteRequestsChangeNothing(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits, func(c *config.Config) { c.AllowedOrigins = []string{"https://app.example.com"} })
	ts := serve(t, a)
	b := newBrowser(t, ts.URL)
	require.Empty(t, b.post(cookieRegister, map[string]any{"email": "victim@example.com"}, csrf).Errors)
	before := b.cookies()
	users := countRows(t, a.db, "users")
	foreign := http.Header{"Origin": {"https://evil.example"}}

	logoutJSON := `{"query":"mutation { logout { sessionId } }"}`
	registerJSON := `{"query":"mutation { register(input: {email: \"planted@example.com\", password: \"password1\"}) { user { id } } }"}`
	for _, tc := range []struct {
		name, method, contentType, body string
	}{
		{"urlencoded form", http.MethodPost, "application/x-www-form-urlencoded", "query=" + url.QueryEscape("mutation { logout { sessionId } }")},
		{"urlencoded register", http.MethodPost, "application/x-www-form-urlencoded", "query=" + url.QueryEscape(`mutation { register(input: {email: "planted@example.com", password: "password1"}) { user { id } } }`)},
		{"text/plain form", http.MethodPost, "text/plain", logoutJSON},
		{"text/plain register", http.MethodPost, "text/plain", registerJSON},
		{"multipart form", http.MethodPost, "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\nmutation { logout { sessionId } }\r\n--x--\r\n"},
		{"no-cors JSON without the header", http.MethodPost, "application/json", logoutJSON},
		// Mutations the access cookie (not the refresh cookie) would authorize.
		{"no-cors JSON: end the other sessions", http.MethodPost, "application/json", `{"query":"mutation { revokeOtherSessions { revoked } }"}`},
		{"no-cors JSON: create an API key", http.MethodPost, "application/json", `{"query":"mutation { createApiKey(input: {name: \"planted\", scopes: [READ]}) { key } }"}`},
		{"GET", http.MethodGet, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/graphql"
			if tc.method == http.MethodGet {
				path += "?query=" + url.QueryEscape("mutation { logout { sessionId } }")
			}
			got := b.raw(tc.method, path, tc.contentType, tc.body, foreign)
			require.False(t, got.status == http.StatusOK && got.code() == "", "refused: %d %+v", got.status, got.Errors)
			require.Empty(t, got.header.Values("Set-Cookie"))
			require.Empty(t, got.header.Get("Access-Control-Allow-Origin"), "the foreign page cannot read the answer")
			require.Equal(t, 1, liveSessions(t, a), "still signed in")
			require.Equal(t, users, countRows(t, a.db, "users"), "nothing created")
			require.Equal(t, before, b.cookies())
			require.Equal(t, 0, countRows(t, a.db, "api_keys"), "no key made")
			if tc.contentType == "application/json" && tc.body != logoutJSON {
				require.Equal(t, "UNAUTHENTICATED", got.code())
				require.Contains(t, got.Errors[0].Message, "X-Inkgraph-CSRF", "the refusal names the missing header")
			}
		})
	}

	// GET runs queries only, even with the cookie and the header.
	got := b.raw(http.MethodGet, "/graphql?query="+url.QueryEscape("mutation { logout { sessionId } }"), "", "", csrf)
	require.Equal(t, http.StatusMethodNotAllowed, got.status)
	require.Equal(t, 1, liveSessions(t, a))
	got = b.raw(http.MethodGet, "/graphql?query="+url.QueryEscape(cookieMe), "", "", csrf)
	require.Empty(t, got.Errors, "a GET query reads with the cookie and the header")
	require.Equal(t, "private, no-store", got.header.Get("Cache-Control"), "no shared cache keeps it")
	got = b.raw(http.MethodGet, "/graphql?query="+url.QueryEscape(cookieMe), "", "", nil)
	require.Equal(t, "UNAUTHENTICATED", got.code(), "and without the header reads nothing")

	// The preflight a cross-origin fetch with the header needs: only allowed origins
	// pass, and only named ones may send credentials.
	preflight := func(origin string) http.Header {
		req, _ := http.NewRequest(http.MethodOptions, ts.URL+"/graphql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type, x-inkgraph-csrf")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.Header
	}
	h := preflight("https://app.example.com")
	require.Equal(t, "https://app.example.com", h.Get("Access-Control-Allow-Origin"))
	require.Contains(t, h.Get("Access-Control-Allow-Headers"), "X-Inkgraph-CSRF")
	require.Equal(t, "true", h.Get("Access-Control-Allow-Credentials"))
	h = preflight("https://evil.example")
	require.Empty(t, h.Get("Access-Control-Allow-Origin"))
	require.Empty(t, h.Get("Access-Control-Allow-Credentials"))

	star := serve(t, newApp(t, testkit.SQLite, func(c *config.Config) { c.AllowedOrigins = []string{"*"} }))
	req, _ := http.NewRequest(http.MethodOptions, star.URL+"/graphql", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "https://evil.example", resp.Header.Get("Access-Control-Allow-Origin"), "\"*\" still allows any origin")
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"), "but never with credentials")
}

// dialWithCookies opens a graphql-transport-ws socket with the jar's cookies and origin,
// returning the client, or the refusal's status.
func dialWithCookies(t *testing.T, b *browser, origin string) (*wsClient, int) {
	t.Helper()
	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, Jar: b.jar}
	header := http.Header{}
	if origin != "" {
		header.Set("Origin", origin)
	}
	conn, resp, err := dialer.Dial("ws"+strings.TrimPrefix(b.server, "http")+"/graphql", header)
	if err != nil {
		require.NotNil(t, resp, "refused with an HTTP response: %v", err)
		resp.Body.Close()
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &wsClient{conn: conn}, resp.StatusCode
}

// TestCookieSockets: an upgrade with the access cookie from the server's own or a named
// origin opens a socket that connection_init without a token authenticates as the
// cookie's user; from a foreign origin, or with no Origin at all, it is refused before
// the upgrade, even where "*" allows any origin for sockets without the cookie.
func TestCookieSockets(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits, func(c *config.Config) {
		c.AllowedOrigins = []string{"https://app.example.com", "*"}
	})
	ts := serve(t, a)
	b := newBrowser(t, ts.URL)
	reg := b.post(cookieRegister, map[string]any{"email": "socket@example.com"}, csrf)
	require.Empty(t, reg.Errors)
	userID := reg.Data["register"].(map[string]any)["user"].(map[string]any)["id"].(string)

	for _, origin := range []string{ts.URL, "https://app.example.com"} {
		c, status := dialWithCookies(t, b, origin)
		require.Equal(t, http.StatusSwitchingProtocols, status, origin)
		c.write(t, wsMessage{Type: "connection_init", Payload: json.RawMessage(`{}`)})
		require.Equal(t, "connection_ack", c.next(t).Type, origin)
		c.subscribe(t, "me", meQuery)
		require.Contains(t, string(c.result(t, "me")), userID, "%s: the cookie's user", origin)
	}

	for _, origin := range []string{"https://evil.example", ""} {
		c, status := dialWithCookies(t, b, origin)
		require.Nil(t, c, "origin %q: no socket", origin)
		require.Equal(t, http.StatusForbidden, status, "origin %q", origin)
	}

	// Without the cookie "*" lets any origin open an (anonymous) socket, as before.
	c, status := dialWithCookies(t, newBrowser(t, ts.URL), "https://evil.example")
	require.Equal(t, http.StatusSwitchingProtocols, status)
	c.write(t, wsMessage{Type: "connection_init", Payload: json.RawMessage(`{}`)})
	require.Equal(t, "connection_ack", c.next(t).Type)

	// A forged cookie from an allowed origin: refused at connection_init (4403).
	forged := newBrowser(t, ts.URL)
	forged.setCookie("inkgraph_access", "forged")
	c, status = dialWithCookies(t, forged, ts.URL)
	require.Equal(t, http.StatusSwitchingProtocols, status)
	c.write(t, wsMessage{Type: "connection_init", Payload: json.RawMessage(`{}`)})
	ce, msgs := c.closeError(t)
	require.Empty(t, msgs)
	require.Equal(t, 4403, ce.Code)
}

// TestCookieSSE: a Server-Sent Events request is authenticated by the cookie with the
// CSRF header, and is anonymous without it.
func TestCookieSSE(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	ts := serve(t, a)
	b := newBrowser(t, ts.URL)
	reg := b.post(cookieRegister, map[string]any{"email": "sse-cookie@example.com"}, csrf)
	require.Empty(t, reg.Errors)
	userID := reg.Data["register"].(map[string]any)["user"].(map[string]any)["id"].(string)

	for _, tc := range []struct {
		name   string
		header http.Header
		want   string
	}{
		{"with the header", csrf, userID},
		{"without", nil, "X-Inkgraph-CSRF"},
	} {
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/graphql", strings.NewReader(`{"query":"query { me { id } }"}`))
		require.NoError(t, err)
		for k, v := range tc.header {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		resp, err := b.client.Do(req)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		ev := nextSSEEvent(t, sseLines(resp.Body))
		require.Equal(t, "next", ev.name, tc.name)
		require.Contains(t, ev.data, tc.want, tc.name)
	}
}

// TestCookieSecureAttribute: the cookies are Secure except on plain HTTP between
// loopback addresses; a trusted proxy's X-Forwarded-Proto: https makes them Secure, an
// untrusted peer's is ignored.
func TestCookieSecureAttribute(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits, func(c *config.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	for _, tc := range []struct {
		name, remote, host, proto, origin string
		secure                            bool
	}{
		{"loopback", "127.0.0.1:5000", "127.0.0.1:8080", "", "", false},
		{"localhost", "[::1]:5000", "localhost:8080", "", "", false},
		{"a dev server's page", "127.0.0.1:5000", "localhost:8080", "", "http://localhost:5173", false},
		{"public host", "127.0.0.1:5000", "api.example.com", "", "", true},
		{"remote peer", "192.0.2.1:5000", "localhost:8080", "", "", true},
		// A proxy on this machine passing to 127.0.0.1 (nginx's default Host): forwarded
		// headers, trusted or not, or an https page, mean a public site.
		{"forwarded by a local proxy", "127.0.0.1:5000", "localhost", "https", "", true},
		{"an https page through a local proxy", "127.0.0.1:5000", "127.0.0.1:8080", "", "https://app.example.com", true},
		{"trusted proxy", "10.1.2.3:5000", "api.example.com", "https", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"query": cookieRegister, "variables": map[string]any{"email": "secure-" + strings.ReplaceAll(tc.name, " ", "-") + "@example.com"}})
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
			req.RemoteAddr, req.Host = tc.remote, tc.host
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Inkgraph-CSRF", "1")
			if tc.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			rec := httptest.NewRecorder()
			a.handler.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			set := setCookies(rec.Header())
			require.Len(t, set, 2)
			for name, c := range set {
				require.Equal(t, tc.secure, c.Secure, name)
			}
		})
	}
}

// TestCookieSessionsOff: with INKGRAPH_COOKIE_SESSIONS=false the header changes nothing
// and cookies authenticate nothing.
func TestCookieSessionsOff(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits, func(c *config.Config) { c.CookieSessions = false })
	ts := serve(t, a)
	b := newBrowser(t, ts.URL)
	got := b.post(cookieRegister, map[string]any{"email": "off@example.com"}, csrf)
	require.Empty(t, got.Errors)
	p := got.Data["register"].(map[string]any)
	require.NotEmpty(t, p["accessToken"])
	require.NotEmpty(t, p["refreshToken"])
	require.Empty(t, got.header.Values("Set-Cookie"))

	b.setCookie("inkgraph_access", p["accessToken"].(string))
	b.setCookie("inkgraph_refresh", p["refreshToken"].(string))
	require.Equal(t, "UNAUTHENTICATED", b.post(cookieMe, nil, csrf).code())
	require.Equal(t, "BAD_USER_INPUT", b.post(cookieRefresh, nil, csrf).code())
}

// BenchmarkCookieMeQuery is BenchmarkMeQuery authenticated by the access cookie and
// the CSRF header instead of Authorization.
func BenchmarkCookieMeQuery(b *testing.B) {
	t := &testing.T{}
	a := startAppWith(t, testkit.DatabaseURL(t, testkit.SQLite), wiring{services: alwaysRefilled})
	body, _ := json.Marshal(map[string]any{"query": cookieRegister, "variables": map[string]any{"email": "bench-cookie@example.com"}})
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Inkgraph-CSRF", "1")
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	access := setCookies(rec.Header())["inkgraph_access"]
	if access == nil {
		b.Fatalf("no access cookie: %s", rec.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ me { id email tier } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Inkgraph-CSRF", "1")
		req.AddCookie(&http.Cookie{Name: access.Name, Value: access.Value})
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "errors") {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
