package httptransport

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAcceptsMultipartMixed: multipart/mixed is offered by Apollo Client's Accept
// (deferSpec=20220824), by a bare multipart/mixed, and not by one with q=0, another
// incremental format, or no multipart at all.
func TestAcceptsMultipartMixed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		accept []string
		want   bool
	}{
		{[]string{"multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9"}, true},
		{[]string{"application/json", "multipart/mixed"}, true},
		{[]string{`multipart/mixed; boundary="-"; deferSpec=20220824`}, true},
		{[]string{"multipart/mixed;deferSpec=20220824;q=0, application/json"}, false},
		{[]string{"multipart/mixed;deferSpec=20230621"}, false},
		{[]string{"multipart/mixed;incrementalSpec=v0.2"}, false},
		{[]string{"application/json", "*/*"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, acceptsMultipartMixed(tt.accept), "%q", tt.accept)
	}
}
