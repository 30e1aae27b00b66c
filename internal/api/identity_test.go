package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

const createKeyMutation = `mutation($name: String!, $scopes: [ApiKeyScope!]!, $expiresAt: Time) {
	createApiKey(input: {name: $name, scopes: $scopes, expiresAt: $expiresAt}) {
		key apiKey { id name prefix scopes createdAt lastUsedAt expiresAt revokedAt }
	}
}`

// createKey makes an API key for the session of access and returns the key and its ID.
func (a *app) createKey(t testing.TB, access, name string, scopes ...string) (key, id string) {
	t.Helper()
	data, errs := a.do(t, access, createKeyMutation, map[string]any{"name": name, "scopes": scopes})
	require.Empty(t, errs)
	created := data["createApiKey"].(map[string]any)
	return created["key"].(string), created["apiKey"].(map[string]any)["id"].(string)
}

// auditKinds returns the kinds and details of the user's audit log, newest first.
func (a *app) auditKinds(t testing.TB, access string) []map[string]string {
	t.Helper()
	data, errs := a.do(t, access, `{ me { auditLog(first: 100) { edges { node { kind detail { key value } } } } } }`, nil)
	require.Empty(t, errs)
	var out []map[string]string
	for _, e := range data["me"].(map[string]any)["auditLog"].(map[string]any)["edges"].([]any) {
		node := e.(map[string]any)["node"].(map[string]any)
		entry := map[string]string{"kind": node["kind"].(string)}
		for _, d := range node["detail"].([]any) {
			kv := d.(map[string]any)
			entry[kv["key"].(string)] = kv["value"].(string)
		}
		out = append(out, entry)
	}
	return out
}

func requireError(t testing.TB, errs []gqlError, code, field, contains string) {
	t.Helper()
	require.Len(t, errs, 1, "%+v", errs)
	require.Equal(t, code, errs[0].Extensions["code"], errs[0].Message)
	if field != "" {
		require.Equal(t, field, errs[0].Extensions["field"], errs[0].Message)
	}
	require.Contains(t, errs[0].Message, contains)
}

// TestAPIKeysOverGraphQL: a session creates, lists and revokes keys; a key does what
// its scopes allow and nothing else (a session-only field, a field of a scope it
// lacks, or an operation mixing them is refused whole, before anything runs); its
// uses of sensitive scopes are audited; bad input changes nothing.
func TestAPIKeysOverGraphQL(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			llmSrv := newChatLLM(t)
			a := newApp(t, d, withLLM(llmSrv.URL()), withoutRateLimits)
			access, _, userID := a.register(t, "keys@example.com")

			data, errs := a.do(t, access, createKeyMutation, map[string]any{"name": " nightly export ", "scopes": []string{"CHAT", "READ", "CHAT"}})
			require.Empty(t, errs)
			created := data["createApiKey"].(map[string]any)
			key := created["key"].(string)
			record := created["apiKey"].(map[string]any)
			require.Regexp(t, `^ink_[A-Za-z0-9_-]{43}$`, key)
			require.Equal(t, key[:12], record["prefix"])
			require.Equal(t, "nightly export", record["name"])
			require.Equal(t, []any{"READ", "CHAT"}, record["scopes"], "canonical order, no repeats")
			require.Nil(t, record["lastUsedAt"])
			require.Nil(t, record["expiresAt"])
			var stored int
			require.NoError(t, a.db.NewSelect().Table("api_keys").ColumnExpr("count(*)").Where("key_hash LIKE ?", "%"+key[4:]+"%").Scan(context.Background(), &stored))
			require.Zero(t, stored, "the key itself is not stored")

			// What the key may do.
			data, errs = a.do(t, key, `{ me { id } personas { id } }`, nil)
			require.Empty(t, errs)
			require.Equal(t, userID, data["me"].(map[string]any)["id"])
			data, errs = a.do(t, key, `mutation { sendChat(input: {message: "list my open tasks"}) { response } }`, nil)
			require.Empty(t, errs)
			require.Equal(t, chatAnswer, data["sendChat"].(map[string]any)["response"])
			_, errs = a.do(t, key, `{ plans { tier } }`, nil)
			require.Empty(t, errs, "public fields need no scope")

			// What it may not.
			_, errs = a.do(t, key, `{ backups { edges { node { id } } } }`, nil)
			requireError(t, errs, "FORBIDDEN", "scopes", "backups needs the BACKUPS scope")
			_, errs = a.do(t, key, `mutation { createCheckoutSession(tier: PRO) { url } }`, nil)
			requireError(t, errs, "FORBIDDEN", "scopes", "createCheckoutSession is for signed-in sessions only")
			_, errs = a.do(t, key, createKeyMutation, map[string]any{"name": "child", "scopes": []string{"READ"}})
			requireError(t, errs, "FORBIDDEN", "scopes", "createApiKey is for signed-in sessions only")
			_, errs = a.do(t, key, `{ sessions { id } }`, nil)
			requireError(t, errs, "FORBIDDEN", "scopes", "sessions only")
			// Below the root too: billing state and the audit log are the session's.
			_, errs = a.do(t, key, `{ me { id auditLog { edges { node { kind } } } } }`, nil)
			requireError(t, errs, "FORBIDDEN", "scopes", "User.auditLog is for signed-in sessions only")
			_, errs = a.do(t, key, `{ me { ...U } } fragment U on User { ... on User { subscription { status } } }`, nil)
			requireError(t, errs, "FORBIDDEN", "scopes", "User.subscription is for signed-in sessions only")
			_, errs = a.do(t, key, `{ me { entitlements { feature allowed } } }`, nil)
			require.Empty(t, errs, "what the plan allows is READ's")
			_, errs = a.do(t, key, `mutation { deleteBusinessInfo }`, nil)
			requireError(t, errs, "FORBIDDEN", "scopes", "deleteBusinessInfo is for signed-in sessions only")
			// One forbidden root field, reached through a fragment, refuses the whole
			// operation: the chat beside it does not run, and nothing is audited.
			auditBefore := len(a.auditKinds(t, access))
			_, errs = a.do(t, key, `mutation { sendChat(input: {message: "hi"}) { runId } ...M } fragment M on Mutation { deleteBackup(id: "b") { id } }`, nil)
			requireError(t, errs, "FORBIDDEN", "scopes", "deleteBackup needs the BACKUPS scope")
			require.Len(t, a.auditKinds(t, access), auditBefore, "a refused operation runs and audits nothing")

			// The chat it ran is in the audit log, with the key and scope.
			var used []map[string]string
			for _, e := range a.auditKinds(t, access) {
				if e["kind"] == "API_KEY_USED" {
					used = append(used, e)
				}
			}
			require.Len(t, used, 1, "one sensitive use (sendChat); reads are not audited")
			require.Equal(t, map[string]string{"kind": "API_KEY_USED", "keyId": record["id"].(string), "scope": "CHAT", "operation": "sendChat"}, used[0])

			data, errs = a.do(t, access, `{ apiKeys { id prefix scopes lastUsedAt } }`, nil)
			require.Empty(t, errs)
			keys := data["apiKeys"].([]any)
			require.Len(t, keys, 1)
			require.NotNil(t, keys[0].(map[string]any)["lastUsedAt"], "its use is recorded")

			// Bad input changes nothing.
			past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
			for _, tc := range []struct {
				vars  map[string]any
				field string
			}{
				{map[string]any{"name": "  ", "scopes": []string{"READ"}}, "input.name"},
				{map[string]any{"name": strings.Repeat("n", 101), "scopes": []string{"READ"}}, "input.name"},
				{map[string]any{"name": "x", "scopes": []string{}}, "input.scopes"},
				{map[string]any{"name": "x", "scopes": []string{"READ"}, "expiresAt": past}, "input.expiresAt"},
			} {
				_, errs = a.do(t, access, createKeyMutation, tc.vars)
				requireError(t, errs, "BAD_USER_INPUT", tc.field, "")
			}
			_, errs = a.do(t, access, createKeyMutation, map[string]any{"name": "x", "scopes": []string{"BILLING"}})
			require.Len(t, errs, 1, "an unknown scope fails validation")
			require.Equal(t, 1, countRows(t, a.db, "api_keys"))

			// Another user cannot see or revoke it.
			other, _, _ := a.register(t, "keys-other@example.com")
			data, errs = a.do(t, other, `{ apiKeys { id } }`, nil)
			require.Empty(t, errs)
			require.Empty(t, data["apiKeys"])
			_, errs = a.do(t, other, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": record["id"]})
			requireError(t, errs, "NOT_FOUND", "id", "")
			_, errs = a.do(t, key, `{ me { id } }`, nil)
			require.Empty(t, errs, "still works")

			// Revoked, it stops at once.
			data, errs = a.do(t, access, `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, map[string]any{"id": record["id"]})
			require.Empty(t, errs)
			require.NotNil(t, data["revokeApiKey"].(map[string]any)["revokedAt"])
			_, errs = a.do(t, key, `{ me { id } }`, nil)
			requireError(t, errs, "UNAUTHENTICATED", "", "revoked")
			data, errs = a.do(t, access, `{ apiKeys { id } }`, nil)
			require.Empty(t, errs)
			require.Empty(t, data["apiKeys"], "the listing shows live keys")

			_, errs = a.do(t, "ink_"+strings.Repeat("A", 43), `{ me { id } }`, nil)
			requireError(t, errs, "UNAUTHENTICATED", "", "unknown API key")
			_, errs = a.do(t, "ink_short", `{ me { id } }`, nil)
			requireError(t, errs, "UNAUTHENTICATED", "", "malformed API key")
		})
	}
}

// TestExpiredAPIKey: a key past its expiry is refused, saying so.
func TestExpiredAPIKey(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	access, _, _ := a.register(t, "expiring-key@example.com")
	soon := time.Now().Add(1500 * time.Millisecond).UTC()
	data, errs := a.do(t, access, createKeyMutation, map[string]any{"name": "short", "scopes": []string{"READ"}, "expiresAt": soon.Format(time.RFC3339Nano)})
	require.Empty(t, errs)
	key := data["createApiKey"].(map[string]any)["key"].(string)
	_, errs = a.do(t, key, `{ me { id } }`, nil)
	require.Empty(t, errs)
	time.Sleep(time.Until(soon) + 10*time.Millisecond)
	_, errs = a.do(t, key, `{ me { id } }`, nil)
	requireError(t, errs, "UNAUTHENTICATED", "", "expired")
}

// TestAPIKeyDrawsOnItsOwnersBudget: a key's operations are charged to its owner's
// tier budget, which the owner's sessions share.
func TestAPIKeyDrawsOnItsOwnersBudget(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite)
	access, _, _ := a.register(t, "key-budget@example.com")
	key, _ := a.createKey(t, access, "loop", "READ") // one of the owner's operations
	budget := models.FeaturesOf(models.TierFree).RequestsPerMinute
	for i := 1; i < budget; i++ {
		_, errs := a.do(t, key, `{ me { id } }`, nil)
		require.Empty(t, errs, "operation %d", i)
	}
	for _, token := range []string{key, access} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query": "{ me { id } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		require.Equal(t, http.StatusTooManyRequests, rec.Code)
		require.Contains(t, rec.Body.String(), "RATE_LIMITED")
	}
}

// TestAPIKeySockets: a key authenticates connection_init; its scopes hold on the
// socket too; revoking it on one instance closes its sockets on another with 4403.
func TestAPIKeySockets(t *testing.T) {
	t.Parallel()
	url := testkit.DatabaseURL(t, testkit.Postgres)
	a := startApp(t, url, withoutRateLimits)
	b := startApp(t, url, withoutRateLimits)
	tsB := serve(t, b)
	access, _, _ := a.register(t, "key-socket@example.com")
	key, id := a.createKey(t, access, "socket", "READ")

	ws := dialGraphQLWS(t, tsB.URL, key)
	ws.subscribe(t, "account", `subscription { accountEvents { type } }`)
	m := ws.next(t)
	require.Equal(t, "next", m.Type, "a refusal before execution is a result with errors, then complete")
	require.Contains(t, string(m.Payload), "accountEvents is for signed-in sessions only")
	require.Contains(t, string(m.Payload), `"code":"FORBIDDEN"`)
	require.Equal(t, wsMessage{ID: "account", Type: "complete"}, ws.next(t))
	ws.subscribe(t, "progress", `subscription { onboardingProgress { currentStep } }`)
	m = ws.next(t)
	require.Equal(t, "next", m.Type)
	require.JSONEq(t, `{"data":{"onboardingProgress":{"currentStep":1}}}`, withoutExtensions(t, m.Payload), "READ runs it")
	reads := reader(t, ws)

	_, errs := a.do(t, access, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": id})
	require.Empty(t, errs)
	ce, _ := readUntilClosed(t, reads)
	require.Equal(t, 4403, ce.Code)
	require.Equal(t, "API key revoked", ce.Text)

	c := dialUnacked(t, tsB.URL, key)
	ce, _ = c.closeError(t)
	require.Equal(t, 4403, ce.Code)
	require.Contains(t, ce.Text, "revoked")
}

// TestLoginOverSocketRemembersUserAgent: a session signed in over a WebSocket records
// the User-Agent of the socket's upgrade request, as one signed in over HTTP records
// its request's.
func TestLoginOverSocketRemembersUserAgent(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	ts := serve(t, a)
	const email = "socket-login@example.com"
	token, _, _ := a.register(t, email)

	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	conn, _, err := dialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/graphql", http.Header{"User-Agent": {"socket-client/2.0"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	c := &wsClient{conn: conn}
	c.write(t, wsMessage{Type: "connection_init", Payload: json.RawMessage(`{"authorization": "Bearer ` + token + `"}`)})
	require.Equal(t, "connection_ack", c.next(t).Type)
	c.subscribe(t, "1", `mutation { login(input: {email: "`+email+`", password: "password1"}) { accessToken } }`)
	var res struct {
		Data struct{ Login struct{ AccessToken string } }
	}
	require.NoError(t, json.Unmarshal(c.result(t, "1"), &res))
	require.NotEmpty(t, res.Data.Login.AccessToken)

	data, errs := a.do(t, token, `{ sessions { userAgent } }`, nil)
	require.Empty(t, errs)
	var agents []string
	for _, s := range data["sessions"].([]any) {
		agents = append(agents, s.(map[string]any)["userAgent"].(string))
	}
	require.Contains(t, agents, "socket-client/2.0")
}

// TestSessionsOverGraphQL: a user sees their sessions (how and where each signed in,
// which is theirs) and ends one or all others: the ended session's access token, its
// refresh token and its socket stop, on another instance too; someone else's session
// is NOT_FOUND.
func TestSessionsOverGraphQL(t *testing.T) {
	t.Parallel()
	url := testkit.DatabaseURL(t, testkit.Postgres)
	a := startApp(t, url, withoutRateLimits)
	b := startApp(t, url, withoutRateLimits)
	tsA, tsB := serve(t, a), serve(t, b)
	const email = "sessions@example.com"
	login := func(userAgent string) (access, refresh string) {
		req, err := http.NewRequest(http.MethodPost, tsA.URL+"/graphql", strings.NewReader(
			`{"query": "mutation { login(input: {email: \"`+email+`\", password: \"password1\"}) { accessToken refreshToken } }"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", userAgent)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		var resp struct {
			Data struct {
				Login struct{ AccessToken, RefreshToken string }
			}
		}
		require.NoError(t, json.Unmarshal(body, &resp), "%s", body)
		return resp.Data.Login.AccessToken, resp.Data.Login.RefreshToken
	}
	a.register(t, email)
	laptop, _ := login("laptop")
	phone, phoneRefresh := login("phone")
	tablet, _ := login("tablet")

	data, errs := a.do(t, laptop, `{ sessions { id userAgent clientNetwork method current createdAt lastUsedAt } }`, nil)
	require.Empty(t, errs)
	sessions := data["sessions"].([]any)
	require.Len(t, sessions, 4, "register's and three logins")
	byAgent := map[string]map[string]any{}
	for _, s := range sessions {
		s := s.(map[string]any)
		require.Equal(t, "PASSWORD", s["method"])
		byAgent[s["userAgent"].(string)] = s
	}
	require.Equal(t, true, byAgent["laptop"]["current"])
	require.Equal(t, false, byAgent["phone"]["current"])
	require.Equal(t, "127.0.0.0/24", byAgent["phone"]["clientNetwork"], "the address masked to its network")

	phoneSocket := dialGraphQLWS(t, tsB.URL, phone)
	phoneSocket.subscribe(t, "events", `subscription { accountEvents { type reason currentSession } }`)
	reads := reader(t, phoneSocket)
	time.Sleep(100 * time.Millisecond) // the subscription is listening

	data, errs = a.do(t, laptop, `mutation($id: ID!) { revokeSession(id: $id) { id current } }`, map[string]any{"id": byAgent["phone"]["id"]})
	require.Empty(t, errs)
	require.Equal(t, false, data["revokeSession"].(map[string]any)["current"])
	ce, msgs := readUntilClosed(t, reads)
	require.Equal(t, 4403, ce.Code)
	require.Contains(t, ce.Text, "session revoked")
	require.NotEmpty(t, msgs)
	require.JSONEq(t, `{"data":{"accountEvents":{"type":"SESSION_REVOKED","reason":"USER_REVOKED","currentSession":true}}}`, withoutExtensions(t, msgs[len(msgs)-1].Payload))
	require.Eventually(t, func() bool {
		_, errs := b.do(t, phone, meQuery, nil)
		return len(errs) == 1 && errs[0].Extensions["code"] == models.CodeUnauthenticated
	}, 10*time.Second, 5*time.Millisecond, "its access token stops on the other instance")
	_, errs = a.do(t, "", `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }`, map[string]any{"t": phoneRefresh})
	requireError(t, errs, "UNAUTHENTICATED", "", "")

	other, _, _ := a.register(t, "sessions-other@example.com")
	_, errs = a.do(t, other, `mutation($id: ID!) { revokeSession(id: $id) { id } }`, map[string]any{"id": byAgent["tablet"]["id"]})
	requireError(t, errs, "NOT_FOUND", "id", "")

	data, errs = a.do(t, laptop, `mutation { revokeOtherSessions { revoked } }`, nil)
	require.Empty(t, errs)
	require.Equal(t, float64(2), data["revokeOtherSessions"].(map[string]any)["revoked"], "register's and the tablet's")
	_, errs = a.do(t, tablet, meQuery, nil)
	requireError(t, errs, "UNAUTHENTICATED", "", "")
	data, errs = a.do(t, laptop, `{ sessions { userAgent current } }`, nil)
	require.Empty(t, errs)
	require.Equal(t, []any{map[string]any{"userAgent": "laptop", "current": true}}, data["sessions"])
}

// TestSessionExpiringEvent: ahead of its access token's expiry by the configured
// lead, an accountEvents subscription is told the deadline; the socket closes then.
func TestSessionExpiringEvent(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits, func(c *config.Config) {
		c.AccessTokenTTL = 3 * time.Second
		c.SessionExpiryWarning = 2 * time.Second
	})
	ts := serve(t, a)
	data, errs := a.do(t, "", registerMutation, map[string]any{"email": "expiring@example.com", "password": "password1"})
	require.Empty(t, errs)
	payload := data["register"].(map[string]any)
	expiresAt, err := time.Parse(time.RFC3339Nano, payload["expiresAt"].(string))
	require.NoError(t, err)

	ws := dialGraphQLWS(t, ts.URL, payload["accessToken"].(string))
	ws.subscribe(t, "events", `subscription { accountEvents { type reason expiresAt currentSession } }`)
	m := ws.next(t)
	warned := time.Now()
	require.Equal(t, "next", m.Type, "%s", m.Payload)
	var ev struct {
		Data struct {
			AccountEvents struct {
				Type           string
				Reason         *string
				ExpiresAt      time.Time
				CurrentSession bool
			}
		}
	}
	require.NoError(t, json.Unmarshal(m.Payload, &ev))
	got := ev.Data.AccountEvents
	require.Equal(t, "SESSION_EXPIRING", got.Type)
	require.Nil(t, got.Reason)
	require.True(t, got.CurrentSession)
	require.True(t, got.ExpiresAt.Equal(expiresAt), "the deadline is the token's: %s, %s", got.ExpiresAt, expiresAt)
	require.True(t, warned.Before(expiresAt), "warned before the deadline")
	require.False(t, warned.Before(expiresAt.Add(-2*time.Second-50*time.Millisecond)), "not before the lead time: %s before", expiresAt.Sub(warned))

	ce, _ := ws.closeError(t)
	require.Equal(t, 4403, ce.Code, "the socket closes when the token expires")
	require.False(t, time.Now().Before(expiresAt.Add(-50*time.Millisecond)), "not before the deadline")
}

// TestAPIKeySocketWhenTheDatabaseIsDown: a key that cannot be checked (the database
// does not answer) closes the socket with 1011, which clients retry, not 4403, which
// tells them to stop for good.
func TestAPIKeySocketWhenTheDatabaseIsDown(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	ts := serve(t, a)
	access, _, _ := a.register(t, "key-db-down@example.com")
	key, _ := a.createKey(t, access, "socket", "READ")
	require.NoError(t, a.db.Close())
	ce, _ := dialUnacked(t, ts.URL, key).closeError(t)
	require.Equal(t, 1011, ce.Code, ce.Text)
	require.Contains(t, ce.Text, "try again")
}

// BenchmarkAPIKeyMeQuery is BenchmarkMeQuery authenticated by an API key: the key is
// read from the database at every request (its last use recorded once a minute).
func BenchmarkAPIKeyMeQuery(b *testing.B) {
	t := &testing.T{}
	a := startAppWith(t, testkit.DatabaseURL(t, testkit.SQLite), wiring{services: alwaysRefilled})
	access, _, _ := a.register(t, "bench-key@example.com")
	key, _ := a.createKey(t, access, "bench", "READ")
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ me { id email tier } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "errors") {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// TestAPIKeySSEStreamEndsWhenRevoked: an SSE subscription opened with an API key on
// one instance ends when the key is revoked on another.
func TestAPIKeySSEStreamEndsWhenRevoked(t *testing.T) {
	t.Parallel()
	url := testkit.DatabaseURL(t, testkit.Postgres)
	a := startApp(t, url, withoutRateLimits)
	b := startApp(t, url, withoutRateLimits)
	tsB := serve(t, b)
	access, _, _ := a.register(t, "key-sse@example.com")
	key, id := a.createKey(t, access, "sse", "READ")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	events := subscribeSSE(t, ctx, tsB.URL, key, `subscription { onboardingProgress { currentStep } }`)
	first := <-events
	require.Equal(t, "next", first.name)
	require.Contains(t, first.data, `"data":{"onboardingProgress":{"currentStep":1}}`, "READ runs it")

	_, errs := a.do(t, access, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": id})
	require.Empty(t, errs)
	for range events { // the stream ends
	}
	require.NoError(t, ctx.Err(), "the stream ended before the test's own deadline")
}
