package wstransport

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/gorilla/websocket"
)

// An open socket mostly waits for its client's next message, and what it holds then
// is mostly its reading goroutine's stack. The runtime halves a waiting goroutine's
// stack at a collection when less than a quarter of it is in use: waiting inside
// gorilla's frame reader (NextReader, advanceFrame, its bufio.Reader, net.Conn.Read)
// puts about 1.4 KB of frames on the stack, too many for 4 KiB, so every idle socket
// kept 8. The reading loop therefore waits at its top, in one shallow frame, until the
// socket is readable (waitMessage), and only then asks gorilla for the message.
//
// That wait is right only if gorilla's buffer holds nothing it could act on without
// more bytes from the socket: frameConn sees to it, handing gorilla no byte past the
// end of the frame gorilla is reading. Between messages (a message having been read to
// its end) gorilla's buffer is then empty and everything else is still in the socket.
// It relies on gorilla reading through its own buffer over frameConn: with a
// ReadBufferSize of 0 the upgrader would reuse the HTTP server's reader instead.
//
// Pings and pongs (a client's answer to every keep-alive ping among them) are taken
// between messages by waitMessage itself: gorilla answers a control frame inside its
// reader and then waits there for the next frame.

// frameConn is the connection under a gorilla Conn: its reads stop at the end of each
// WebSocket frame (the header, then the payload), so that gorilla's buffered reader
// never holds bytes of a frame it has not started reading.
type frameConn struct {
	net.Conn
	// raw waits for the socket to be readable; nil unless the connection is a TCP
	// socket itself (a TLS connection's own buffer could hold a message): then the
	// loop waits in gorilla's reader.
	raw syscall.RawConn

	// head holds the current frame header's first bytes (2, then up to 8 of extended
	// length; the 4 of the mask key are only counted); headRead of it have been read,
	// headSize is its whole size once its first two bytes are known (else 0).
	head     [10]byte
	headRead int
	headSize int
	// payload is what is left of the current frame's payload once its header is read.
	payload uint64

	// peek is peekControl as a method value, made once; control and controlLen are
	// what it found at the socket's head: a whole ping or pong (opcode 9 or 10) and its
	// payload's length, or 0.
	peek       func(fd uintptr) bool
	control    byte
	controlLen byte
}

// maxControlFrame is the largest control frame a client sends: 2 bytes of header, 4
// of mask key, 125 of payload.
const maxControlFrame = 2 + 4 + 125

func newFrameConn(c net.Conn) *frameConn {
	fc := &frameConn{Conn: c}
	if tcp, ok := c.(*net.TCPConn); ok && peekable {
		if raw, err := tcp.SyscallConn(); err == nil {
			fc.raw = raw
			fc.peek = fc.peekControl
		}
	}
	return fc
}

// Read reads into p at most the rest of the current frame's header or payload
// (anything, when the loop does not wait on the socket).
func (c *frameConn) Read(p []byte) (int, error) {
	if c.raw == nil {
		return c.Conn.Read(p)
	}
	if c.payload > 0 {
		if uint64(len(p)) > c.payload {
			p = p[:c.payload]
		}
		n, err := c.Conn.Read(p)
		c.payload -= uint64(n)
		return n, err
	}
	want := 2 - c.headRead
	if c.headSize > 0 {
		want = c.headSize - c.headRead
	}
	if len(p) > want {
		p = p[:want]
	}
	n, err := c.Conn.Read(p)
	c.readHead(p[:n])
	return n, err
}

// readHead takes in b, the next bytes of a frame header.
func (c *frameConn) readHead(b []byte) {
	for _, x := range b {
		if c.headRead < len(c.head) {
			c.head[c.headRead] = x
		}
		c.headRead++
		if c.headRead == 2 {
			c.headSize = 2
			switch c.head[1] & 0x7f {
			case 126:
				c.headSize += 2
			case 127:
				c.headSize += 8
			}
			if c.head[1]&0x80 != 0 { // masked, as every client's frame is
				c.headSize += 4
			}
		}
		if c.headRead == c.headSize {
			switch n := c.head[1] & 0x7f; n {
			case 126:
				c.payload = uint64(binary.BigEndian.Uint16(c.head[2:4]))
			case 127:
				c.payload = binary.BigEndian.Uint64(c.head[2:10])
			default:
				c.payload = uint64(n)
			}
			c.headRead, c.headSize = 0, 0
		}
	}
}

// waitMessage returns once the socket has something for gorilla (a data or close
// frame, or part of one), has ended or failed, or its read deadline has passed:
// gorilla's read that follows then finds it without waiting. Whole pings and pongs
// that come first are read here and handed to control, opcode and unmasked payload;
// control's error ends the connection as gorilla's handler's would. Call it only
// between messages. It returns at once when the connection has no descriptor to wait
// on.
func (c *frameConn) waitMessage(control func(opcode int, payload []byte) error) error {
	if c == nil || c.raw == nil {
		return nil
	}
	for {
		// An error (a deadline, a closed socket) leaves control 0: gorilla's read that
		// follows finds it too.
		c.control = 0
		_ = c.raw.Read(c.peek)
		if c.control == 0 {
			return nil
		}
		if err := c.takeControl(control); err != nil {
			return err
		}
	}
}

// takeControl reads the ping or pong peekControl found, whole in the socket, and
// hands it to control. The frame is made here, on the heap, rather than in
// waitMessage's frame, which must stay small.
func (c *frameConn) takeControl(control func(opcode int, payload []byte) error) error {
	frame := make([]byte, 6+int(c.controlLen))
	if _, err := io.ReadFull(c.Conn, frame); err != nil {
		return err
	}
	payload := frame[6:]
	for i := range payload {
		payload[i] ^= frame[2+i%4]
	}
	return control(int(c.control), payload)
}

// wholeControl reports the opcode and payload length of the ping or pong b starts
// with, if b holds the whole frame and it is one a client may send (final, no
// reserved bits, masked, at most 125 bytes); else 0. Anything else is gorilla's.
func wholeControl(b []byte) (opcode, n byte) {
	if len(b) < 6 || b[0]&0xf0 != 0x80 || b[1]&0x80 == 0 {
		return 0, 0
	}
	op, size := b[0]&0x0f, b[1]&0x7f
	if (op != websocket.PingMessage && op != websocket.PongMessage) || size > 125 || len(b) < 6+int(size) {
		return 0, 0
	}
	return op, size
}

// hijacker hands gorilla's upgrader a frameConn over the hijacked connection.
type hijacker struct {
	http.ResponseWriter
	conn *frameConn
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = newFrameConn(c)
	return h.conn, rw, nil
}
