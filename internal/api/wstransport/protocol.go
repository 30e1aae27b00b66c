package wstransport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/inkgraph/inkgraph/internal/api/httptransport"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Message types. Both protocols share connection_init, connection_ack,
// error and complete.
const (
	msgConnectionInit = "connection_init"
	msgConnectionAck  = "connection_ack"
	msgError          = "error"
	msgComplete       = "complete"

	// graphql-transport-ws
	transportWSSubscribe = "subscribe"
	transportWSNext      = "next"
	transportWSPing      = "ping"
	transportWSPong      = "pong"

	// subscriptions-transport-ws (legacy "graphql-ws")
	legacyStart               = "start"
	legacyStop                = "stop"
	legacyData                = "data"
	legacyConnectionTerminate = "connection_terminate"
	legacyConnectionError     = "connection_error"
	legacyKeepAlive           = "ka"
)

// inMessage is a message from the client.
type inMessage struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// outMessage is a message to the client.
type outMessage struct {
	ID      string `json:"id,omitempty"`
	Type    string `json:"type"`
	Payload any    `json:"payload,omitempty"`
}

// errorMessage is the payload of a legacy connection_error.
type errorMessage struct {
	Message string `json:"message"`
}

// legacyErrorPayload is the payload of a legacy error message: a single
// GraphQL error object, as subscriptions-transport-ws defines it. When there
// are several errors, errors holds all of them (Apollo's client reads it).
type legacyErrorPayload struct {
	Message    string              `json:"message"`
	Locations  []gqlerror.Location `json:"locations,omitempty"`
	Path       ast.Path            `json:"path,omitempty"`
	Extensions map[string]any      `json:"extensions,omitempty"`
	Errors     gqlerror.List       `json:"errors,omitempty"`
}

// handle processes one message from the client, one at a time, in order: the
// reading goroutine waits while it runs.
func (c *conn) handle(data []byte) {
	var m inMessage
	if err := json.Unmarshal(data, &m); err != nil {
		c.fail(codeBadRequest, "Invalid message received: not a JSON message object", "invalid message: "+err.Error())
		return
	}
	if c.protocol == SubprotocolLegacy {
		c.handleLegacy(m)
	} else {
		c.handleTransportWS(m)
	}
}

func (c *conn) handleTransportWS(m inMessage) {
	switch m.Type {
	case msgConnectionInit:
		c.handleInit(m.Payload)
	case transportWSPing:
		pong := outMessage{Type: transportWSPong}
		if !isNull(m.Payload) {
			if !isObject(m.Payload) {
				c.fail(codeBadRequest, "Invalid message received: ping payload must be an object", "")
				return
			}
			pong.Payload = m.Payload
		}
		_ = c.write(nil, false, pong)
	case transportWSPong:
		// Nothing to do: arriving at all has pushed the read deadline back.
	case transportWSSubscribe:
		if m.ID == "" {
			c.fail(codeBadRequest, "Invalid message received: subscribe without an id", "")
			return
		}
		if !c.isAcked() {
			c.fail(codeUnauthorized, "Unauthorized", "")
			return
		}
		c.subscribe(m.ID, m.Payload)
	case msgComplete:
		if m.ID == "" {
			c.fail(codeBadRequest, "Invalid message received: complete without an id", "")
			return
		}
		c.stopOperation(m.ID)
	default:
		c.fail(codeBadRequest, fmt.Sprintf("Invalid message received: unexpected type %q", m.Type), "")
	}
}

func (c *conn) handleLegacy(m inMessage) {
	switch m.Type {
	case msgConnectionInit:
		c.handleInit(m.Payload)
	case legacyStart:
		if m.ID == "" {
			c.fail(codeBadRequest, "Invalid message received: start without an id", "start message without an id")
			return
		}
		if !c.isAcked() {
			c.fail(codeUnauthorized, "Unauthorized", "Unauthorized")
			return
		}
		c.subscribe(m.ID, m.Payload)
	case legacyStop:
		if m.ID == "" {
			c.fail(codeBadRequest, "Invalid message received: stop without an id", "stop message without an id")
			return
		}
		c.stopOperation(m.ID)
	case legacyConnectionTerminate:
		// The client ends its operations, as stops: a resumable chat ends, not waits.
		c.cancelOperations(errClientComplete)
		c.close(1000, "terminated")
	default:
		msg := fmt.Sprintf("unexpected message type %q", m.Type)
		c.fail(codeBadRequest, "Invalid message received: "+msg, msg)
	}
}

func (c *conn) isAcked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.acked
}

// handleInit authenticates a connection_init and acknowledges it.
func (c *conn) handleInit(raw json.RawMessage) {
	c.mu.Lock()
	again := c.initReceived
	c.initReceived = true
	c.mu.Unlock()
	if again {
		c.fail(codeTooManyInit, "Too many initialisation requests", "Too many initialisation requests")
		return
	}

	var payload map[string]any
	if !isNull(raw) {
		if !isObject(raw) || json.Unmarshal(raw, &payload) != nil {
			c.fail(codeBadRequest, "Invalid message received: connection_init payload must be an object",
				"connection_init payload must be an object")
			return
		}
	}

	base, expires := c.ctx, time.Time{}
	if c.t.Authenticate != nil {
		ctx, exp, err := c.authenticate(payload)
		if errors.Is(err, errAuthenticatorPanic) {
			c.fail(1011, "Internal server error", "internal server error")
			return
		}
		if errors.Is(err, ErrAuthUnavailable) {
			// Not the client's fault: 1011 tells it to try again, where 4403 would
			// tell it to stop.
			c.logAttrs(c.ctx, slog.LevelWarn, "websocket authentication unavailable", slog.String("error", err.Error()))
			c.fail(1011, "Internal server error: try again", "authentication unavailable: try again")
			return
		}
		if err != nil {
			c.logAttrs(c.ctx, slog.LevelInfo, "websocket authentication failed", slog.String("error", err.Error()))
			c.fail(codeForbidden, "Forbidden: "+err.Error(), err.Error())
			return
		}
		if ctx != nil {
			base = ctx
		}
		expires = exp
	}
	if !expires.IsZero() && !time.Now().Before(expires) {
		c.fail(codeForbidden, reasonExpired, reasonExpired)
		return
	}

	c.mu.Lock()
	if c.failing || c.closing.Load() {
		c.mu.Unlock()
		return
	}
	c.acked = true
	c.opBase = base
	if c.initTimer != nil {
		c.initTimer.Stop()
		c.initTimer = nil // not kept as long as the socket
	}
	if !expires.IsZero() {
		c.expiryTimer = time.AfterFunc(time.Until(expires), func() {
			c.logAttrs(c.ctx, slog.LevelInfo, "websocket credentials expired")
			c.fail(codeForbidden, reasonExpired, reasonExpired)
		})
	}
	c.mu.Unlock()

	if c.write(nil, false, outMessage{Type: msgConnectionAck}) != nil {
		return
	}
	if c.protocol == SubprotocolLegacy {
		if c.write(nil, false, outMessage{Type: legacyKeepAlive}) != nil {
			return
		}
	}
	c.startKeepAlive()
}

var errAuthenticatorPanic = errors.New("authenticator panicked")

// ErrAuthUnavailable is what an Authenticator wraps when it could not decide (its
// database did not answer): the socket closes with 1011, which clients retry, not
// with 4403, which tells them to give up.
var ErrAuthUnavailable = errors.New("authentication unavailable")

// authenticate calls the Authenticator, turning a panic into errAuthenticatorPanic.
func (c *conn) authenticate(payload map[string]any) (ctx context.Context, exp time.Time, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.logAttrs(c.ctx, slog.LevelError, "panic in websocket authenticator",
				slog.String("panic", fmt.Sprint(r)), slog.String("stack", string(debug.Stack())))
			err = errAuthenticatorPanic // ctx and exp stay zero: Authenticate never returned
		}
	}()
	return c.t.Authenticate(context.WithValue(c.ctx, revokerKey{}, c), payload)
}

// subscribe starts the operation of a subscribe (or legacy start) message.
func (c *conn) subscribe(id string, raw json.RawMessage) {
	start := graphql.Now()
	params := &graphql.RawParams{}
	if err := decodeParams(raw, params); err != nil {
		if c.protocol != SubprotocolLegacy {
			c.fail(codeBadRequest, "Invalid message received: subscribe payload must be an object", "")
			return
		}
		_ = c.write(nil, true, outMessage{ID: id, Type: msgError, Payload: legacyErrorPayload{Message: "invalid start payload"}})
		_ = c.write(nil, true, outMessage{ID: id, Type: msgComplete})
		return
	}
	params.Headers = c.headers
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	c.mu.Lock()
	if c.failing || c.draining || c.closing.Load() {
		c.mu.Unlock()
		return
	}
	if _, exists := c.ops[id]; exists {
		c.mu.Unlock()
		reason := "Subscriber for " + id + " already exists"
		c.fail(codeSubscriberExists, reason, reason)
		return
	}
	ctx, cancel := context.WithCancelCause(c.opBase)
	op := &operation{id: id, ctx: ctx, cancel: cancel, ops: &c.opWG}
	c.ops[id] = op
	c.opWG.Add(1)
	c.mu.Unlock()

	c.startOperation(op, params)
}

// cancelOperations cancels every running operation with cause.
func (c *conn) cancelOperations(cause error) {
	c.mu.Lock()
	ops := make([]*operation, 0, len(c.ops))
	for _, op := range c.ops {
		ops = append(ops, op)
	}
	c.mu.Unlock()
	for _, op := range ops {
		op.cancel(cause)
	}
}

// stopOperation cancels the operation id at the client's request. Nothing
// more is sent for it.
func (c *conn) stopOperation(id string) {
	c.mu.Lock()
	op := c.ops[id]
	delete(c.ops, id)
	c.mu.Unlock()
	if op != nil {
		op.cancel(errClientComplete)
	}
}

// removeOperation forgets op, which is ending, so that its id may be used again.
func (c *conn) removeOperation(op *operation) {
	c.mu.Lock()
	if c.ops[op.id] == op {
		delete(c.ops, op.id)
	}
	c.mu.Unlock()
}

func decodeParams(raw json.RawMessage, params *graphql.RawParams) error {
	if !isObject(raw) {
		return fmt.Errorf("payload is not an object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	// documentId is graphql-codegen client preset's name for a persisted document;
	// it goes where the persisted-query extension looks, extensions.persistedQuery.
	var payload struct {
		*graphql.RawParams
		DocumentID *string `json:"documentId"`
	}
	payload.RawParams = params
	if err := dec.Decode(&payload); err != nil || payload.DocumentID == nil {
		return err
	}
	// One reading of documentId for every transport (HTTP, SSE, here).
	return httptransport.ApplyDocumentID(params, *payload.DocumentID)
}

// isNull reports whether a payload is absent or null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// isObject reports whether a payload is a JSON object.
func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}
