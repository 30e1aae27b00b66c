package chat

import (
	"strings"
	"sync"
)

// batcher sends a run's events and, while the client is slow to take them, joins the
// run's consecutive TOKEN deltas of one agent into fewer events, so that a client
// whose socket backs up gets the answer in fewer, larger frames rather than holding
// up the run until its writes time out and it is dropped.
//
// A TOKEN goes out at once when nothing is being sent: a sender goroutine, started
// for it, hands it to the transport and lives only while the transport is busy with
// the run's events. TOKENs that arrive meanwhile wait as one pending event, their
// deltas joined, which the sender hands over the moment the transport takes the one
// before. Nothing waits on a timer: a pending delta is held exactly as long as the
// transport is busy with the event before it, which no flush could shorten. Any other
// event (and a TOKEN of another agent) waits until what was pending is sent, so the
// events keep their order; AGENT_TOKEN deltas are never joined, nor are TOKENs of
// different agents.
//
// The memory it holds is the pending text: the deltas the client has not yet taken,
// at most one model answer (bounded by the run's max tokens).
type batcher struct {
	// send hands one event to the transport, returning once it has taken it; false
	// when the client is gone. Only one send runs at a time.
	send func(*Event) bool
	// panicked is told of a panic in send on the sender goroutine, which ends the
	// stream as a gone client does rather than the process (the transport's own
	// recovery is on its goroutine, not this one).
	panicked func(v any)

	mu      sync.Mutex
	idle    chan struct{} // closed when the sender goroutine ends; nil when none runs
	pending *Event        // TOKENs not yet sent, their deltas joined in text
	text    strings.Builder
	failed  bool // a send reported the client gone
}

// token sends e (a TOKEN) or joins it to the pending TOKEN, without waiting for the
// transport. It reports false once the client is gone.
func (b *batcher) token(e *Event) bool {
	b.mu.Lock()
	for {
		switch {
		case b.failed:
			b.mu.Unlock()
			return false
		case b.idle == nil:
			idle := make(chan struct{})
			b.idle = idle
			b.mu.Unlock()
			go b.drain(e, idle)
			return true
		case b.pending == nil:
			b.pending = e
			b.text.WriteString(e.Delta)
			b.mu.Unlock()
			return true
		case b.pending.Agent == e.Agent:
			b.text.WriteString(e.Delta)
			b.mu.Unlock()
			return true
		}
		// A TOKEN of another agent follows the pending ones, never joins them.
		b.mu.Unlock()
		if !b.wait() {
			return false
		}
		b.mu.Lock()
	}
}

// drain sends e, then the pending event as long as there is one, and ends.
func (b *batcher) drain(e *Event, idle chan struct{}) {
	defer close(idle)
	defer func() {
		if v := recover(); v != nil {
			b.mu.Lock()
			b.failed, b.pending, b.idle = true, nil, nil
			b.text.Reset()
			b.mu.Unlock()
			if b.panicked != nil {
				b.panicked(v)
			}
		}
	}()
	for {
		ok := b.send(e)
		b.mu.Lock()
		if !ok {
			b.failed = true
		}
		e = b.pending
		if e == nil || b.failed {
			b.pending = nil
			b.text.Reset()
			b.idle = nil
			b.mu.Unlock()
			return
		}
		e.Delta = b.text.String()
		b.pending = nil
		b.text.Reset()
		b.mu.Unlock()
	}
}

// wait returns once every TOKEN given to token has been sent, false when the client
// is gone.
func (b *batcher) wait() bool {
	b.mu.Lock()
	idle := b.idle
	b.mu.Unlock()
	if idle != nil {
		<-idle
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.failed
}
