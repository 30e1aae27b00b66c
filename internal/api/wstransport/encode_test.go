package wstransport

import (
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestEncodeResponse: a response encodes to the JSON json.Marshal gives it, byte for
// byte but for the HTML escapes the data-only fast path leaves out.
func TestEncodeResponse(t *testing.T) {
	t.Parallel()
	hasNext := true
	tests := []struct {
		name string
		resp graphql.Response
		same bool // byte for byte
	}{
		{"data", graphql.Response{Data: json.RawMessage(`{"chat":{"type":"TOKEN","delta":"t1 "}}`)}, true},
		{"no data", graphql.Response{}, true},
		{"null data", graphql.Response{Data: json.RawMessage(`null`)}, true},
		{"HTML in data", graphql.Response{Data: json.RawMessage(`{"chat":{"delta":"<b> & </b>"}}`)}, false},
		{"errors", graphql.Response{Errors: gqlerror.List{{Message: "boom"}}, Data: json.RawMessage(`null`)}, true},
		{"extensions", graphql.Response{Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{"cost": 1}}, true},
		{"incremental", graphql.Response{Data: json.RawMessage(`{"a":1}`), HasNext: &hasNext, Label: "l"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want, err := json.Marshal(&tt.resp)
			require.NoError(t, err)
			got, err := encodeResponse(&tt.resp)
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(got))
			if tt.same {
				require.Equal(t, string(want), string(got))
			}
		})
	}
}
