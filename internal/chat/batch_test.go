package chat

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/metrics"
)

// gatedBatcher returns a batcher whose transport takes an event only when the test
// receives it from the returned channel: until then, its sender waits, as it does on
// a client whose socket is backed up.
func gatedBatcher() (*batcher, <-chan *Event) {
	taken := make(chan *Event)
	return &batcher{send: func(e *Event) bool {
		taken <- e
		return true
	}}, taken
}

func tokenOf(agent, delta string) *Event {
	return &Event{Type: EventToken, Agent: agent, Delta: delta}
}

// TestBatcherSendsATokenAtOnce: a TOKEN given to an idle batcher is offered to the
// transport at once, on its own: a reader that keeps up gets every token as it comes.
func TestBatcherSendsATokenAtOnce(t *testing.T) {
	t.Parallel()
	b, taken := gatedBatcher()
	for i := range 5 {
		require.True(t, b.token(tokenOf("task", strconv.Itoa(i))))
		require.Equal(t, strconv.Itoa(i), (<-taken).Delta, "offered alone, not held for others")
		require.True(t, b.wait())
	}
}

// TestBatcherJoinsWhileTheTransportIsBusy: the TOKENs that arrive while the transport
// has not taken the one before do not wait for it; they go out as one event, their
// deltas joined in order, the moment the transport takes it (no timer, no event lost).
func TestBatcherJoinsWhileTheTransportIsBusy(t *testing.T) {
	t.Parallel()
	b, taken := gatedBatcher()
	require.True(t, b.token(tokenOf("task", "Hel")))
	var want strings.Builder
	for i := range 100 {
		d := " " + strconv.Itoa(i)
		want.WriteString(d)
		require.True(t, b.token(tokenOf("task", d)), "the run is not held up")
	}
	first := <-taken
	require.Equal(t, "Hel", first.Delta)
	joined := <-taken
	require.Equal(t, EventToken, joined.Type)
	require.Equal(t, "task", joined.Agent)
	require.Equal(t, want.String(), joined.Delta, "the same text, in order")
	require.True(t, b.wait())
	require.Nil(t, b.pending)
	require.Zero(t, b.text.Len(), "nothing held once sent")
}

// TestBatcherNeverJoinsAgents: a TOKEN of another agent waits for the pending TOKENs
// to go out and follows them: the order stays, and no delta changes agent.
func TestBatcherNeverJoinsAgents(t *testing.T) {
	t.Parallel()
	b, taken := gatedBatcher()
	require.True(t, b.token(tokenOf("task", "a1")))
	require.True(t, b.token(tokenOf("task", "a2")))
	require.True(t, b.token(tokenOf("task", "a3")))
	other := make(chan bool)
	go func() { other <- b.token(tokenOf("email", "b1")) }()
	var got []string
	for range 3 {
		e := <-taken
		got = append(got, e.Agent+":"+e.Delta)
	}
	require.True(t, <-other)
	require.True(t, b.token(tokenOf("email", "b2")))
	e := <-taken
	got = append(got, e.Agent+":"+e.Delta)
	require.True(t, b.wait())
	require.Equal(t, []string{"task:a1", "task:a2a3", "email:b1", "email:b2"}, got)
}

// TestBatcherWaitFlushes: wait, which every other event goes through, returns only
// once the pending TOKENs have been taken: they cannot be overtaken.
func TestBatcherWaitFlushes(t *testing.T) {
	t.Parallel()
	b, taken := gatedBatcher()
	require.True(t, b.token(tokenOf("task", "x")))
	require.True(t, b.token(tokenOf("task", "y")))
	waited := make(chan bool)
	go func() { waited <- b.wait() }()
	require.Equal(t, "x", (<-taken).Delta)
	require.Equal(t, "y", (<-taken).Delta)
	require.True(t, <-waited)
}

// TestBatcherClientGone: once a send fails, the pending text is dropped and every
// later TOKEN and wait report the client gone, which stops the run.
func TestBatcherClientGone(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	sent := 0
	b := &batcher{send: func(*Event) bool {
		<-gate
		sent++
		return false
	}}
	require.True(t, b.token(tokenOf("task", "x")))
	require.True(t, b.token(tokenOf("task", "y")))
	close(gate)
	require.False(t, b.wait())
	require.False(t, b.token(tokenOf("task", "z")))
	require.Equal(t, 1, sent, "nothing more is sent to a client gone")
	require.Nil(t, b.pending)
}

// TestBatcherSendPanics: a panic while sending, on the sender's goroutine, ends the
// stream as a gone client does and is reported, rather than ending the process.
func TestBatcherSendPanics(t *testing.T) {
	t.Parallel()
	reported := make(chan any, 1)
	b := &batcher{
		send:     func(*Event) bool { panic("transport broke") },
		panicked: func(v any) { reported <- v },
	}
	require.True(t, b.token(tokenOf("task", "x")))
	require.False(t, b.wait())
	require.Equal(t, "transport broke", <-reported)
	require.False(t, b.token(tokenOf("task", "y")), "nothing more is sent")
}

// TestEmitBatchesOnlyTokens runs emit as a run does, its client reading only once the
// run has three TOKENs out: the first goes alone, the two it had not taken go as one;
// AGENT_TOKENs are never joined, nor TOKENs of two agents, other events wait their
// turn, and the events sent are numbered without a gap.
func TestEmitBatchesOnlyTokens(t *testing.T) {
	t.Parallel()
	r := &run{ctx: t.Context(), id: "run", out: make(chan *Event)}
	r.batch.send = r.send
	queued := make(chan struct{})
	go func() {
		defer close(r.out)
		defer r.batch.wait()
		for _, d := range []string{"a", "b", "c"} {
			if !r.emit(tokenOf("task", d)) {
				return
			}
		}
		close(queued)
		for _, e := range []*Event{
			{Type: EventAgentToken, Agent: "task", Delta: "x"}, {Type: EventAgentToken, Agent: "task", Delta: "y"},
			tokenOf("task", "d"), tokenOf("email", "e"), {Type: EventUsage}, {Type: EventDone},
		} {
			if !r.emit(e) {
				return
			}
		}
	}()
	<-queued
	var got []string
	seq := 0
	for e := range r.out {
		seq++
		require.Equal(t, seq, e.Seq, "numbered as sent, without a gap")
		require.Equal(t, "run", e.RunID)
		got = append(got, string(e.Type)+" "+e.Agent+" "+e.Delta)
	}
	require.Equal(t, []string{
		"TOKEN task a", "TOKEN task bc", "AGENT_TOKEN task x", "AGENT_TOKEN task y",
		"TOKEN task d", "TOKEN email e", "USAGE  ", "DONE  ",
	}, got)
	require.Equal(t, metrics.OutcomeOK, r.outcome, "DONE went out")
}
