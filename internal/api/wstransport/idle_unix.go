//go:build unix

package wstransport

import "syscall"

// peekable: this system can peek at a socket without reading it.
const peekable = true

// peekReadable is a RawConn.Read callback: false (wait) while the non-blocking socket
// has nothing to read. It peeks at one byte, leaving it to be read.
func peekReadable(fd uintptr) bool {
	var b [1]byte
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
	return err != syscall.EAGAIN
}
