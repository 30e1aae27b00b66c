package api_test

import (
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// handshake opens a graphql-transport-ws socket as the client address from (the test
// server trusts loopback as its proxy) and returns the handshake's status and headers,
// and the refusal's body. An accepted socket is closed when the test ends.
func handshake(t *testing.T, serverURL, from string) (int, http.Header, string) {
	t.Helper()
	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	conn, resp, err := dialer.Dial("ws"+strings.TrimPrefix(serverURL, "http")+"/graphql",
		http.Header{"X-Forwarded-For": {from}})
	if err == nil {
		t.Cleanup(func() { _ = conn.Close() })
		return resp.StatusCode, resp.Header, ""
	}
	require.NotNil(t, resp, "refused with an HTTP response: %v", err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header, string(body)
}

func behindLoopbackProxy(c *config.Config) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
}

// TestWebSocketUpgradesPerAddressAreLimited: one address gets its N handshakes a
// minute, the next is refused with 429 and Retry-After before any upgrade, another
// address still connects, and the budget refills with the clock.
func TestWebSocketUpgradesPerAddressAreLimited(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, behindLoopbackProxy, func(c *config.Config) {
		c.WSUpgradesPerMinute = 3
		c.WSMaxConnsPerIP, c.WSMaxConns = 0, 0
	})
	ts := serve(t, a)
	for range 3 {
		status, _, body := handshake(t, ts.URL, "192.0.2.1")
		require.Equal(t, http.StatusSwitchingProtocols, status, body)
	}
	status, header, body := handshake(t, ts.URL, "192.0.2.1")
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, "20", header.Get("Retry-After"), "one more handshake every 60/3 s")
	require.Contains(t, body, "more than 3 WebSocket connections a minute")

	status, _, body = handshake(t, ts.URL, "192.0.2.2")
	require.Equal(t, http.StatusSwitchingProtocols, status, "another address is not affected: %s", body)

	a.clock.Advance(20 * time.Second)
	status, _, body = handshake(t, ts.URL, "192.0.2.1")
	require.Equal(t, http.StatusSwitchingProtocols, status, "a refused handshake spent nothing: %s", body)
	status, _, _ = handshake(t, ts.URL, "192.0.2.1")
	require.Equal(t, http.StatusTooManyRequests, status)
}

// TestWebSocketOpenSocketsAreCapped: past its open sockets an address gets 429, and
// past the server's total everyone gets 503 with Retry-After.
func TestWebSocketOpenSocketsAreCapped(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, behindLoopbackProxy, func(c *config.Config) {
		c.WSUpgradesPerMinute = 0
		c.WSMaxConnsPerIP, c.WSMaxConns = 2, 3
	})
	ts := serve(t, a)
	for range 2 {
		status, _, body := handshake(t, ts.URL, "192.0.2.1")
		require.Equal(t, http.StatusSwitchingProtocols, status, body)
	}
	status, _, body := handshake(t, ts.URL, "192.0.2.1")
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Contains(t, body, "your address holds its maximum of 2 WebSocket connections")

	status, _, body = handshake(t, ts.URL, "192.0.2.2")
	require.Equal(t, http.StatusSwitchingProtocols, status, body)
	status, header, body := handshake(t, ts.URL, "192.0.2.3")
	require.Equal(t, http.StatusServiceUnavailable, status, "the server is full")
	require.Equal(t, "30", header.Get("Retry-After"))
	require.Contains(t, body, "the server holds its maximum of 3 WebSocket connections")
}

// TestWebSocketSlotsComeBack: an address that held its maximum and closed its sockets
// connects again, and so does the server once its total is free again: slots are
// released when a socket ends, not leaked.
func TestWebSocketSlotsComeBack(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, behindLoopbackProxy, func(c *config.Config) {
		c.WSUpgradesPerMinute = 0
		c.WSMaxConnsPerIP, c.WSMaxConns = 2, 3
	})
	ts := serve(t, a)
	dial := func() (*websocket.Conn, int) {
		dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
		conn, resp, err := dialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/graphql",
			http.Header{"X-Forwarded-For": {"192.0.2.1"}})
		if err != nil {
			require.NotNil(t, resp, "refused with an HTTP response: %v", err)
			_ = resp.Body.Close()
			return nil, resp.StatusCode
		}
		return conn, resp.StatusCode
	}
	for round := range 3 {
		// The server notices a closed socket when its read fails, so the slots of the
		// round before come back shortly after it closed them: wait for both.
		var open []*websocket.Conn
		require.Eventually(t, func() bool {
			conn, status := dial()
			if status != http.StatusSwitchingProtocols {
				return false
			}
			open = append(open, conn)
			return len(open) == 2
		}, 10*time.Second, 10*time.Millisecond, "round %d: the address's two slots are free", round)
		_, status := dial()
		require.Equal(t, http.StatusTooManyRequests, status, "round %d: the address is full", round)
		for _, c := range open {
			require.NoError(t, c.Close())
		}
	}
}
