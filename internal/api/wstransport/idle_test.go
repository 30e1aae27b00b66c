package wstransport_test

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/api/wstransport"
)

// maskedFrame is a final client frame (masked, as clients send them) of opcode and payload.
func maskedFrame(opcode byte, payload []byte) []byte {
	f := []byte{0x80 | opcode}
	switch n := len(payload); {
	case n < 126:
		f = append(f, 0x80|byte(n))
	default:
		f = append(f, 0x80|126)
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	f = append(f, key[:]...)
	for i, b := range payload {
		f = append(f, b^key[i%4])
	}
	return f
}

// readFrame reads one server frame (unmasked): its opcode and payload.
func readFrame(t *testing.T, r *bufio.Reader) (byte, []byte) {
	t.Helper()
	var h [2]byte
	_, err := io.ReadFull(r, h[:])
	require.NoError(t, err)
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		_, err = io.ReadFull(r, ext[:])
		n = int(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		_, err = io.ReadFull(r, ext[:])
		n = int(binary.BigEndian.Uint64(ext[:]))
	}
	require.NoError(t, err)
	payload := make([]byte, n)
	_, err = io.ReadFull(r, payload)
	require.NoError(t, err)
	return h[0] & 0x0f, payload
}

// TestMessagesArrivingTogether sends connection_init, a graphql-transport-ws ping, a
// WebSocket ping and a subscribe in one write, so that they reach the server in one
// segment, and expects every answer: the socket's reader waits for the socket only
// between messages, and no message may be left waiting in a buffer meanwhile.
func TestMessagesArrivingTogether(t *testing.T) {
	e := newEnv(t, &wstransport.Transport{Authenticate: tokenAuth(0)})
	nc, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(waitFor)))
	_, err = io.WriteString(nc, "GET / HTTP/1.1\r\nHost: inkgraph.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: "+transportWS+"\r\n\r\n")
	require.NoError(t, err)
	r := bufio.NewReader(nc)
	status, err := r.ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, status, "101")
	for line := ""; line != "\r\n"; {
		line, err = r.ReadString('\n')
		require.NoError(t, err)
	}

	var burst []byte
	for _, m := range []msg{
		{"type": "connection_init", "payload": map[string]any{"token": goodToken}},
		{"type": "ping"},
	} {
		b, err := json.Marshal(m)
		require.NoError(t, err)
		burst = append(burst, maskedFrame(1, b)...)
	}
	burst = append(burst, maskedFrame(9, []byte("are you there"))...)
	sub, err := json.Marshal(msg{"type": "subscribe", "id": "s1", "payload": map[string]any{"query": "subscription { events }"}})
	require.NoError(t, err)
	burst = append(burst, maskedFrame(1, sub)...)
	require.Less(t, len(burst), 512, "the burst fits in the socket's read buffer: one read takes it all")
	_, err = nc.Write(burst)
	require.NoError(t, err)

	var got []string
	for len(got) < 3 {
		op, payload := readFrame(t, r)
		switch op {
		case 1:
			var m msg
			require.NoError(t, json.Unmarshal(payload, &m))
			got = append(got, m.typ())
		case 10:
			got = append(got, "pong frame: "+string(payload))
		}
	}
	require.ElementsMatch(t, []string{"connection_ack", "pong", "pong frame: are you there"}, got)
	require.Eventually(t, func() bool { return e.b.subscribers() == 1 }, waitFor, tick)
	e.b.publish("together")
	op, payload := readFrame(t, r)
	require.Equal(t, byte(1), op)
	require.JSONEq(t, `{"id":"s1","type":"next","payload":{"data":{"events":"together"}}}`, string(payload))
}
