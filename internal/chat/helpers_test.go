package chat_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/internal/llm"
)

// waitTimeout bounds waits in tests; reaching it means a bug, not a slow machine.
const waitTimeout = 10 * time.Second

var allAgents = []string{"task", "calendar", "email", "analytics"}

func fixedNow() time.Time { return time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC) }

func newOrchestrator(t testing.TB, p llm.Provider, catalog chat.Catalog) *chat.Orchestrator {
	t.Helper()
	o, err := chat.New(chat.Config{
		Provider: p, Catalog: catalog, Now: fixedNow,
		NewRunID: func() string { return "run-1" },
	})
	require.NoError(t, err)
	return o
}

// collect reads a run to its end.
func collect(t testing.TB, ch <-chan *chat.Event) []chat.Event {
	t.Helper()
	var got []chat.Event
	timeout := time.After(waitTimeout)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return got
			}
			got = append(got, *e)
		case <-timeout:
			t.Fatal("the run never ended")
		}
	}
}

func runChat(t testing.TB, o *chat.Orchestrator, req chat.Request) []chat.Event {
	t.Helper()
	ch, err := o.Run(context.Background(), req)
	require.NoError(t, err)
	return collect(t, ch)
}

func types(events []chat.Event) []chat.EventType {
	out := make([]chat.EventType, 0, len(events))
	for i, e := range events {
		if e.Type == chat.EventToken && i > 0 && events[i-1].Type == chat.EventToken {
			continue // runs of tokens count once
		}
		out = append(out, e.Type)
	}
	return out
}

func ofType(events []chat.Event, typ chat.EventType) []chat.Event {
	var out []chat.Event
	for _, e := range events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func tokens(events []chat.Event) string {
	var b strings.Builder
	for _, e := range ofType(events, chat.EventToken) {
		b.WriteString(e.Delta)
	}
	return b.String()
}

// requireWellFormed checks what every run guarantees: one run ID, sequence
// numbers from 1 without gaps, and one DONE or ERROR last, after at most one
// USAGE.
func requireWellFormed(t testing.TB, events []chat.Event) {
	t.Helper()
	require.NotEmpty(t, events)
	for i, e := range events {
		require.Equal(t, events[0].RunID, e.RunID)
		require.Equal(t, i+1, e.Seq)
	}
	last := events[len(events)-1]
	require.Contains(t, []chat.EventType{chat.EventDone, chat.EventError}, last.Type)
	require.Len(t, append(ofType(events, chat.EventDone), ofType(events, chat.EventError)...), 1)
	require.LessOrEqual(t, len(ofType(events, chat.EventUsage)), 1)
}
