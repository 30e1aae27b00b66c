package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/inkgraph/inkgraph/internal/platform/metrics"
)

// DefaultChannel is the PostgreSQL NOTIFY channel every instance listens on.
const DefaultChannel = "inkgraph_events"

const (
	// maxNotifyPayload is PostgreSQL's NOTIFY limit: the payload must be shorter than
	// 8000 bytes (NOTIFY_PAYLOAD_MAX_LENGTH), envelope included.
	maxNotifyPayload = 7999
	// maxChannelName is NAMEDATALEN-1; PostgreSQL would silently truncate a longer LISTEN
	// name but reject it in pg_notify, and the two would never meet.
	maxChannelName = 63
	// publishConns bounds the publishing pool: pg_notify is a single quick statement, and
	// every instance holding many idle connections for it would crowd the server.
	publishConns = 4

	minReconnectDelay = 100 * time.Millisecond
	maxReconnectDelay = 5 * time.Second
	connectTimeout    = 10 * time.Second
	// healthCheckInterval bounds how long a silently dead LISTEN connection (a NAT or load
	// balancer dropping it without a reset) goes unnoticed when no events arrive.
	healthCheckInterval = 30 * time.Second
	pingTimeout         = 5 * time.Second
)

// PostgresOption configures a Postgres bus.
type PostgresOption func(*postgresConfig)

type postgresConfig struct {
	channel     string
	memory      []MemoryOption
	healthCheck time.Duration
}

// WithChannel sets the NOTIFY channel (default DefaultChannel). Only instances on the same
// channel see each other's events, which is how tests sharing a server stay apart.
func WithChannel(name string) PostgresOption {
	return func(c *postgresConfig) { c.channel = name }
}

// WithSubscriberBufferSize sets how many undelivered events each local subscriber may hold.
func WithSubscriberBufferSize(n int) PostgresOption {
	return func(c *postgresConfig) { c.memory = append(c.memory, WithBufferSize(n)) }
}

// withHealthCheckInterval lets tests exercise the idle health check without waiting 30s.
func withHealthCheckInterval(d time.Duration) PostgresOption {
	return func(c *postgresConfig) { c.healthCheck = d }
}

// Postgres is a Bus shared by every server instance on the same database and channel.
//
// Events travel through PostgreSQL even to subscribers in the publishing instance, so all
// instances see the same events in the same (commit) order. Events published while this
// instance's LISTEN connection is down are lost to its subscribers.
type Postgres struct {
	logger     *slog.Logger
	channel    string
	listenSQL  string
	connConfig *pgx.ConnConfig
	health     time.Duration

	// pool publishes, apart from the listener, so a publish never queues behind it.
	pool  *pgxpool.Pool
	local *Memory

	pid       atomic.Uint32 // backend PID of the live LISTEN connection, 0 while down
	resumeMu  sync.Mutex
	onResume  map[*func()]struct{}
	closed    atomic.Bool
	closeOnce sync.Once
	cancel    context.CancelFunc
	done      chan struct{}
}

// NewPostgres connects to the database at dsn and starts listening. ctx bounds only the
// initial connection; the bus then lives until Close. A database unreachable at start is
// an error, whereas a connection lost later is retried in the background.
func NewPostgres(ctx context.Context, dsn string, logger *slog.Logger, opts ...PostgresOption) (*Postgres, error) {
	cfg := postgresConfig{channel: DefaultChannel, healthCheck: healthCheckInterval}
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.channel == "" || len(cfg.channel) > maxChannelName || !utf8.ValidString(cfg.channel) ||
		strings.ContainsRune(cfg.channel, 0) {
		return nil, fmt.Errorf("events: invalid channel name %q (1 to %d bytes of UTF-8, no NUL)", cfg.channel, maxChannelName)
	}

	// One parse for both connections; pgxpool's parser also strips pool_* parameters that
	// pgx.Connect would otherwise send to the server as unknown settings.
	poolConfig, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("events: parse dsn: %w", err)
	}
	connConfig := poolConfig.ConnConfig.Copy()
	if _, ok := connConfig.RuntimeParams["application_name"]; !ok {
		// Makes the listener easy to tell apart in pg_stat_activity.
		connConfig.RuntimeParams["application_name"] = "inkgraph-events"
	}
	poolConfig.MaxConns = publishConns
	poolConfig.MinConns = 0
	// No server-side prepared statement for one tiny statement; also keeps publishing
	// working behind transaction-pooling proxies.
	poolConfig.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec

	p := &Postgres{
		logger:     orDiscard(logger),
		channel:    cfg.channel,
		listenSQL:  "LISTEN " + pgx.Identifier{cfg.channel}.Sanitize(),
		connConfig: connConfig,
		health:     cfg.healthCheck,
		done:       make(chan struct{}),
	}
	conn, err := p.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("events: listen on %q: %w", cfg.channel, err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolConfig)
	if err != nil {
		closeConn(ctx, conn)
		return nil, fmt.Errorf("events: publish pool: %w", err)
	}
	p.pool = pool
	p.local = NewMemory(p.logger, cfg.memory...)

	// The listener runs until Close, not until the ctx that started it ends.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.cancel = cancel
	go p.run(runCtx, conn)
	return p, nil
}

// Publish sends payload to the subscribers of topic on every instance, this one included.
// It returns once PostgreSQL has queued the notification, not once it is delivered.
func (p *Postgres) Publish(ctx context.Context, topic string, payload []byte) error {
	if p.closed.Load() {
		return ErrClosed
	}
	msg, err := encodeEnvelope(topic, payload)
	if err != nil {
		return err
	}
	if len(msg) > maxNotifyPayload {
		return fmt.Errorf("%w: %d bytes encoded for topic %q, NOTIFY allows %d",
			ErrPayloadTooLarge, len(msg), topic, maxNotifyPayload)
	}
	if _, err := p.pool.Exec(ctx, "SELECT pg_notify($1, $2)", p.channel, string(msg)); err != nil {
		return fmt.Errorf("events: publish on %q: %w", topic, err)
	}
	return nil
}

// Subscribe receives the events on topic published by any instance after it returns, as
// long as the LISTEN connection is up.
func (p *Postgres) Subscribe(ctx context.Context, topic string) (<-chan []byte, error) {
	return p.local.Subscribe(ctx, topic)
}

// Close stops listening, closes both connections and every subscriber's channel.
func (p *Postgres) Close() error {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		p.cancel()
		<-p.done
		p.pool.Close()
		_ = p.local.Close()
	})
	return nil
}

// run owns the listener connection for the bus's lifetime, replacing it whenever it fails.
func (p *Postgres) run(ctx context.Context, conn *pgx.Conn) {
	defer close(p.done)
	for {
		err := p.listen(ctx, conn)
		p.pid.Store(0)
		closeConn(ctx, conn)
		if ctx.Err() != nil {
			return
		}
		p.logger.Warn("events: lost the LISTEN connection, reconnecting; events published until then are lost here",
			"channel", p.channel, "error", err)
		if conn = p.reconnect(ctx); conn == nil {
			return
		}
		p.logger.Info("events: LISTEN connection restored", "channel", p.channel)
		metrics.BusReconnects.Inc()
		p.resumed()
	}
}

// OnResume registers fn to run each time the bus listens again after its LISTEN
// connection was lost. Events published meanwhile were lost to this instance's
// subscribers, so a subscriber that keeps state (rather than refetching on each
// event) rebuilds it in fn: LISTEN is in place again when fn runs, so nothing
// published after the rebuild's read is missed. fn runs on a goroutine of its own;
// stop unregisters it.
func (p *Postgres) OnResume(fn func()) (stop func()) {
	key := &fn
	p.resumeMu.Lock()
	defer p.resumeMu.Unlock()
	if p.onResume == nil {
		p.onResume = map[*func()]struct{}{}
	}
	p.onResume[key] = struct{}{}
	return func() {
		p.resumeMu.Lock()
		defer p.resumeMu.Unlock()
		delete(p.onResume, key)
	}
}

// resumed runs the OnResume functions, each on its own goroutine so that a slow
// rebuild does not hold up the events that arrive meanwhile.
func (p *Postgres) resumed() {
	p.resumeMu.Lock()
	defer p.resumeMu.Unlock()
	for fn := range p.onResume {
		go (*fn)()
	}
}

func (p *Postgres) listen(ctx context.Context, conn *pgx.Conn) error {
	for {
		waitCtx, cancel := context.WithTimeout(ctx, p.health)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		if n != nil {
			p.dispatch(n)
		}
		switch {
		case err == nil:
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded):
			return err
		}
		// Quiet for a whole interval: make sure the connection is still there, since a
		// dead one would otherwise just look quiet forever.
		pingCtx, cancel := context.WithTimeout(ctx, pingTimeout)
		err = conn.Ping(pingCtx)
		cancel()
		if err != nil {
			return fmt.Errorf("health check: %w", err)
		}
	}
}

// reconnect retries with capped exponential backoff, jittered so that instances which lost
// the database together do not all come back at the same instant. It returns nil once ctx ends.
func (p *Postgres) reconnect(ctx context.Context) *pgx.Conn {
	delay := minReconnectDelay
	for attempt := 1; ; attempt++ {
		wait := delay/2 + rand.N(delay/2+1)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
		conn, err := p.connect(ctx)
		if err == nil {
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		delay = min(delay*2, maxReconnectDelay)
		p.logger.Warn("events: reconnecting the LISTEN connection failed",
			"channel", p.channel, "attempt", attempt, "next_in", delay, "error", err)
	}
}

func (p *Postgres) connect(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, p.connConfig.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, p.listenSQL); err != nil {
		closeConn(ctx, conn)
		return nil, err
	}
	p.pid.Store(conn.PgConn().PID())
	return conn, nil
}

func (p *Postgres) dispatch(n *pgconn.Notification) {
	topic, payload, err := decodeEnvelope(n.Payload)
	if err != nil {
		// Another program (or an older version) wrote to our channel; skip rather than die.
		p.logger.Warn("events: ignoring malformed notification", "channel", n.Channel, "error", err)
		return
	}
	// Only fails with ErrClosed, i.e. during Close, when the event has nowhere to go anyway.
	_ = p.local.deliver(topic, payload)
}

// closeConn closes conn within pingTimeout, also when ctx is already done (as it is
// once the bus is closing).
func closeConn(ctx context.Context, conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pingTimeout)
	defer cancel()
	_ = conn.Close(ctx)
}

// listenerPID lets tests terminate exactly this bus's LISTEN backend.
func (p *Postgres) listenerPID() uint32 { return p.pid.Load() }

func (p *Postgres) subscriberCount(topic string) int { return p.local.subscriberCount(topic) }

// envelope is the NOTIFY payload. Payloads are normally JSON and travel verbatim in
// "payload", since base64 would cost a third of the 8000-byte budget; anything else goes
// base64-encoded in "payload_base64" so it still arrives byte for byte.
type envelope struct {
	Topic   string          `json:"topic"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Base64  []byte          `json:"payload_base64,omitempty"`
}

func encodeEnvelope(topic string, payload []byte) ([]byte, error) {
	if !utf8.ValidString(topic) {
		// encoding/json would replace the bad bytes, delivering to a different topic.
		return nil, fmt.Errorf("events: topic %q is not valid UTF-8", topic)
	}
	if !verbatimJSON(payload) {
		return json.Marshal(envelope{Topic: topic, Base64: payload})
	}
	// Assembled by hand because json.Marshal would compact a RawMessage, and subscribers
	// must get the publisher's bytes unchanged.
	t, err := json.Marshal(topic)
	if err != nil {
		return nil, err
	}
	msg := make([]byte, 0, len(`{"topic":,"payload":}`)+len(t)+len(payload))
	msg = append(msg, `{"topic":`...)
	msg = append(msg, t...)
	msg = append(msg, `,"payload":`...)
	msg = append(msg, payload...)
	msg = append(msg, '}')
	return msg, nil
}

// verbatimJSON reports whether payload survives a trip inside the envelope unchanged:
// valid JSON that PostgreSQL accepts as text (valid UTF-8), and without surrounding
// whitespace, which decoding would trim.
func verbatimJSON(payload []byte) bool {
	return len(payload) > 0 &&
		len(bytes.TrimSpace(payload)) == len(payload) &&
		utf8.Valid(payload) &&
		json.Valid(payload)
}

func decodeEnvelope(msg string) (topic string, payload []byte, err error) {
	var env envelope
	if err := json.Unmarshal([]byte(msg), &env); err != nil {
		return "", nil, err
	}
	if env.Payload != nil {
		return env.Topic, env.Payload, nil
	}
	if env.Base64 == nil {
		return env.Topic, []byte{}, nil
	}
	return env.Topic, env.Base64, nil
}
