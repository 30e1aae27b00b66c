// Package wstransport is a gqlgen transport that runs GraphQL operations over
// WebSocket. It speaks both graphql-transport-ws (the graphql-ws library's
// protocol, https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md)
// and the legacy subscriptions-transport-ws protocol, whose subprotocol name
// is "graphql-ws".
//
// Unlike gqlgen's own websocket transport it closes with the close codes the
// graphql-transport-ws protocol defines (4400, 4401, 4403, 4406, 4408, 4409,
// 4429), so a client rejected for bad credentials gets 4403 and stops instead
// of reconnecting in a loop, and it ends connections whose credentials expire.
package wstransport

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/gorilla/websocket"

	"github.com/inkgraph/inkgraph/internal/platform/metrics"
)

// The subprotocol names, as sent in Sec-WebSocket-Protocol.
const (
	// SubprotocolTransportWS is the graphql-ws library's protocol.
	SubprotocolTransportWS = "graphql-transport-ws"
	// SubprotocolLegacy is subscriptions-transport-ws (Apollo's original
	// protocol). It is also used when the client offers no subprotocol.
	SubprotocolLegacy = "graphql-ws"
)

// Defaults for the zero values of Transport's fields.
const (
	DefaultInitTimeout  = 10 * time.Second
	DefaultKeepAlive    = 15 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultReadLimit    = 1 << 20
)

// Socket buffer sizes: see Do. The read buffer's must not be 0: gorilla would then
// read through the HTTP server's reader rather than its own over frameConn, and the
// read loop's wait between messages (idle.go) could miss a message in that buffer.
const (
	readBufferSize  = 512
	writeBufferSize = 4096
)

// closeGrace is how long the server waits, after sending a close frame, for
// the peer's close frame before dropping the TCP connection.
const closeGrace = 2 * time.Second

// Authenticator checks the payload of a connection_init message (a JSON object,
// nil when the client sent none). It returns the context the connection's
// operations run in (with the caller's identity added), and when the
// credentials expire (the zero time means never). A non-nil error rejects the
// connection with close code 4403.
//
// The context passed in is canceled when the connection closes. The payload
// usually holds tokens: it is never logged by this package.
type Authenticator func(ctx context.Context, payload map[string]any) (context.Context, time.Time, error)

// Transport is a graphql.Transport for WebSocket connections. The zero value
// is ready to use with the defaults described on each field. A Transport
// tracks its live connections, so use it as a pointer and do not copy it.
type Transport struct {
	// Authenticate checks connection_init payloads. Nil accepts every
	// connection as is.
	Authenticate Authenticator
	// InitTimeout is how long a client has, from the upgrade, to get its
	// connection_init acknowledged; otherwise the socket is closed with 4408.
	// Zero means DefaultInitTimeout; negative disables the timeout.
	InitTimeout time.Duration
	// KeepAlive is the interval of the server's keep-alive: a protocol
	// message ({"type":"ping"} for graphql-transport-ws, {"type":"ka"} for the
	// legacy protocol) and a WebSocket ping frame. A peer from which nothing
	// (message or control frame) arrives for twice this is dropped. Zero
	// means DefaultKeepAlive; negative disables keep-alive and the check.
	KeepAlive time.Duration
	// WriteTimeout bounds each write to a socket; a client too slow to take a
	// message within it is disconnected. Zero or negative means
	// DefaultWriteTimeout.
	WriteTimeout time.Duration
	// ReadLimit is the largest message accepted from a client, in bytes; a
	// larger one closes the socket with 1009. Zero means DefaultReadLimit;
	// negative means no limit.
	ReadLimit int64
	// CheckOrigin decides whether the upgrade request's Origin is allowed.
	// Nil allows requests without an Origin header and requests whose Origin
	// host equals the request's Host (same origin) and rejects the rest with 403.
	CheckOrigin func(r *http.Request) bool
	// Logger receives connection and operation logs. Nil discards them.
	Logger *slog.Logger
	// Limits bound the handshakes and open sockets per client address and in all.
	Limits Limits
	// ClientKey names the client address a request is counted under for Limits;
	// nil uses the host of r.RemoteAddr.
	ClientKey func(r *http.Request) string
	// Now is the clock of the upgrade rate; nil means time.Now.
	Now func() time.Time

	admission admission // guarded by mu

	// writeBuffers are the write buffers the sockets borrow while writing a message.
	writeBuffers sync.Pool

	mu       sync.Mutex
	conns    map[*conn]struct{}
	closed   bool           // Shutdown was called
	handlers sync.WaitGroup // running Do calls
}

var _ graphql.Transport = (*Transport)(nil)

// Supports reports whether r is a WebSocket upgrade request.
func (t *Transport) Supports(r *http.Request) bool {
	return websocket.IsWebSocketUpgrade(r)
}

// Do upgrades r to a WebSocket and serves GraphQL operations on it until the
// connection ends, on a goroutine of its own: Do returns once the upgrade is done.
// The HTTP handler's goroutine, its deep stack and the HTTP server's buffers for the
// connection are then let go, and an open socket holds only what it uses.
func (t *Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	t.handlers.Add(1)
	t.mu.Unlock()
	served := false
	defer func() {
		if !served {
			t.handlers.Done()
		}
	}()

	key := t.clientKey(r)
	if refused := t.admit(key); refused != nil {
		t.logger().LogAttrs(r.Context(), slog.LevelInfo, "websocket upgrade refused",
			slog.String("client", key), slog.Int("status", refused.status), slog.String("reason", refused.message))
		refused.write(w)
		return
	}

	offered := websocket.Subprotocols(r)
	upgrader := websocket.Upgrader{
		Subprotocols: []string{SubprotocolTransportWS, SubprotocolLegacy},
		CheckOrigin:  t.checkOrigin,
		// A socket mostly waits: it keeps a small read buffer of its own (the HTTP
		// server's 4 KiB ones are let go) and borrows a write buffer from a shared
		// pool only while it writes a message. Larger messages take more reads.
		ReadBufferSize:  readBufferSize,
		WriteBufferSize: writeBufferSize,
		WriteBufferPool: &t.writeBuffers,
	}
	hw := &hijacker{ResponseWriter: w}
	ws, err := upgrader.Upgrade(hw, r, nil)
	if err != nil {
		t.release(key)
		// The upgrader has already answered with an HTTP error.
		t.logger().LogAttrs(r.Context(), slog.LevelInfo, "websocket upgrade refused",
			slog.String("remote_addr", r.RemoteAddr),
			slog.String("origin", r.Header.Get("Origin")),
			slog.String("error", err.Error()),
		)
		return
	}

	protocol := ws.Subprotocol()
	if protocol == "" && len(offered) == 0 {
		// Clients are supposed to name a subprotocol; like Apollo and gqlgen,
		// fall back to the legacy protocol for those that do not.
		protocol = SubprotocolLegacy
	}

	c := newConn(t, ws, hw.conn, r, exec, protocol)
	t.mu.Lock()
	shuttingDown := t.closed
	if t.conns == nil {
		t.conns = map[*conn]struct{}{}
	}
	t.conns[c] = struct{}{}
	t.mu.Unlock()

	served = true
	go t.serve(c, key, shuttingDown)
}

// serve runs connection c, admitted under key, to its end and forgets it.
func (t *Transport) serve(c *conn, key string, shuttingDown bool) {
	defer t.handlers.Done()
	defer t.release(key)
	defer func() {
		t.mu.Lock()
		delete(t.conns, c)
		t.mu.Unlock()
	}()
	if c.protocol != "" {
		// A socket whose subprotocol is refused is closed at once and not counted.
		open := metrics.OpenSockets.WithLabelValues(c.protocol)
		open.Inc()
		defer open.Dec()
	}

	switch {
	case shuttingDown:
		c.close(websocket.CloseGoingAway, reasonShutdown)
	case c.protocol == "":
		c.close(codeSubprotocolNotAcceptable, "Subprotocol not acceptable")
	}
	c.serve()
}

// Shutdown completes every running operation (sending complete for each),
// closes every socket with 1001 "server shutting down" and waits until the
// connections' goroutines have ended or ctx is done. Connections still open
// when ctx ends are dropped and ctx's error is returned. After Shutdown the
// Transport refuses new connections with 503.
//
// http.Server.Shutdown does not wait for hijacked connections such as these:
// call this as well.
func (t *Transport) Shutdown(ctx context.Context) error {
	t.mu.Lock()
	t.closed = true
	conns := make([]*conn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()

	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Go(func() { c.shutdown(ctx) })
		}
		wg.Wait()
		t.handlers.Wait()
		close(done)
	}()

	select {
	case <-done:
		return nil
	case <-ctx.Done():
		t.mu.Lock()
		for c := range t.conns {
			c.abort(errors.New("shutdown deadline exceeded"))
		}
		t.mu.Unlock()
		return ctx.Err()
	}
}

// Connections returns the number of open sockets.
func (t *Transport) Connections() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

func (t *Transport) checkOrigin(r *http.Request) bool {
	if t.CheckOrigin != nil {
		return t.CheckOrigin(r)
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

func (t *Transport) logger() *slog.Logger {
	if t.Logger != nil {
		return t.Logger
	}
	return discardLogger
}

var discardLogger = slog.New(slog.DiscardHandler)

func (t *Transport) initTimeout() time.Duration {
	if t.InitTimeout == 0 {
		return DefaultInitTimeout
	}
	return t.InitTimeout
}

func (t *Transport) keepAlive() time.Duration {
	if t.KeepAlive == 0 {
		return DefaultKeepAlive
	}
	return t.KeepAlive
}

func (t *Transport) writeTimeout() time.Duration {
	if t.WriteTimeout <= 0 {
		return DefaultWriteTimeout
	}
	return t.WriteTimeout
}

func (t *Transport) readLimit() int64 {
	switch {
	case t.ReadLimit == 0:
		return DefaultReadLimit
	case t.ReadLimit < 0:
		return 0 // no limit
	default:
		return t.ReadLimit
	}
}
