package chat_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/metering"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
	"github.com/inkgraph/inkgraph/models"
)

// ruleTokens counts msgs by the quote's documented rule, as a provider whose
// tokenizer is that rule would.
func ruleTokens(msgs []fakellm.Message) int {
	n := 0
	for _, m := range msgs {
		n += (utf8.RuneCountInString(m.Content)+3)/4 + 4
	}
	return n
}

func TestQuoteThenRunOnTheServersProvider(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		ctx := context.Background()
		f := newService(t, db)
		// The fake counts prompt tokens by the quote's rule: what the run sends is what
		// the quote estimated.
		f.server.Reply = func(req fakellm.Request) fakellm.Response {
			content := "Start with the launch checklist."
			if len(req.Body.Tools) == 0 {
				content = "task" // the router
			}
			p := ruleTokens(req.Body.Messages)
			return fakellm.Response{Content: content, Usage: &fakellm.Usage{PromptTokens: p, CompletionTokens: 7, TotalTokens: p + 7}}
		}
		u := f.user(t, models.TierPro)
		in := chat.Input{Message: "What should I do first today?", Context: chat.Context{
			History: []chat.Turn{{Role: "user", Content: "Hello"}, {Role: "assistant", Content: "Hi, how can I help?"}},
			Tasks:   []chat.Task{{ID: "t1", Title: "Write the launch post", Status: chat.TaskTodo}},
		}}

		q, err := f.svc.Quote(ctx, models.PersonalActor(u), in)
		require.NoError(t, err)
		require.Equal(t, llm.ProviderOpenAICompatible, q.Provider)
		require.Equal(t, "server-model", q.Model)
		require.Equal(t, models.UsageServer, q.PaidBy)
		require.True(t, q.CountsAgainstQuota)
		require.Equal(t, int64(2_000_000), *q.QuotaRemaining)
		require.Empty(t, f.server.Requests(), "a quote calls no model")
		agents := len(allAgents)
		require.Equal(t, 1+agents*chat.MaxToolIterations+1, q.MaxModelCalls, "the router, any pipeline of the agents, a synthesis")
		require.Equal(t, 20+(agents*chat.MaxToolIterations+1)*chat.DefaultMaxTokens, q.MaxCompletionTokens)

		reply, err := f.svc.Send(ctx, models.PersonalActor(u), in)
		require.NoError(t, err)
		require.Equal(t, []string{"task"}, reply.Route.Agents)
		// One agent, no tool call: the run's calls are the ones estimated, so the
		// estimate is exact for a provider counting by the rule.
		require.Equal(t, q.EstimatedPromptTokens, reply.Usage.PromptTokens)
		require.LessOrEqual(t, reply.Usage.Calls, q.MaxModelCalls)
		require.LessOrEqual(t, reply.Usage.CompletionTokens, q.MaxCompletionTokens)

		// What the quote said was left is what the run left plus what it used.
		report, err := f.svc.Usage(ctx, u, 1)
		require.NoError(t, err)
		require.Equal(t, *report.RemainingTokens(), *reply.QuotaRemaining)
		require.Equal(t, *q.QuotaRemaining, *reply.QuotaRemaining+int64(reply.Usage.TotalTokens))

		again, err := f.svc.Quote(ctx, models.PersonalActor(u), in)
		require.NoError(t, err)
		require.Equal(t, *reply.QuotaRemaining, *again.QuotaRemaining)
	})
}

func TestQuoteWhoPays(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	ctx := context.Background()
	f := newService(t, db)
	in := chat.Input{Message: "Reschedule my meetings and email the team"}

	// The user's own key: not counted, nothing left to tell.
	power := f.user(t, models.TierPower)
	q, err := f.svc.Quote(ctx, models.PersonalActor(power), in)
	require.NoError(t, err)
	require.Equal(t, models.UsageBYOK, q.PaidBy)
	require.Equal(t, "user-model", q.Model)
	require.False(t, q.CountsAgainstQuota)
	require.Nil(t, q.QuotaRemaining)

	// The server's provider on an unlimited plan: counted, nothing to run out of.
	team := f.user(t, models.TierTeam)
	f.tiers.Set(team, models.TierTeam)
	meter, err := metering.NewService(metering.Deps{DB: db, Server: mustProvider(t, f.server.URL()), Tiers: f.tiers})
	require.NoError(t, err)
	svc, err := chat.NewService(chat.Deps{Meter: meter, Tiers: f.tiers})
	require.NoError(t, err)
	q, err = svc.Quote(ctx, models.PersonalActor(team), in)
	require.NoError(t, err)
	require.Equal(t, models.UsageServer, q.PaidBy)
	require.True(t, q.CountsAgainstQuota)
	require.Nil(t, q.QuotaRemaining)

	// Offline: not counted; the route is the keywords', exactly, and so are its calls.
	offlineMeter, err := metering.NewService(metering.Deps{DB: db, Tiers: f.tiers})
	require.NoError(t, err)
	offline, err := chat.NewService(chat.Deps{Meter: offlineMeter, Tiers: f.tiers})
	require.NoError(t, err)
	pro := f.user(t, models.TierPro)
	q, err = offline.Quote(ctx, models.PersonalActor(pro), in)
	require.NoError(t, err)
	require.Equal(t, models.UsageOffline, q.PaidBy)
	require.True(t, q.Offline)
	require.False(t, q.CountsAgainstQuota)
	require.Nil(t, q.QuotaRemaining)
	require.Equal(t, 2*chat.MaxToolIterations, q.MaxModelCalls, "calendar then email, no router, no synthesis offline")
	reply, err := offline.Send(ctx, models.PersonalActor(pro), in)
	require.NoError(t, err)
	require.Equal(t, []string{"calendar", "email"}, reply.Route.Agents)
	require.Nil(t, reply.QuotaRemaining)
	require.LessOrEqual(t, reply.Usage.Calls, q.MaxModelCalls)

	// PLAN mode calls no model after the route.
	f.tiers.Set(pro, models.TierPro)
	q, err = offline.Quote(ctx, models.PersonalActor(pro), chat.Input{Message: "plan my week", Mode: chat.ModePlan})
	testkit.RequireCode(t, err, models.CodeBadUserInput, "mode") // no catalogue here, as Chat says
	require.Nil(t, q)
}

func mustProvider(t *testing.T, url string) llm.Provider {
	t.Helper()
	p, err := llm.New(llm.Config{BaseURL: url, Model: "server-model"})
	require.NoError(t, err)
	return p
}

func TestQuoteRefusesWhatTheChatRefuses(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	ctx := context.Background()
	f := newService(t, db)
	u := f.user(t, models.TierFree)
	for _, c := range []struct {
		in    chat.Input
		field string
	}{
		{chat.Input{Message: "  "}, "message"},
		{chat.Input{Message: strings.Repeat("a", chat.MaxMessageRunes+1)}, "message"},
		{chat.Input{Message: "hi", Mode: "LOUD"}, "mode"},
		{chat.Input{Message: "hi", Context: chat.Context{History: make([]chat.Turn, chat.MaxHistory+1)}}, "context.history"},
		{chat.Input{Message: "hi", Context: chat.Context{Tasks: []chat.Task{{ID: "t", Title: "x", Status: "someday"}}}}, "context.tasks[0].status"},
	} {
		_, chatErr := f.svc.Chat(ctx, models.PersonalActor(u), c.in)
		testkit.RequireCode(t, chatErr, models.CodeBadUserInput, c.field)
		_, err := f.svc.Quote(ctx, models.PersonalActor(u), c.in)
		testkit.RequireCode(t, err, models.CodeBadUserInput, c.field)
	}

	// A spent quota: the quote says what the chat says.
	f.server.Reply = func(fakellm.Request) fakellm.Response {
		return fakellm.Response{Content: "task", Usage: &fakellm.Usage{PromptTokens: 150_000, TotalTokens: 150_000}}
	}
	reply, err := f.svc.Send(ctx, models.PersonalActor(u), chat.Input{Message: "plan my week"})
	require.NoError(t, err)
	require.Equal(t, int64(0), *reply.QuotaRemaining, "never below 0")
	_, err = f.svc.Quote(ctx, models.PersonalActor(u), chat.Input{Message: "plan my week"})
	require.Equal(t, models.CodeQuotaExceeded, models.ErrorCode(err))
}
