package runlog

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis keeps runs' logs in Redis Streams, so that any instance can serve a run
// another runs. Under its prefix, a run has:
//
//	run:<id>        the stream: one entry an event, its ID 0-<seq>, field d the
//	                encoding; a last entry with field end closes it
//	run:<id>:owner  the user who may follow it
//	run:<id>:alive  set while the writer's instance runs the run (a heartbeat)
//	run:<id>:lease  set while a follower reads the run
//
// The writer stores entries in batches, one round trip each, from a goroutine that
// runs only while there is something to store: a run never waits for Redis.
type Redis struct {
	c      redis.UniversalClient
	prefix string
	limits Limits
	log    *slog.Logger
}

const (
	// liveTTL bounds the keys of a run that is still going (its instance may stop
	// without ending it); End shortens them to the retention time.
	liveTTL = time.Hour
	// heartbeat is how often a writer says its run is alive; aliveTTL how long a
	// follower trusts that it is.
	heartbeat = 5 * time.Second
	aliveTTL  = 3 * heartbeat
	// leaseTTL is how long a follower's read holds the run; it renews it every
	// leaseTTL/3 while it reads.
	leaseTTL = 10 * time.Second
	// block is how long one read waits for new entries.
	block = time.Second
	// storeTimeout bounds one batch's round trip, and End's wait for the last.
	storeTimeout = 5 * time.Second
)

// NewRedis returns a log over c with its keys under prefix (such as "inkgraph:chat:").
func NewRedis(c redis.UniversalClient, prefix string, limits Limits, logger *slog.Logger) *Redis {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Redis{c: c, prefix: prefix, limits: limits.withDefaults(), log: logger}
}

func (l *Redis) key(run, part string) string {
	if part == "" {
		return l.prefix + "run:" + run
	}
	return l.prefix + "run:" + run + ":" + part
}

// Open records the run's owner and that it is alive.
func (l *Redis) Open(ctx context.Context, run, owner string) (Writer, error) {
	_, err := l.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, l.key(run, "owner"), owner, liveTTL)
		p.Set(ctx, l.key(run, "alive"), "1", aliveTTL)
		return nil
	})
	if err != nil {
		return nil, err
	}
	w := &redisWriter{l: l, run: run}
	w.mu.Lock()
	w.beat = time.AfterFunc(heartbeat, w.heartbeat)
	w.mu.Unlock()
	return w, nil
}

type redisWriter struct {
	l   *Redis
	run string

	mu       sync.Mutex
	beat     *time.Timer
	pending  []Entry
	bytes    int
	cut      bool          // over the size limit, or a store failed: nothing more is stored
	storing  chan struct{} // closed when the storing goroutine ends; nil when none runs
	ended    bool
	expireAt bool // the stream's TTL is set
}

// Pending entries that are not events: the end, the cut, and nothing (the keys' end
// TTLs alone).
const (
	endEntry       = 0
	truncatedEntry = -1
	noEntry        = -2
)

// Append queues the entry and starts the storing goroutine if none runs.
func (w *redisWriter) Append(seq int, data []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cut {
		return
	}
	if w.bytes+len(data) > w.l.limits.MaxBytes {
		// The cut is an end entry with a reason: followers reaching it stop with
		// ErrTruncated rather than wait for entries that never come.
		w.cut = true
		w.pending = append(w.pending, Entry{Seq: truncatedEntry})
	} else {
		w.bytes += len(data)
		w.pending = append(w.pending, Entry{Seq: seq, Data: data})
	}
	w.startStoring()
}

// startStoring starts the storing goroutine unless it runs; under w.mu.
func (w *redisWriter) startStoring() {
	if w.storing == nil {
		w.storing = make(chan struct{})
		go w.store(w.storing)
	}
}

// store writes the pending entries, batch by batch, until there are none.
func (w *redisWriter) store(done chan struct{}) {
	defer close(done)
	for {
		w.mu.Lock()
		batch, end := w.pending, w.ended
		w.pending = nil
		if len(batch) == 0 {
			w.storing = nil
			w.mu.Unlock()
			return
		}
		first := !w.expireAt
		w.expireAt = true
		w.mu.Unlock()
		if err := w.write(batch, first, end); err != nil {
			w.l.log.Error("chat run log: storing events in Redis failed; the run cannot be resumed past them",
				"run_id", w.run, "error", err)
			if end {
				// The keys still get the retention time, not the hour of a live run.
				_ = w.write(nil, false, true)
			}
			w.mu.Lock()
			w.cut, w.pending = true, nil
			w.mu.Unlock()
		}
	}
}

func (w *redisWriter) write(batch []Entry, first, end bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	stream := w.l.key(w.run, "")
	_, err := w.l.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range batch {
			switch e.Seq {
			case noEntry:
			case truncatedEntry:
				p.XAdd(ctx, &redis.XAddArgs{Stream: stream, ID: "*", Values: []string{"end", "truncated"}})
			case endEntry:
				p.XAdd(ctx, &redis.XAddArgs{Stream: stream, ID: "*", Values: []string{"end", "done"}})
			default:
				p.XAdd(ctx, &redis.XAddArgs{Stream: stream, ID: "0-" + strconv.Itoa(e.Seq), Values: []any{"d", e.Data}})
			}
		}
		switch {
		case end:
			for _, k := range []string{stream, w.l.key(w.run, "owner")} {
				p.PExpire(ctx, k, w.l.limits.Retain)
			}
			p.Del(ctx, w.l.key(w.run, "alive"))
		case first:
			p.PExpire(ctx, stream, liveTTL)
		}
		return nil
	})
	return err
}

// heartbeat renews the run's alive key until the run ends.
func (w *redisWriter) heartbeat() {
	w.mu.Lock()
	ended := w.ended
	w.mu.Unlock()
	if ended {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := w.l.c.Set(ctx, w.l.key(w.run, "alive"), "1", aliveTTL).Err(); err != nil {
		w.l.log.Warn("chat run log: heartbeat failed", "run_id", w.run, "error", err)
	}
	w.mu.Lock()
	if !w.ended {
		w.beat.Reset(heartbeat)
	}
	w.mu.Unlock()
}

// Followed reports whether a follower's lease on the run is live.
func (w *redisWriter) Followed(ctx context.Context) bool {
	n, err := w.l.c.Exists(ctx, w.l.key(w.run, "lease")).Result()
	return err == nil && n > 0
}

// End appends the end entry, waits for the store, and shortens the keys' lives to
// the retention time.
func (w *redisWriter) End() {
	w.mu.Lock()
	w.beat.Stop()
	w.ended = true
	if !w.cut {
		w.pending = append(w.pending, Entry{Seq: endEntry})
	}
	// Even a cut log's keys get the retention time: the end batch carries it.
	if len(w.pending) == 0 {
		w.pending = append(w.pending, Entry{Seq: noEntry})
	}
	w.cut = true
	w.startStoring()
	done := w.storing
	w.mu.Unlock()
	select {
	case <-done:
	case <-time.After(storeTimeout):
	}
}

// Follow reads owner's run after seq after.
func (l *Redis) Follow(ctx context.Context, run, owner string, after int) (<-chan Entry, error) {
	got, err := l.c.Get(ctx, l.key(run, "owner")).Result()
	if errors.Is(err, redis.Nil) || (err == nil && got != owner) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := l.c.Set(ctx, l.key(run, "lease"), "1", leaseTTL).Err(); err != nil {
		return nil, err
	}
	out := make(chan Entry)
	go l.follow(ctx, run, after, out)
	return out, nil
}

func (l *Redis) follow(ctx context.Context, run string, after int, out chan<- Entry) {
	defer close(out)
	stream := l.key(run, "")
	// The first read is the stream from after+1 on; then each read blocks for what
	// comes after the last entry read.
	last := "0-" + strconv.Itoa(after)
	leased := time.Now()
	for ctx.Err() == nil {
		if time.Since(leased) > leaseTTL/3 {
			l.c.Set(ctx, l.key(run, "lease"), "1", leaseTTL)
			leased = time.Now()
		}
		res, err := l.c.XRead(ctx, &redis.XReadArgs{Streams: []string{stream, last}, Count: 512, Block: block}).Result()
		if errors.Is(err, redis.Nil) {
			// Nothing new within block: a run whose writer stopped beating will not
			// write again.
			if n, err := l.c.Exists(ctx, l.key(run, "alive")).Result(); err == nil && n == 0 {
				send(ctx, out, Entry{Err: ErrLost})
				return
			}
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				send(ctx, out, Entry{Err: errors.Join(ErrLost, err)})
			}
			return
		}
		for _, m := range res[0].Messages {
			last = m.ID
			if end, ok := m.Values["end"]; ok {
				if end == "truncated" {
					send(ctx, out, Entry{Err: ErrTruncated})
				}
				return
			}
			seq, err := seqOf(m.ID)
			if err != nil {
				send(ctx, out, Entry{Err: errors.Join(ErrLost, err)})
				return
			}
			data, _ := m.Values["d"].(string)
			if !send(ctx, out, Entry{Seq: seq, Data: []byte(data)}) {
				return
			}
		}
	}
}

// seqOf reads the sequence number of an event's stream ID 0-<seq>.
func seqOf(id string) (int, error) {
	if len(id) < 3 || id[:2] != "0-" {
		return 0, errors.New("runlog: an entry's ID is not 0-<seq>: " + id)
	}
	return strconv.Atoi(id[2:])
}
