package wstransport

import (
	"bufio"
	"encoding/binary"
	"net"
	"net/http"
	"syscall"
)

// An open socket mostly waits for its client's next message, and what it holds then
// is mostly its reading goroutine's stack. The runtime halves a waiting goroutine's
// stack at a collection when less than a quarter of it is in use: waiting inside
// gorilla's frame reader (NextReader, advanceFrame, its bufio.Reader, net.Conn.Read)
// puts about 1.4 KB of frames on the stack, too many for 4 KiB, so every idle socket
// kept 8. The reading loop therefore waits at its top, in one shallow frame, until the
// socket is readable (waitReadable), and only then asks gorilla for the message.
//
// That wait is right only if gorilla's buffer holds nothing it could act on without
// more bytes from the socket: frameConn sees to it, handing gorilla no byte past the
// end of the frame gorilla is reading. Between messages (a message having been read to
// its end) gorilla's buffer is then empty and everything else is still in the socket.

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
}

func newFrameConn(c net.Conn) *frameConn {
	fc := &frameConn{Conn: c}
	if tcp, ok := c.(*net.TCPConn); ok && peekable {
		if raw, err := tcp.SyscallConn(); err == nil {
			fc.raw = raw
		}
	}
	return fc
}

// Read reads into p at most the rest of the current frame's header or payload.
func (c *frameConn) Read(p []byte) (int, error) {
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

// waitReadable returns once the socket has bytes to read, has ended or failed, or its
// read deadline has passed: gorilla's read that follows then finds what there is, or
// the error, without waiting. Call it only between messages. It returns at once when
// the connection has no descriptor to wait on.
func (c *frameConn) waitReadable() {
	if c == nil || c.raw == nil {
		return
	}
	_ = c.raw.Read(peekReadable)
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
