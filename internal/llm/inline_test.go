package llm_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/llm"
)

func TestInline(t *testing.T) {
	t.Parallel()
	job := func() {}

	_, ok := llm.Adopt(t.Context(), job)
	require.False(t, ok, "a context without an Inline")

	var in llm.Inline
	ctx := llm.WithInline(t.Context(), &in)
	_, ok = llm.Adopt(ctx, job)
	require.False(t, ok, "an Inline not yet open")

	in.Open()
	deliver, ok := llm.Adopt(ctx, job)
	require.True(t, ok)
	_, ok = llm.Adopt(ctx, job)
	require.False(t, ok, "one run per Inline")
	require.NotNil(t, in.Close())
	delivered := 0
	in.SetDeliver(func() bool { delivered++; return delivered < 2 })
	require.True(t, deliver())
	require.False(t, deliver(), "the transport's answer is the run's")

	var late llm.Inline
	lateCtx := llm.WithInline(context.Background(), &late)
	late.Open()
	require.Nil(t, late.Close(), "none adopted")
	_, ok = llm.Adopt(lateCtx, job)
	require.False(t, ok, "an Inline closed again")
}
