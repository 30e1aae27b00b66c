// Package events owns how the server tells GraphQL subscribers about changes: a Bus
// that fans small payloads out by topic to whoever subscribed, either inside one
// process (Memory, for the single embedded SQLite process) or across every server
// instance sharing a PostgreSQL database (Postgres, through LISTEN/NOTIFY).
//
// Delivery is at most once. A subscriber that falls behind, or an instance whose
// LISTEN connection is down, misses events; subscribers are expected to treat an
// event as a hint to refetch rather than as the state itself.
package events

import (
	"context"
	"errors"
	"log/slog"
)

// Bus delivers small payloads (JSON, < 7 KB) published on a topic to the subscribers of that topic.
type Bus interface {
	Publish(ctx context.Context, topic string, payload []byte) error
	// Subscribe returns a channel of payloads published on topic after Subscribe returned.
	// The channel is closed when ctx ends or the bus closes. A subscriber that does not keep up
	// loses events (logged) rather than blocking the publisher or other subscribers.
	Subscribe(ctx context.Context, topic string) (<-chan []byte, error)
	Close() error
}

var (
	// ErrClosed is returned by Publish and Subscribe once the bus is closed.
	ErrClosed = errors.New("events: bus closed")
	// ErrPayloadTooLarge is returned by Postgres.Publish when the encoded event would not fit
	// in a NOTIFY; nothing is sent.
	ErrPayloadTooLarge = errors.New("events: payload too large")
)

var (
	_ Bus = (*Memory)(nil)
	_ Bus = (*Postgres)(nil)
)

// orDiscard keeps a nil logger from turning into a panic deep inside a publish.
func orDiscard(logger *slog.Logger) *slog.Logger {
	if logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return logger
}
