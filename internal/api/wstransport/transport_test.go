package wstransport_test

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkgraph/inkgraph/internal/testkit"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/api/wstransport"
)

func TestSupports(t *testing.T) {
	tr := &wstransport.Transport{}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    bool
	}{
		{"upgrade", map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"}, true},
		{"keep-alive, upgrade", map[string]string{"Connection": "keep-alive, Upgrade", "Upgrade": "WebSocket"}, true},
		{"plain GET", nil, false},
		{"h2c upgrade", map[string]string{"Connection": "Upgrade", "Upgrade": "h2c"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodGet, "http://example.com/graphql", nil)
			require.NoError(t, err)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			require.Equal(t, tc.want, tr.Supports(r))
		})
	}
}

func TestSubscriptionNextAndComplete(t *testing.T) {
	noProtocol := protoLegacy
	noProtocol.name, noProtocol.offer = "no subprotocol is legacy", nil

	for _, p := range []proto{protoTransportWS, protoLegacy, noProtocol} {
		t.Run(p.name, func(t *testing.T) {
			e := newEnv(t, &wstransport.Transport{Authenticate: tokenAuth(0)})
			c := e.connectAcked(t, p)
			if p.offer != nil {
				require.Equal(t, p.offer[0], c.ws.Subprotocol())
			}

			c.subscribe(p, "s1", "subscription { events }", nil)
			require.Eventually(t, func() bool { return e.b.subscribers() == 1 }, waitFor, tick)

			for _, v := range []string{"first", "second"} {
				e.b.publish(v)
				m := c.expect(p.next, "s1")
				require.Equal(t, map[string]any{"events": v}, m.payload()["data"])
			}

			e.b.endAll()
			c.expect("complete", "s1")
			require.Equal(t, 1, e.tr.Connections())
		})
	}
}

func TestQueryAndMutationOverSocket(t *testing.T) {
	for _, p := range bothProtocols {
		for _, tc := range []struct {
			name      string
			query     string
			variables map[string]any
			want      map[string]any
		}{
			{"query", "{ hello }", nil, map[string]any{"hello": "world"}},
			{"mutation", "mutation($n: String!) { setName(name: $n) }", map[string]any{"n": "bob"}, map[string]any{"setName": "bob"}},
			{"runs in the authenticated context", "{ whoami }", nil, map[string]any{"whoami": "alice"}},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t, &wstransport.Transport{Authenticate: tokenAuth(0)})
				c := e.connectAcked(t, p)

				c.subscribe(p, "q1", tc.query, tc.variables)
				m := c.expect(p.next, "q1")
				require.Equal(t, tc.want, m.payload()["data"])
				require.NotContains(t, m.payload(), "errors")
				c.expect("complete", "q1")
			})
		}
	}
}

// TestOperationHeaders: an operation over a socket reads its upgrade request's
// User-Agent (a session signed in over it remembers it), and no other header.
func TestOperationHeaders(t *testing.T) {
	for _, p := range bothProtocols {
		t.Run(p.name, func(t *testing.T) {
			e := newEnv(t, &wstransport.Transport{Authenticate: tokenAuth(0)})
			c, _, err := e.dial(t, p.offer, http.Header{"User-Agent": {"wstest/1.0"}, "Cookie": {"session=secret"}, "X-Extra": {"x"}})
			require.NoError(t, err)
			c.init(p, map[string]any{"token": goodToken})
			c.subscribe(p, "h1", "{ headers }", nil)
			m := c.expect(p.next, "h1")
			require.Equal(t, map[string]any{"headers": "map[User-Agent:[wstest/1.0]]"}, m.payload()["data"])
			c.expect("complete", "h1")
		})
	}
}

func TestRequestErrors(t *testing.T) {
	t.Run(transportWS, func(t *testing.T) {
		e := newEnv(t, &wstransport.Transport{})
		c := e.connectAcked(t, protoTransportWS)

		c.subscribe(protoTransportWS, "bad", "{ nope }", nil)
		m := c.expect("error", "bad")
		errs, ok := m["payload"].([]any)
		require.True(t, ok, "payload must be a list of errors: %v", m)
		require.Len(t, errs, 1)
		require.Contains(t, errs[0].(map[string]any)["message"], "Cannot query field")

		// The error ended the operation: no complete follows, and the id is free again.
		c.send(msg{"type": "ping"})
		c.expect("pong", "")
		c.subscribe(protoTransportWS, "bad", "{ hello }", nil)
		c.expect("next", "bad")
		c.expect("complete", "bad")
	})

	t.Run(legacyWS, func(t *testing.T) {
		e := newEnv(t, &wstransport.Transport{})
		c := e.connectAcked(t, protoLegacy)

		c.subscribe(protoLegacy, "bad", "{ nope }", nil)
		m := c.expect("error", "bad")
		require.Contains(t, m.payload()["message"], "Cannot query field")
		c.expect("complete", "bad")

		c.send(msg{"type": "start", "id": "bad2", "payload": "not an object"})
		m = c.expect("error", "bad2")
		require.NotEmpty(t, m.payload()["message"])
		c.expect("complete", "bad2")
	})
}

func TestCloseCodes(t *testing.T) {
	const (
		goodInit = `{"type":"connection_init","payload":{"token":"` + goodToken + `"}}`
		badInit  = `{"type":"connection_init","payload":{"token":"` + badToken + `"}}`
	)
	sub := func(typ, id string) string {
		return `{"type":"` + typ + `","id":"` + id + `","payload":{"query":"subscription { events }"}}`
	}

	for _, tc := range []struct {
		name        string
		offer       []string
		initTimeout time.Duration
		readLimit   int64
		acked       bool     // send the good connection_init and expect the ack first
		send        []string // then send these
		code        int
		reason      string
		connError   string // legacy: the connection_error message expected before the close
	}{
		{name: "transport-ws bad token", offer: []string{transportWS}, send: []string{badInit}, code: 4403, reason: "Forbidden: invalid token"},
		{name: "transport-ws no init payload", offer: []string{transportWS}, send: []string{`{"type":"connection_init"}`}, code: 4403, reason: "Forbidden"},
		{name: "legacy bad token", offer: []string{legacyWS}, send: []string{badInit}, code: 4403, reason: "Forbidden", connError: "invalid token"},

		{name: "transport-ws init timeout", offer: []string{transportWS}, initTimeout: 100 * time.Millisecond, code: 4408, reason: "Connection initialisation timeout"},
		{name: "legacy init timeout", offer: []string{legacyWS}, initTimeout: 100 * time.Millisecond, code: 4408, reason: "Connection initialisation timeout", connError: "Connection initialisation timeout"},

		{name: "transport-ws second init", offer: []string{transportWS}, acked: true, send: []string{goodInit}, code: 4429, reason: "Too many initialisation requests"},
		{name: "legacy second init", offer: []string{legacyWS}, acked: true, send: []string{goodInit}, code: 4429, reason: "Too many initialisation requests", connError: "Too many initialisation requests"},

		{name: "transport-ws subscribe before ack", offer: []string{transportWS}, send: []string{sub("subscribe", "1")}, code: 4401, reason: "Unauthorized"},
		{name: "legacy start before ack", offer: []string{legacyWS}, send: []string{sub("start", "1")}, code: 4401, reason: "Unauthorized", connError: "Unauthorized"},

		{name: "transport-ws duplicate id", offer: []string{transportWS}, acked: true, send: []string{sub("subscribe", "dup"), sub("subscribe", "dup")}, code: 4409, reason: "Subscriber for dup already exists"},
		{name: "legacy duplicate id", offer: []string{legacyWS}, acked: true, send: []string{sub("start", "dup"), sub("start", "dup")}, code: 4409, reason: "Subscriber for dup already exists", connError: "Subscriber for dup already exists"},
		{name: "long duplicate id keeps the reason short", offer: []string{transportWS}, acked: true, send: []string{sub("subscribe", strings.Repeat("é", 100)), sub("subscribe", strings.Repeat("é", 100))}, code: 4409, reason: "Subscriber for é"},

		{name: "transport-ws invalid JSON", offer: []string{transportWS}, acked: true, send: []string{`{"type":`}, code: 4400, reason: "Invalid message"},
		{name: "transport-ws not an object", offer: []string{transportWS}, send: []string{`[1,2]`}, code: 4400, reason: "Invalid message"},
		{name: "transport-ws subscribe without id", offer: []string{transportWS}, acked: true, send: []string{`{"type":"subscribe","payload":{"query":"{ hello }"}}`}, code: 4400, reason: "without an id"},
		{name: "transport-ws numeric id", offer: []string{transportWS}, acked: true, send: []string{`{"type":"subscribe","id":1,"payload":{"query":"{ hello }"}}`}, code: 4400, reason: "Invalid message"},
		{name: "transport-ws complete without id", offer: []string{transportWS}, acked: true, send: []string{`{"type":"complete"}`}, code: 4400, reason: "without an id"},
		{name: "transport-ws unknown type", offer: []string{transportWS}, acked: true, send: []string{`{"type":"bogus"}`}, code: 4400, reason: `unexpected type "bogus"`},
		{name: "transport-ws server message from client", offer: []string{transportWS}, acked: true, send: []string{`{"type":"next","id":"1"}`}, code: 4400, reason: `unexpected type "next"`},
		{name: "transport-ws subscribe payload not an object", offer: []string{transportWS}, acked: true, send: []string{`{"type":"subscribe","id":"1","payload":"{ hello }"}`}, code: 4400, reason: "payload"},
		{name: "transport-ws init payload not an object", offer: []string{transportWS}, send: []string{`{"type":"connection_init","payload":"token"}`}, code: 4400, reason: "payload must be an object"},
		{name: "legacy unknown type", offer: []string{legacyWS}, acked: true, send: []string{`{"type":"bogus"}`}, code: 4400, reason: "Invalid message", connError: `unexpected message type "bogus"`},

		{name: "unknown subprotocol", offer: []string{"graphql-bogus"}, code: 4406, reason: "Subprotocol not acceptable"},
		{name: "message over the read limit", offer: []string{transportWS}, readLimit: 1024, acked: true,
			send: []string{`{"type":"ping","payload":{"pad":"` + strings.Repeat("x", 4096) + `"}}`}, code: websocket.CloseMessageTooBig},
		{name: "legacy message over the read limit", offer: []string{legacyWS}, readLimit: 1024, acked: true,
			send: []string{`{"type":"start","id":"1","payload":{"query":"` + strings.Repeat("x", 4096) + `"}}`}, code: websocket.CloseMessageTooBig, connError: "message too big"},
		{name: "legacy connection_terminate", offer: []string{legacyWS}, acked: true, send: []string{`{"type":"connection_terminate"}`}, code: websocket.CloseNormalClosure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &wstransport.Transport{
				Authenticate: tokenAuth(0),
				InitTimeout:  tc.initTimeout,
				ReadLimit:    tc.readLimit,
			}
			e := newEnv(t, tr)
			c, _, err := e.dial(t, tc.offer, nil)
			require.NoError(t, err)
			if tc.acked {
				p := protoTransportWS
				if tc.offer[0] == legacyWS {
					p = protoLegacy
				}
				c.init(p, map[string]any{"token": goodToken})
			}
			for _, s := range tc.send {
				c.sendRaw(s)
			}

			msgs := c.expectClose(tc.code, tc.reason)
			if tc.connError != "" {
				require.NotEmpty(t, msgs, "expected a connection_error before the close")
				last := msgs[len(msgs)-1]
				require.Equal(t, "connection_error", last.typ(), "messages %v", msgs)
				require.Equal(t, tc.connError, last.payload()["message"])
			} else {
				for _, m := range msgs {
					require.NotEqual(t, "connection_error", m.typ())
				}
			}
			require.Eventually(t, func() bool { return tr.Connections() == 0 }, waitFor, tick)
		})
	}
}

func TestClientPingGetsPong(t *testing.T) {
	e := newEnv(t, &wstransport.Transport{})
	c := e.connect(t, protoTransportWS)

	// Ping is allowed at any time, even before connection_init.
	c.send(msg{"type": "ping", "payload": map[string]any{"seq": 1.0}})
	m := c.expect("pong", "")
	require.Equal(t, map[string]any{"seq": 1.0}, m.payload())

	c.init(protoTransportWS, nil)

	// A pong from the client is ignored.
	c.send(msg{"type": "pong", "payload": map[string]any{"x": "y"}})
	c.send(msg{"type": "ping"})
	m = c.expect("pong", "")
	require.NotContains(t, m, "payload")
}

func TestServerKeepAlive(t *testing.T) {
	for _, tc := range []struct {
		p       proto
		message string
	}{
		{protoTransportWS, "ping"},
		{protoLegacy, "ka"},
	} {
		t.Run(tc.p.name, func(t *testing.T) {
			e := newEnv(t, &wstransport.Transport{KeepAlive: 100 * time.Millisecond})
			c := e.connectAcked(t, tc.p)

			var controlPings atomic.Int32
			c.ws.SetPingHandler(func(data string) error {
				controlPings.Add(1)
				return c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
			})

			// Several intervals pass while the client answers control pings:
			// it must stay connected and keep getting keep-alive messages.
			for range 5 {
				c.expect(tc.message, "")
			}
			require.Positive(t, controlPings.Load())
			require.Equal(t, 1, e.tr.Connections())
		})
	}
}

func TestSilentPeerIsDropped(t *testing.T) {
	e := newEnv(t, &wstransport.Transport{KeepAlive: 30 * time.Millisecond})
	_ = e.connectAcked(t, protoTransportWS)

	// The client stops reading, so it answers no pings: after 2x KeepAlive of
	// silence the server drops it.
	require.Eventually(t, func() bool { return e.tr.Connections() == 0 }, waitFor, tick)
}

func TestCredentialsExpire(t *testing.T) {
	for _, p := range bothProtocols {
		t.Run(p.name, func(t *testing.T) {
			tr := &wstransport.Transport{Authenticate: tokenAuth(200 * time.Millisecond)}
			e := newEnv(t, tr)
			c := e.connectAcked(t, p)
			c.subscribe(p, "s1", "subscription { events }", nil)

			msgs := c.expectClose(4403, "token expired")
			if p.legacy {
				require.NotEmpty(t, msgs)
				require.Equal(t, "connection_error", msgs[len(msgs)-1].typ())
			}
			require.Eventually(t, func() bool { return tr.Connections() == 0 && e.b.subscribers() == 0 }, waitFor, tick)
			// The subscription normally started well within the 200ms; if it
			// did, its resolver saw its context canceled.
			if e.b.started.Load() > 0 {
				require.Error(t, recv(t, e.b.ended), "the resolver's context must be canceled")
			}
		})
	}
}

func TestExpiredCredentialsAreRejected(t *testing.T) {
	tr := &wstransport.Transport{
		Authenticate: func(ctx context.Context, _ map[string]any) (context.Context, time.Time, error) {
			return ctx, time.Now().Add(-time.Second), nil
		},
	}
	e := newEnv(t, tr)
	c := e.connect(t, protoTransportWS)
	c.send(msg{"type": "connection_init"})
	c.expectClose(4403, "token expired")
}

func TestAuthenticatorPanic(t *testing.T) {
	var logs syncBuffer
	tr := &wstransport.Transport{
		Authenticate: func(context.Context, map[string]any) (context.Context, time.Time, error) {
			panic("authenticator exploded")
		},
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	}
	e := newEnv(t, tr)
	c := e.connect(t, protoTransportWS)
	c.send(msg{"type": "connection_init", "payload": map[string]any{"token": goodToken}})
	c.expectClose(websocket.CloseInternalServerErr, "Internal server error")
	require.Contains(t, logs.String(), "authenticator exploded")
	require.NotContains(t, logs.String(), goodToken)
}

func TestClientCompleteCancelsOperation(t *testing.T) {
	for _, p := range bothProtocols {
		t.Run(p.name, func(t *testing.T) {
			e := newEnv(t, &wstransport.Transport{})
			c := e.connectAcked(t, p)
			baseline := testkit.SettledGoroutines(t)

			c.subscribe(p, "s1", "subscription { events }", nil)
			require.Eventually(t, func() bool { return e.b.subscribers() == 1 }, waitFor, tick)
			e.b.publish("one")
			c.expect(p.next, "s1")
			require.Greater(t, runtime.NumGoroutine(), baseline)

			c.send(msg{"type": p.stop, "id": "s1"})
			require.Error(t, recv(t, e.b.ended), "the resolver's context must be canceled")
			// Both counts are taken inside Eventually's condition goroutine.
			require.Eventually(t, func() bool { return runtime.NumGoroutine() <= baseline }, waitFor, tick,
				"goroutines: %d, baseline %d", runtime.NumGoroutine(), baseline)

			// Nothing more arrives for s1 (no complete either): the next
			// message is the answer to a new operation, which may reuse the id.
			c.subscribe(p, "s1", "{ hello }", nil)
			c.expect(p.next, "s1")
			c.expect("complete", "s1")
			require.Equal(t, 1, e.tr.Connections())
		})
	}
}

func TestClientCloseEndsOperations(t *testing.T) {
	e := newEnv(t, &wstransport.Transport{})
	c := e.connectAcked(t, protoTransportWS)
	c.subscribe(protoTransportWS, "a", "subscription { events }", nil)
	c.subscribe(protoTransportWS, "b", "subscription { events }", nil)
	require.Eventually(t, func() bool { return e.b.subscribers() == 2 }, waitFor, tick)

	require.NoError(t, c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(4499, "Terminated"), time.Now().Add(time.Second)))
	require.Error(t, recv(t, e.b.ended))
	require.Error(t, recv(t, e.b.ended))
	require.Eventually(t, func() bool { return e.tr.Connections() == 0 }, waitFor, tick)
}

func TestShutdown(t *testing.T) {
	tr := &wstransport.Transport{}
	e := newEnv(t, tr)
	clients := make([]*client, len(bothProtocols))
	for i, p := range bothProtocols {
		clients[i] = e.connectAcked(t, p)
		clients[i].subscribe(p, "live", "subscription { events }", nil)
	}
	require.Eventually(t, func() bool { return e.b.subscribers() == 2 }, waitFor, tick)
	require.Equal(t, 2, tr.Connections())

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		done <- tr.Shutdown(ctx)
	}()

	for _, c := range clients {
		c.expect("complete", "live")
		c.expectClose(websocket.CloseGoingAway, "server shutting down")
	}
	require.NoError(t, recv(t, done))
	require.Equal(t, 0, tr.Connections())
	require.Equal(t, 0, e.b.subscribers())

	_, resp, err := e.dial(t, []string{transportWS}, nil)
	require.ErrorIs(t, err, websocket.ErrBadHandshake)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestSlowReaderDoesNotDelayOthers(t *testing.T) {
	tr := &wstransport.Transport{WriteTimeout: 3 * time.Second}
	e := newEnv(t, tr)

	// slow subscribes to a stream of 1 MiB events and never reads: the
	// socket buffers fill and the server's writes to it block.
	slow := e.connectAcked(t, protoTransportWS)
	slow.subscribe(protoTransportWS, "flood", "subscription { big }", nil)
	require.Eventually(t, func() bool { return e.b.bigSent.Load() > 2 }, waitFor, tick)

	fast := e.connectAcked(t, protoTransportWS)
	fast.subscribe(protoTransportWS, "s1", "subscription { events }", nil)
	require.Eventually(t, func() bool { return e.b.subscribers() == 1 }, waitFor, tick)
	for _, v := range []string{"a", "b", "c"} {
		e.b.publish(v)
		m := fast.readWithin(time.Second) // well under WriteTimeout
		require.Equal(t, "next", m.typ())
		require.Equal(t, map[string]any{"events": v}, m.payload()["data"])
	}

	// The slow client is dropped once a write to it times out; the fast one stays.
	require.Eventually(t, func() bool { return tr.Connections() == 1 }, 4*waitFor, tick)
	e.b.publish("d")
	m := fast.read()
	require.Equal(t, map[string]any{"events": "d"}, m.payload()["data"])
}

func TestPanickingResolver(t *testing.T) {
	for _, p := range bothProtocols {
		t.Run(p.name, func(t *testing.T) {
			var logs syncBuffer
			tr := &wstransport.Transport{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			e := newEnv(t, tr)
			c := e.connectAcked(t, p)

			c.subscribe(p, "boom", "subscription { panics }", nil)
			m := c.expect("error", "boom")
			var gqlErr map[string]any
			if p.legacy {
				gqlErr = m.payload()
			} else {
				errs, ok := m["payload"].([]any)
				require.True(t, ok, "payload must be a list of errors: %v", m)
				require.Len(t, errs, 1)
				gqlErr = errs[0].(map[string]any)
			}
			require.Equal(t, map[string]any{"code": wstransport.CodeInternal}, gqlErr["extensions"])
			if p.legacy {
				c.expect("complete", "boom")
			}

			// The connection is still usable.
			c.subscribe(p, "after", "{ hello }", nil)
			m = c.expect(p.next, "after")
			require.Equal(t, map[string]any{"hello": "world"}, m.payload()["data"])
			c.expect("complete", "after")

			require.Contains(t, logs.String(), "panic in websocket operation")
			require.Contains(t, logs.String(), "resolver exploded")
		})
	}
}

func TestOriginCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		check  func(*http.Request) bool
		origin func(e *env) string
		ok     bool
	}{
		{name: "no origin", origin: func(*env) string { return "" }, ok: true},
		{name: "same origin", origin: func(e *env) string { return e.srv.URL }, ok: true},
		{name: "foreign origin", origin: func(*env) string { return "https://evil.example" }, ok: false},
		{name: "foreign origin allowed by CheckOrigin", check: func(*http.Request) bool { return true },
			origin: func(*env) string { return "https://evil.example" }, ok: true},
		{name: "CheckOrigin rejecting", check: func(*http.Request) bool { return false },
			origin: func(*env) string { return "" }, ok: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, &wstransport.Transport{CheckOrigin: tc.check})
			header := http.Header{}
			if o := tc.origin(e); o != "" {
				header.Set("Origin", o)
			}
			c, resp, err := e.dial(t, []string{transportWS}, header)
			if !tc.ok {
				require.ErrorIs(t, err, websocket.ErrBadHandshake)
				require.Equal(t, http.StatusForbidden, resp.StatusCode)
				require.Equal(t, 0, e.tr.Connections())
				return
			}
			require.NoError(t, err)
			c.init(protoTransportWS, nil)
		})
	}
}

func TestLogsConnectionsWithoutInitPayload(t *testing.T) {
	var logs syncBuffer
	tr := &wstransport.Transport{
		Authenticate: tokenAuth(0),
		Logger:       slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	e := newEnv(t, tr)

	good := e.connectAcked(t, protoTransportWS)
	good.subscribe(protoTransportWS, "q", "{ hello }", nil)
	good.expect("next", "q")
	good.expect("complete", "q")
	require.NoError(t, good.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second)))

	bad := e.connect(t, protoLegacy)
	bad.send(msg{"type": "connection_init", "payload": map[string]any{"token": badToken}})
	bad.expectClose(4403, "Forbidden")
	require.Eventually(t, func() bool { return tr.Connections() == 0 }, waitFor, tick)

	require.NotContains(t, logs.String(), goodToken)
	require.NotContains(t, logs.String(), badToken)

	closed := map[string]float64{}
	opened := 0
	for _, rec := range logs.records(t) {
		switch rec["msg"] {
		case "websocket connection opened":
			opened++
		case "websocket connection closed":
			closed[rec["protocol"].(string)] = rec["code"].(float64)
		}
	}
	require.Equal(t, 2, opened)
	require.Equal(t, map[string]float64{transportWS: 1000, legacyWS: 4403}, closed)
}
