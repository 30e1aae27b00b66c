package wstransport

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/inkgraph/inkgraph/internal/platform/ratelimit"
)

// Limits bound what clients may open, checked before the upgrade so that a refused
// handshake costs an HTTP response and no socket. A zero field limits nothing.
type Limits struct {
	// UpgradesPerMinute is how many handshakes one client address may make per
	// minute, in a burst or spread out (GCRA: one more every minute/N). Past it the
	// upgrade is refused with 429 and Retry-After.
	UpgradesPerMinute int
	// MaxConnsPerAddr is how many sockets one client address may hold open at once;
	// past it, 429.
	MaxConnsPerAddr int
	// MaxConns is how many sockets the server holds open at once, from everyone;
	// past it, 503.
	MaxConns int
}

// capRetryAfter is the Retry-After of a refusal for open sockets: when one closes is
// unknown, so it is a hint that keeps reconnecting clients from hammering.
const capRetryAfter = 30 * time.Second

// admission is what the transport counts per client address: open sockets, and the
// upgrade rate (the project's in-process GCRA limiter, reading the transport's clock).
type admission struct {
	open     map[string]int
	total    int
	upgrades *ratelimit.Memory
}

// refusal is a handshake refused before the upgrade.
type refusal struct {
	status     int
	retryAfter time.Duration
	message    string
}

// admit reserves a socket for the client named key, or says why not. A refused
// handshake spends nothing. Every admitted key must be given back with release.
func (t *Transport) admit(key string) *refusal {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := &t.admission
	if a.open == nil {
		a.open, a.upgrades = map[string]int{}, ratelimit.NewMemory(t.now)
	}
	l := t.Limits
	if l.MaxConns > 0 && a.total >= l.MaxConns {
		return &refusal{http.StatusServiceUnavailable, capRetryAfter,
			fmt.Sprintf("the server holds its maximum of %d WebSocket connections: try again later", l.MaxConns)}
	}
	if l.MaxConnsPerAddr > 0 && a.open[key] >= l.MaxConnsPerAddr {
		return &refusal{http.StatusTooManyRequests, capRetryAfter,
			fmt.Sprintf("your address holds its maximum of %d WebSocket connections: close one first", l.MaxConnsPerAddr)}
	}
	if l.UpgradesPerMinute > 0 {
		// The in-process limiter cannot fail on a valid limit (PerMinute of a positive n).
		d, _ := a.upgrades.Allow(context.Background(), key, ratelimit.PerMinute(l.UpgradesPerMinute))
		if !d.Allowed {
			wait := d.RetryAfter
			if rem := wait % time.Second; rem > 0 {
				wait += time.Second - rem // whole seconds, rounded up
			}
			return &refusal{http.StatusTooManyRequests, wait,
				fmt.Sprintf("more than %d WebSocket connections a minute from your address: retry in %d s",
					l.UpgradesPerMinute, int(wait/time.Second))}
		}
	}
	a.open[key]++
	a.total++
	return nil
}

// release gives back the socket admit reserved for key.
func (t *Transport) release(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := &t.admission
	a.total--
	if a.open[key]--; a.open[key] <= 0 {
		delete(a.open, key)
	}
}

// write answers a refused handshake.
func (r *refusal) write(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(int(r.retryAfter/time.Second)))
	http.Error(w, r.message, r.status)
}

// clientKey is the name the request's client address is counted under.
func (t *Transport) clientKey(r *http.Request) string {
	if t.ClientKey != nil {
		return t.ClientKey(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (t *Transport) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}
