package wstransport_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/inkgraph/inkgraph/internal/api/wstransport"
)

// probeID is the id of the legacy protocol's probe operation.
const probeID = "fuzz-probe"

// FuzzSocketMessage sends one arbitrary message on a real socket, in either
// subprotocol, before or after the connection is acknowledged, then a probe the
// server answers only while the connection is open (a ping on graphql-transport-ws;
// on the legacy protocol a query once acknowledged, a connection_init before). It
// never panics, and the connection either stays open or closes with the code a
// model of both protocols gives for that message: 4400 for an invalid or unknown
// message, 4401 for an operation before the ack, 4403 for bad credentials, 4429
// for a second connection_init, 1000 for the legacy connection_terminate.
func FuzzSocketMessage(f *testing.F) {
	for _, seed := range []struct {
		legacy, acked bool
		msg           string
	}{
		{false, false, `{"type":"connection_init","payload":{"token":"` + goodToken + `"}}`},
		{false, false, `{"type":"connection_init","payload":{"token":"` + badToken + `"}}`},
		{false, false, `{"type":"connection_init","payload":"token"}`},
		{false, true, `{"type":"connection_init"}`},
		{false, true, `{"type":"subscribe","id":"1","payload":{"query":"subscription { events }"}}`},
		{false, true, `{"type":"subscribe","id":"1","payload":{"query":"{ hello }","variables":{"n":1e400}}}`},
		{false, false, `{"type":"subscribe","id":"1","payload":{"query":"{ hello }"}}`},
		{false, true, `{"type":"subscribe","payload":{"query":"{ hello }"}}`},
		{false, true, `{"type":"subscribe","id":"1","payload":"{ hello }"}`},
		{false, true, `{"type":"subscribe","id":"1","payload":{"query":5}}`},
		{false, true, `{"type":"complete","id":"1"}`},
		{false, true, `{"type":"ping","payload":{"a":1}}`},
		{false, true, `{"type":"ping","payload":[1]}`},
		{false, true, `{"type":"pong"}`},
		{false, true, `{"type":"next","id":"1"}`},
		{false, true, `{"type":1}`},
		{false, true, `[1,2]`},
		{false, true, `null`},
		{false, true, `{"type":`},
		{true, false, `{"type":"connection_init","payload":{"token":"` + goodToken + `"}}`},
		{true, true, `{"type":"start","id":"1","payload":{"query":"{ whoami }"}}`},
		{true, true, `{"type":"start","id":"1","payload":null}`},
		{true, false, `{"type":"start","id":"1","payload":{"query":"{ hello }"}}`},
		{true, true, `{"type":"stop","id":"1"}`},
		{true, true, `{"type":"stop"}`},
		{true, true, `{"type":"connection_terminate"}`},
		{true, true, `{"type":"ka"}`},
		{true, true, "\xff"},
	} {
		f.Add(seed.legacy, seed.acked, []byte(seed.msg))
	}
	e := newEnv(f, &wstransport.Transport{Authenticate: tokenAuth(0), InitTimeout: -1, KeepAlive: -1})

	f.Fuzz(func(t *testing.T, legacy, acked bool, msg []byte) {
		p := protoTransportWS
		if legacy {
			p = protoLegacy
		}
		c, _, err := e.dial(t, p.offer, nil)
		if err != nil {
			t.Fatal(err)
		}
		if acked {
			c.init(p, map[string]any{"token": goodToken})
		}
		want := expectedClose(legacy, acked, msg)
		if want == skip {
			t.Skip("the message uses the probe's own id")
		}
		c.sendRaw(string(msg))
		probe := `{"type":"ping","payload":{"probe":"` + probeID + `"}}`
		switch {
		case legacy && acked:
			probe = `{"type":"start","id":"` + probeID + `","payload":{"query":"{ hello }"}}`
		case legacy:
			probe = `{"type":"connection_init","payload":{"token":"` + goodToken + `"}}`
		}
		acks := 0 // acknowledgements before the probe's
		if legacy && !acked && want == stayOpen && isInit(msg) {
			// The message was an accepted connection_init: the probe is a second one.
			want, acks = 4429, 1
		}
		// The server may already have closed: the write then fails, and the close
		// frame is still there to read.
		_ = c.ws.WriteMessage(websocket.TextMessage, []byte(probe))

		got := awaitProbeOrClose(t, c, legacy, acked, acks)
		if got != want {
			t.Fatalf("%s (acked %v): message %q: got %s, want %s", p.name, acked, msg, outcome(got), outcome(want))
		}
	})
}

const (
	stayOpen = 0
	skip     = -1
)

func outcome(code int) string {
	if code == stayOpen {
		return "the connection open"
	}
	return "close " + strconv.Itoa(code)
}

// awaitProbeOrClose reads until the probe's answer (stayOpen) or a close frame (its code).
func awaitProbeOrClose(t *testing.T, c *client, legacy, acked bool, acks int) int {
	t.Helper()
	if err := c.ws.SetReadDeadline(time.Now().Add(waitFor)); err != nil {
		t.Fatal(err)
	}
	for {
		_, data, err := c.ws.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if err != nil {
			t.Fatalf("neither the probe's answer nor a close frame: %v", err)
		}
		var m msg
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("the server sent %q, which is not JSON", data)
		}
		switch {
		case !legacy && m.typ() == "pong" && m.payload()["probe"] == probeID,
			legacy && acked && m.typ() == "data" && m.id() == probeID,
			legacy && !acked && m.typ() == "connection_ack" && acks == 0:
			return stayOpen
		case m.typ() == "connection_ack":
			acks--
		}
	}
}

// wsMessage is a client message as the server decodes it.
type wsMessage struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

func isInit(msg []byte) bool {
	var m wsMessage
	return json.Unmarshal(msg, &m) == nil && m.Type == "connection_init"
}

// expectedClose is the model: the close code msg earns, or stayOpen.
func expectedClose(legacy, acked bool, msg []byte) int {
	var m wsMessage
	if json.Unmarshal(msg, &m) != nil {
		return 4400
	}
	operation, stop := "subscribe", "complete"
	if legacy {
		operation, stop = "start", "stop"
	}
	switch {
	case m.Type == "connection_init":
		switch {
		case acked:
			return 4429
		case !isNull(m.Payload) && !isObject(m.Payload):
			return 4400
		}
		var payload map[string]any
		if !isNull(m.Payload) {
			_ = json.Unmarshal(m.Payload, &payload)
		}
		if payload["token"] != goodToken {
			return 4403
		}
		return stayOpen
	case m.Type == operation:
		switch {
		case m.ID == "":
			return 4400
		case !acked:
			return 4401
		case m.ID == probeID:
			return skip
		case !validParams(m.Payload):
			if legacy {
				return stayOpen // the legacy protocol answers error and complete for the operation
			}
			return 4400
		}
		return stayOpen
	case m.Type == stop:
		if m.ID == "" {
			return 4400
		}
		return stayOpen
	case !legacy && m.Type == "ping":
		if !isNull(m.Payload) && !isObject(m.Payload) {
			return 4400
		}
		return stayOpen
	case !legacy && m.Type == "pong":
		return stayOpen
	case legacy && m.Type == "connection_terminate":
		return websocket.CloseNormalClosure
	}
	return 4400
}

// validParams reports whether an operation payload holds GraphQL request parameters.
func validParams(raw json.RawMessage) bool {
	if !isObject(raw) {
		return false
	}
	var params struct {
		Query         string         `json:"query"`
		OperationName string         `json:"operationName"`
		Variables     map[string]any `json:"variables"`
		Extensions    map[string]any `json:"extensions"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(&params) == nil
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}
