package wstransport_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkgraph/inkgraph/internal/testkit"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/inkgraph/inkgraph/internal/api/wstransport"
)

const (
	transportWS = "graphql-transport-ws"
	legacyWS    = "graphql-ws"

	goodToken = "s3cr3t-token-value"
	badToken  = "bad-t0ken-value"

	waitFor = 5 * time.Second
	tick    = 5 * time.Millisecond
)

// proto describes one protocol's message names, for tests run on both.
type proto struct {
	name      string   // test name
	offer     []string // Sec-WebSocket-Protocol offered by the client
	legacy    bool
	subscribe string
	next      string
	stop      string
}

var (
	protoTransportWS = proto{name: transportWS, offer: []string{transportWS}, subscribe: "subscribe", next: "next", stop: "complete"}
	protoLegacy      = proto{name: legacyWS, offer: []string{legacyWS}, legacy: true, subscribe: "start", next: "data", stop: "stop"}
	bothProtocols    = []proto{protoTransportWS, protoLegacy}
)

// ---- test schema -------------------------------------------------------------

const testSchema = `
type Query {
	hello: String!
	whoami: String!
	headers: String!
}
type Mutation {
	setName(name: String!): String!
}
type Subscription {
	events: String!
	big: String!
	panics: String!
}
`

type userKey struct{}

// backend is the test schema's resolvers and the knobs tests turn.
type backend struct {
	mu   sync.Mutex
	subs map[*eventSub]struct{}

	// ended receives the cause each time an events resolver sees its context end.
	ended   chan error
	started atomic.Int64 // events resolvers started
	bigSent atomic.Int64
}

type eventSub struct {
	in   chan string
	done chan struct{}
}

func newBackend() *backend {
	return &backend{subs: map[*eventSub]struct{}{}, ended: make(chan error, 100)}
}

// subscribers returns the number of running events resolvers.
func (b *backend) subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// publish hands v to every running events resolver.
func (b *backend) publish(v string) {
	b.mu.Lock()
	subs := make([]*eventSub, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		select {
		case s.in <- v:
		case <-s.done:
		}
	}
}

// endAll ends every events stream normally.
func (b *backend) endAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		close(s.in)
		delete(b.subs, s)
	}
}

// events behaves like a generated subscription resolver: a goroutine feeds a
// channel until its context ends or the stream is closed.
func (b *backend) events(ctx context.Context) graphql.ResponseHandler {
	s := &eventSub{in: make(chan string), done: make(chan struct{})}
	b.started.Add(1)
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()

	out := make(chan string)
	go func() {
		defer close(out)
		defer close(s.done)
		defer func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				b.ended <- context.Cause(ctx)
				return
			case v, ok := <-s.in:
				if !ok {
					return
				}
				select {
				case out <- v:
				case <-ctx.Done():
					b.ended <- context.Cause(ctx)
					return
				}
			}
		}
	}()

	return func(ctx context.Context) *graphql.Response {
		select {
		case v, ok := <-out:
			if !ok {
				return nil
			}
			return dataResponse(map[string]any{"events": v})
		case <-ctx.Done():
			return nil
		}
	}
}

var bigPayload = json.RawMessage(`{"big":"` + strings.Repeat("x", 1<<20) + `"}`)

func newSchema(b *backend) graphql.ExecutableSchema {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: testSchema})
	return &graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return schema },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) {
			return 0, false
		},
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			opCtx := graphql.GetOperationContext(ctx)
			field := opCtx.Operation.SelectionSet[0].(*ast.Field)
			switch field.Name {
			case "hello":
				return graphql.OneShot(dataResponse(map[string]any{"hello": "world"}))
			case "whoami":
				user, _ := ctx.Value(userKey{}).(string)
				return graphql.OneShot(dataResponse(map[string]any{"whoami": user}))
			case "headers":
				return graphql.OneShot(dataResponse(map[string]any{"headers": fmt.Sprint(opCtx.Headers)}))
			case "setName":
				args := field.ArgumentMap(opCtx.Variables)
				return graphql.OneShot(dataResponse(map[string]any{"setName": args["name"]}))
			case "events":
				return b.events(ctx)
			case "big":
				return func(ctx context.Context) *graphql.Response {
					if ctx.Err() != nil {
						return nil
					}
					b.bigSent.Add(1)
					return &graphql.Response{Data: bigPayload}
				}
			case "panics":
				return func(context.Context) *graphql.Response {
					panic("resolver exploded")
				}
			default:
				return graphql.OneShot(graphql.ErrorResponse(ctx, "unexpected field %s", field.Name))
			}
		},
	}
}

func dataResponse(v map[string]any) *graphql.Response {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return &graphql.Response{Data: b}
}

// tokenAuth accepts {"token": goodToken} as user alice; the credentials
// expire after ttl (never when 0).
func tokenAuth(ttl time.Duration) wstransport.Authenticator {
	return func(ctx context.Context, payload map[string]any) (context.Context, time.Time, error) {
		if payload["token"] != goodToken {
			return nil, time.Time{}, errors.New("invalid token")
		}
		var exp time.Time
		if ttl > 0 {
			exp = time.Now().Add(ttl)
		}
		return context.WithValue(ctx, userKey{}, "alice"), exp, nil
	}
}

// ---- server ------------------------------------------------------------------

type env struct {
	tr  *wstransport.Transport
	b   *backend
	srv *httptest.Server
	url string
}

// newEnv serves tr over a test backend for a test, or for all of a fuzz target's inputs.
func newEnv(t testing.TB, tr *wstransport.Transport) *env {
	t.Helper()
	b := newBackend()
	h := handler.New(newSchema(b))
	h.AddTransport(tr)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		b.endAll()
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		_ = tr.Shutdown(ctx)
		srv.Close()
	})
	return &env{tr: tr, b: b, srv: srv, url: "ws" + strings.TrimPrefix(srv.URL, "http")}
}

// dial opens a WebSocket offering protocols; it does not fail the test.
func (e *env) dial(t *testing.T, protocols []string, header http.Header) (*client, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: protocols, HandshakeTimeout: waitFor}
	ws, resp, err := d.Dial(e.url, header)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, resp, err
	}
	c := &client{t: t, ws: ws}
	t.Cleanup(func() { _ = ws.Close() })
	return c, resp, nil
}

// connect opens a WebSocket with p's protocol.
func (e *env) connect(t *testing.T, p proto) *client {
	t.Helper()
	c, _, err := e.dial(t, p.offer, nil)
	require.NoError(t, err)
	return c
}

// connectAcked opens a WebSocket and has it acknowledged with the good token.
func (e *env) connectAcked(t *testing.T, p proto) *client {
	t.Helper()
	c := e.connect(t, p)
	c.init(p, map[string]any{"token": goodToken})
	return c
}

// ---- client ------------------------------------------------------------------

type client struct {
	t  *testing.T
	ws *websocket.Conn
}

type msg map[string]any

func (m msg) typ() string { s, _ := m["type"].(string); return s }
func (m msg) id() string  { s, _ := m["id"].(string); return s }
func (m msg) payload() map[string]any {
	p, _ := m["payload"].(map[string]any)
	return p
}

func (c *client) sendRaw(s string) {
	c.t.Helper()
	require.NoError(c.t, c.ws.WriteMessage(websocket.TextMessage, []byte(s)))
}

func (c *client) send(m msg) {
	c.t.Helper()
	b, err := json.Marshal(m)
	require.NoError(c.t, err)
	c.sendRaw(string(b))
}

// read returns the next message, failing the test if none arrives in time.
func (c *client) read() msg {
	c.t.Helper()
	return c.readWithin(waitFor)
}

func (c *client) readWithin(d time.Duration) msg {
	c.t.Helper()
	require.NoError(c.t, c.ws.SetReadDeadline(time.Now().Add(d)))
	_, data, err := c.ws.ReadMessage()
	require.NoError(c.t, err)
	var m msg
	require.NoError(c.t, json.Unmarshal(data, &m), string(data))
	return m
}

// expect reads the next message and checks its type and id.
func (c *client) expect(typ, id string) msg {
	c.t.Helper()
	m := c.read()
	require.Equal(c.t, typ, m.typ(), "message %v", m)
	require.Equal(c.t, id, m.id(), "message %v", m)
	return m
}

// init sends connection_init with payload and expects the ack (and the
// legacy protocol's first keep-alive).
func (c *client) init(p proto, payload map[string]any) {
	c.t.Helper()
	c.send(msg{"type": "connection_init", "payload": payload})
	c.expect("connection_ack", "")
	if p.legacy {
		c.expect("ka", "")
	}
}

func (c *client) subscribe(p proto, id, query string, variables map[string]any) {
	c.t.Helper()
	payload := map[string]any{"query": query}
	if variables != nil {
		payload["variables"] = variables
	}
	c.send(msg{"type": p.subscribe, "id": id, "payload": payload})
}

// expectClose reads until the server closes the socket and returns the
// messages received before the close frame.
func (c *client) expectClose(code int, reasonContains string) []msg {
	c.t.Helper()
	require.NoError(c.t, c.ws.SetReadDeadline(time.Now().Add(waitFor)))
	var msgs []msg
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			require.ErrorAs(c.t, err, &ce, "messages before the error: %v", msgs)
			require.Equal(c.t, code, ce.Code, "reason %q, messages %v", ce.Text, msgs)
			require.Contains(c.t, ce.Text, reasonContains)
			require.LessOrEqual(c.t, len(ce.Text), 123)
			return msgs
		}
		var m msg
		require.NoError(c.t, json.Unmarshal(data, &m))
		msgs = append(msgs, m)
	}
}

// ---- misc --------------------------------------------------------------------

// syncBuffer is the shared goroutine-safe log sink, with a JSON-lines reader.
type syncBuffer struct{ testkit.SyncBuffer }

// records parses the JSON log lines.
func (s *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(s.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		out = append(out, rec)
	}
	return out
}

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitFor):
		require.FailNow(t, fmt.Sprintf("nothing received on %T in %s", ch, waitFor))
		var zero T
		return zero
	}
}
