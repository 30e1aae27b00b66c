package events

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
)

// DefaultBufferSize is how many events a subscriber may lag behind before it starts losing
// them: enough to absorb a burst from one mutation, small enough that a stuck GraphQL
// connection holds little memory.
const DefaultBufferSize = 64

// MemoryOption configures a Memory bus.
type MemoryOption func(*Memory)

// WithBufferSize sets how many undelivered events each subscriber may hold (minimum 1).
func WithBufferSize(n int) MemoryOption {
	return func(m *Memory) { m.buffer = max(n, 1) }
}

// Memory is a Bus that fans out within one process.
type Memory struct {
	logger *slog.Logger
	buffer int

	// Publish sends under the read lock and closing happens under the write lock, so a
	// channel is never sent on after it is closed.
	mu     sync.RWMutex
	closed bool
	topics map[string]map[*subscriber]struct{}
}

type subscriber struct {
	topic string
	ch    chan []byte
	// stop detaches the ctx watch so a closed bus does not keep the subscriber's ctx referenced.
	stop func() bool
	// missed counts events lost since the subscriber last kept up, so that a stuck
	// subscriber logs once per streak instead of once per event.
	missed atomic.Uint64
}

// NewMemory returns an in-process bus.
func NewMemory(logger *slog.Logger, opts ...MemoryOption) *Memory {
	m := &Memory{
		logger: orDiscard(logger),
		buffer: DefaultBufferSize,
		topics: make(map[string]map[*subscriber]struct{}),
	}
	for _, opt := range opts {
		opt(m)
	}
	return m
}

// Publish hands payload to every current subscriber of topic without waiting for any of them.
// The payload is copied, so the caller may reuse it; subscribers share the copy and must
// not modify it.
func (m *Memory) Publish(ctx context.Context, topic string, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return m.deliver(topic, bytes.Clone(payload))
}

func (m *Memory) deliver(topic string, payload []byte) error {
	type lag struct {
		missed uint64
		caught bool
	}
	var lags []lag

	m.mu.RLock()
	if m.closed {
		m.mu.RUnlock()
		return ErrClosed
	}
	for s := range m.topics[topic] {
		select {
		case s.ch <- payload:
			if n := s.missed.Swap(0); n > 0 {
				lags = append(lags, lag{missed: n, caught: true})
			}
		default:
			if n := s.missed.Add(1); n == 1 {
				lags = append(lags, lag{missed: n})
			}
		}
	}
	m.mu.RUnlock()

	// Logged outside the lock: a slow log sink must not hold up Subscribe or Close.
	for _, l := range lags {
		if l.caught {
			m.logger.Info("events: subscriber caught up after losing events", "topic", topic, "lost", l.missed)
		} else {
			m.logger.Warn("events: subscriber is not keeping up, dropping events until it does",
				"topic", topic, "buffer", m.buffer)
		}
	}
	return nil
}

// Subscribe registers a subscriber for topic until ctx ends or the bus closes.
func (m *Memory) Subscribe(ctx context.Context, topic string) (<-chan []byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := &subscriber{topic: topic, ch: make(chan []byte, m.buffer)}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	subs := m.topics[topic]
	if subs == nil {
		subs = make(map[*subscriber]struct{})
		m.topics[topic] = subs
	}
	subs[s] = struct{}{}
	// AfterFunc rather than a goroutine per subscriber: an idle subscription costs no
	// goroutine. If ctx is already done the func waits for this lock, then unregisters.
	s.stop = context.AfterFunc(ctx, func() { m.unsubscribe(s) })
	return s.ch, nil
}

func (m *Memory) unsubscribe(s *subscriber) {
	m.mu.Lock()
	defer m.mu.Unlock()
	subs := m.topics[s.topic]
	if _, ok := subs[s]; !ok {
		return // Close got there first and already closed the channel.
	}
	delete(subs, s)
	if len(subs) == 0 {
		delete(m.topics, s.topic)
	}
	close(s.ch)
}

// Close closes every subscriber's channel; later Publish and Subscribe calls fail with ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	for _, subs := range m.topics {
		for s := range subs {
			s.stop()
			close(s.ch)
		}
	}
	m.topics = nil
	return nil
}

// subscriberCount lets tests see that a cancelled subscriber was released.
func (m *Memory) subscriberCount(topic string) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.topics[topic])
}
