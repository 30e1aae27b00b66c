package playbook

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/catalog"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/llm/sanitize"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/models"
)

const (
	// DefaultCacheSize is how many resolved plans the service keeps.
	DefaultCacheSize = 1000
	// DefaultMaxTokens bounds each model answer when Deps.MaxTokens is zero:
	// enough for a blog post of about 1,500 words.
	DefaultMaxTokens = 2048
)

// Tiers says which billing tier a user is on.
type Tiers interface {
	TierOf(ctx context.Context, userID string) (models.Tier, error)
}

// Personalizer gives the user's persona and onboarding answers.
type Personalizer interface {
	PersonalizationContext(ctx context.Context, userID string) (*models.PersonalizationContext, error)
}

// Meter chooses who answers a user's run and who pays, holding users to their
// token quota, and books what runs used; the metering area satisfies it.
type Meter interface {
	// Choose picks the provider for the user's next run, refusing QUOTA_EXCEEDED
	// when the server would pay and the month's tokens are spent.
	Choose(ctx context.Context, userID string) (llm.Choice, error)
	// Record books a run's usage under whoever paid (source e.g. "playbook:"+id);
	// called once per run, even on failure after a call.
	Record(ctx context.Context, userID string, paidBy models.UsageProvider, uses ...models.SourceUsage) error
}

// Deps is what a Service uses.
type Deps struct {
	// Catalog holds the templates and the playbooks, each offered from a tier.
	Catalog      *catalog.Catalog
	Tiers        Tiers
	Personalizer Personalizer
	Meter        Meter
	// Logger defaults to discarding.
	Logger *slog.Logger
	// CacheSize bounds the resolved-plan cache; DefaultCacheSize when zero.
	CacheSize int
	// NewRunID defaults to random IDs.
	NewRunID func() string
	// MaxTokens bounds each model answer; DefaultMaxTokens when zero.
	MaxTokens int
	// DB keeps the custom playbooks users and teams' admins save.
	DB bun.IDB
	// Now defaults to time.Now.
	Now func() time.Time
}

// Service lists and runs playbooks for users. It is safe for concurrent use.
type Service struct {
	cat          *catalog.Catalog
	reg          *catalog.Registry
	tiers        Tiers
	personalizer Personalizer
	meter        Meter
	log          *slog.Logger
	newRunID     func() string
	maxTokens    int
	db           bun.IDB
	clock        func() time.Time

	secrets *sanitize.Set
	cache   *lru.Cache[string, *resolved]
}

// NewService checks d and returns a Service.
func NewService(d Deps) (*Service, error) {
	switch {
	case d.Catalog == nil:
		return nil, errors.New("playbook: a catalog is required")
	case d.Tiers == nil, d.Personalizer == nil, d.Meter == nil, d.DB == nil:
		return nil, errors.New("playbook: Tiers, Personalizer, Meter and DB are required")
	case d.CacheSize < 0, d.MaxTokens < 0:
		return nil, errors.New("playbook: CacheSize and MaxTokens cannot be negative")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.CacheSize == 0 {
		d.CacheSize = DefaultCacheSize
	}
	if d.NewRunID == nil {
		d.NewRunID = randomID
	}
	if d.MaxTokens == 0 {
		d.MaxTokens = DefaultMaxTokens
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	for _, p := range d.Catalog.Playbooks(models.Tiers()[len(models.Tiers())-1]) {
		if strings.HasPrefix(p.ID, CustomPrefix) {
			return nil, fmt.Errorf("playbook: the built-in playbook %s has the custom playbooks' prefix %s", p.ID, CustomPrefix)
		}
	}
	cache, err := lru.New[string, *resolved](d.CacheSize)
	if err != nil {
		return nil, fmt.Errorf("playbook: plan cache: %w", err)
	}
	reg := d.Catalog.Registry()
	return &Service{
		cat: d.Catalog, reg: reg, tiers: d.Tiers, personalizer: d.Personalizer, meter: d.Meter,
		log: d.Logger, newRunID: d.NewRunID, maxTokens: d.MaxTokens, db: d.DB, clock: d.Now,
		secrets: sanitize.NewSet(reg.Fragments()), cache: cache,
	}, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func tierName(t models.Tier) string { return strings.ToUpper(string(t)) }

func (s *Service) tierOf(ctx context.Context, userID string) (models.Tier, error) {
	t, err := s.tiers.TierOf(ctx, userID)
	if err != nil {
		return "", fmt.Errorf("playbook: tier: %w", err)
	}
	if !t.Valid() {
		return "", models.Internal(nil, "playbook: user %s has the unknown tier %q", userID, t)
	}
	return t, nil
}

// Playbooks returns the playbooks the user's tier reaches: the built-in ones,
// cheapest first, then the user's custom ones (userID is a space: a user's or a
// team's), by name.
func (s *Service) Playbooks(ctx context.Context, userID string) ([]*catalog.Plan, error) {
	tier, err := s.tierOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	custom, err := s.customs(ctx, userID, tier)
	if err != nil {
		return nil, err
	}
	return append(s.cat.Playbooks(tier), custom...), nil
}

// Playbook returns one playbook, built-in or the user's custom one: NOT_FOUND for
// an unknown id (another space's included), and PAYMENT_REQUIRED, naming the tier
// it needs, for one above the user's tier.
func (s *Service) Playbook(ctx context.Context, userID, id string) (*catalog.Plan, error) {
	p, _, err := s.playbook(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	return p.Clone(), nil
}

// playbook returns the plan, which may be the catalogue's own (not to be changed),
// and its version: "" for a built-in plan, what a custom one was saved as for the
// others (the resolved-plan cache keys on it, so a replaced playbook is resolved
// again).
func (s *Service) playbook(ctx context.Context, userID, id string) (*catalog.Plan, string, error) {
	var version string
	p, ok := s.cat.Playbook(id)
	if !ok {
		if !IsCustom(id) {
			return nil, "", models.Errorf(models.CodeNotFound, "no playbook %q", id)
		}
		var err error
		if p, version, err = s.custom(ctx, userID, id); err != nil {
			return nil, "", err
		}
	}
	tier, err := s.tierOf(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	if !catalog.Reaches(tier, p.MinTier) {
		return nil, "", models.Errorf(models.CodePaymentRequired, "the %s playbook needs the %s plan or higher", p.Name, tierName(p.MinTier))
	}
	return p, version, nil
}

// Templates returns the public information of the templates the user may
// execute: those of the playbooks their tier reaches.
func (s *Service) Templates(ctx context.Context, userID string) ([]*catalog.Template, error) {
	tier, err := s.tierOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	all := s.cat.Templates(tier)
	out := make([]*catalog.Template, len(all))
	for i := range all {
		out[i] = &all[i]
	}
	return out, nil
}

// CacheLen is how many resolved plans the cache holds.
func (s *Service) CacheLen() int { return s.cache.Len() }

// resolved is a playbook with a client's variables checked and applied.
type resolved struct {
	plan *catalog.Plan
	// values are the client's values, with the plan's defaults filled in; a
	// variable missing here gets its template's default.
	values map[string]string
}

// resolve checks vars against the plan of that version, through the cache: a hit
// was checked when it was added.
func (s *Service) resolve(p *catalog.Plan, version string, vars map[string]string) (*resolved, error) {
	key := cacheKey(p.ID, version, vars)
	if r, ok := s.cache.Get(key); ok {
		return r, nil
	}
	declared := map[string]catalog.Variable{}
	for _, v := range p.Variables {
		declared[v.Name] = v
	}
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		if _, ok := declared[name]; !ok {
			return nil, models.InvalidInput("variables."+name, "the %s playbook has no variable %q", p.Name, name)
		}
		if err := catalog.CheckValue("variables."+name, vars[name]); err != nil {
			return nil, err
		}
	}
	r := &resolved{plan: p, values: map[string]string{}}
	for _, v := range p.Variables {
		value := vars[v.Name]
		if strings.TrimSpace(value) == "" {
			value = v.Default
		}
		switch {
		case strings.TrimSpace(value) != "":
			r.values[v.Name] = value
		case v.Required:
			return nil, models.InvalidInput("variables."+v.Name, "the variable %q is required", v.Name)
		}
	}
	s.cache.Add(key, r)
	return r, nil
}

// cacheKey is a digest of the playbook id, its version and the variables in name
// order, each length-prefixed so that no two inputs share a key. A digest keeps
// the key small however long the values are.
func cacheKey(id, version string, vars map[string]string) string {
	h := sha256.New()
	write := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	write(id)
	write(version)
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		write(k)
		write(vars[k])
	}
	return string(h.Sum(nil))
}

// prepare chooses who answers the user's run, within the quota, and fetches what a
// model call needs.
func (s *Service) prepare(ctx context.Context, userID string) (*models.PersonalizationContext, llm.Choice, error) {
	c, err := s.meter.Choose(ctx, userID)
	if err != nil {
		if models.ErrorCode(err) == models.CodeQuotaExceeded {
			metrics.RunEnded(metrics.KindPlaybook, metrics.OutcomeQuota)
		}
		return nil, llm.Choice{}, fmt.Errorf("playbook: provider: %w", err)
	}
	if c.Provider == nil {
		return nil, llm.Choice{}, models.Internal(nil, "playbook: no LLM provider for user %s", userID)
	}
	pc, err := s.personalizer.PersonalizationContext(ctx, userID)
	if err != nil {
		return nil, llm.Choice{}, fmt.Errorf("playbook: personalization: %w", err)
	}
	return pc, c, nil
}

// Execution is the answer to one template.
type Execution struct {
	TemplateID   string
	Output       string
	FinishReason string
	Usage        models.Usage
	Offline      bool
}

// ExecuteTemplate renders one template with vars and the user's persona and
// context, and returns the model's whole answer, sanitized. It is for a
// client that drives its own plan: earlier steps' outputs arrive as
// variables. The template must belong to a playbook the user's tier reaches.
func (s *Service) ExecuteTemplate(ctx context.Context, userID, templateID string, vars map[string]string) (*Execution, error) {
	t, ok := s.reg.Template(templateID)
	min, offered := s.cat.TemplateTier(templateID)
	if !ok || !offered {
		return nil, catalog.UnknownTemplate(templateID)
	}
	tier, err := s.tierOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	if !catalog.Reaches(tier, min) {
		return nil, models.Errorf(models.CodePaymentRequired, "the %s template needs the %s plan or higher", t.Name, tierName(min))
	}
	if err := s.reg.Check(templateID, vars); err != nil {
		return nil, err
	}
	pc, choice, err := s.prepare(ctx, userID)
	if err != nil {
		return nil, err
	}
	system, user, err := s.reg.Prompt(templateID, vars, pc, nil)
	if err != nil {
		return nil, err
	}
	res, err := s.complete(ctx, drafting(choice.Provider, t, vars, pc), system, user, nil)
	s.record(ctx, userID, "template:"+templateID, choice.PaidBy, res.Usage)
	if err != nil {
		outcome := metrics.FailedOutcome(err)
		if ctx.Err() != nil {
			outcome = metrics.OutcomeCancelled
		}
		metrics.RunEnded(metrics.KindPlaybook, outcome)
		return nil, err
	}
	metrics.RunEnded(metrics.KindPlaybook, metrics.OutcomeOK)
	return &Execution{TemplateID: templateID, Output: res.Text, FinishReason: res.Done.FinishReason,
		Usage: res.Usage, Offline: offline(choice.Provider, res.Done)}, nil
}

// drafting has the offline provider answer a template with a draft built from the
// template's kind and its variables (llm.OfflineDraft), labelled offline, rather than
// its general rule-based echo, which would leave a playbook's outputs nearly empty.
// Any other provider is returned as it is.
func drafting(p llm.Provider, t catalog.Template, vars map[string]string, pc *models.PersonalizationContext) llm.Provider {
	if !p.Info().Offline {
		return p
	}
	return llm.OfflineDraft{Input: llm.DraftInput{TemplateID: t.ID, Name: t.Name, Vars: vars, Context: pc}}
}

// offline says whether the offline provider answered.
func offline(p llm.Provider, done *llm.Done) bool { return done.Offline || p.Info().Offline }

// record books a run's usage once a call was made, even if the caller has gone:
// the tokens were spent all the same.
func (s *Service) record(ctx context.Context, userID, source string, paidBy models.UsageProvider, u models.Usage) {
	if err := s.meter.Record(ctx, userID, paidBy, models.SourceUsage{Source: source, Usage: u}); err != nil {
		s.log.ErrorContext(ctx, "playbook: record usage", "user", userID, "source", source, "err", err)
	}
}

// complete asks the model through the llm engine and passes each sanitized delta
// to onDelta (nil for none), which returns false to stop.
func (s *Service) complete(ctx context.Context, p llm.Provider, system, user string, onDelta func(string) bool) (llm.Result, error) {
	req := llm.Request{
		Messages:  []llm.Message{{Role: llm.RoleSystem, Content: system}, {Role: llm.RoleUser, Content: user}},
		MaxTokens: s.maxTokens,
	}
	res, err := llm.Run(ctx, p, &req, s.secrets, onDelta)
	if err != nil {
		return *res, fmt.Errorf("playbook: model: %w", err)
	}
	return *res, nil
}
