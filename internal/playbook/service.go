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
	"slices"
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/internal/chat/sanitize"
	"github.com/inkgraph/inkgraph/internal/llm"
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

// Providers gives the LLM provider that answers for a user.
type Providers interface {
	ProviderFor(ctx context.Context, userID string) (llm.Provider, error)
}

// Meter holds users to their token quota. It is told the provider that answers a
// run, which ProviderFor chose once for it, so who pays is decided once too.
type Meter interface {
	// Allow refuses (QUOTA_EXCEEDED) a run on provider p when the user's monthly
	// token quota for it is spent.
	Allow(ctx context.Context, userID string, p llm.Provider) error
	// Record adds one run's usage on p under source (e.g. "playbook:"+id) — called
	// once per run, even on failure after a call.
	Record(ctx context.Context, userID, source string, p llm.Provider, u llm.Usage, calls int) error
}

// Deps is what a Service uses.
type Deps struct {
	Registry *Registry
	// Playbooks defaults to BuiltinPlaybooks(Registry).
	Playbooks    []*Plan
	Tiers        Tiers
	Personalizer Personalizer
	Providers    Providers
	Meter        Meter
	// Logger defaults to discarding.
	Logger *slog.Logger
	// CacheSize bounds the resolved-plan cache; DefaultCacheSize when zero.
	CacheSize int
	// NewRunID defaults to random IDs.
	NewRunID func() string
	// MaxTokens bounds each model answer; DefaultMaxTokens when zero.
	MaxTokens int
}

// Service lists and runs playbooks for users. It is safe for concurrent use.
type Service struct {
	reg   *Registry
	plans []*Plan
	byID  map[string]*Plan
	// templateTier is, for each template a playbook uses, the cheapest tier
	// of such a playbook.
	templateTier map[string]models.Tier

	tiers        Tiers
	personalizer Personalizer
	providers    Providers
	meter        Meter
	log          *slog.Logger
	newRunID     func() string
	maxTokens    int

	secrets *sanitize.Set
	cache   *lru.Cache[string, *resolved]
}

var _ chat.TemplateCatalog = (*Service)(nil)

// NewService checks d and returns a Service.
func NewService(d Deps) (*Service, error) {
	switch {
	case d.Registry == nil:
		return nil, errors.New("playbook: a template registry is required")
	case d.Tiers == nil, d.Personalizer == nil, d.Providers == nil, d.Meter == nil:
		return nil, errors.New("playbook: Tiers, Personalizer, Providers and Meter are required")
	case d.CacheSize < 0, d.MaxTokens < 0:
		return nil, errors.New("playbook: CacheSize and MaxTokens cannot be negative")
	}
	if d.Playbooks == nil {
		plans, err := BuiltinPlaybooks(d.Registry)
		if err != nil {
			return nil, err
		}
		d.Playbooks = plans
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
	cache, err := lru.New[string, *resolved](d.CacheSize)
	if err != nil {
		return nil, fmt.Errorf("playbook: plan cache: %w", err)
	}
	s := &Service{
		reg: d.Registry, byID: map[string]*Plan{}, templateTier: map[string]models.Tier{},
		tiers: d.Tiers, personalizer: d.Personalizer, providers: d.Providers, meter: d.Meter,
		log: d.Logger, newRunID: d.NewRunID, maxTokens: d.MaxTokens,
		secrets: sanitize.NewSet(d.Registry.Fragments()), cache: cache,
	}
	for _, p := range d.Playbooks {
		if p == nil {
			return nil, errors.New("playbook: a nil playbook")
		}
		if _, dup := s.byID[p.ID]; dup {
			return nil, fmt.Errorf("playbook: two playbooks have the id %q", p.ID)
		}
		p = p.clone() // a caller changing its plans cannot change ours
		for _, id := range p.templateIDs() {
			if _, ok := d.Registry.byID[id]; !ok {
				return nil, fmt.Errorf("playbook: playbook %s uses template %q, which the registry lacks", p.ID, id)
			}
			if t, ok := s.templateTier[id]; !ok || rank(p.MinTier) < rank(t) {
				s.templateTier[id] = p.MinTier
			}
		}
		s.byID[p.ID] = p
		s.plans = append(s.plans, p)
	}
	return s, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func rank(t models.Tier) int { return slices.Index(models.Tiers(), t) }

// reaches says whether a user on tier may use what min offers.
func reaches(tier, min models.Tier) bool { return rank(tier) >= rank(min) }

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

// Playbooks returns the playbooks the user's tier reaches.
func (s *Service) Playbooks(ctx context.Context, userID string) ([]*Plan, error) {
	tier, err := s.tierOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := []*Plan{}
	for _, p := range s.plans {
		if reaches(tier, p.MinTier) {
			out = append(out, p.clone())
		}
	}
	return out, nil
}

// Playbook returns one playbook: NOT_FOUND for an unknown id, and
// PAYMENT_REQUIRED, naming the tier it needs, for one above the user's tier.
func (s *Service) Playbook(ctx context.Context, userID, id string) (*Plan, error) {
	p, err := s.playbook(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	return p.clone(), nil
}

func (s *Service) playbook(ctx context.Context, userID, id string) (*Plan, error) {
	p, ok := s.byID[id]
	if !ok {
		return nil, models.Errorf(models.CodeNotFound, "no playbook %q", id)
	}
	tier, err := s.tierOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	if !reaches(tier, p.MinTier) {
		return nil, models.Errorf(models.CodePaymentRequired, "the %s playbook needs the %s plan or higher", p.Name, tierName(p.MinTier))
	}
	return p, nil
}

// Templates returns the public information of the templates the user may
// execute: those of the playbooks their tier reaches.
func (s *Service) Templates(ctx context.Context, userID string) ([]*Template, error) {
	tier, err := s.tierOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := []*Template{}
	for _, e := range s.reg.order {
		if min, ok := s.templateTier[e.info.ID]; ok && reaches(tier, min) {
			c := e.info.clone()
			out = append(out, &c)
		}
	}
	return out, nil
}

// FindTemplates returns the templates agent can carry out that the user's
// tier reaches, in the registry's order.
func (s *Service) FindTemplates(ctx context.Context, userID, agent string) ([]chat.Template, error) {
	all, err := s.Templates(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := []chat.Template{}
	for _, t := range all {
		if t.Agent == agent {
			ct := chat.Template{ID: t.ID, Name: t.Name, Description: t.Description}
			for _, v := range t.Variables {
				if v.Required {
					ct.Required = append(ct.Required, v.Name)
				}
			}
			out = append(out, ct)
		}
	}
	return out, nil
}

// CacheLen is how many resolved plans the cache holds.
func (s *Service) CacheLen() int { return s.cache.Len() }

// resolved is a playbook with a client's variables checked and applied.
type resolved struct {
	plan *Plan
	// values are the client's values, with the plan's defaults filled in; a
	// variable missing here gets its template's default.
	values map[string]string
}

// resolve checks vars against the plan, through the cache: a hit was
// checked when it was added.
func (s *Service) resolve(p *Plan, vars map[string]string) (*resolved, error) {
	key := cacheKey(p.ID, vars)
	if r, ok := s.cache.Get(key); ok {
		return r, nil
	}
	declared := map[string]Variable{}
	for _, v := range p.Variables {
		declared[v.Name] = v
	}
	for _, name := range sortedKeys(vars) {
		if _, ok := declared[name]; !ok {
			return nil, models.InvalidInput("variables."+name, "the %s playbook has no variable %q", p.Name, name)
		}
		if err := checkValue("variables."+name, vars[name]); err != nil {
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

// cacheKey is a digest of the playbook id and the variables in name order,
// each length-prefixed so that no two inputs share a key. A digest keeps
// the key small however long the values are.
func cacheKey(id string, vars map[string]string) string {
	h := sha256.New()
	write := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	write(id)
	for _, k := range sortedKeys(vars) {
		write(k)
		write(vars[k])
	}
	return string(h.Sum(nil))
}

// prepare checks the quota and fetches what a model call needs.
func (s *Service) prepare(ctx context.Context, userID string) (*models.PersonalizationContext, llm.Provider, error) {
	p, err := s.providers.ProviderFor(ctx, userID)
	if err != nil {
		return nil, nil, fmt.Errorf("playbook: provider: %w", err)
	}
	if p == nil {
		return nil, nil, models.Internal(nil, "playbook: no LLM provider for user %s", userID)
	}
	if err := s.meter.Allow(ctx, userID, p); err != nil {
		return nil, nil, fmt.Errorf("playbook: quota: %w", err)
	}
	pc, err := s.personalizer.PersonalizationContext(ctx, userID)
	if err != nil {
		return nil, nil, fmt.Errorf("playbook: personalization: %w", err)
	}
	return pc, p, nil
}

// Execution is the answer to one template.
type Execution struct {
	TemplateID   string
	Output       string
	FinishReason string
	Usage        llm.Usage
	Offline      bool
}

// ExecuteTemplate renders one template with vars and the user's persona and
// context, and returns the model's whole answer, sanitized. It is for a
// client that drives its own plan: earlier steps' outputs arrive as
// variables. The template must belong to a playbook the user's tier reaches.
func (s *Service) ExecuteTemplate(ctx context.Context, userID, templateID string, vars map[string]string) (*Execution, error) {
	e, ok := s.reg.byID[templateID]
	min, offered := s.templateTier[templateID]
	if !ok || !offered {
		return nil, models.InvalidInput("templateId", "unknown template %q", templateID)
	}
	tier, err := s.tierOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	if !reaches(tier, min) {
		return nil, models.Errorf(models.CodePaymentRequired, "the %s template needs the %s plan or higher", e.info.Name, tierName(min))
	}
	if _, err := e.data(vars); err != nil {
		return nil, err
	}
	pc, provider, err := s.prepare(ctx, userID)
	if err != nil {
		return nil, err
	}
	system, user, err := s.reg.render(templateID, vars, pc, nil)
	if err != nil {
		return nil, err
	}
	var acct account
	text, done, err := s.complete(ctx, provider, system, user, nil, &acct)
	s.record(ctx, userID, "template:"+templateID, provider, acct)
	if err != nil {
		return nil, err
	}
	return &Execution{TemplateID: templateID, Output: text, FinishReason: done.FinishReason,
		Usage: acct.usage, Offline: acct.offline}, nil
}

// account sums the model calls of one run.
type account struct {
	usage   llm.Usage
	calls   int
	offline bool
}

// record reports usage once a call was made, even if the caller has gone:
// the tokens were spent all the same.
func (s *Service) record(ctx context.Context, userID, source string, p llm.Provider, a account) {
	if a.calls == 0 {
		return
	}
	if err := s.meter.Record(context.WithoutCancel(ctx), userID, source, p, a.usage, a.calls); err != nil {
		s.log.ErrorContext(ctx, "playbook: record usage", "user", userID, "source", source, "err", err)
	}
}

// complete asks the model and passes each sanitized delta to onDelta (nil
// for none), which returns false to stop. It returns the sanitized text.
func (s *Service) complete(ctx context.Context, p llm.Provider, system, user string, onDelta func(string) bool, acct *account) (string, *llm.Done, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the upstream request if we stop reading
	acct.calls++
	req := llm.Request{
		Messages:  []llm.Message{{Role: llm.RoleSystem, Content: system}, {Role: llm.RoleUser, Content: user}},
		MaxTokens: s.maxTokens,
	}
	ch, err := p.Stream(ctx, req)
	if err != nil {
		return "", nil, fmt.Errorf("playbook: model: %w", err)
	}
	res := s.secrets.Relay(ch, func(piece string) bool { return onDelta == nil || onDelta(piece) })
	done := res.Done
	// An answer that ended without a usage report (abandoned, broken off) is
	// charged an estimate: its tokens were spent all the same.
	if done != nil && done.Usage != nil {
		acct.usage = acct.usage.Add(*done.Usage)
	} else {
		acct.usage = acct.usage.Add(llm.Estimate(req, res.Text))
	}
	switch {
	case res.Stopped:
		return res.Text, nil, ctx.Err()
	case res.Err != nil:
		err := res.Err
		if models.ErrorCode(err) != models.CodeUpstreamUnavailable {
			// The answer had begun: whatever broke it, asking again may work.
			err = &models.Error{Code: models.CodeUpstreamUnavailable, Message: "the model's answer broke off", Err: err}
		}
		return res.Text, nil, err
	case done == nil:
		if ctxErr := ctx.Err(); ctxErr != nil {
			return res.Text, nil, ctxErr
		}
		return res.Text, nil, models.Errorf(models.CodeUpstreamUnavailable, "the model's answer ended early")
	}
	acct.offline = acct.offline || done.Offline || p.Info().Offline
	return res.Text, done, nil
}
