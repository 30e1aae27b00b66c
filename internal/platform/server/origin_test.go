package server_test

import (
	"net/http"
	"strings"
	"testing"

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
