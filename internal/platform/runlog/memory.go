package runlog

import (
	"context"
	"sync"
	"time"
)

// Memory keeps runs' logs in this process: a run can be resumed on the instance that
// runs it, and nowhere else. What it keeps of all runs together is bounded
// (Limits.MaxTotalBytes): a run past it is cut.
type Memory struct {
	limits Limits

	mu    sync.Mutex
	runs  map[string]*memoryRun
	total int // the bytes of every run kept
}

// NewMemory returns an empty in-process log.
func NewMemory(limits Limits) *Memory {
	return &Memory{limits: limits.withDefaults(), runs: map[string]*memoryRun{}}
}

type memoryRun struct {
	m     *Memory
	id    string
	owner string

	// Under m.mu:
	entries   []Entry
	bytes     int
	truncated bool // entries past the size limit were dropped
	ended     bool
	followers int
	lastLeft  time.Time // when the last follower left
	// changed is closed when an entry comes or the log ends; made only while a
	// follower waits, so that appending costs no allocation otherwise.
	changed chan struct{}
}

// Open starts run's log.
func (m *Memory) Open(_ context.Context, run, owner string) (Writer, error) {
	r := &memoryRun{m: m, id: run, owner: owner}
	m.mu.Lock()
	m.runs[run] = r
	m.mu.Unlock()
	return r, nil
}

// Append keeps the event unless the log has outgrown its size.
func (r *memoryRun) Append(seq int, data []byte) {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	if r.truncated || r.bytes+len(data) > r.m.limits.MaxBytes || r.m.total+len(data) > r.m.limits.MaxTotalBytes {
		r.truncated = true
	} else {
		r.entries = append(r.entries, Entry{Seq: seq, Data: data})
		r.bytes += len(data)
		r.m.total += len(data)
	}
	r.notify()
}

// notify wakes the followers waiting; under m.mu.
func (r *memoryRun) notify() {
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
}

// Followed reports whether a follower reads the run, or left less than a lease ago
// (as a Redis follower's lease outlives it).
func (r *memoryRun) Followed(context.Context) bool {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	return r.followers > 0 || (!r.lastLeft.IsZero() && time.Since(r.lastLeft) < leaseTTL)
}

// End closes the log and forgets it after the retention time.
func (r *memoryRun) End() {
	r.m.mu.Lock()
	r.ended = true
	r.notify()
	r.m.mu.Unlock()
	time.AfterFunc(r.m.limits.Retain, func() {
		r.m.mu.Lock()
		if r.m.runs[r.id] == r {
			delete(r.m.runs, r.id)
		}
		r.m.total -= r.bytes
		r.m.mu.Unlock()
	})
}

// Follow reads owner's run after seq after.
func (m *Memory) Follow(ctx context.Context, run, owner string, after int) (<-chan Entry, error) {
	m.mu.Lock()
	r := m.runs[run]
	if r == nil || r.owner != owner {
		m.mu.Unlock()
		return nil, ErrNotFound
	}
	r.followers++
	m.mu.Unlock()
	out := make(chan Entry)
	go r.follow(ctx, after, out)
	return out, nil
}

func (r *memoryRun) follow(ctx context.Context, after int, out chan<- Entry) {
	defer close(out)
	defer func() {
		r.m.mu.Lock()
		r.followers--
		r.lastLeft = time.Now()
		r.m.mu.Unlock()
	}()
	next := after + 1
	for {
		r.m.mu.Lock()
		// Entries are numbered from 1 without gaps: the one numbered next is at
		// next-1, unless the log was cut before it.
		var batch []Entry
		if i := next - 1; i >= 0 && i < len(r.entries) {
			batch = r.entries[i:len(r.entries):len(r.entries)]
		}
		var last *Entry
		switch {
		case len(batch) > 0:
		case r.truncated:
			last = &Entry{Err: ErrTruncated}
		case r.ended:
			r.m.mu.Unlock()
			return
		}
		var wait chan struct{}
		if len(batch) == 0 && last == nil {
			if r.changed == nil {
				r.changed = make(chan struct{})
			}
			wait = r.changed
		}
		r.m.mu.Unlock()
		if last != nil {
			send(ctx, out, *last)
			return
		}
		if wait != nil {
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return
			}
		}
		for _, e := range batch {
			if !send(ctx, out, e) {
				return
			}
			next = e.Seq + 1
		}
	}
}

// send hands e to the follower unless ctx ends first.
func send(ctx context.Context, out chan<- Entry, e Entry) bool {
	select {
	case out <- e:
		return true
	case <-ctx.Done():
		return false
	}
}
