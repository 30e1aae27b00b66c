package chat_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
	"github.com/inkgraph/inkgraph/models"
)

// The metrics tests are not parallel: the collectors are the process's, and a
// sequential top-level test runs while no parallel one does, so a delta is its own.

func chatRuns(t *testing.T, outcome string) float64 {
	t.Helper()
	v, err := metrics.Read("inkgraph_llm_runs_total", "kind", metrics.KindChat, "outcome", outcome)
	require.NoError(t, err)
	return v
}

func chatTokens(t *testing.T) float64 {
	t.Helper()
	v, err := metrics.Read("inkgraph_llm_tokens_streamed_total", "kind", metrics.KindChat)
	require.NoError(t, err)
	return v
}

// quotaMeter refuses every run: the month's tokens are spent.
type quotaMeter struct{}

func (quotaMeter) Choose(context.Context, string) (llm.Choice, error) {
	return llm.Choice{}, &models.Error{Code: models.CodeQuotaExceeded, Message: "the month's tokens are spent"}
}

func (quotaMeter) Record(context.Context, string, models.UsageProvider, ...models.SourceUsage) error {
	return nil
}

func (quotaMeter) Usage(context.Context, string, int) (*models.UsageReport, error) {
	return &models.UsageReport{}, nil
}

func TestRunMetrics(t *testing.T) {
	srv := fakellm.New(t)
	var failAnswer atomic.Bool
	srv.Reply = func(req fakellm.Request) fakellm.Response {
		if isClassifier(req) {
			return fakellm.Response{Content: "task"}
		}
		if failAnswer.Load() {
			return fakellm.Response{Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: "" +
				`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}` + "\n\n" +
				`data: {"error":{"message":"overloaded","type":"server_error"}}` + "\n\n"}
		}
		return fakellm.Response{Chunks: []fakellm.Chunk{{Content: "Three "}, {Content: "open "}, {Content: "tasks."}}}
	}
	o := newOrchestrator(t, remoteProvider(t, srv), nil)
	req := chat.Request{Input: chat.Input{Message: "list my tasks"}, AllowedAgents: allAgents}

	t.Run("ok", func(t *testing.T) {
		ok, tokensBefore := chatRuns(t, metrics.OutcomeOK), chatTokens(t)
		events := runChat(t, o, req)
		require.Equal(t, chat.EventDone, events[len(events)-1].Type)
		require.Equal(t, ok+1, chatRuns(t, metrics.OutcomeOK))
		require.Equal(t, tokensBefore+3, chatTokens(t), "the answer's three deltas; the routing call streams nothing")
	})

	t.Run("error", func(t *testing.T) {
		failAnswer.Store(true)
		defer failAnswer.Store(false)
		failed, tokensBefore := chatRuns(t, metrics.OutcomeError), chatTokens(t)
		events := runChat(t, o, req)
		require.Equal(t, chat.EventError, events[len(events)-1].Type)
		require.Equal(t, failed+1, chatRuns(t, metrics.OutcomeError))
		require.Equal(t, tokensBefore+1, chatTokens(t), "what went out before the failure counts")
	})

	t.Run("cancelled", func(t *testing.T) {
		held := fakellm.New(t)
		held.Reply = func(req fakellm.Request) fakellm.Response {
			if isClassifier(req) {
				return fakellm.Response{Content: "task"}
			}
			return fakellm.Response{Chunks: []fakellm.Chunk{{Content: "Looking "}}, Hold: true}
		}
		o := newOrchestrator(t, remoteProvider(t, held), nil)
		cancelled, ok := chatRuns(t, metrics.OutcomeCancelled), chatRuns(t, metrics.OutcomeOK)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		ch, err := o.Run(ctx, req)
		require.NoError(t, err)
		for e := range ch {
			if e.Type == chat.EventToken {
				cancel() // the client goes away mid-answer
			}
		}
		require.Equal(t, cancelled+1, chatRuns(t, metrics.OutcomeCancelled))
		require.Equal(t, ok, chatRuns(t, metrics.OutcomeOK))
	})

	t.Run("quota", func(t *testing.T) {
		svc, err := chat.NewService(chat.Deps{Meter: quotaMeter{}, Tiers: testkit.NewTiers()})
		require.NoError(t, err)
		quota := chatRuns(t, metrics.OutcomeQuota)
		_, err = svc.Chat(t.Context(), models.PersonalActor("user-1"), chat.Input{Message: "hi"})
		require.Equal(t, models.CodeQuotaExceeded, models.ErrorCode(err))
		require.Equal(t, quota+1, chatRuns(t, metrics.OutcomeQuota), "a run refused for quota counts")
	})
}
