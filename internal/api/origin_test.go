package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

func TestOrigins(t *testing.T) {
	t.Parallel()
	ts := serve(t, newApp(t, testkit.SQLite, func(c *config.Config) { c.AllowedOrigins = []string{"https://app.example.com"} }))
	wsURL := "ws" + strings.TrimPrefix(ts.URL, "http") + "/graphql"

	for _, tc := range []struct {
		origin  string
		allowed bool
	}{
		{"https://app.example.com", true},
		{ts.URL, true}, // same origin (GraphiQL)
		{"https://evil.example.com", false},
	} {
		t.Run(tc.origin, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodOptions, ts.URL+"/graphql", nil)
			req.Header.Set("Origin", tc.origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			if tc.allowed {
				require.Equal(t, tc.origin, resp.Header.Get("Access-Control-Allow-Origin"))
				require.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Authorization")
			} else {
				require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
			}

			dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
			conn, resp, err := dialer.Dial(wsURL, http.Header{"Origin": {tc.origin}})
			if tc.allowed {
				require.NoError(t, err)
				conn.Close()
			} else {
				require.Error(t, err)
				require.Equal(t, http.StatusForbidden, resp.StatusCode)
			}
		})
	}
}

// TestSocketAuthenticatedByUpgradeHeader: a non-browser client may send its token as
// the upgrade request's header instead of in connection_init; the connection then
// ends when that token expires, and a bad one is refused, as in connection_init.
func TestSocketAuthenticatedByUpgradeHeader(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, func(c *config.Config) { c.AccessTokenTTL = 2 * time.Second })
	access, _, _ := a.register(t, "header@example.com")
	ts := serve(t, a)
	wsURL := "ws" + strings.TrimPrefix(ts.URL, "http") + "/graphql"

	for _, tc := range []struct {
		name, header string
	}{
		{"valid token expires", "Bearer " + access},
		{"bad token", "Bearer not-a-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
			conn, _, err := dialer.Dial(wsURL, http.Header{"Authorization": {tc.header}})
			require.NoError(t, err)
			defer conn.Close()
			require.NoError(t, conn.WriteJSON(map[string]any{"type": "connection_init"}))
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
			for {
				var msg map[string]any
				err := conn.ReadJSON(&msg)
				if err != nil {
					var ce *websocket.CloseError
					require.ErrorAs(t, err, &ce)
					require.Equal(t, 4403, ce.Code, ce.Text)
					require.NotContains(t, ce.Text, "segments", "no library text in the close reason")
					return
				}
				if msg["type"] == "connection_ack" {
					require.NoError(t, conn.WriteJSON(map[string]any{"id": "1", "type": "subscribe",
						"payload": map[string]any{"query": "subscription { accountEvents { type } }"}}))
				}
			}
		})
	}
}
