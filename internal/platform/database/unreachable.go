package database

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unreachable reports whether err says that a dependency the server talks to over the
// network (PostgreSQL, Redis, S3, Stripe, an LLM endpoint) could not be reached or
// dropped the connection: an outage that retrying later may cure, not a bug. It looks
// through the whole chain of wrapped errors (stores wrap with %w, services wrap in
// *models.Error), so the presenter can ask it about anything a resolver returned.
//
// It is deliberately narrow. A query that ran too long (a context deadline outside a
// dial), a constraint violation, or SQLite's "database is locked" (SQLITE_BUSY: the
// embedded database is there, just contended) is not an outage.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) {
		return true
	}
	// pgx's failures to connect: refused, reset, timed out during the dial or the
	// start-up, or a server that is shutting down or starting up.
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 is "connection exception"; 57P01-57P03 are an administrator's or a
		// crash's shutdown and "cannot connect now" while the server starts.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		// Refused, no route, DNS failure or a timeout while connecting: whatever the
		// cause, nothing was sent, so nothing happened.
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	for _, errno := range []syscall.Errno{
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENETDOWN,
	} {
		if errors.Is(err, errno) {
			return true
		}
	}
	// A connection that ended in the middle of a reply: pgconn (and the clients of
	// Redis and the HTTP APIs) report the socket's end as an unexpected EOF, or as
	// io.EOF inside a net error.
	if errors.Is(err, io.ErrUnexpectedEOF) && pgconnOrNet(err) {
		return true
	}
	return false
}

// pgconnOrNet reports whether err came from a connection: a net.Error or one of pgconn's
// errors (which say so in their text, having no exported type for a lost connection).
func pgconnOrNet(err error) bool {
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	return strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "failed to receive message")
}
