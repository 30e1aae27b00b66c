package wire_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inkgraph/inkgraph/internal/api/wire"
)

// appended is an extension value with its own JSON, as the limits have.
type appended struct {
	N  int       `json:"n"`
	At time.Time `json:"at"`
}

func (a appended) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"n":`...)
	dst = append(dst, []byte(json.Number(itoa(a.N)))...)
	dst = append(dst, `,"at":"`...)
	return append(a.At.AppendFormat(dst, time.RFC3339Nano), `"}`...)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestAppend: a response encodes to the bytes json.Marshal gives it, but for the
// HTML escapes the data keeps as gqlgen wrote it.
func TestAppend(t *testing.T) {
	t.Parallel()
	hasNext := true
	at := time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC)
	many := map[string]any{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"} {
		many[k] = 1
	}
	tests := []struct {
		name string
		resp graphql.Response
		same bool // byte for byte
	}{
		{"data", graphql.Response{Data: json.RawMessage(`{"chat":{"type":"TOKEN","delta":"t1 "}}`)}, true},
		{"no data", graphql.Response{}, true},
		{"null data", graphql.Response{Data: json.RawMessage(`null`)}, true},
		{"HTML in data", graphql.Response{Data: json.RawMessage("{\"chat\":{\"delta\":\"<b> & </b>\u2028\"}}")}, false},
		{"line breaks between tokens", graphql.Response{Data: json.RawMessage("{\"a\":{\"b\":1}\n,\r\n\t\"c\":[1, 2]}\n")}, true},
		{"errors", graphql.Response{Errors: gqlerror.List{{Message: "boom <now>", Path: ast.Path{ast.PathName("a"), ast.PathIndex(1)},
			Extensions: map[string]any{"code": "X"}}}, Data: json.RawMessage(`null`)}, true},
		{"errors without data", graphql.Response{Errors: gqlerror.List{{Message: "boom"}}}, true},
		{"extensions", graphql.Response{Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{"cost": 1, "b": "x<y", "a": []int{1}}}, true},
		{"appended extensions", graphql.Response{Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{
			"rateLimit": &appended{N: 3, At: at}, "cost": appended{N: -1, At: at.Add(time.Nanosecond)}, "operationId": "abc"}}, true},
		{"keys to escape", graphql.Response{Data: json.RawMessage(`{}`), Extensions: map[string]any{"a\"b": 1, "<k>": 2, "é": 3, "\n": 4}}, true},
		{"many extensions", graphql.Response{Data: json.RawMessage(`{}`), Extensions: many}, true},
		{"incremental", graphql.Response{Data: json.RawMessage(`{"a":1}`), HasNext: &hasNext, Label: "l", Path: ast.Path{ast.PathName("x")}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want, err := json.Marshal(&tt.resp)
			require.NoError(t, err)
			got, err := wire.Marshal(&tt.resp)
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(got))
			if tt.same {
				require.Equal(t, string(want), string(got))
			}
			prefixed, err := wire.Append([]byte("x"), &tt.resp)
			require.NoError(t, err)
			require.Equal(t, "x"+string(got), string(prefixed), "appended after what dst holds")
			require.NotContains(t, string(got), "\n", "one line")

			head, data, tail, err := wire.Parts(&tt.resp)
			require.NoError(t, err)
			require.Equal(t, string(got), string(head)+string(data)+string(tail), "the parts joined")
			// Data that needs no compaction, in a response of the fast path (not
			// incremental, up to eight extensions), is not copied.
			if d := tt.resp.Data; len(d) > 0 && tt.resp.Label == "" && len(tt.resp.Extensions) <= 8 &&
				!strings.ContainsAny(string(d), "\n\r\t") {
				require.Same(t, &d[0], &data[0], "the data part is the response's own")
			}
		})
	}
}

// failing are responses that cannot be encoded: a value json.Marshal cannot encode,
// or data to compact that is not JSON.
func failing() []graphql.Response {
	return []graphql.Response{
		{Data: json.RawMessage("{\"a\":\n"), Extensions: map[string]any{"cost": 1}},
		{Data: json.RawMessage(`{}`), Extensions: map[string]any{"bad": func() {}}},
		{Errors: gqlerror.List{{Message: "m", Extensions: map[string]any{"bad": make(chan int)}}}},
	}
}

// TestPartsFailure: Parts fails as Append does.
func TestPartsFailure(t *testing.T) {
	t.Parallel()
	for _, resp := range failing() {
		_, _, _, err := wire.Parts(&resp)
		require.Error(t, err)
	}
}

// TestAppendFailure: a response that cannot be encoded fails whole, and dst is given
// back as it was.
func TestAppendFailure(t *testing.T) {
	t.Parallel()
	for _, resp := range failing() {
		got, err := wire.Append([]byte("keep"), &resp)
		require.Error(t, err)
		require.Equal(t, "keep", string(got))
	}
}

// TestMarshalIsOneBuffer: a response with extensions such as the server's is marshalled
// into the one buffer Marshal makes, never grown (which copies the whole answer); its
// parts, but for the data, into one too.
func TestMarshalIsOneBuffer(t *testing.T) {
	data := make([]byte, 0, 8<<10)
	data = append(data, `{"onboarding":"`...)
	for len(data) < 8<<10-2 {
		data = append(data, 'x')
	}
	data = append(data, `"}`...)
	resp := &graphql.Response{Data: data, Extensions: map[string]any{
		"complexity": limit{Used: 1234, Max: 5000}, "cost": limit{Used: 56, Max: 1000}, "depth": limit{Used: 7, Max: 12},
	}}
	out, err := wire.Marshal(resp)
	require.NoError(t, err)
	require.Greater(t, len(out), len(data)+100, "the extensions are written")
	require.Equal(t, 1.0, testing.AllocsPerRun(20, func() { _, _ = wire.Marshal(resp) }))
	require.Equal(t, 1.0, testing.AllocsPerRun(20, func() { _, _, _, _ = wire.Parts(resp) }), "head and tail share a buffer")
}

// limit is an extension value that appends its JSON without allocating, as the
// server's limits do.
type limit struct{ Used, Max int64 }

func (l limit) AppendJSON(dst []byte) []byte {
	dst = strconv.AppendInt(append(dst, `{"used":`...), l.Used, 10)
	return append(strconv.AppendInt(append(dst, `,"max":`...), l.Max, 10), '}')
}
