package chat

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/models"
)

// Tiers tells the tier a user has now.
type Tiers interface {
	TierOf(ctx context.Context, userID string) (models.Tier, error)
}

// Keys opens a user's stored provider key, for a chat paid by the user's own key.
type Keys interface {
	RevealProviderKey(ctx context.Context, userID, provider string) (string, *models.ProviderKey, error)
}

// Personalizer tells what onboarding knows of the writer.
type Personalizer interface {
	PersonalizationContext(ctx context.Context, userID string) (*models.PersonalizationContext, error)
}

// BYOK builds a provider on a user's own key for one provider of the registry.
type BYOK struct {
	// Provider is the registry's provider ID whose key pays, e.g. "openai".
	Provider string
	// New returns a provider calling with apiKey.
	New func(apiKey string) (llm.Provider, error)
}

// ServiceDeps is what a Service uses.
type ServiceDeps struct {
	DB bun.IDB
	// Server is the server's own provider; nil when none is configured.
	Server llm.Provider
	// Offline answers when nothing else may; llm.NewOffline() when nil.
	Offline llm.Provider
	// BYOK, when set, lets tiers with BYOK chat on their own validated key.
	BYOK *BYOK
	// LiveKeyChecks says whether a key counts as validated only once its provider
	// accepted it (onboarding's setting).
	LiveKeyChecks bool
	Keys          Keys
	Tiers         Tiers
	Personalizer  Personalizer
	Catalog       TemplateCatalog
	Registry      *Registry
	Logger        *slog.Logger
	Now           func() time.Time
	NewRunID      func() string
	MaxTokens     int
}

// Service is the chat area: it picks who answers a user, enforces the tier's agents
// and monthly tokens, runs the orchestrator and meters what each run used.
type Service struct {
	d    ServiceDeps
	orch *Orchestrator
}

// NewService returns the chat service.
func NewService(d ServiceDeps) (*Service, error) {
	if d.DB == nil || d.Tiers == nil {
		return nil, errors.New("chat: DB and Tiers are required")
	}
	if d.Offline == nil {
		d.Offline = llm.NewOffline()
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &Service{d: d}
	orch, err := New(Config{
		Provider: d.Offline, Registry: d.Registry, Catalog: d.Catalog, Now: d.Now,
		NewRunID: d.NewRunID, MaxTokens: d.MaxTokens, Meter: s.meter, Logger: d.Logger,
	})
	if err != nil {
		return nil, err
	}
	s.orch = orch
	return s, nil
}

// choice is who answers a user's run and who pays for it.
type choice struct {
	provider llm.Provider
	paidBy   models.UsageProvider
	features models.Features
}

// choose picks the user's own validated key when the tier allows BYOK, else the
// server's provider, else the offline one.
func (s *Service) choose(ctx context.Context, userID string) (choice, error) {
	tier, err := s.d.Tiers.TierOf(ctx, userID)
	if err != nil {
		return choice{}, err
	}
	c := choice{features: models.FeaturesOf(tier)}
	if c.features.BYOK && s.d.BYOK != nil && s.d.Keys != nil {
		key, meta, err := s.d.Keys.RevealProviderKey(ctx, userID, s.d.BYOK.Provider)
		switch {
		case err == nil && meta.Validated(s.d.LiveKeyChecks):
			p, err := s.d.BYOK.New(key)
			if err != nil {
				return choice{}, models.Internal(err, "chat: provider on the user's key")
			}
			c.provider, c.paidBy = p, models.UsageBYOK
			return c, nil
		case err != nil && models.ErrorCode(err) != models.CodeNotFound:
			return choice{}, err
		}
	}
	if s.d.Server != nil {
		c.provider, c.paidBy = s.d.Server, models.UsageServer
		return c, nil
	}
	c.provider, c.paidBy = s.d.Offline, models.UsageOffline
	return c, nil
}

// ProviderFor returns who answers the user now (for playbooks).
func (s *Service) ProviderFor(ctx context.Context, userID string) (llm.Provider, error) {
	c, err := s.choose(ctx, userID)
	return c.provider, err
}

// Allow refuses with QUOTA_EXCEEDED a run on p (from ProviderFor) when p is the
// server's and the tier's monthly tokens are spent.
func (s *Service) Allow(ctx context.Context, userID string, p llm.Provider) error {
	tier, err := s.d.Tiers.TierOf(ctx, userID)
	if err != nil {
		return err
	}
	return s.allow(ctx, userID, choice{provider: p, paidBy: s.paidBy(p), features: models.FeaturesOf(tier)})
}

// paidBy tells who pays for a run on p.
func (s *Service) paidBy(p llm.Provider) models.UsageProvider {
	switch {
	case p == nil || p.Info().Offline:
		return models.UsageOffline
	case p == s.d.Server:
		return models.UsageServer
	default:
		return models.UsageBYOK
	}
}

func (s *Service) allow(ctx context.Context, userID string, c choice) error {
	limit := c.features.MonthlyTokens
	if c.paidBy != models.UsageServer || limit == models.Unlimited {
		return nil
	}
	from, _ := monthOf(s.d.Now())
	used, err := monthTokens(ctx, s.d.DB, userID, from)
	if err != nil {
		return err
	}
	if used >= limit {
		return &models.Error{Code: models.CodeQuotaExceeded,
			Message: "this month's LLM tokens are used up: upgrade your plan, add your own key, or wait for the month to end",
			Quota:   &models.Quota{Used: used, Limit: limit}}
	}
	return nil
}

// Chat starts a run for the user: it checks the input, the tier's agents and monthly
// tokens before any event; the events then arrive on the channel, which closes after
// DONE or ERROR, or as soon as ctx ends (which cancels the upstream request).
func (s *Service) Chat(ctx context.Context, userID string, in Input) (<-chan *Event, error) {
	c, err := s.choose(ctx, userID)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, userID, c); err != nil {
		return nil, err
	}
	in.UserID = userID
	in.AllowedAgents = AllowedAgents(s.orch.Registry(), c.features)
	in.Provider = c.provider
	if s.d.Personalizer != nil {
		if in.Personalization, err = s.d.Personalizer.PersonalizationContext(ctx, userID); err != nil {
			return nil, err
		}
	}
	return s.orch.Run(ctx, in)
}

// Reply is a whole run's outcome, for a client that does not stream.
type Reply struct {
	RunID        string
	Route        *Route
	Response     string
	Actions      []Action
	FinishReason string
	Plan         *Plan
	Usage        *Usage
	Offline      bool
}

// Send runs a chat to its end. A run that fails after it began answers the error
// it ended with.
func (s *Service) Send(ctx context.Context, userID string, in Input) (*Reply, error) {
	ch, err := s.Chat(ctx, userID, in)
	if err != nil {
		return nil, err
	}
	r := &Reply{}
	var done *Done
	var failed *RunError
	var cause error
	for e := range ch {
		r.RunID = e.RunID
		switch e.Type {
		case EventAgentRouted:
			r.Route = e.Route
		case EventUsage:
			r.Usage = e.Usage
		case EventDone:
			done = e.Done
		case EventError:
			failed, cause = e.Error, e.cause
		}
	}
	switch {
	case failed != nil && cause != nil:
		return nil, cause // with its field, retryAfter or quota
	case failed != nil:
		return nil, &models.Error{Code: failed.Code, Message: failed.Message}
	case done == nil:
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, models.Internal(nil, "chat: the run ended without an answer")
	}
	r.Response, r.Actions, r.FinishReason, r.Plan, r.Offline = done.Response, done.Actions, done.FinishReason, done.Plan, done.Offline
	if r.Actions == nil {
		r.Actions = []Action{}
	}
	return r, nil
}

// AgentAccess is an agent and whether the user's tier may use it.
type AgentAccess struct {
	AgentInfo
	Allowed bool
}

// Agents lists every agent with whether the user's tier reaches it.
func (s *Service) Agents(ctx context.Context, userID string) ([]*AgentAccess, error) {
	tier, err := s.d.Tiers.TierOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	allowed := map[string]bool{}
	for _, name := range AllowedAgents(s.orch.Registry(), models.FeaturesOf(tier)) {
		allowed[name] = true
	}
	var out []*AgentAccess
	for _, a := range s.orch.Registry().Agents() {
		out = append(out, &AgentAccess{AgentInfo: a.Info(), Allowed: allowed[a.Name]})
	}
	return out, nil
}

// meterTimeout bounds the write of a run's usage.
const meterTimeout = 5 * time.Second

// MaxUsageDays bounds the span of a usage report.
const MaxUsageDays = 366

// Usage reports the user's LLM use over the last days days (today included) and the
// month's allowance.
func (s *Service) Usage(ctx context.Context, userID string, days int) (*models.UsageReport, error) {
	if days < 1 || days > MaxUsageDays {
		return nil, models.InvalidInput("days", "want 1 to %d days, got %d", MaxUsageDays, days)
	}
	tier, err := s.d.Tiers.TierOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	now := s.d.Now().UTC()
	r := &models.UsageReport{From: dayOf(now.AddDate(0, 0, 1-days)), To: dayOf(now),
		MonthlyTokenLimit: models.FeaturesOf(tier).MonthlyTokenLimit()}
	if r.Rows, err = usageRows(ctx, s.d.DB, userID, r.From, r.To); err != nil {
		return nil, err
	}
	var from string
	from, r.ResetsAt = monthOf(now)
	if r.MonthTokens, err = monthTokens(ctx, s.d.DB, userID, from); err != nil {
		return nil, err
	}
	return r, nil
}

// Record adds one run's use on p (from ProviderFor) from source (a playbook) to the
// meter.
func (s *Service) Record(ctx context.Context, userID, source string, p llm.Provider, u llm.Usage, calls int) error {
	ctx, cancel := context.WithTimeout(ctx, meterTimeout)
	defer cancel()
	return addUsage(ctx, s.d.DB, s.d.Now(), []*models.UsageRow{{
		UserID: userID, Source: source, Provider: s.paidBy(p), Requests: 1, Calls: int64(calls),
		PromptTokens: int64(u.PromptTokens), CompletionTokens: int64(u.CompletionTokens), TotalTokens: int64(u.TotalTokens),
	}})
}

// meter stores a finished run's use, one row per agent; the run counts as one
// request of the first agent it routed to.
func (s *Service) meter(ctx context.Context, in Input, u Usage) {
	// A database that hangs must not keep the run's goroutine after its client left.
	ctx, cancel := context.WithTimeout(ctx, meterTimeout)
	defer cancel()
	paidBy := s.paidBy(in.Provider)
	rows := make([]*models.UsageRow, 0, len(u.Agents))
	for _, a := range u.Agents {
		rows = append(rows, &models.UsageRow{
			UserID: in.UserID, Source: a.Agent, Provider: paidBy, Calls: int64(a.Calls),
			PromptTokens: int64(a.PromptTokens), CompletionTokens: int64(a.CompletionTokens), TotalTokens: int64(a.TotalTokens),
		})
	}
	if len(rows) == 0 {
		return
	}
	rows[0].Requests = 1
	for _, r := range rows {
		if r.Source != RouterAgent {
			rows[0].Requests = 0
			r.Requests = 1
			break
		}
	}
	if err := addUsage(ctx, s.d.DB, s.d.Now(), rows); err != nil {
		s.d.Logger.ErrorContext(ctx, "meter chat usage", "error", err, "user_id", in.UserID)
	}
}

func dayOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// monthOf returns the first day of t's month (UTC) and when the next one begins.
func monthOf(t time.Time) (string, time.Time) {
	t = t.UTC()
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return dayOf(first), first.AddDate(0, 1, 0)
}
