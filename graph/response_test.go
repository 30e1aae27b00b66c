package graph

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestResponseBufferIsSizedByTheLastResponse: an operation not seen gets gqlgen's
// empty buffer; once one of its responses is remembered, the next is written into a
// buffer of that size and an eighth more, which another operation does not get.
func TestResponseBufferIsSizedByTheLastResponse(t *testing.T) {
	t.Parallel()
	op, other := &ast.OperationDefinition{Name: "A"}, &ast.OperationDefinition{Name: "B"}
	require.Zero(t, responseBuffer(op).Cap())

	data := bytes.Repeat([]byte("x"), 8000)
	require.Equal(t, data, rememberResponse(op, data))
	buf := responseBuffer(op)
	require.Equal(t, 9000, buf.Cap())
	require.Zero(t, buf.Len())
	if otherSlot, _ := responseSlot(other); otherSlot != mustSlot(op) {
		require.Zero(t, responseBuffer(other).Cap(), "another operation's size is not this one's")
	}

	rememberResponse(op, data[:100]) // the last response counts
	require.Equal(t, 112, responseBuffer(op).Cap())
	rememberResponse(op, make([]byte, maxResponseHint+1)) // too large to ask for again
	require.Equal(t, 112, responseBuffer(op).Cap())
}

func mustSlot(op *ast.OperationDefinition) any {
	s, _ := responseSlot(op)
	return s
}
