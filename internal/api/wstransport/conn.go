package wstransport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/gorilla/websocket"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/platform/workers"
)

// Close codes of the graphql-transport-ws protocol, also used for the legacy
// protocol.
const (
	codeBadRequest               = 4400
	codeUnauthorized             = 4401
	codeForbidden                = 4403
	codeSubprotocolNotAcceptable = 4406
	codeInitTimeout              = 4408
	codeSubscriberExists         = 4409
	codeTooManyInit              = 4429
)

const (
	reasonShutdown = "server shutting down"
	reasonExpired  = "token expired"
	// maxReasonBytes is what fits in a close frame: 125 bytes of control
	// frame payload minus the 2-byte code.
	maxReasonBytes = 123
)

var (
	errConnClosed     = errors.New("websocket connection closed")
	errClientComplete = fmt.Errorf("operation completed by the client: %w", llm.ErrStopped)
	errShutdown       = errors.New("server shutting down")
	errOperationDone  = errors.New("operation done")
)

// conn is one WebSocket connection.
type conn struct {
	t        *Transport
	ws       *websocket.Conn
	frames   *frameConn // ws's connection, read a frame at a time
	exec     graphql.GraphExecutor
	protocol string
	remote   string // the client's address, as the HTTP server gave it
	// headers are what an operation may read of the upgrade request's headers
	// (graphql.OperationContext.Headers): its User-Agent, which a session signed in
	// over the socket remembers; nil without one. The rest would stay in memory as
	// long as the socket, and nothing reads them: a socket's caller is its
	// connection_init's.
	headers http.Header
	opened  time.Time

	// ctx is canceled when the connection starts closing.
	ctx    context.Context
	cancel context.CancelCauseFunc

	// wmu serializes data message writes. Close and ping frames go through
	// gorilla's WriteControl, which may run concurrently with them.
	wmu sync.Mutex

	closing     atomic.Bool // a close frame was sent or the socket is being dropped
	keepAliveOn atomic.Bool // read deadline is enforced

	mu           sync.Mutex
	initReceived bool
	acked        bool
	failing      bool // a close for an error is under way: no more acks or operations
	draining     bool // Shutdown: no new operations
	opBase       context.Context
	ops          map[string]*operation
	initTimer    *time.Timer
	expiryTimer  *time.Timer
	forceTimer   *time.Timer
	closeCode    int
	closeReason  string

	opWG sync.WaitGroup // operation goroutines

	// kaMu guards the keep-alive timer; a ping holds it while it is sent.
	kaMu      sync.Mutex
	kaTimer   *time.Timer
	kaStopped bool
}

// operation is one running subscribe/start.
type operation struct {
	id     string
	ctx    context.Context
	cancel context.CancelCauseFunc
	// ops is its connection's count of running operations (opWG), which done
	// decrements once, as finished records.
	ops      *sync.WaitGroup
	finished atomic.Bool
	// nextPrefix is the start of the operation's result messages, up to the
	// payload; made at its first result, by one goroutine of the operation at a
	// time (the one making it ready, then the one streaming it).
	nextPrefix []byte
	// deferring is set at the first result of an operation with @defer: every
	// result after it is an incremental payload. Only the operation's goroutine
	// (the one making it ready, then the one streaming it) reads or writes it.
	deferring bool
	// opCtx is the operation's parsed document and variables, which say which
	// fields its first result leaves for later; set before it runs.
	opCtx *graphql.OperationContext
}

// done tells the connection the operation is over, once: when its goroutine ends,
// or earlier when a run it adopted goes on without its client (llm.Release), which
// the connection need not wait for.
func (op *operation) done() {
	if op.finished.CompareAndSwap(false, true) {
		op.ops.Done()
	}
}

// mayWrite reports whether a message for op may still be sent. Nothing goes
// out for an operation the client completed or whose connection is closing;
// a shutdown still lets the final complete (or error) through.
func (op *operation) mayWrite(final bool) bool {
	switch cause := context.Cause(op.ctx); {
	case cause == nil:
		return true
	case errors.Is(cause, errShutdown):
		return final
	default:
		return false
	}
}

func newConn(t *Transport, ws *websocket.Conn, frames *frameConn, r *http.Request, exec graphql.GraphExecutor, protocol string) *conn {
	// The request's context ends when the handler returns, which Do does once the
	// connection is upgraded: the connection keeps its values, not its end.
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(r.Context()))
	return &conn{
		t:        t,
		ws:       ws,
		frames:   frames,
		exec:     exec,
		protocol: protocol,
		remote:   r.RemoteAddr,
		headers:  operationHeaders(r.Header),
		opened:   time.Now(),
		ctx:      ctx,
		cancel:   cancel,
		opBase:   ctx,
		ops:      map[string]*operation{},
	}
}

// operationHeaders is what the socket's operations keep of its upgrade request's
// headers: the User-Agent.
func operationHeaders(h http.Header) http.Header {
	ua := h.Values("User-Agent")
	if len(ua) == 0 {
		return nil
	}
	return http.Header{"User-Agent": ua}
}

// logAttrs logs msg with attrs and the socket's protocol and client address. They are
// added to each record rather than kept in a logger of the socket's: a socket mostly
// waits and seldom logs, and such a logger's formatted attributes cost about 300
// bytes a socket.
func (c *conn) logAttrs(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	l := c.t.logger()
	if !l.Enabled(ctx, level) {
		return
	}
	l.LogAttrs(ctx, level, msg, append(attrs, slog.String("protocol", c.protocol), slog.String("remote_addr", c.remote))...)
}

// serve runs the read loop, then tears the connection down.
func (c *conn) serve() {
	c.logAttrs(c.ctx, slog.LevelDebug, "websocket connection opened")

	c.ws.SetPingHandler(func(data string) error {
		c.touch()
		err := c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.t.writeTimeout()))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	c.ws.SetPongHandler(func(string) error {
		c.touch()
		return nil
	})

	if timeout := c.t.initTimeout(); timeout > 0 {
		c.mu.Lock()
		c.initTimer = time.AfterFunc(timeout, c.initTimedOut)
		c.mu.Unlock()
	}

	limit := c.t.readLimit()
	for {
		// Between messages: wait here, in this shallow frame, not in gorilla's reader
		// (idle.go).
		if err := c.frames.waitMessage(c.controlFrame); err != nil {
			c.readEnded(err)
			break
		}
		_, r, err := c.ws.NextReader()
		if err != nil {
			c.readEnded(err)
			break
		}
		if c.closing.Load() {
			continue // waiting for the peer's close frame; NextReader skips the message
		}
		c.touch()
		data, err := readMessage(r, limit)
		if errors.Is(err, errTooBig) {
			// The rest of the message is skipped by the next NextReader,
			// which then waits for the peer's close frame.
			c.fail(websocket.CloseMessageTooBig, "Message too big", "message too big")
			continue
		}
		if err != nil {
			c.readEnded(err)
			break
		}
		// Handled on a pooled goroutine while this one waits: an init's
		// authentication and a subscribe go deep, and would leave this goroutine,
		// which mostly waits, a stack four times what waiting needs until
		// collections had halved it twice (workers).
		pooled.Do(func() { c.handle(data) })
	}
	c.finish()
}

// pooled runs the sockets' deep work: their messages, and their operations until
// they stream.
var pooled = workers.New(time.Second)

// controlFrame answers a ping or pong taken between messages as gorilla would.
func (c *conn) controlFrame(opcode int, payload []byte) error {
	if opcode == websocket.PingMessage {
		return c.ws.PingHandler()(string(payload))
	}
	return c.ws.PongHandler()(string(payload))
}

var errTooBig = errors.New("message too big")

// readMessage reads a whole message of at most limit bytes (no limit if limit
// is not positive).
func readMessage(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		return io.ReadAll(r)
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err == nil && int64(len(data)) > limit {
		return nil, errTooBig
	}
	return data, err
}

// readEnded records why the read loop stopped.
func (c *conn) readEnded(err error) {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		// The peer's close frame; gorilla has answered it. Keeps our own code
		// when we closed first.
		c.closeWith(ce.Code, ce.Text, false)
	case errors.As(err, &ne) && ne.Timeout() && c.keepAliveOn.Load():
		c.closeWith(websocket.CloseAbnormalClosure, "keep-alive timeout", false)
	default:
		c.closeWith(websocket.CloseAbnormalClosure, err.Error(), false)
	}
}

// finish releases everything the connection holds once reading has stopped.
func (c *conn) finish() {
	c.closeWith(websocket.CloseAbnormalClosure, "connection ended", false)
	_ = c.ws.Close()

	c.mu.Lock()
	for _, timer := range []*time.Timer{c.initTimer, c.expiryTimer, c.forceTimer} {
		if timer != nil {
			timer.Stop()
		}
	}
	code, reason := c.closeCode, c.closeReason
	c.mu.Unlock()

	c.opWG.Wait()
	c.stopKeepAlive()

	c.logAttrs(c.ctx, slog.LevelInfo, "websocket connection closed",
		slog.Int("code", code),
		slog.String("reason", reason),
		slog.Duration("duration", time.Since(c.opened)),
	)
}

// touch pushes the read deadline back after anything arrived from the peer.
// It runs on the reading goroutine, or on the one handling a message while the
// reader waits (pooled.Do): never on two at once.
func (c *conn) touch() {
	if c.keepAliveOn.Load() {
		_ = c.ws.SetReadDeadline(time.Now().Add(2 * c.t.keepAlive()))
	}
}

// close starts the close handshake with code and reason.
func (c *conn) close(code int, reason string) {
	c.closeWith(code, reason, true)
}

// closeWith marks the connection closing, records code and reason, cancels
// every operation and, if sendFrame, sends a close frame. It reports whether
// this call started the close; later calls change nothing.
func (c *conn) closeWith(code int, reason string, sendFrame bool) bool {
	c.mu.Lock()
	if c.closing.Load() {
		c.mu.Unlock()
		return false
	}
	c.closing.Store(true)
	c.closeCode, c.closeReason = code, reason
	ops := c.ops
	c.ops = nil
	// Drop the TCP connection if the peer does not finish the handshake.
	c.forceTimer = time.AfterFunc(closeGrace, func() { _ = c.ws.NetConn().Close() })
	c.mu.Unlock()

	c.cancel(errConnClosed)
	for _, op := range ops {
		op.cancel(errConnClosed)
	}
	if sendFrame {
		msg := websocket.FormatCloseMessage(code, truncateReason(reason))
		_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.t.writeTimeout()))
	}
	return true
}

// abort drops the connection without a close handshake (the socket is not
// writable any more).
func (c *conn) abort(cause error) {
	c.closeWith(websocket.CloseAbnormalClosure, cause.Error(), false)
	_ = c.ws.NetConn().Close()
}

// fail closes the connection because of an error. On the legacy protocol the
// client first gets a connection_error carrying message.
func (c *conn) fail(code int, reason, message string) {
	c.failIf(nil, code, reason, message)
}

// failIf is fail, done only if cond (evaluated under c.mu) holds.
func (c *conn) failIf(cond func() bool, code int, reason, message string) {
	c.mu.Lock()
	if c.failing || c.closing.Load() || (cond != nil && !cond()) {
		c.mu.Unlock()
		return
	}
	c.failing = true
	c.mu.Unlock()

	if c.protocol == SubprotocolLegacy {
		_ = c.write(nil, false, outMessage{Type: legacyConnectionError, Payload: errorMessage{Message: message}})
	}
	c.close(code, reason)
}

func (c *conn) initTimedOut() {
	c.failIf(func() bool { return !c.acked }, codeInitTimeout,
		"Connection initialisation timeout", "Connection initialisation timeout")
}

// shutdown completes the connection's operations, then closes it with 1001.
func (c *conn) shutdown(ctx context.Context) {
	c.mu.Lock()
	if c.closing.Load() {
		c.mu.Unlock()
		return
	}
	c.draining = true
	c.mu.Unlock()

	c.cancelOperations(errShutdown)
	done := make(chan struct{})
	go func() {
		c.opWG.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	c.close(websocket.CloseGoingAway, reasonShutdown)
}

// write sends msg. For an operation's message, op is the operation and final
// tells whether msg ends it. A failed write drops the connection.
func (c *conn) write(op *operation, final bool, msg outMessage) error {
	b, err := json.Marshal(msg)
	if err != nil {
		c.logAttrs(c.ctx, slog.LevelError, "websocket message encoding failed",
			slog.String("type", msg.Type), slog.String("id", msg.ID), slog.String("error", err.Error()))
		return err
	}
	return c.writeEncoded(op, final, b)
}

// writeEncoded is write for a message already encoded as b.
func (c *conn) writeEncoded(op *operation, final bool, b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closing.Load() {
		return errConnClosed
	}
	if op != nil && !op.mayWrite(final) {
		return nil
	}
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.t.writeTimeout()))
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.abort(fmt.Errorf("write failed: %w", err))
		return err
	}
	return nil
}

// startKeepAlive starts the keep-alive pings and the silent-peer check.
// It runs while a message is handled (the init's acknowledgement), the reader
// waiting. The pings come from a timer rather than a
// goroutine of their own: an idle socket then holds no stack for them.
func (c *conn) startKeepAlive() {
	interval := c.t.keepAlive()
	if interval <= 0 {
		return
	}
	c.keepAliveOn.Store(true)
	c.touch()

	ping := outMessage{Type: transportWSPing}
	if c.protocol == SubprotocolLegacy {
		ping = outMessage{Type: legacyKeepAlive}
	}
	c.kaMu.Lock()
	defer c.kaMu.Unlock()
	if c.kaStopped {
		return
	}
	c.kaTimer = time.AfterFunc(interval, func() {
		// kaMu is held for the whole ping, so that stopKeepAlive returns only once
		// no ping is under way and none will start.
		c.kaMu.Lock()
		defer c.kaMu.Unlock()
		if c.kaStopped || c.ctx.Err() != nil {
			return
		}
		if err := c.write(nil, false, ping); err != nil {
			return
		}
		err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.t.writeTimeout()))
		if err != nil {
			if !c.closing.Load() {
				c.abort(fmt.Errorf("ping failed: %w", err))
			}
			return
		}
		c.kaTimer.Reset(interval)
	})
}

// stopKeepAlive stops the pings, waiting for one under way.
func (c *conn) stopKeepAlive() {
	c.kaMu.Lock()
	defer c.kaMu.Unlock()
	c.kaStopped = true
	if c.kaTimer != nil {
		c.kaTimer.Stop()
	}
}

// truncateReason cuts a close reason to what a close frame can carry,
// without splitting a UTF-8 sequence.
func truncateReason(s string) string {
	if len(s) <= maxReasonBytes {
		return s
	}
	n := maxReasonBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
