package chat_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
)

// inlineRun starts a run on a context whose transport offers its goroutine
// (llm.Inline), as the WebSocket transport does, and returns its channel and job; take
// is what deliver does with each event, read from the channel.
func inlineRun(t *testing.T, ctx context.Context, o *chat.Orchestrator, take func(e *chat.Event) bool) (<-chan *chat.Event, func()) {
	t.Helper()
	var in llm.Inline
	ctx = llm.WithInline(ctx, &in)
	in.Open()
	ch, err := o.Run(ctx, chat.Request{Input: chat.Input{Message: "list my open tasks"}, AllowedAgents: allAgents})
	require.NoError(t, err)
	job := in.Close()
	require.NotNil(t, job, "the run adopted the transport's goroutine")
	in.SetDeliver(func() bool {
		select {
		case e := <-ch:
			return take(e)
		default:
			t.Error("deliver was called without an event waiting")
			return false
		}
	})
	return ch, job
}

// TestInlineRun runs a chat on the transport's goroutine: no goroutine of its own,
// every event handed over by deliver as it comes, in order, and the channel closed
// when the job returns. A TOKEN is handed over by the run's batcher's sender, the one
// goroutine a run starts, and only while its TOKENs go out (batch.go): a held run
// holds none. Not parallel: it counts goroutines.
func TestInlineRun(t *testing.T) {
	o := newOrchestrator(t, llm.NewOffline(), nil)
	var events []chat.Event
	var during []int
	ch, job := inlineRun(t, t.Context(), o, func(e *chat.Event) bool {
		events = append(events, *e)
		during = append(during, runtime.NumGoroutine())
		return true
	})
	before := runtime.NumGoroutine()
	job()
	for _, n := range during {
		// The sender of the TOKENs before an event may not have quite ended.
		require.LessOrEqual(t, n, before+1, "the run started no goroutine but its batcher's one sender")
	}
	_, open := <-ch
	require.False(t, open, "the channel is closed once the run is over")
	requireWellFormed(t, events)
	require.Equal(t, []chat.EventType{"AGENT_ROUTED", "TOOL_CALL_STARTED", "TOOL_RESULT", "TOKEN", "USAGE", "DONE"}, types(events))
	// The same events as a run on its own goroutine, but that its reader may take its
	// TOKENs in fewer events (batch.go), so numbered otherwise.
	own := runChat(t, o, chat.Request{Input: chat.Input{Message: "list my open tasks"}, AllowedAgents: allAgents})
	require.Equal(t, types(own), types(events))
	require.Equal(t, tokens(own), tokens(events))
	require.Equal(t, ofType(own, chat.EventDone)[0].Done, ofType(events, chat.EventDone)[0].Done)
}

// TestInlineRunClientGone: when the transport cannot send an event (it ends the
// run's context, as the client is gone), the run stops and its upstream request ends
// at once.
func TestInlineRunClientGone(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	srv.Reply = func(req fakellm.Request) fakellm.Response {
		if isClassifier(req) {
			return fakellm.Response{Content: "task"}
		}
		return fakellm.Response{Chunks: []fakellm.Chunk{{Content: "Working "}, {Content: "on it"}}, Hold: true}
	}
	o := newOrchestrator(t, remoteProvider(t, srv), nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got []chat.EventType
	ch, job := inlineRun(t, ctx, o, func(e *chat.Event) bool {
		got = append(got, e.Type)
		if e.Type == chat.EventToken {
			cancel() // the send failed: the transport ends the operation
			return false
		}
		return true
	})
	job()
	require.Equal(t, []chat.EventType{"AGENT_ROUTED", "TOKEN"}, got)
	_, open := <-ch
	require.False(t, open)
	held := srv.Requests()[1]
	select {
	case <-held.Ended:
	case <-time.After(waitTimeout):
		t.Fatal("the upstream request outlived the run")
	}
	require.True(t, held.Canceled(), "the upstream request was abandoned")
}
