package playbook_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/playbook"
	"github.com/inkgraph/inkgraph/models"
)

// Test users, one per tier.
const (
	freeUser  = "user-free"
	proUser   = "user-pro"
	powerUser = "user-power"
	teamUser  = "user-team"
)

// tiers gives each test user its tier.
type tiers map[string]models.Tier

func (t tiers) TierOf(_ context.Context, userID string) (models.Tier, error) {
	tier, ok := t[userID]
	if !ok {
		return "", models.Errorf(models.CodeNotFound, "no user %q", userID)
	}
	return tier, nil
}

var testTiers = tiers{freeUser: models.TierFree, proUser: models.TierPro, powerUser: models.TierPower, teamUser: models.TierTeam}

// personalizer serves one context to every user.
type personalizer struct {
	pc *models.PersonalizationContext
}

func (p personalizer) PersonalizationContext(context.Context, string) (*models.PersonalizationContext, error) {
	return p.pc, nil
}

var testPersona = &models.PersonalizationContext{
	BusinessName: "Northwind Bakery", Industry: "food", TargetAudience: "home bakers",
	WritingTone: "FRIENDLY", Language: "English", KeyTopics: []string{"sourdough", "rye"},
	PersonaSummary: "Mara, a baker of twenty years who teaches weekend classes",
	Voice:          "warm, plain-spoken, with the odd kitchen joke",
}

// providers gives every user the same provider.
type providers struct{ p llm.Provider }

func (p providers) ProviderFor(context.Context, string) (llm.Provider, error) { return p.p, nil }

// provider is a fake llm.Provider made of function fields.
type provider struct {
	StreamFn func(ctx context.Context, req llm.Request) (<-chan llm.Chunk, error)
	InfoFn   func() llm.Info

	mu   sync.Mutex
	reqs []llm.Request
}

func (p *provider) Stream(ctx context.Context, req llm.Request) (<-chan llm.Chunk, error) {
	p.mu.Lock()
	p.reqs = append(p.reqs, req)
	p.mu.Unlock()
	return p.StreamFn(ctx, req)
}

func (p *provider) Info() llm.Info {
	if p.InfoFn == nil {
		return llm.Info{Provider: "fake", Model: "fake-1"}
	}
	return p.InfoFn()
}

// requests returns the requests received so far.
func (p *provider) requests() []llm.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]llm.Request(nil), p.reqs...)
}

// answering returns a provider that streams answer(req) word by word, then
// Done with a usage of one token per word.
func answering(answer func(req llm.Request) string) *provider {
	return &provider{StreamFn: func(ctx context.Context, req llm.Request) (<-chan llm.Chunk, error) {
		words := strings.SplitAfter(answer(req), " ")
		ch := make(chan llm.Chunk)
		go func() {
			defer close(ch)
			for _, w := range words {
				select {
				case ch <- llm.Chunk{Text: w}:
				case <-ctx.Done():
					return
				}
			}
			u := &llm.Usage{PromptTokens: 10, CompletionTokens: len(words), TotalTokens: 10 + len(words)}
			select {
			case ch <- llm.Chunk{Done: &llm.Done{FinishReason: llm.FinishStop, Usage: u, Provider: "fake", Model: "fake-1"}}:
			case <-ctx.Done():
			}
		}()
		return ch, nil
	}}
}

// echo answers with the whole prompt it was sent.
func echo() *provider {
	return answering(func(req llm.Request) string {
		var b strings.Builder
		for _, m := range req.Messages {
			b.WriteString(m.Content + "\n")
		}
		return b.String()
	})
}

// userPrompt is a request's user message.
func userPrompt(req llm.Request) string {
	for _, m := range req.Messages {
		if m.Role == llm.RoleUser {
			return m.Content
		}
	}
	return ""
}

// meter is a fake Meter of function fields that records what it is told.
type meter struct {
	AllowFn func(ctx context.Context, userID string, p llm.Provider) error

	mu      sync.Mutex
	records []usageRecord
}

type usageRecord struct {
	userID, source string
	usage          llm.Usage
	calls          int
	provider       llm.Provider
}

func (m *meter) Allow(ctx context.Context, userID string, p llm.Provider) error {
	if m.AllowFn == nil {
		return nil
	}
	return m.AllowFn(ctx, userID, p)
}

func (m *meter) Record(_ context.Context, userID, source string, p llm.Provider, u llm.Usage, calls int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, usageRecord{userID: userID, source: source, usage: u, calls: calls, provider: p})
	return nil
}

func (m *meter) recorded() []usageRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]usageRecord(nil), m.records...)
}

// newService returns a service over the builtin templates and playbooks,
// changed by opts.
func newService(t *testing.T, p llm.Provider, opts ...func(*playbook.Deps)) (*playbook.Service, *meter) {
	t.Helper()
	reg, err := playbook.BuiltinTemplates()
	require.NoError(t, err)
	m := &meter{}
	var n atomic.Int64
	d := playbook.Deps{
		Registry: reg, Tiers: testTiers, Personalizer: personalizer{testPersona},
		Providers: providers{p}, Meter: m,
		NewRunID: func() string { return fmt.Sprintf("run-%d", n.Add(1)) },
	}
	for _, opt := range opts {
		opt(&d)
	}
	s, err := playbook.NewService(d)
	require.NoError(t, err)
	return s, m
}

// collect reads a run to its end.
func collect(ch <-chan *playbook.Event) []playbook.Event {
	var events []playbook.Event
	for e := range ch {
		events = append(events, *e)
	}
	return events
}

// requireField checks err is a *models.Error with code and field.
func requireField(t *testing.T, err error, code, field string) {
	t.Helper()
	require.Error(t, err)
	var me *models.Error
	require.True(t, errors.As(err, &me), "want a *models.Error, got %T: %v", err, err)
	require.Equal(t, code, me.Code, "%v", err)
	require.Equal(t, field, me.Field, "%v", err)
}
