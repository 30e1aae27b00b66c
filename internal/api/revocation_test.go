package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// closeError reads the socket until it closes and returns how it closed, with the
// messages that came before.
func (c *wsClient) closeError(t testing.TB) (*websocket.CloseError, []wsMessage) {
	t.Helper()
	return readUntilClosed(t, reader(t, c))
}

// wsRead is one read from a socket: a message, or the error that ended reading.
type wsRead struct {
	msg wsMessage
	err error
}

// reader reads c on a goroutine of its own, so that a test can wait for a message
// with a deadline without a read timeout (which breaks a gorilla connection).
func reader(t testing.TB, c *wsClient) <-chan wsRead {
	t.Helper()
	require.NoError(t, c.conn.SetReadDeadline(time.Time{}))
	out := make(chan wsRead, 64)
	go func() {
		defer close(out)
		for {
			var m wsMessage
			if err := c.conn.ReadJSON(&m); err != nil {
				out <- wsRead{err: err}
				return
			}
			out <- wsRead{msg: m}
		}
	}()
	return out
}

// readUntilClosed returns how the socket closed, and the messages before, pings aside.
func readUntilClosed(t testing.TB, reads <-chan wsRead) (*websocket.CloseError, []wsMessage) {
	t.Helper()
	var msgs []wsMessage
	timeout := time.After(10 * time.Second)
	for {
		select {
		case r := <-reads:
			var ce *websocket.CloseError
			if errors.As(r.err, &ce) {
				return ce, msgs
			}
			require.NoError(t, r.err, "the socket closes with a close frame")
			if r.msg.Type != "ping" && r.msg.Type != "pong" {
				msgs = append(msgs, r.msg)
			}
		case <-timeout:
			t.Fatal("the socket did not close")
		}
	}
}

const meQuery = `{ me { id } }`

// TestRevokedSessionStopsEverywhere: a session revoked on instance A (by logout, or
// because its refresh token was used again) stops at once on instance B, which shares
// the PostgreSQL database: B answers the old access token UNAUTHENTICATED, and a socket
// opened on B with it closes with 4403 and a reason, after the event saying its own
// session ended. On embedded SQLite the one instance does the same.
func TestRevokedSessionStopsEverywhere(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.Postgres, testkit.SQLite} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			url := testkit.DatabaseURL(t, d)
			a := startApp(t, url, withoutRateLimits)
			b := a
			if d == testkit.Postgres {
				b = startApp(t, url, withoutRateLimits)
			}
			tsB := serve(t, b)
			refreshOp := `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`

			for _, how := range []struct {
				name   string
				revoke func(t *testing.T, userID, refresh string)
				reason string
			}{
				{"logout", func(t *testing.T, _, refresh string) {
					_, errs := a.do(t, "", `mutation($t: String!) { logout(refreshToken: $t) { sessionId } }`, map[string]any{"t": refresh})
					require.Empty(t, errs)
				}, "LOGOUT"},
				{"refresh token reuse", func(t *testing.T, userID, refresh string) {
					_, errs := a.do(t, "", refreshOp, map[string]any{"t": refresh})
					require.Empty(t, errs)
					// Past the grace in which a second use counts as a concurrent refresh.
					_, err := a.db.NewUpdate().Table("refresh_tokens").Set("used_at = ?", time.Now().Add(-time.Minute)).
						Where("user_id = ? AND used_at IS NOT NULL", userID).Exec(context.Background())
					require.NoError(t, err)
					_, errs = a.do(t, "", refreshOp, map[string]any{"t": refresh})
					require.Len(t, errs, 1)
					require.Equal(t, models.CodeUnauthenticated, errs[0].Extensions["code"])
				}, "TOKEN_REUSE"},
			} {
				t.Run(how.name, func(t *testing.T) {
					email := strings.ReplaceAll(how.name, " ", "-") + "@example.com"
					access, refresh, userID := a.register(t, email)
					_, errs := b.do(t, access, meQuery, nil)
					require.Empty(t, errs, "the token works before")
					ws := dialGraphQLWS(t, tsB.URL, access)
					ws.subscribe(t, "events", `subscription { accountEvents { type reason currentSession } }`)
					reads := reader(t, ws)
					// The subscription is live once it reports another session's end.
					data, errs := a.do(t, "", `mutation($e: String!) { login(input: {email: $e, password: "password1"}) { refreshToken } }`,
						map[string]any{"e": email})
					require.Empty(t, errs)
					other := data["login"].(map[string]any)["refreshToken"]
					require.Eventually(t, func() bool {
						_, errs := a.do(t, "", `mutation($t: String!) { logout(refreshToken: $t) { sessionId } }`, map[string]any{"t": other})
						require.Empty(t, errs)
						// A session already ended publishes nothing: end another next time.
						data, errs := a.do(t, "", `mutation($e: String!) { login(input: {email: $e, password: "password1"}) { refreshToken } }`,
							map[string]any{"e": email})
						require.Empty(t, errs)
						other = data["login"].(map[string]any)["refreshToken"]
						for {
							select {
							case r := <-reads:
								require.NoError(t, r.err)
								if r.msg.Type == "next" {
									return true
								}
							case <-time.After(100 * time.Millisecond):
								return false
							}
						}
					}, 10*time.Second, time.Millisecond)

					how.revoke(t, userID, refresh)
					revoked := time.Now()
					require.Eventually(t, func() bool {
						_, errs := b.do(t, access, meQuery, nil)
						return len(errs) == 1 && errs[0].Extensions["code"] == models.CodeUnauthenticated
					}, 10*time.Second, 2*time.Millisecond, "the revoked session's requests are refused")
					httpAfter := time.Since(revoked)
					_, errs = b.do(t, access, meQuery, nil)
					require.Equal(t, "this session has ended: sign in again", errs[0].Message)

					ce, msgs := readUntilClosed(t, reads)
					socketAfter := time.Since(revoked)
					require.Equal(t, 4403, ce.Code)
					require.Contains(t, ce.Text, "session revoked")
					require.NotEmpty(t, msgs, "the event saying the session ended came first")
					last := msgs[len(msgs)-1]
					require.Equal(t, "next", last.Type)
					require.JSONEq(t, fmt.Sprintf(`{"data":{"accountEvents":{"type":"SESSION_REVOKED","reason":%q,"currentSession":true}}}`, how.reason), string(last.Payload))
					t.Logf("%s on %s: requests refused after %s, socket closed after %s", how.name, d, httpAfter, socketAfter)

					// A new socket with the token is refused at once.
					c := dialUnacked(t, tsB.URL, access)
					ce, _ = c.closeError(t)
					require.Equal(t, 4403, ce.Code)
					require.Contains(t, ce.Text, "session has ended")
				})
			}
		})
	}
}

// dialUnacked opens a graphql-transport-ws socket and sends connection_init with
// token, without waiting for the answer.
func dialUnacked(t testing.TB, serverURL, token string) *wsClient {
	t.Helper()
	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	conn, resp, err := dialer.Dial("ws"+strings.TrimPrefix(serverURL, "http")+"/graphql", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	t.Cleanup(func() { _ = conn.Close() })
	c := &wsClient{conn: conn}
	init, err := json.Marshal(map[string]string{"authorization": "Bearer " + token})
	require.NoError(t, err)
	c.write(t, wsMessage{Type: "connection_init", Payload: init})
	return c
}

// TestSocketOfASessionThatNeverExisted: a token signed with the server's secret for a
// session it never issued opens no socket (checked once per socket, from the
// database).
func TestSocketOfASessionThatNeverExisted(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, func(c *config.Config) {})
	_, _, userID := a.register(t, "ghost@example.com")
	forged, _, err := auth.NewTokens(auth.TokenConfig{
		Secret: a.cfg.JWTSecret, Issuer: a.cfg.JWTIssuer, Audience: a.cfg.JWTAudience, TTL: time.Minute,
	}, time.Now).Issue(userID, "01900000-0000-7000-8000-000000000000")
	require.NoError(t, err)
	c := dialUnacked(t, serve(t, a).URL, forged)
	ce, msgs := c.closeError(t)
	require.Empty(t, msgs, "no connection_ack")
	require.Equal(t, 4403, ce.Code)
	require.Contains(t, ce.Text, "no such session")
}
