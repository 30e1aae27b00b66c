package chat

import (
	"encoding/json"
	"reflect"
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

// A field added to Event later is not dropped by encodeEvent's hand-written path: a
// text delta's event with any one other field set encodes as json.Marshal has it.
func TestEncodeEventKnowsEveryField(t *testing.T) {
	typ := reflect.TypeFor[Event]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() || f.Name == "Type" {
			continue
		}
		e := &Event{Type: EventToken, Agent: "writer", Delta: "text"}
		v := reflect.ValueOf(e).Elem().Field(i)
		switch f.Type.Kind() {
		case reflect.Pointer:
			v.Set(reflect.New(f.Type.Elem()))
		case reflect.String:
			v.SetString("set")
		case reflect.Int, reflect.Int64:
			v.SetInt(7)
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Slice:
			v.Set(reflect.MakeSlice(f.Type, 1, 1))
		default:
			t.Fatalf("Event.%s is a %s: give this test a value of it", f.Name, f.Type)
		}
		want, err := json.Marshal(e)
		require.NoError(t, err)
		got, err := encodeEvent(e)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "Event.%s set", f.Name)
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
