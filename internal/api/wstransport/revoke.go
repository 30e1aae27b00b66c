package wstransport

import (
	"context"
	"log/slog"
	"time"
)

// RevokeDrain is how long a connection whose credentials were revoked still lets the
// messages already under way go out before it closes: above all a subscription's
// event saying that this very session ended, which reaches it about when the
// revocation does. The server gives a revoked session's Server-Sent Events streams
// the same grace.
const RevokeDrain = 250 * time.Millisecond

type revokerKey struct{}

// Revoker returns, from the context an Authenticator is given, the function that
// closes that connection when its credentials stop being valid while it is open (a
// revoked session): the connection takes no new operation, lets the messages under way
// go out for a moment (RevokeDrain), then closes with 4403 and reason; a legacy client
// gets a connection_error first. It reports false for any other context. Calling it
// on a closing connection, or again, changes nothing.
func Revoker(ctx context.Context) (revoke func(reason string), ok bool) {
	c, ok := ctx.Value(revokerKey{}).(*conn)
	if !ok {
		return nil, false
	}
	return c.revoke, true
}

func (c *conn) revoke(reason string) {
	c.mu.Lock()
	if c.failing || c.closing.Load() || c.draining {
		c.mu.Unlock()
		return
	}
	c.draining = true
	c.mu.Unlock()
	c.logAttrs(c.ctx, slog.LevelInfo, "websocket credentials revoked", slog.String("reason", reason))
	time.AfterFunc(RevokeDrain, func() { c.fail(codeForbidden, reason, reason) })
}
