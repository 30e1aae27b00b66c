package playbook_test

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/playbook"
)

// TestRunInline runs a playbook on the goroutine of a transport that offers it
// (llm.Inline), as the WebSocket transport does: the run on the caller's goroutine,
// every event handed over by deliver as it comes, from inside the run, the same events as a run on its own goroutine;
// and a deliver that fails (the client is gone, the transport ends the context) stops
// it.
func TestRunInline(t *testing.T) {
	s, _ := newService(t, llm.NewOffline())
	vars := map[string]string{"email": "Could you send me the March invoice by Friday? Thanks, Ana"}
	start := func(ctx context.Context, take func(*playbook.Event) bool) (<-chan *playbook.Event, func()) {
		var in llm.Inline
		ctx = llm.WithInline(ctx, &in)
		in.Open()
		ch, err := s.Run(ctx, powerUser, "email_to_task", vars)
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

	// Each event is handed over on the goroutine that called job, inside the run:
	// a run of its own goroutine would deliver from another one. (Counting goroutines
	// instead would count those of earlier tests ending meanwhile.)
	var inline []playbook.Event
	var stacks []string
	ch, job := start(t.Context(), func(e *playbook.Event) bool {
		inline = append(inline, *e)
		stacks = append(stacks, ownStack())
		return true
	})
	caller := goroutineID(ownStack())
	job()
	require.NotEmpty(t, stacks)
	for _, st := range stacks {
		require.Equal(t, caller, goroutineID(st), "the event is delivered on the caller's goroutine")
		require.Contains(t, st, "playbook.(*run).run", "the event is delivered from inside the run")
	}
	_, open := <-ch
	require.False(t, open, "the channel is closed once the run is over")
	own, err := s.Run(t.Context(), powerUser, "email_to_task", vars)
	require.NoError(t, err)
	want := collect(own)
	for i := range want {
		want[i].RunID = inline[0].RunID
	}
	require.Equal(t, want, inline, "the same events as a run on its own goroutine")
	require.Equal(t, playbook.EventDone, inline[len(inline)-1].Type)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got []playbook.EventType
	ch, job = start(ctx, func(e *playbook.Event) bool {
		got = append(got, e.Type)
		cancel() // the send failed: the transport ends the operation
		return false
	})
	job()
	require.Len(t, got, 1, "nothing after the failed delivery")
	_, open = <-ch
	require.False(t, open)
}

// ownStack is the calling goroutine's stack, as runtime.Stack prints it.
func ownStack() string {
	buf := make([]byte, 64<<10)
	return string(buf[:runtime.Stack(buf, false)])
}

// goroutineID is the number in the first line of a stack: "goroutine 7 [running]:".
func goroutineID(stack string) string {
	id, _, _ := strings.Cut(strings.TrimPrefix(stack, "goroutine "), " ")
	return id
}
