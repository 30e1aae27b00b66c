package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inkgraph/inkgraph/internal/platform/clientip"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/internal/platform/ratelimit"
	"github.com/inkgraph/inkgraph/models"
)

// TierLookup tells a user's billing tier and how many seats they pay for.
type TierLookup func(ctx context.Context, userID string) (tier models.Tier, seats int, err error)

// anonymousTier's budget is every anonymous client address's. What an anonymous
// operation can do is sign in, register, refresh a token and read public lists, so it
// gets no more than the cheapest account: more would make signing out a way around the
// free budget. Signing in and registering have tighter budgets of their own in auth.
const anonymousTier = models.TierFree

// rateLimit charges every GraphQL operation to its caller's budget before it runs:
// per user ("user:"+ID) at FeaturesOf(tier).RequestsPerMinute (times seats for
// per-seat tiers), and per client address for anonymous operations. A mutation costs
// one per root field, aliases included, since each runs its resolver; a query costs
// one, and so does a subscription, once, when it starts. Every transport runs
// operations through the executor, so HTTP, WebSocket and SSE draw on one budget.
//
// A refused operation does not run: its response is one RATE_LIMITED error with
// retryAfter and no data, which the HTTP transport answers with 429 and Retry-After.
// Admitted or refused, the operation's (first) response says in extensions.rateLimit
// what the budget is and what is left of it (rateLimitExtension); when the limiter
// could not answer, it says nothing.
//
// Schema fetches (queries of __schema or __type and nothing else but __typename:
// GraphiQL and code generators, in development, since production refuses them) draw
// on a budget of their own per caller, schema: 20 a minute would stop a developer's
// tools, while what those requests can do is read the schema, at a cost the shape
// limits bound. Every other anonymous operation keeps the free budget: sign-in
// attempts have tighter budgets of their own in auth, and a larger anonymous budget
// would make signing out a way around the free one.
type rateLimit struct {
	limiter ratelimit.Limiter
	tiers   *tierCache
	present graphql.ErrorPresenterFunc
	logger  *slog.Logger
	now     func() time.Time
	schema  ratelimit.Limit
	// mutation is the schema's mutation type, whose root fields are counted; query is
	// its query type, whose root fields tell a schema fetch.
	mutation, query string
}

var (
	_ graphql.HandlerExtension     = (*rateLimit)(nil)
	_ graphql.OperationInterceptor = (*rateLimit)(nil)
)

func (*rateLimit) ExtensionName() string { return "RateLimit" }

func (r *rateLimit) Validate(schema graphql.ExecutableSchema) error {
	if m := schema.Schema().Mutation; m != nil {
		r.mutation = m.Name
	}
	if q := schema.Schema().Query; q != nil {
		r.query = q.Name
	}
	return nil
}

// InterceptOperation admits the operation or answers it with RATE_LIMITED.
func (r *rateLimit) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx)
	key, limit, tier := r.budget(ctx)
	budget := budgetOperations
	if r.schemaFetch(op) {
		key, limit, budget = "schema:"+key, r.schema, budgetSchema
	}
	cost := r.cost(op)
	d, err := r.limiter.AllowN(ctx, key, limit, cost)
	switch {
	case errors.Is(err, ratelimit.ErrCostAboveBurst):
		// No wait would let it in: it has to be split, so there is no retryAfter.
		return r.refuse(ctx, key, tier, budget, nil, &models.Error{Code: models.CodeRateLimited, Message: fmt.Sprintf(
			"this operation runs %d mutations, more than the %d your plan allows at once: send fewer per operation",
			cost, limit.Burst)})
	case err != nil:
		// Fail open: the budgets share capacity fairly, they guard no secret (sign-in
		// attempts have their own limits, and bcrypt), so a limiter that cannot answer
		// (Redis down) must not take the whole API down with it.
		r.logger.ErrorContext(ctx, "rate limiter unavailable: operation let through", "error", err, "key", key)
		metrics.LimiterErrors.WithLabelValues(budget).Inc()
		return next(ctx)
	case !d.Allowed:
		// Whole seconds, rounded up, so the header and retryAfter say the same.
		retry := d.RetryAfter.Truncate(time.Second)
		if retry < d.RetryAfter {
			retry += time.Second
		}
		l := r.tell(op, limit, cost, d)
		return r.refuse(ctx, key, tier, budget, l, &models.Error{Code: models.CodeRateLimited, RetryAfter: retry, Message: fmt.Sprintf(
			"rate limit of %d requests per %s reached: retry in %d s", limit.Rate, per(limit.Period), int(retry/time.Second))})
	}
	r.tell(op, limit, cost, d)
	return next(ctx)
}

// rateLimitExtension is the caller's budget as a response's extensions.rateLimit
// tells it, with GitHub's names for its GraphQL rateLimit object.
type rateLimitExtension struct {
	// Limit is the budget: the most operations (of cost one) admitted at once, and
	// per period.
	Limit int `json:"limit"`
	// Cost is what this operation was charged: 1, or a mutation's root fields.
	Cost int `json:"cost"`
	// Remaining is how many more operations of cost one would be admitted now.
	Remaining int `json:"remaining"`
	// ResetAt is when the whole budget is available again, in whole seconds (UTC),
	// if nothing more is spent.
	ResetAt time.Time `json:"resetAt"`
}

// AppendJSON appends the JSON json.Marshal gives e, without reflection: every
// response's first payload carries it (wire.Appender). ResetAt is a time of this
// century, which json.Marshal writes as RFC 3339 with nanoseconds.
func (e *rateLimitExtension) AppendJSON(dst []byte) []byte {
	if e == nil {
		return append(dst, "null"...)
	}
	dst = strconv.AppendInt(append(dst, `{"limit":`...), int64(e.Limit), 10)
	dst = strconv.AppendInt(append(dst, `,"cost":`...), int64(e.Cost), 10)
	dst = strconv.AppendInt(append(dst, `,"remaining":`...), int64(e.Remaining), 10)
	return append(e.ResetAt.AppendFormat(append(dst, `,"resetAt":"`...), time.RFC3339Nano), '"', '}')
}

// tell keeps the decision d on op, costing cost under limit, in op's limits for its
// first response (see ComplexityLimit.InterceptResponse), and returns them; nil when
// op has none.
func (r *rateLimit) tell(op *graphql.OperationContext, limit ratelimit.Limit, cost int, d ratelimit.Decision) *limits {
	l := limitsOf(op)
	if l == nil {
		return nil
	}
	burst := limit.Burst
	if burst <= 0 {
		burst = limit.Rate
	}
	reset := r.now().Add(d.ResetAfter)
	if t := reset.Truncate(time.Second); t.Before(reset) {
		reset = t.Add(time.Second)
	}
	l.rate, l.hasRate = rateLimitExtension{Limit: burst, Cost: cost, Remaining: d.Remaining, ResetAt: reset.UTC()}, true
	return l
}

// Budgets and the anonymous caller's tier, as metrics.RateLimited labels refusals.
const (
	budgetOperations = "operations"
	budgetSchema     = "schema"
	tierAnonymous    = "anonymous"
)

// budget is the caller's key and limit, and its tier's label.
func (r *rateLimit) budget(ctx context.Context) (string, ratelimit.Limit, string) {
	caller, ok := models.SignedIn(ctx)
	if !ok {
		addr, _ := clientip.From(ctx)
		return "ip:" + clientip.Key(addr), ratelimit.PerMinute(models.FeaturesOf(anonymousTier).RequestsPerMinute), tierAnonymous
	}
	// An operation acting in a team (teamGuard admitted it) spends the team's budget,
	// at the team's tier and seats: a member's effective tier there is the team's.
	space := caller.Space()
	tier, seats, err := r.tiers.get(ctx, space)
	if err != nil {
		// The free budget still holds everyone to something; the lookup is not cached,
		// so the next operation asks again.
		r.logger.WarnContext(ctx, "tier lookup failed: counting the free budget", "error", err, "user_id", caller.UserID, "team_id", caller.Team)
		tier = models.TierFree
	}
	f := models.FeaturesOf(tier)
	n := f.RequestsPerMinute
	if f.PerSeat {
		n *= max(seats, 1)
	}
	if caller.Team != "" {
		return "team:" + space, ratelimit.PerMinute(n), string(tier)
	}
	return "user:" + space, ratelimit.PerMinute(n), string(tier)
}

// per names a budget's period: "minute" for the per-minute budgets.
func per(period time.Duration) string {
	if period == time.Minute {
		return "minute"
	}
	return period.String()
}

// schemaFetch reports whether op is a query of the schema (__schema, __type) and of
// nothing else but __typename.
func (r *rateLimit) schemaFetch(op *graphql.OperationContext) bool {
	if op == nil || op.Operation == nil || op.Operation.Operation != ast.Query || r.schema.Rate <= 0 {
		return false
	}
	// Every operation asks: most name a field of their own at the top, unconditionally,
	// which settles it without collecting fields.
	for _, sel := range op.Operation.SelectionSet {
		if f, ok := sel.(*ast.Field); ok && len(f.Directives) == 0 && !strings.HasPrefix(f.Name, "__") {
			return false
		}
	}
	introspection := false
	for _, f := range graphql.CollectFields(op, op.Operation.SelectionSet, []string{r.query}) {
		if !strings.HasPrefix(f.Name, "__") {
			return false
		}
		introspection = introspection || isIntrospectionField(f.Name)
	}
	return introspection
}

// cost is what op spends: its root fields for a mutation (each one's resolver runs,
// however many are aliased into one request; fields skipped by @skip/@include and
// duplicates merged by GraphQL do not run and are not counted), one otherwise.
func (r *rateLimit) cost(op *graphql.OperationContext) int {
	if op == nil || op.Operation == nil || op.Operation.Operation != ast.Mutation {
		return 1
	}
	n := 0
	for _, f := range graphql.CollectFields(op, op.Operation.SelectionSet, []string{r.mutation}) {
		if !strings.HasPrefix(f.Name, "__") {
			n++
		}
	}
	return max(n, 1)
}

// refuse answers the operation with err and runs nothing, with l (when set) in its
// extensions; it counts the refusal by tier and budget.
func (r *rateLimit) refuse(ctx context.Context, key, tier, budget string, l *limits, err *models.Error) graphql.ResponseHandler {
	metrics.RateLimited.WithLabelValues(tier, budget).Inc()
	r.logger.InfoContext(ctx, "operation refused: rate limited", "key", key, "retry_after_s", int(err.RetryAfter/time.Second))
	resp := &graphql.Response{Errors: gqlerror.List{r.present(ctx, err)}}
	if l != nil {
		// No response interceptor sees an answer made here.
		l.sent = true
		l.addTo(resp)
	}
	return graphql.OneShot(resp)
}

// tierCacheTTL is how long a user's tier is remembered. Every operation needs the
// tier to know its budget; asking the database each time would add a SQL statement to
// every operation, doubling the cost of the cheapest ones. The price is that an
// upgrade (or a downgrade) reaches the budget up to this much later.
const tierCacheTTL = 5 * time.Second

// tierCacheSize bounds the cache: users active within the last TTL, well within it
// at any realistic load.
const tierCacheSize = 10_000

// tierCache remembers lookups for tierCacheTTL. It is safe for concurrent use.
type tierCache struct {
	lookup TierLookup
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]tierEntry
}

type tierEntry struct {
	tier    models.Tier
	seats   int
	expires time.Time
}

func newTierCache(lookup TierLookup, now func() time.Time) *tierCache {
	return &tierCache{lookup: lookup, now: now, entries: make(map[string]tierEntry)}
}

// get returns userID's tier and seats, from the cache while fresh. Failures are not
// remembered. Two operations missing at once both look up; that is cheaper than
// making one wait for the other.
func (c *tierCache) get(ctx context.Context, userID string) (models.Tier, int, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[userID]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.tier, e.seats, nil
	}
	tier, seats, err := c.lookup(ctx, userID)
	if err != nil {
		return "", 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= tierCacheSize {
		for id, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, id)
			}
		}
		if len(c.entries) >= tierCacheSize {
			// Everyone is fresh: start over rather than track recency. The worst case
			// is one lookup each for the users active right now.
			clear(c.entries)
		}
	}
	c.entries[userID] = tierEntry{tier: tier, seats: seats, expires: now.Add(tierCacheTTL)}
	return tier, seats, nil
}
