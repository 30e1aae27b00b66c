//go:build unix

package wstransport

import "syscall"

// peekable: this system can peek at a socket without reading it.
const peekable = true

// peekControl is a RawConn.Read callback: false (wait) while the non-blocking socket
// has nothing to read. It peeks at what there is, leaving it to be read, and records
// a whole ping or pong at its head (wholeControl).
func (c *frameConn) peekControl(fd uintptr) bool {
	var b [maxControlFrame]byte
	n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
	if err == syscall.EAGAIN {
		return false
	}
	if err == nil {
		c.control, c.controlLen = wholeControl(b[:n])
	}
	return true
}
