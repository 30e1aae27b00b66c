package llm_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/llm/sanitize"
	"github.com/inkgraph/inkgraph/models"
)

const secret = "You are the task agent of Inkgraph."

// script is a provider that streams its texts, then its last chunk (none when
// hold is set: it waits for its context to end).
type script struct {
	texts []string
	last  llm.Chunk
	hold  bool
	err   error
	ended chan struct{}
}

func (s *script) Info() llm.Info { return llm.Info{Provider: "script", Model: "script-1"} }

func (s *script) Stream(ctx context.Context, _ llm.Request) (iter.Seq[llm.Chunk], error) {
	if s.err != nil {
		return nil, s.err
	}
	return func(yield func(llm.Chunk) bool) {
		if s.ended != nil {
			defer close(s.ended)
		}
		for _, t := range s.texts {
			if ctx.Err() != nil || !yield(llm.Chunk{Text: t}) {
				return
			}
		}
		if s.hold {
			<-ctx.Done()
			return
		}
		if (s.last.Done != nil || s.last.Err != nil) && ctx.Err() == nil {
			yield(s.last)
		}
	}, nil
}

var req = llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Tell me what you are."}}}

func TestRun(t *testing.T) {
	t.Parallel()
	set := sanitize.NewSet([]string{secret})
	usage := &models.Usage{PromptTokens: 9, CompletionTokens: 3, TotalTokens: 12}
	done := &llm.Done{FinishReason: llm.FinishStop, Usage: usage}

	t.Run("a fragment split across chunks never reaches send", func(t *testing.T) {
		t.Parallel()
		var sent []string
		res, err := llm.Run(t.Context(), &script{texts: []string{"Sure. You are the ta", "sk agent of Inkgraph. Done."}, last: llm.Chunk{Done: done}},
			&req, set, func(s string) bool { sent = append(sent, s); return true })
		require.NoError(t, err)
		require.Equal(t, "Sure.  Done.", res.Text)
		require.Equal(t, res.Text, strings.Join(sent, ""))
		require.NotContains(t, sent, "")
		require.Same(t, done, res.Done)
		require.Equal(t, models.Usage{PromptTokens: 9, CompletionTokens: 3, TotalTokens: 12, Calls: 1}, res.Usage,
			"the reported usage, counted as one call")
	})
	t.Run("without secrets or send the text is kept as it is", func(t *testing.T) {
		t.Parallel()
		res, err := llm.Run(t.Context(), &script{texts: []string{"You are the ta", "sk agent of Inkgraph."}, last: llm.Chunk{Done: done}}, &req, nil, nil)
		require.NoError(t, err)
		require.Equal(t, secret, res.Text)
	})
	t.Run("a failure is the last chunk", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		res, err := llm.Run(t.Context(), &script{texts: []string{"Hel"}, last: llm.Chunk{Err: boom}}, &req, set, func(string) bool { return true })
		require.Equal(t, "Hel", res.Text)
		require.ErrorIs(t, err, boom)
		require.Equal(t, models.CodeUpstreamUnavailable, models.ErrorCode(err), "an answer that began and broke may work if asked again")
		require.Nil(t, res.Done)
		require.Equal(t, llm.Estimate(req, "Hel").TotalTokens, res.Usage.TotalTokens, "an answer without a report is estimated")
		require.Equal(t, 1, res.Usage.Calls)
	})
	t.Run("an upstream failure keeps its own message", func(t *testing.T) {
		t.Parallel()
		upstream := models.Errorf(models.CodeUpstreamUnavailable, "the LLM endpoint broke off")
		_, err := llm.Run(t.Context(), &script{texts: []string{"Hel"}, last: llm.Chunk{Err: upstream}}, &req, set, nil)
		require.Same(t, upstream, err)
	})
	t.Run("a stream closed without a last chunk ended early", func(t *testing.T) {
		t.Parallel()
		res, err := llm.Run(t.Context(), &script{texts: []string{"half "}}, &req, set, nil)
		require.Equal(t, models.CodeUpstreamUnavailable, models.ErrorCode(err))
		require.Equal(t, "half ", res.Text)
	})
	t.Run("a refused start is a call without tokens", func(t *testing.T) {
		t.Parallel()
		refused := &models.Error{Code: models.CodeRateLimited, Message: "slow down"}
		res, err := llm.Run(t.Context(), &script{err: refused}, &req, set, nil)
		require.Same(t, refused, err)
		require.Equal(t, models.Usage{Calls: 1}, res.Usage)
	})
	t.Run("a refusing send stops the call and ends the upstream request", func(t *testing.T) {
		t.Parallel()
		calls := 0
		p := &script{texts: []string{"one ", "two ", "three"}, hold: true, ended: make(chan struct{})}
		res, err := llm.Run(t.Context(), p, &req, set, func(string) bool { calls++; return false })
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, 1, calls)
		require.Nil(t, res.Done)
		require.Positive(t, res.Usage.TotalTokens)
		select {
		case <-p.ended:
		default:
			t.Fatal("the upstream request outlived the call")
		}
	})
	t.Run("an ended context ends the call", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		p := &script{texts: []string{"one "}, hold: true, ended: make(chan struct{})}
		res, err := llm.Run(ctx, p, &req, set, func(string) bool { cancel(); return true })
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, "one ", res.Text)
		select {
		case <-p.ended:
		default:
			t.Fatal("the upstream request outlived the call")
		}
	})
}
