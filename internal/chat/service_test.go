package chat_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/metering"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
	"github.com/inkgraph/inkgraph/models"
)

// keysFunc is the Keys fake.
type keysFunc func(ctx context.Context, userID, provider string) (string, *models.ProviderKey, error)

func (f keysFunc) RevealProviderKey(ctx context.Context, userID, provider string) (string, *models.ProviderKey, error) {
	return f(ctx, userID, provider)
}

// personalizerFunc is the Personalizer fake.
type personalizerFunc func(ctx context.Context, userID string) (*models.PersonalizationContext, error)

func (f personalizerFunc) PersonalizationContext(ctx context.Context, userID string) (*models.PersonalizationContext, error) {
	return f(ctx, userID)
}

type serviceFixture struct {
	db     *bun.DB
	tiers  *testkit.Tiers
	clock  *testkit.Clock
	meter  *metering.Service
	svc    *chat.Service
	server *fakellm.Server
	byok   *fakellm.Server
}

// newService builds the chat service over db, and its meter, with the fake as the
// server's LLM and a second fake behind users' own keys ("sk-user-…" keys are
// validated). tune adjusts the service's dependencies before it is built.
func newService(t *testing.T, db *bun.DB, tune ...func(*chat.Deps)) *serviceFixture {
	t.Helper()
	f := &serviceFixture{db: db, tiers: testkit.NewTiers(),
		server: fakellm.New(t), byok: fakellm.New(t, fakellm.WithAPIKey("sk-user-0123456789abcdefghij")),
		clock: testkit.NewClock(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))}
	server, err := llm.New(llm.Config{BaseURL: f.server.URL(), Model: "server-model"})
	require.NoError(t, err)
	keys := keysFunc(func(_ context.Context, userID, provider string) (string, *models.ProviderKey, error) {
		if provider != "openai" || userID == "" {
			return "", nil, models.Errorf(models.CodeNotFound, "no key")
		}
		return "sk-user-0123456789abcdefghij", &models.ProviderKey{FormatValid: true, Status: models.KeyFormatOK}, nil
	})
	f.meter, err = metering.NewService(metering.Deps{
		DB: db, Server: server, Tiers: f.tiers, Keys: keys,
		BYOK: &metering.BYOK{Provider: "openai", New: func(key string) (llm.Provider, error) {
			return llm.New(llm.Config{BaseURL: f.byok.URL(), APIKey: key, Model: "user-model"})
		}},
		Now: f.clock.Now,
	})
	require.NoError(t, err)
	deps := chat.Deps{
		Meter: f.meter, Tiers: f.tiers,
		Personalizer: personalizerFunc(func(context.Context, string) (*models.PersonalizationContext, error) {
			return &models.PersonalizationContext{BusinessName: "Quill & Co", Voice: "warm and direct"}, nil
		}),
		Now: f.clock.Now,
	}
	for _, fn := range tune {
		fn(&deps)
	}
	f.svc, err = chat.NewService(deps)
	require.NoError(t, err)
	return f
}

func (f *serviceFixture) user(t *testing.T, tier models.Tier) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	now := f.clock.Now()
	_, err := f.db.NewInsert().Model(&models.User{ID: id, Email: id + "@example.com", Tier: tier,
		CreatedAt: now, UpdatedAt: now}).Exec(context.Background())
	require.NoError(t, err)
	f.tiers.Set(id, tier)
	return id
}

func TestServiceMetersEveryRunPerAgentAndDay(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		ctx := context.Background()
		f := newService(t, db)
		f.server.Reply = func(req fakellm.Request) fakellm.Response {
			if len(req.Body.Tools) == 0 { // the router
				return fakellm.Response{Content: "task", Usage: &fakellm.Usage{PromptTokens: 40, CompletionTokens: 1, TotalTokens: 41}}
			}
			return fakellm.Response{Content: "Noted.", Usage: &fakellm.Usage{PromptTokens: 100, CompletionTokens: 20, TotalTokens: 120}}
		}
		u := f.user(t, models.TierPro)

		reply, err := f.svc.Send(ctx, models.PersonalActor(u), chat.Input{Message: "What should I do first today?"})
		require.NoError(t, err)
		require.Equal(t, "Noted.", reply.Response)
		require.Equal(t, []string{"task"}, reply.Route.Agents)
		require.False(t, reply.Offline)
		require.Equal(t, 161, reply.Usage.TotalTokens)

		// The personalisation reaches the agents' context, never the reply.
		reqs := f.server.Requests()
		require.Contains(t, reqs[len(reqs)-1].Body.Messages[1].Content, "Quill \\u0026 Co")

		_, err = f.svc.Send(ctx, models.PersonalActor(u), chat.Input{Message: "What should I do first today?"})
		require.NoError(t, err)
		report, err := f.svc.Usage(ctx, u, 7)
		require.NoError(t, err)
		require.Equal(t, "2026-03-04", report.From)
		require.Equal(t, "2026-03-10", report.To)
		byAgent := map[string]*models.UsageRow{}
		for _, r := range report.Rows {
			require.Equal(t, models.UsageServer, r.Provider)
			byAgent[r.Source] = r
		}
		require.Len(t, byAgent, 2)
		require.Equal(t, int64(2), byAgent["task"].Requests, "each run counts once, under the agent it went to")
		require.Equal(t, int64(0), byAgent[chat.RouterAgent].Requests)
		require.Equal(t, int64(240), byAgent["task"].TotalTokens)
		require.Equal(t, int64(82), byAgent[chat.RouterAgent].TotalTokens)
		require.Equal(t, int64(322), report.MonthTokens)
		require.Equal(t, int64(2_000_000), *report.MonthlyTokenLimit)
		require.Equal(t, int64(2_000_000-322), *report.RemainingTokens())
		require.Equal(t, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), report.ResetsAt)

		// Another day is another row; another month starts the count again.
		f.clock.Set(f.clock.Now().AddDate(0, 1, 0))
		_, err = f.svc.Send(ctx, models.PersonalActor(u), chat.Input{Message: "What should I do first today?"})
		require.NoError(t, err)
		report, err = f.svc.Usage(ctx, u, 366)
		require.NoError(t, err)
		require.Len(t, report.Rows, 4)
		require.Equal(t, int64(161), report.MonthTokens)

		for _, days := range []int{0, -1, 367} {
			_, err = f.svc.Usage(ctx, u, days)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "days")
		}
	})
}

func TestServiceEnforcesTheMonthlyTokenQuotaBeforeARun(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		ctx := context.Background()
		f := newService(t, db)
		f.server.Reply = func(fakellm.Request) fakellm.Response {
			return fakellm.Response{Content: "task", Usage: &fakellm.Usage{PromptTokens: 60_000, CompletionTokens: 0, TotalTokens: 60_000}}
		}
		u := f.user(t, models.TierFree) // 100,000 tokens a month
		_, err := f.svc.Send(ctx, models.PersonalActor(u), chat.Input{Message: "plan my week"})
		require.NoError(t, err, "under the quota when the run starts: it runs, whatever it then costs")
		calls := len(f.server.Requests())

		_, err = f.svc.Chat(ctx, models.PersonalActor(u), chat.Input{Message: "plan my week"})
		require.Equal(t, models.CodeQuotaExceeded, models.ErrorCode(err))
		var appErr *models.Error
		require.ErrorAs(t, err, &appErr)
		require.Equal(t, &models.Quota{Used: 120_000, Limit: 100_000}, appErr.Quota)
		require.Equal(t, calls, len(f.server.Requests()), "a refused run calls nobody")
		_, err = f.meter.Choose(ctx, u) // as playbooks ask it
		require.Equal(t, models.CodeQuotaExceeded, models.ErrorCode(err))

		// The user's own key is not the server's to ration; nor is another month.
		f.tiers.Set(u, models.TierPower)
		reply, err := f.svc.Send(ctx, models.PersonalActor(u), chat.Input{Message: "plan my week"})
		require.NoError(t, err)
		require.Equal(t, "user-model", reply.Usage.Model)
		f.tiers.Set(u, models.TierFree)
		f.clock.Set(f.clock.Now().AddDate(0, 1, 0))
		_, err = f.meter.Choose(ctx, u)
		require.NoError(t, err)
	})
}

func TestServiceChoosesWhoAnswers(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	ctx := context.Background()
	f := newService(t, db)
	for _, tc := range []struct {
		tier  models.Tier
		model string
		fake  *fakellm.Server
	}{
		{models.TierFree, "server-model", f.server},
		{models.TierPro, "server-model", f.server},
		{models.TierPower, "user-model", f.byok},
		{models.TierTeam, "user-model", f.byok},
	} {
		t.Run(string(tc.tier), func(t *testing.T) {
			u := f.user(t, tc.tier)
			before := len(tc.fake.Requests())
			reply, err := f.svc.Send(ctx, models.PersonalActor(u), chat.Input{Message: "list my tasks"})
			require.NoError(t, err)
			require.Equal(t, tc.model, reply.Usage.Model)
			require.Greater(t, len(tc.fake.Requests()), before)
			if tc.fake == f.byok {
				require.Equal(t, "Bearer sk-user-0123456789abcdefghij", tc.fake.Requests()[before].Header.Get("Authorization"))
			}
		})
	}

	// Without a server LLM, and without a key of one's own, the offline provider
	// answers and says so.
	offlineMeter, err := metering.NewService(metering.Deps{DB: db, Tiers: f.tiers})
	require.NoError(t, err)
	offline, err := chat.NewService(chat.Deps{Meter: offlineMeter, Tiers: f.tiers})
	require.NoError(t, err)
	u := f.user(t, models.TierPower)
	reply, err := offline.Send(ctx, models.PersonalActor(u), chat.Input{Message: "list my tasks"})
	require.NoError(t, err)
	require.True(t, reply.Offline)
	report, err := offline.Usage(ctx, u, 1)
	require.NoError(t, err)
	for _, r := range report.Rows {
		require.Equal(t, models.UsageOffline, r.Provider)
	}
	require.Zero(t, report.MonthTokens, "offline answers cost the quota nothing")
}

func TestServiceAgentsFollowTheTier(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	ctx := context.Background()
	f := newService(t, db)
	for tier, want := range map[models.Tier]int{models.TierFree: 3, models.TierPro: 4} {
		agents, err := f.svc.Agents(ctx, f.user(t, tier))
		require.NoError(t, err)
		require.Len(t, agents, 4)
		allowed := 0
		for _, a := range agents {
			require.NotEmpty(t, a.Tools)
			if a.Allowed {
				allowed++
			}
		}
		require.Equal(t, want, allowed, "tier %s", tier)
	}

	// A free user asking for analytics is routed to an agent the tier has.
	f.server.Reply = func(req fakellm.Request) fakellm.Response {
		if len(req.Body.Tools) == 0 {
			return fakellm.Response{Content: "analytics"}
		}
		return fakellm.Response{Content: "ok"}
	}
	reply, err := f.svc.Send(ctx, models.PersonalActor(f.user(t, models.TierFree)), chat.Input{Message: "show my metrics trend report"})
	require.NoError(t, err)
	require.NotContains(t, reply.Route.Agents, "analytics")
}

func TestServiceMetersARunTheClientAbandoned(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		f := newService(t, db)
		f.server.Reply = func(req fakellm.Request) fakellm.Response {
			if len(req.Body.Tools) == 0 {
				return fakellm.Response{Content: "task", Usage: &fakellm.Usage{PromptTokens: 7, CompletionTokens: 1, TotalTokens: 8}}
			}
			return fakellm.Response{Chunks: []fakellm.Chunk{{Content: "Working "}, {Content: "on it"}}, Hold: true}
		}
		u := f.user(t, models.TierPro)
		ctx, cancel := context.WithCancel(context.Background())
		events, err := f.svc.Chat(ctx, models.PersonalActor(u), chat.Input{Message: "list my tasks"})
		require.NoError(t, err)
		for e := range events {
			if e.Type == chat.EventToken {
				cancel() // the client goes away mid-answer
				break
			}
		}
		cancel()
		reqs := f.server.Requests()
		held := reqs[len(reqs)-1]
		select {
		case <-held.Ended:
		case <-time.After(waitTimeout):
			t.Fatal("the upstream request outlived the client")
		}
		require.True(t, held.Canceled())
		require.Eventually(t, func() bool {
			report, err := f.svc.Usage(context.Background(), u, 1)
			require.NoError(t, err)
			// The router's 8 reported tokens, and an estimate for the answer the
			// client abandoned, which never reported its usage.
			return report.MonthTokens > 8+100
		}, waitTimeout, 10*time.Millisecond, "the calls made before the client left are metered")
	})
}

// TestServiceRefusesBeforeTheRunWhenTheTierIsUnknown: a caller whose tier cannot be
// read gets the lookup's error before any event, in either mode.
func TestServiceRefusesBeforeTheRunWhenTheTierIsUnknown(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	f := newService(t, db)
	f.tiers.Err = models.Errorf(models.CodeNotFound, "no such user")
	for _, mode := range []chat.Mode{chat.ModeDirect, chat.ModePlan} {
		ch, err := f.svc.Chat(t.Context(), models.PersonalActor("stranger"), chat.Input{Message: "plan my week", Mode: mode})
		require.Nil(t, ch)
		testkit.RequireCode(t, err, models.CodeNotFound)
		require.Equal(t, "no such user", models.ErrorMessage(err))
	}
	require.Empty(t, f.server.Requests())
}
