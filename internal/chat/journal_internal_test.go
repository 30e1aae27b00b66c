package chat

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// encodeEvent writes what json.Marshal writes, for the events it writes by hand and for
// those it leaves to json.Marshal.
func TestEncodeEvent(t *testing.T) {
	for _, e := range []*Event{
		{Type: EventToken, Agent: "writer", Delta: "Hello, world. "},
		{Type: EventToken, Delta: "no agent"},
		{Type: EventAgentToken, Agent: "research"},
		{Type: EventToken},
		{Type: EventToken, Agent: "writer", Delta: "a <b> & \"c\" \\ d"},
		{Type: EventToken, Agent: "writer", Delta: "tab\there\nnew line \u2028 \u2029 é 💡 \x7f"},
		{Type: EventToken, Agent: "writer", Delta: "invalid \xff utf-8"},
		{Type: EventToken, RunID: "run", Seq: 7, Delta: "numbered elsewhere"},
		{Type: EventToken, Delta: "with usage", Usage: &Usage{Provider: "p"}},
		{Type: EventDone, Done: &Done{}},
		{Type: EventAgentRouted, Route: &Route{Agents: []string{"writer"}}},
		{Type: EventError, Error: &RunError{Code: "X", Message: "m"}},
	} {
		want, err := json.Marshal(e)
		require.NoError(t, err)
		got, err := encodeEvent(e)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	}
}

func FuzzEncodeEvent(f *testing.F) {
	f.Add(true, "writer", "Hello, world. ")
	f.Add(false, "", "a <b> & \"c\"")
	f.Add(true, "x\x00", "\xff\u2028")
	f.Fuzz(func(t *testing.T, agentToken bool, agent, delta string) {
		e := &Event{Type: EventToken, Agent: agent, Delta: delta}
		if agentToken {
			e.Type = EventAgentToken
		}
		want, err := json.Marshal(e)
		require.NoError(t, err)
		got, err := encodeEvent(e)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	})
}
