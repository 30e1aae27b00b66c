//go:build !unix

package wstransport

// peekable: on this system sockets wait in gorilla's reader.
const peekable = false

func (*frameConn) peekControl(uintptr) bool { return true }
