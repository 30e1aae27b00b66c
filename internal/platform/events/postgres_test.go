package events

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

// testChannel is unique per call, so concurrent tests on one server never hear each other.
func testChannel() string { return "inkgraph_test_" + testkit.RandomHex(8) }

func newTestPostgres(t *testing.T, url string, logger *slog.Logger, opts ...PostgresOption) *Postgres {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	bus, err := NewPostgres(ctx, url, logger, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = bus.Close() })
	return bus
}

func TestPostgresContract(t *testing.T) {
	t.Parallel()
	url := testkit.PostgresURL(t)
	testBusContract(t, func(t *testing.T, logger *slog.Logger, buffer int) Bus {
		return newTestPostgres(t, url, logger, WithChannel(testChannel()), WithSubscriberBufferSize(buffer))
	})
}

func TestPostgresAcrossInstances(t *testing.T) {
	t.Parallel()
	url := testkit.PostgresURL(t)
	channel := testChannel()
	a := newTestPostgres(t, url, nil, WithChannel(channel))
	b := newTestPostgres(t, url, nil, WithChannel(channel))
	elsewhere := newTestPostgres(t, url, nil, WithChannel(testChannel()))
	ctx := t.Context()

	onA, err := a.Subscribe(ctx, "doc:1")
	require.NoError(t, err)
	onB, err := b.Subscribe(ctx, "doc:1")
	require.NoError(t, err)
	onElsewhere, err := elsewhere.Subscribe(ctx, "doc:1")
	require.NoError(t, err)

	require.NoError(t, a.Publish(ctx, "doc:1", payload(1)))
	require.Equal(t, payload(1), receive(t, onB))
	require.Equal(t, payload(1), receive(t, onA))

	require.NoError(t, b.Publish(ctx, "doc:1", payload(2)))
	require.Equal(t, payload(2), receive(t, onA))
	require.Equal(t, payload(2), receive(t, onB))

	// Another channel is another deployment: its first event must be its own.
	require.NoError(t, elsewhere.Publish(ctx, "doc:1", payload(3)))
	require.Equal(t, payload(3), receive(t, onElsewhere))
}

func TestPostgresReconnectsAfterListenerDies(t *testing.T) {
	t.Parallel()
	url := testkit.PostgresURL(t)
	logs := &testkit.SyncBuffer{}
	bus := newTestPostgres(t, url, slog.New(slog.NewTextHandler(logs, nil)), WithChannel(testChannel()))
	ctx := t.Context()
	ch, err := bus.Subscribe(ctx, "doc:1")
	require.NoError(t, err)
	require.NoError(t, bus.Publish(ctx, "doc:1", payload(0)))
	require.Equal(t, payload(0), receive(t, ch))

	oldPID := bus.listenerPID()
	require.NotZero(t, oldPID)
	terminateBackend(t, url, oldPID)

	// Events published while the listener is down are lost, so keep publishing until one
	// arrives through the new connection.
	seq := 0
	require.Eventually(t, func() bool {
		if pid := bus.listenerPID(); pid == 0 || pid == oldPID {
			return false
		}
		seq++
		if err := bus.Publish(ctx, "doc:1", payload(seq)); err != nil {
			return false
		}
		select {
		case v := <-ch:
			return bytes.Equal(v, payload(seq))
		case <-time.After(200 * time.Millisecond):
			return false
		}
	}, 15*time.Second, 10*time.Millisecond)

	require.Contains(t, logs.String(), "lost the LISTEN connection")
	require.Contains(t, logs.String(), "LISTEN connection restored")
}

// terminateBackend kills a backend and waits until it is gone, so that nothing published
// afterwards can still reach it.
func terminateBackend(t *testing.T, url string, pid uint32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer admin.Close(context.Background())
	var terminated bool
	require.NoError(t, admin.QueryRow(ctx, `SELECT pg_terminate_backend($1, 5000)`, int64(pid)).Scan(&terminated))
	require.True(t, terminated)
}

func TestPostgresPayloadSize(t *testing.T) {
	t.Parallel()
	url := testkit.PostgresURL(t)
	bus := newTestPostgres(t, url, nil, WithChannel(testChannel()))
	ctx := t.Context()
	ch, err := bus.Subscribe(ctx, "doc:1")
	require.NoError(t, err)

	tooBig := []byte(`"` + strings.Repeat("x", 8000) + `"`)
	require.ErrorIs(t, bus.Publish(ctx, "doc:1", tooBig), ErrPayloadTooLarge)
	// Not JSON, so base64-encoded: 6000 bytes become 8000.
	require.ErrorIs(t, bus.Publish(ctx, "doc:1", bytes.Repeat([]byte{0xff}, 6000)), ErrPayloadTooLarge)

	// The documented maximum fits, and nothing of the rejected ones was sent before it.
	big := []byte(`{"body":"` + strings.Repeat("y", 7*1024-11) + `"}`)
	require.Equal(t, 7*1024, len(big))
	require.NoError(t, bus.Publish(ctx, "doc:1", big))
	require.Equal(t, big, receive(t, ch))
}

func TestPostgresSurvivesIdleHealthChecks(t *testing.T) {
	t.Parallel()
	url := testkit.PostgresURL(t)
	bus := newTestPostgres(t, url, nil, WithChannel(testChannel()), withHealthCheckInterval(20*time.Millisecond))
	ctx := t.Context()
	ch, err := bus.Subscribe(ctx, "doc:1")
	require.NoError(t, err)
	pid := bus.listenerPID()

	// Each idle interval interrupts the wait and pings; the connection must come out of
	// that intact rather than being replaced.
	for i := range 5 {
		idle := time.NewTimer(50 * time.Millisecond)
		select {
		case v := <-ch:
			require.FailNow(t, "unexpected event", "%s", v)
		case <-idle.C:
		}
		require.NoError(t, bus.Publish(ctx, "doc:1", payload(i)))
		require.Equal(t, payload(i), receive(t, ch))
	}
	require.Equal(t, pid, bus.listenerPID(), "the listener was reconnected")
}

func TestNewPostgresFails(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	_, err := NewPostgres(ctx, "postgres://postgres@127.0.0.1:1/test?connect_timeout=2", nil)
	require.Error(t, err, "unreachable server")

	_, err = NewPostgres(ctx, "::not a dsn", nil)
	require.Error(t, err, "malformed dsn")

	for _, name := range []string{"", strings.Repeat("c", 64), "bad\x00name", "bad\xffname"} {
		_, err = NewPostgres(ctx, testkit.DefaultPostgresURL, nil, WithChannel(name))
		require.ErrorContains(t, err, "invalid channel name", "channel %q", name)
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, p := range []string{
		`{"a":1}`,
		`{ "spaced" : [1, 2] }`,
		` {"leading":"space"}`,
		"{\"trailing\":\"newline\"}\n",
		`null`,
		`"a string"`,
		`42`,
		`{"html":"<b>&</b>","unicode":"é\u00e9"}`,
		"not json",
		"\x00\xff binary",
		"",
	} {
		msg, err := encodeEnvelope("doc:é", []byte(p))
		require.NoError(t, err, "%q", p)
		topic, got, err := decodeEnvelope(string(msg))
		require.NoError(t, err, "%q", p)
		require.Equal(t, "doc:é", topic)
		require.Equal(t, []byte(p), got, "payload %q via %s", p, msg)
	}

	_, err := encodeEnvelope("bad\xfftopic", []byte(`{}`))
	require.Error(t, err)
	_, _, err = decodeEnvelope("not an envelope")
	require.Error(t, err)
}

func TestPostgresReconnectsWithBackoffWhileDatabaseIsDown(t *testing.T) {
	t.Parallel()
	proxy, proxiedURL := startProxy(t, testkit.PostgresURL(t))
	logs := &testkit.SyncBuffer{}
	bus, err := NewPostgres(t.Context(), proxiedURL, slog.New(slog.NewTextHandler(logs, nil)), WithChannel(testChannel()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = bus.Close() })
	ctx := t.Context()
	ch, err := bus.Subscribe(ctx, "doc:1")
	require.NoError(t, err)
	require.NoError(t, bus.Publish(ctx, "doc:1", payload(0)))
	require.Equal(t, payload(0), receive(t, ch))

	proxy.setDown(true)
	// Failed attempts back off: 100ms, then 200ms, 400ms, ...
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "next_in=800ms") },
		10*time.Second, 10*time.Millisecond, "logs:\n%s", logs)
	require.Contains(t, logs.String(), "next_in=200ms")
	require.Contains(t, logs.String(), "next_in=400ms")

	proxy.setDown(false)
	seq := 0
	require.Eventually(t, func() bool {
		seq++
		if err := bus.Publish(ctx, "doc:1", payload(seq)); err != nil {
			return false // the publish pool's connections were cut too
		}
		select {
		case v := <-ch:
			return bytes.Equal(v, payload(seq))
		case <-time.After(200 * time.Millisecond):
			return false
		}
	}, 15*time.Second, 10*time.Millisecond)

	// Close must not wait out the backoff of a bus that cannot reach its database.
	proxy.setDown(true)
	failures := strings.Count(logs.String(), "reconnecting the LISTEN connection failed")
	require.Eventually(t, func() bool {
		return strings.Count(logs.String(), "reconnecting the LISTEN connection failed") > failures
	}, 10*time.Second, 10*time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- bus.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(2 * time.Second):
		require.FailNow(t, "Close blocked while reconnecting")
	}
	requireClosed(t, ch)
}

// tcpProxy forwards to PostgreSQL and can cut every connection and refuse new ones,
// standing in for a database that goes away and comes back.
type tcpProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
}

// startProxy returns a proxy to the server of dbURL and dbURL rewritten to go through it.
func startProxy(t *testing.T, dbURL string) (*tcpProxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &tcpProxy{ln: ln, target: u.Host, conns: make(map[net.Conn]struct{})}
	p.wg.Go(p.serve)
	t.Cleanup(func() {
		_ = ln.Close()
		p.setDown(true)
		p.wg.Wait()
	})
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *tcpProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			_ = client.Close()
			continue
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.mu.Lock()
		p.conns[client] = struct{}{}
		p.conns[server] = struct{}{}
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			_ = dst.Close()
			_ = src.Close()
		}
		p.wg.Go(func() { pipe(server, client) })
		p.wg.Go(func() { pipe(client, server) })
	}
}

func (p *tcpProxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			_ = c.Close()
		}
		clear(p.conns)
	}
}
