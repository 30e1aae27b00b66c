package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

// dialWithPayload opens a graphql-transport-ws socket and sends connection_init with
// payload, without waiting for the answer.
func dialWithPayload(t *testing.T, serverURL string, payload map[string]any) *wsClient {
	t.Helper()
	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	conn, resp, err := dialer.Dial("ws"+strings.TrimPrefix(serverURL, "http")+"/graphql", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	t.Cleanup(func() { _ = conn.Close() })
	c := &wsClient{conn: conn}
	init, err := json.Marshal(payload)
	require.NoError(t, err)
	c.write(t, wsMessage{Type: "connection_init", Payload: init})
	return c
}

// TestSocketTokenSpellings: the connection_init payload's token is found under every
// spelling clients use (Apollo's and graphql-ws's examples, urql, GraphiQL's headers),
// with or without "Bearer "; a payload without one opens an anonymous socket; a bad
// token under any spelling is refused with 4403.
func TestSocketTokenSpellings(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	ts := serve(t, a)
	access, _, userID := a.register(t, "socket-spellings@example.com")

	spellings := []func(token string) map[string]any{
		func(tok string) map[string]any { return map[string]any{"authorization": "Bearer " + tok} },
		func(tok string) map[string]any { return map[string]any{"Authorization": "Bearer " + tok} },
		func(tok string) map[string]any { return map[string]any{"authorization": tok} },
		func(tok string) map[string]any { return map[string]any{"authToken": tok} },
		func(tok string) map[string]any { return map[string]any{"authToken": "Bearer " + tok} },
		func(tok string) map[string]any { return map[string]any{"token": tok} },
		func(tok string) map[string]any { return map[string]any{"accessToken": tok} },
		func(tok string) map[string]any { return map[string]any{"access_token": "bearer " + tok} },
		func(tok string) map[string]any {
			return map[string]any{"headers": map[string]any{"Authorization": "Bearer " + tok}}
		},
		func(tok string) map[string]any {
			return map[string]any{"headers": map[string]any{"authorization": tok}}
		},
		func(tok string) map[string]any { return map[string]any{"headers": map[string]any{"authToken": tok}} },
		// An empty key does not hide a token under another one.
		func(tok string) map[string]any { return map[string]any{"authorization": "", "token": tok} },
	}
	for i, spell := range spellings {
		payload := spell(access)
		c := dialWithPayload(t, ts.URL, payload)
		ack := c.next(t)
		require.Equal(t, "connection_ack", ack.Type, "spelling %d: %s", i, ack.Payload)
		c.subscribe(t, "me", meQuery)
		var got struct {
			Data struct {
				Me *struct{ ID string } `json:"me"`
			} `json:"data"`
			Errors []gqlError `json:"errors"`
		}
		require.NoError(t, json.Unmarshal(c.result(t, "me"), &got))
		require.Empty(t, got.Errors, "spelling %d", i)
		require.NotNil(t, got.Data.Me, "spelling %d: the socket is the user's", i)
		require.Equal(t, userID, got.Data.Me.ID, "spelling %d", i)

		// The same spelling with a bad token: refused, never anonymous.
		bad := dialWithPayload(t, ts.URL, spell("not-a-token"))
		ce, msgs := bad.closeError(t)
		require.Empty(t, msgs, "spelling %d: no connection_ack for a bad token", i)
		require.Equal(t, 4403, ce.Code, "spelling %d", i)
	}

	// An authorization that is not a string is a bad token, not no token (a
	// non-string under the other names is some other client's field: ignored).
	bad := dialWithPayload(t, ts.URL, map[string]any{"Authorization": 12345})
	ce, _ := bad.closeError(t)
	require.Equal(t, 4403, ce.Code)

	// Payloads that carry no token open anonymous sockets, as before.
	for i, payload := range []map[string]any{
		{},
		{"client": "web", "locale": "en"},
		{"authorization": ""},
		{"headers": map[string]any{"X-Other": "1"}},
		{"token": nil},
		{"token": 12345, "authToken": map[string]any{"push": "x"}},
	} {
		c := dialWithPayload(t, ts.URL, payload)
		ack := c.next(t)
		require.Equal(t, "connection_ack", ack.Type, "payload %d", i)
		c.subscribe(t, "me", meQuery)
		raw := c.result(t, "me")
		require.NotContains(t, string(raw), userID, "payload %d: anonymous", i)
		require.Contains(t, string(raw), "UNAUTHENTICATED", "payload %d: anonymous", i)
	}
}
