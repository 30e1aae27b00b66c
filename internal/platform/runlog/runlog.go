// Package runlog keeps the events of streamed runs (chats) for a short while, so that
// a client whose connection dropped can read on from the last event it had, on this
// instance or, with the Redis log, on any other.
//
// A run's writer appends each event, numbered from 1 without gaps, as the run sends
// it, and ends the log when the run ends; followers read the entries after a sequence
// number, then each new one as it comes, until the end. A log is kept for a retention
// time after it ends and holds at most MaxBytes of encoded events: a run past that
// keeps going, but a follower reaching the cut gets ErrTruncated.
package runlog

import (
	"context"
	"errors"
	"time"
)

// Entry is one event of a run: its sequence number and its encoding. A follower's
// last entry may instead carry Err: the log could not be read on.
type Entry struct {
	Seq  int
	Data []byte
	Err  error
}

// Log keeps runs' events. Implementations are safe for concurrent use.
type Log interface {
	// Open starts the log of run, which only owner may follow.
	Open(ctx context.Context, run, owner string) (Writer, error)
	// Follow returns the entries of owner's run after seq after, then each new one,
	// closing the channel after the run's last or when ctx ends. A run that is not
	// kept (never was, expired, or another owner's) is ErrNotFound.
	Follow(ctx context.Context, run, owner string, after int) (<-chan Entry, error)
}

// Writer appends one run's events. Its methods are called by one goroutine at a time.
type Writer interface {
	// Append adds the event numbered seq (the previous one's number plus one). It does
	// not wait for storage: a failure to store is logged and the log cut short.
	Append(seq int, data []byte)
	// Followed reports whether a follower reads the run now, or did within the last
	// lease (10 s): a run whose client went away waits while one does.
	Followed(ctx context.Context) bool
	// End closes the log after the entries appended, waits (bounded) until they are
	// stored, and keeps it for the retention time.
	End()
}

var (
	// ErrNotFound is a run that is not kept for the caller.
	ErrNotFound = errors.New("runlog: no such run")
	// ErrTruncated ends a follower that reached the cut of a log over its size.
	ErrTruncated = errors.New("runlog: the run's events outgrew what is kept of them")
	// ErrLost ends a follower of a run whose writer went away without ending it
	// (its instance stopped) or whose log could not be read.
	ErrLost = errors.New("runlog: the run's events stopped without an end")
)

// Limits bound what a log keeps.
type Limits struct {
	// Retain is how long a run's log is kept after it ends.
	Retain time.Duration
	// MaxBytes bounds the encoded events kept of one run.
	MaxBytes int
	// MaxTotalBytes bounds what the in-process log keeps of all runs together: a run
	// that would go past it is cut as one past MaxBytes is.
	MaxTotalBytes int
}

// DefaultMaxBytes is the size a run's kept events are cut at unless Limits says
// otherwise: several answers of the longest length the server allows.
const DefaultMaxBytes = 4 << 20

// DefaultMaxTotalBytes bounds the in-process log unless Limits says otherwise.
const DefaultMaxTotalBytes = 256 << 20

func (l Limits) withDefaults() Limits {
	if l.Retain <= 0 {
		l.Retain = 5 * time.Minute
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = DefaultMaxTotalBytes
	}
	return l
}
