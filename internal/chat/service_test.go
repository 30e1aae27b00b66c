package chat_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
	"github.com/inkgraph/inkgraph/models"
)

// tierTable is the Tiers fake: each user's tier, settable by the test.
type tierTable struct {
	mu    sync.Mutex
	tiers map[string]models.Tier
}

func (t *tierTable) TierOf(_ context.Context, userID string) (models.Tier, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tier, ok := t.tiers[userID]; ok {
		return tier, nil
	}
	return models.TierFree, nil
}

func (t *tierTable) set(userID string, tier models.Tier) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tiers[userID] = tier
}

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
	tiers  *tierTable
	svc    *chat.Service
	server *fakellm.Server
	byok   *fakellm.Server
	now    time.Time
}

// newService builds the chat service over db with the fake as the server's LLM and
// a second fake behind users' own keys ("sk-user-…" keys are validated).
func newService(t *testing.T, db *bun.DB) *serviceFixture {
	t.Helper()
	f := &serviceFixture{db: db, tiers: &tierTable{tiers: map[string]models.Tier{}},
		server: fakellm.New(t), byok: fakellm.New(t, fakellm.WithAPIKey("sk-user-0123456789abcdefghij")),
		now: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)}
	server, err := llm.New(llm.Config{BaseURL: f.server.URL(), Model: "server-model"})
	require.NoError(t, err)
	keys := keysFunc(func(_ context.Context, userID, provider string) (string, *models.ProviderKey, error) {
		if provider != "openai" || userID == "" {
			return "", nil, models.Errorf(models.CodeNotFound, "no key")
		}
		return "sk-user-0123456789abcdefghij", &models.ProviderKey{FormatValid: true, Status: models.KeyFormatOK}, nil
	})
	f.svc, err = chat.NewService(chat.ServiceDeps{
		DB: db, Server: server, Tiers: f.tiers, Keys: keys,
		BYOK: &chat.BYOK{Provider: "openai", New: func(key string) (llm.Provider, error) {
			return llm.New(llm.Config{BaseURL: f.byok.URL(), APIKey: key, Model: "user-model"})
		}},
		Personalizer: personalizerFunc(func(context.Context, string) (*models.PersonalizationContext, error) {
			return &models.PersonalizationContext{BusinessName: "Quill & Co", Voice: "warm and direct"}, nil
		}),
		Now: func() time.Time { return f.now },
	})
	require.NoError(t, err)
	return f
}

func (f *serviceFixture) user(t *testing.T, tier models.Tier) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	_, err := f.db.NewInsert().Model(&models.User{ID: id, Email: id + "@example.com", Tier: tier,
		CreatedAt: f.now, UpdatedAt: f.now}).Exec(context.Background())
	require.NoError(t, err)
	f.tiers.set(id, tier)
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

		reply, err := f.svc.Send(ctx, u, chat.Input{Message: "What should I do first today?"})
		require.NoError(t, err)
		require.Equal(t, "Noted.", reply.Response)
		require.Equal(t, []string{"task"}, reply.Route.Agents)
		require.False(t, reply.Offline)
		require.Equal(t, 161, reply.Usage.TotalTokens)

		// The personalisation reaches the agents' context, never the reply.
		reqs := f.server.Requests()
		require.Contains(t, reqs[len(reqs)-1].Body.Messages[1].Content, "Quill \\u0026 Co")

		_, err = f.svc.Send(ctx, u, chat.Input{Message: "What should I do first today?"})
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
		f.now = f.now.AddDate(0, 1, 0)
		_, err = f.svc.Send(ctx, u, chat.Input{Message: "What should I do first today?"})
		require.NoError(t, err)
		report, err = f.svc.Usage(ctx, u, 366)
		require.NoError(t, err)
		require.Len(t, report.Rows, 4)
		require.Equal(t, int64(161), report.MonthTokens)

		for _, days := range []int{0, -1, 367} {
			_, err = f.svc.Usage(ctx, u, days)
			requireField(t, err, "days")
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
		_, err := f.svc.Send(ctx, u, chat.Input{Message: "plan my week"})
		require.NoError(t, err, "under the quota when the run starts: it runs, whatever it then costs")
		calls := len(f.server.Requests())

		_, err = f.svc.Chat(ctx, u, chat.Input{Message: "plan my week"})
		require.Equal(t, models.CodeQuotaExceeded, models.ErrorCode(err))
		var appErr *models.Error
		require.ErrorAs(t, err, &appErr)
		require.Equal(t, &models.Quota{Used: 120_000, Limit: 100_000}, appErr.Quota)
		require.Equal(t, calls, len(f.server.Requests()), "a refused run calls nobody")
		p, err := f.svc.ProviderFor(ctx, u)
		require.NoError(t, err)
		require.Equal(t, models.CodeQuotaExceeded, models.ErrorCode(f.svc.Allow(ctx, u, p)))

		// The user's own key is not the server's to ration; nor is another month.
		f.tiers.set(u, models.TierPower)
		reply, err := f.svc.Send(ctx, u, chat.Input{Message: "plan my week"})
		require.NoError(t, err)
		require.Equal(t, "user-model", reply.Usage.Model)
		f.tiers.set(u, models.TierFree)
		f.now = f.now.AddDate(0, 1, 0)
		require.NoError(t, f.svc.Allow(ctx, u, p))
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
			reply, err := f.svc.Send(ctx, u, chat.Input{Message: "list my tasks"})
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
	offline, err := chat.NewService(chat.ServiceDeps{DB: db, Tiers: f.tiers})
	require.NoError(t, err)
	u := f.user(t, models.TierPower)
	reply, err := offline.Send(ctx, u, chat.Input{Message: "list my tasks"})
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
	reply, err := f.svc.Send(ctx, f.user(t, models.TierFree), chat.Input{Message: "show my metrics trend report"})
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
		events, err := f.svc.Chat(ctx, u, chat.Input{Message: "list my tasks"})
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

func requireField(t *testing.T, err error, field string) {
	t.Helper()
	var appErr *models.Error
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, models.CodeBadUserInput, appErr.Code)
	require.Equal(t, field, appErr.Field)
}
