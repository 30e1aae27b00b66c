// Package metering owns who answers a user's LLM run and who pays for it (the user's
// own key on tiers with BYOK, else the server's provider, else the offline one), the
// tier's monthly token quota, and the usage meter (the llm_usage table) with its
// report. Chat and playbooks reach it through small interfaces of their own, wired
// in internal/app; it imports no area.
package metering

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/models"
)

const (
	// MaxUsageDays bounds the span of a usage report.
	MaxUsageDays = 366
	// recordTimeout bounds the write of a run's usage: a database that hangs must not
	// keep a run's goroutine after its client left. It is generous because a run's
	// usage that is not written is never billed: with SQLite's one writer, a burst of
	// runs ending together queues its writes (100 chats at once under the race
	// detector on a loaded machine took more than 5 s to book their last run).
	recordTimeout = 20 * time.Second
)

// Tiers tells the tier a user has now.
type Tiers interface {
	TierOf(ctx context.Context, userID string) (models.Tier, error)
}

// Keys opens a user's stored provider key, for a run paid by the user's own key.
type Keys interface {
	RevealProviderKey(ctx context.Context, userID, provider string) (string, *models.ProviderKey, error)
}

// BYOK builds a provider on a user's own key for one provider of the registry.
type BYOK struct {
	// Provider is the registry's provider ID whose key pays, e.g. "openai".
	Provider string
	// New returns a provider calling with apiKey.
	New func(apiKey string) (llm.Provider, error)
}

// Deps is what a Service uses.
type Deps struct {
	DB    bun.IDB
	Tiers Tiers
	// Server is the server's own provider; nil when none is configured.
	Server llm.Provider
	// Offline answers when nothing else may; llm.NewOffline() when nil.
	Offline llm.Provider
	// BYOK, when set with Keys, lets tiers with BYOK run on their own validated key.
	BYOK *BYOK
	Keys Keys
	// LiveKeyChecks says whether a key counts as validated only once its provider
	// accepted it (onboarding's setting).
	LiveKeyChecks bool
	// Now defaults to time.Now.
	Now func() time.Time
}

// Service chooses who answers, holds users to their monthly tokens and meters what
// runs used. It is safe for concurrent use.
type Service struct {
	d Deps
}

// NewService returns the metering service.
func NewService(d Deps) (*Service, error) {
	if d.DB == nil || d.Tiers == nil {
		return nil, errors.New("metering: DB and Tiers are required")
	}
	if d.Offline == nil {
		d.Offline = llm.NewOffline()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{d: d}, nil
}

// Choose picks who answers the user's next run: the user's own validated key when the
// tier allows BYOK, else the server's provider, else the offline one. It refuses with
// QUOTA_EXCEEDED a run the server would pay for once the tier's monthly tokens are
// spent: under the quota when a run starts, it runs, whatever it then costs.
func (s *Service) Choose(ctx context.Context, userID string) (llm.Choice, error) {
	tier, err := s.d.Tiers.TierOf(ctx, userID)
	if err != nil {
		return llm.Choice{}, err
	}
	c, err := s.choose(ctx, userID, tier)
	if err != nil {
		return llm.Choice{}, err
	}
	if err := s.allow(ctx, userID, c); err != nil {
		return llm.Choice{}, err
	}
	return c, nil
}

func (s *Service) choose(ctx context.Context, userID string, tier models.Tier) (llm.Choice, error) {
	c := llm.Choice{Tier: tier}
	if models.FeaturesOf(tier).BYOK && s.d.BYOK != nil && s.d.Keys != nil {
		key, meta, err := s.d.Keys.RevealProviderKey(ctx, userID, s.d.BYOK.Provider)
		switch {
		case err == nil && meta.Validated(s.d.LiveKeyChecks):
			p, err := s.d.BYOK.New(key)
			if err != nil {
				return llm.Choice{}, models.Internal(err, "metering: provider on the user's key")
			}
			c.Provider, c.PaidBy = p, models.UsageBYOK
			return c, nil
		case err != nil && models.ErrorCode(err) != models.CodeNotFound:
			return llm.Choice{}, err
		}
	}
	if s.d.Server != nil {
		c.Provider, c.PaidBy = s.d.Server, models.UsageServer
		return c, nil
	}
	c.Provider, c.PaidBy = s.d.Offline, models.UsageOffline
	return c, nil
}

func (s *Service) allow(ctx context.Context, userID string, c llm.Choice) error {
	limit := models.FeaturesOf(c.Tier).MonthlyTokens
	if c.PaidBy != models.UsageServer || limit == models.Unlimited {
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

// Record books one run's use to the user under whoever paid for it, one row per
// source, and counts the run as one request of its first source. A run that made no
// call books nothing. The write outlives ctx's cancellation (the tokens were spent
// all the same) but not recordTimeout.
func (s *Service) Record(ctx context.Context, userID string, paidBy models.UsageProvider, uses ...models.SourceUsage) error {
	calls := 0
	for _, u := range uses {
		calls += u.Calls
	}
	if calls == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	rows := make([]*models.UsageRow, 0, len(uses))
	for i, u := range uses {
		r := &models.UsageRow{
			UserID: userID, Source: u.Source, Provider: paidBy, Calls: int64(u.Calls),
			PromptTokens: int64(u.PromptTokens), CompletionTokens: int64(u.CompletionTokens), TotalTokens: int64(u.TotalTokens),
		}
		if i == 0 {
			r.Requests = 1
		}
		rows = append(rows, r)
	}
	// One order for every writer, so concurrent runs lock a user's rows alike.
	slices.SortFunc(rows, func(a, b *models.UsageRow) int { return strings.Compare(a.Source, b.Source) })
	return addUsage(ctx, s.d.DB, s.d.Now(), rows)
}

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

func dayOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// monthOf returns the first day of t's month (UTC) and when the next one begins.
func monthOf(t time.Time) (string, time.Time) {
	t = t.UTC()
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return dayOf(first), first.AddDate(0, 1, 0)
}
