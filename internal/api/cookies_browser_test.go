package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// frontendPage is the same-site frontend: a blank page whose script the test runs.
const frontendPage = `<!doctype html><title>frontend</title><body>frontend</body>`

// attackerPage is a page on another site (localhost against the API's 127.0.0.1): on
// load it posts a sign-out and a sign-up to the API in hidden frames, as a
// urlencoded form and as a text/plain form whose body is JSON, fires a no-cors fetch,
// and opens a graphql-transport-ws socket that asks for me. It records what it saw in
// window.__attack and counts the finished attempts in window.__done.
const attackerPage = `<!doctype html><title>attacker</title><body>
<iframe name="f1"></iframe><iframe name="f2"></iframe><iframe name="f3"></iframe>
<form id="urlencoded" method="POST" action="API/graphql" target="f1">
  <input name="query" value="mutation { logout { sessionId } }"></form>
<form id="plain" method="POST" action="API/graphql" target="f2" enctype="text/plain">
  <input name='{"query":"mutation { logout { sessionId } }","x":"' value='"}'></form>
<form id="signup" method="POST" action="API/graphql" target="f3" enctype="text/plain">
  <input name='{"query":"mutation { register(input: {email: \"planted@example.com\", password: \"password1\"}) { user { id } } }","x":"' value='"}'></form>
<script>
window.__attack = []; window.__done = 0;
const done = (what) => { window.__attack.push(what); window.__done++; };
// A frame counts once the API's answer is in it (another origin's document: unreadable).
for (const f of ['f1', 'f2', 'f3']) document.querySelector('iframe[name=' + f + ']').onload = function () {
  try { this.contentWindow.location.href; } catch (e) { done('frame ' + f + ' answered'); }
};
document.getElementById('urlencoded').submit();
document.getElementById('plain').submit();
document.getElementById('signup').submit();
fetch('API/graphql', {method: 'POST', mode: 'no-cors', credentials: 'include',
  headers: {'Content-Type': 'text/plain'}, body: '{"query":"mutation { logout { sessionId } }"}'})
  .then(() => done('no-cors fetch sent'), (e) => done('no-cors fetch failed: ' + e));
fetch('API/graphql', {method: 'POST', credentials: 'include',
  headers: {'Content-Type': 'application/json', 'X-Inkgraph-CSRF': '1'}, body: '{"query":"mutation { logout { sessionId } }"}'})
  .then((r) => r.text().then((t) => done('cors fetch read: ' + t)), (e) => done('cors fetch failed: ' + e));
const ws = new WebSocket('WS/graphql', 'graphql-transport-ws');
ws.onopen = () => { window.__attack.push('socket open'); ws.send(JSON.stringify({type: 'connection_init', payload: {}})); };
ws.onmessage = (m) => {
  window.__attack.push('socket message: ' + m.data);
  if (JSON.parse(m.data).type === 'connection_ack') ws.send(JSON.stringify({id: '1', type: 'subscribe', payload: {query: '{ me { id } }'}}));
};
ws.onclose = (e) => done('socket closed ' + e.code);
</script></body>`

// TestCookieSessionsInChromium: a real browser signs in from a same-site frontend on
// another port (fetch with credentials: 'include' and the CSRF header), gets cookies
// its scripts cannot see, and reads me with them; then a page on another site posts
// forms, fetches and opens a socket to the API: the session stays live, nothing is
// created, no socket opens, and the frontend still reads me. Everything stays on
// loopback.
func TestCookieSessionsInChromium(t *testing.T) {
	t.Parallel()
	frontend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(frontendPage))
	}))
	t.Cleanup(frontend.Close)
	a := newApp(t, testkit.SQLite, withoutRateLimits, func(c *config.Config) { c.AllowedOrigins = []string{frontend.URL} })
	ts := serve(t, a)
	apiURL := ts.URL // http://127.0.0.1:P
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page := strings.ReplaceAll(attackerPage, "WS/", "ws"+strings.TrimPrefix(apiURL, "http")+"/")
		_, _ = w.Write([]byte(strings.ReplaceAll(page, "API/", apiURL+"/")))
	}))
	t.Cleanup(attacker.Close)
	// Another site: localhost is not 127.0.0.1's registrable domain.
	attackerURL := strings.Replace(attacker.URL, "127.0.0.1", "localhost", 1)

	_, ctx, rec := startChromium(t, 2*time.Minute)
	defer func() {
		requests, sent, received, problems := rec.snapshot()
		if t.Failed() {
			t.Logf("requests: %q\nsent: %q\nreceived: %q\nproblems: %q", requests, sent, received, problems)
		}
		for _, u := range requests {
			require.NoError(t, loopback(u), "the page stays on this machine: %s", u)
		}
	}()

	// gql runs an operation from the current page, as a frontend's fetch would.
	gql := func(query string) string {
		t.Helper()
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`fetch(%q, {method: 'POST', credentials: 'include',
			headers: {'Content-Type': 'application/json', 'X-Inkgraph-CSRF': '1'}, body: JSON.stringify({query: %q})}).then(r => r.text())`,
			apiURL+"/graphql", query), chromedp.EvalAwaitPromise))
		require.NoError(t, err)
		return out
	}

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(frontend.URL+"/")))
	signedUp := gql(`mutation { register(input: {email: "browser@example.com", password: "password1"}) { accessToken refreshToken user { id } } }`)
	require.Contains(t, signedUp, `"accessToken":"","refreshToken":""`, "the tokens are in cookies only")
	me := gql(`{ me { id } }`)
	require.Contains(t, me, `"me":{"id":`, "the cookie authenticates the frontend's requests")
	visible, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
	require.NoError(t, err)
	require.Empty(t, visible, "HttpOnly: no script sees the cookies")
	users := countRows(t, a.db, "users")
	require.Equal(t, 1, liveSessions(t, a))

	// The attack, from another site.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(attackerURL+"/")))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`window.__done >= 6`, chromedp.WithPollingTimeout(time.Minute)))
	require.NoError(t, err)
	seen, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__attack`))
	require.NoError(t, err)
	t.Logf("the attacker's page saw: %q", seen)
	for _, s := range seen {
		require.NotContains(t, s, "connection_ack", "no socket opened")
		require.NotContains(t, s, "cors fetch read", "the preflight refused the header")
	}
	require.Equal(t, 1, liveSessions(t, a), "still signed in")
	require.Equal(t, users, countRows(t, a.db, "users"), "nothing created")

	// The frontend still has its session.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(frontend.URL+"/")))
	require.Equal(t, me, gql(`{ me { id } }`))
}
