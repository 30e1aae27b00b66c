package playbook_test

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/catalog"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/playbook"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// Test users, one per tier.
const (
	freeUser  = "user-free"
	proUser   = "user-pro"
	powerUser = "user-power"
	teamUser  = "user-team"
)

// newTiers gives each test user its tier (everyone else is free).
func newTiers() *testkit.Tiers {
	t := testkit.NewTiers()
	t.Set(freeUser, models.TierFree)
	t.Set(proUser, models.TierPro)
	t.Set(powerUser, models.TierPower)
	t.Set(teamUser, models.TierTeam)
	return t
}

// unknownTiers knows no user.
func unknownTiers(userID string) *testkit.Tiers {
	t := testkit.NewTiers()
	t.Err = models.Errorf(models.CodeNotFound, "no user %q", userID)
	return t
}

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

// provider is a fake llm.Provider made of function fields.
type provider struct {
	StreamFn func(ctx context.Context, req llm.Request) (<-chan llm.Chunk, error)
	InfoFn   func() llm.Info

	mu   sync.Mutex
	reqs []llm.Request
}

// Stream serves StreamFn's channel as the provider's sequence: a fake's goroutine
// feeds it, which ends with ctx (Run cancels it when it stops reading).
func (p *provider) Stream(ctx context.Context, req llm.Request) (iter.Seq[llm.Chunk], error) {
	p.mu.Lock()
	p.reqs = append(p.reqs, req)
	p.mu.Unlock()
	ch, err := p.StreamFn(ctx, req)
	if err != nil {
		return nil, err
	}
	return func(yield func(llm.Chunk) bool) {
		for c := range ch {
			if !yield(c) {
				return
			}
		}
	}, nil
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
			u := &models.Usage{PromptTokens: 10, CompletionTokens: len(words), TotalTokens: 10 + len(words)}
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

// meter is a fake Meter of function fields that records what it is told. Its
// choice is its provider, paid by the user's own key the first time it is asked and
// by the server every time after, so a run booked to anything but the choice made
// once for it shows in what was recorded.
type meter struct {
	p       llm.Provider
	AllowFn func(ctx context.Context, userID string) error

	mu      sync.Mutex
	chosen  int
	records []usageRecord
}

type usageRecord struct {
	userID, source string
	usage          models.Usage
	calls          int
	paidBy         models.UsageProvider
}

func (m *meter) Choose(ctx context.Context, userID string) (llm.Choice, error) {
	if m.AllowFn != nil {
		if err := m.AllowFn(ctx, userID); err != nil {
			return llm.Choice{}, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.chosen++
	if m.chosen > 1 {
		return llm.Choice{Provider: m.p, PaidBy: models.UsageServer}, nil
	}
	return llm.Choice{Provider: m.p, PaidBy: models.UsageBYOK}, nil
}

func (m *meter) Record(_ context.Context, userID string, paidBy models.UsageProvider, uses ...models.SourceUsage) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(uses) != 1 {
		panic(fmt.Sprintf("a playbook books one source, not %d", len(uses)))
	}
	if uses[0].Calls == 0 {
		return nil // as the meter: a run without a call books nothing
	}
	m.records = append(m.records, usageRecord{userID: userID, source: uses[0].Source, usage: uses[0].Usage, calls: uses[0].Calls, paidBy: paidBy})
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
	cat, err := catalog.Builtin()
	require.NoError(t, err)
	m := &meter{p: p}
	var n atomic.Int64
	d := playbook.Deps{
		Catalog: cat, Tiers: newTiers(), Personalizer: personalizer{testPersona}, Meter: m,
		NewRunID: func() string { return fmt.Sprintf("run-%d", n.Add(1)) },
	}
	for _, opt := range opts {
		opt(&d)
	}
	if d.DB == nil {
		d.DB = testkit.NewDB(t, testkit.SQLite)
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
