package sanitize_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/chat/sanitize"
	"github.com/inkgraph/inkgraph/internal/llm"
)

func chunks(last llm.Chunk, texts ...string) <-chan llm.Chunk {
	ch := make(chan llm.Chunk, len(texts)+1)
	for _, t := range texts {
		ch <- llm.Chunk{Text: t}
	}
	ch <- last
	close(ch)
	return ch
}

func TestRelay(t *testing.T) {
	t.Parallel()
	set := sanitize.NewSet([]string{secret})
	done := &llm.Done{FinishReason: llm.FinishStop}

	t.Run("a fragment split across chunks never reaches send", func(t *testing.T) {
		var sent []string
		res := set.Relay(chunks(llm.Chunk{Done: done}, "Sure. You are the ta", "sk agent of Inkgraph. Done."),
			func(s string) bool { sent = append(sent, s); return true })
		require.Equal(t, "Sure.  Done.", res.Text)
		require.Equal(t, res.Text, concat(sent))
		require.NotContains(t, sent, "")
		require.Same(t, done, res.Done)
		require.NoError(t, res.Err)
		require.False(t, res.Stopped)
	})
	t.Run("a failure is the last chunk", func(t *testing.T) {
		boom := errors.New("boom")
		res := set.Relay(chunks(llm.Chunk{Err: boom}, "Hel"), func(string) bool { return true })
		require.Equal(t, "Hel", res.Text)
		require.ErrorIs(t, res.Err, boom)
		require.Nil(t, res.Done)
	})
	t.Run("a refusing send stops the relay", func(t *testing.T) {
		calls := 0
		res := set.Relay(chunks(llm.Chunk{Done: done}, "one ", "two ", "three"), func(string) bool { calls++; return false })
		require.True(t, res.Stopped)
		require.Equal(t, 1, calls)
		require.Nil(t, res.Done)
	})
}

func concat(parts []string) string {
	out := ""
	for _, p := range parts {
		out += p
	}
	return out
}
