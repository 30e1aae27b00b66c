package api

import (
	"context"
	"errors"
	"strconv"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// ComplexityLimit is gqlgen's fixed complexity limit (the same answer, code and
// stats) with the cost of an operation without variables remembered: it depends on
// the document alone then, and computing it walks the whole query building an
// argument map per field (about 120 allocations for the summary). Documents come
// from the parsed-query cache, so one document is one pointer while it is cached;
// the costs are kept for as many documents as that cache holds.
type ComplexityLimit struct {
	Limit int
	// Documents is how many (document, operation) costs are remembered.
	Documents int

	es    graphql.ExecutableSchema
	costs *lru.Cache[costKey, int]
}

// costKey names one operation of one parsed document.
type costKey struct {
	doc *ast.QueryDocument
	op  string
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
	graphql.ResponseInterceptor
} = &ComplexityLimit{}

// ExtensionName is gqlgen's, so extension.GetComplexityStats reads its stats.
func (*ComplexityLimit) ExtensionName() string { return "ComplexityLimit" }

// Validate takes the schema whose costs are computed.
func (c *ComplexityLimit) Validate(schema graphql.ExecutableSchema) error {
	if c.Documents <= 0 {
		return errors.New("ComplexityLimit: Documents must be positive")
	}
	costs, err := lru.New[costKey, int](c.Documents)
	if err != nil {
		return err
	}
	c.es, c.costs = schema, costs
	return nil
}

// MutateOperationContext refuses an operation costing more than Limit.
func (c *ComplexityLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	cost := c.cost(ctx, opCtx)
	opCtx.Stats.SetExtension(c.ExtensionName(), &extension.ComplexityStats{Complexity: cost, ComplexityLimit: c.Limit})
	opCtx.Stats.SetExtension(limitsStatsKey, &limits{cost: costExtension{Complexity: cost, Limit: c.Limit}})
	if cost > c.Limit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", cost, c.Limit)
		errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
		return err
	}
	return nil
}

// costExtension is the operation's cost as its response's extensions.cost tells it.
type costExtension struct {
	// Complexity is what the operation costs, computed before it ran.
	Complexity int `json:"complexity"`
	// Limit is the most an operation may cost (INKGRAPH_MAX_QUERY_COMPLEXITY).
	Limit int `json:"limit"`
}

// AppendJSON appends the JSON json.Marshal gives c, without reflection: every
// response's first payload carries it (wire.Appender).
func (c *costExtension) AppendJSON(dst []byte) []byte {
	if c == nil {
		return append(dst, "null"...)
	}
	dst = strconv.AppendInt(append(dst, `{"complexity":`...), int64(c.Complexity), 10)
	return append(strconv.AppendInt(append(dst, `,"limit":`...), int64(c.Limit), 10), '}')
}

// Names of the limits in a response's extensions.
const (
	costExtensionKey      = "cost"
	rateLimitExtensionKey = "rateLimit"
)

// limits is what an operation's first response tells of its limits: its cost, set
// when the operation context is made, and its rate-limit decision, set when the rate
// limit admits or refuses it. It lives in the operation's stats (one allocation per
// operation), and the extensions point into it.
type limits struct {
	cost    costExtension
	rate    rateLimitExtension
	hasRate bool
	// sent is set once the first response carried them: a subscription's later
	// payloads (a chat's every token) keep their size and cost, and what the values
	// say was decided when the operation started. Responses of one operation are
	// made one after the other.
	sent bool
}

// limitsStatsKey names limits in an operation's stats.
const limitsStatsKey = "Limits"

// limitsOf returns op's limits; nil when ComplexityLimit did not set them.
func limitsOf(op *graphql.OperationContext) *limits {
	if op == nil {
		return nil
	}
	l, _ := op.Stats.GetExtension(limitsStatsKey).(*limits)
	return l
}

// InterceptResponse puts the operation's cost and the limit, and the rate limit's
// decision when there is one, in its first response's extensions (a subscription's
// first payload's, a deferred query's first part's). An operation refused for its
// cost never gets here: its error says both numbers.
func (c *ComplexityLimit) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || !graphql.HasOperationContext(ctx) {
		return resp
	}
	l := limitsOf(graphql.GetOperationContext(ctx))
	if l == nil || l.sent {
		return resp
	}
	l.sent = true
	l.addTo(resp)
	return resp
}

// addTo sets the limits in resp's extensions.
func (l *limits) addTo(resp *graphql.Response) {
	if resp.Extensions == nil {
		resp.Extensions = make(map[string]any, 2)
	}
	resp.Extensions[costExtensionKey] = &l.cost
	if l.hasRate {
		resp.Extensions[rateLimitExtensionKey] = &l.rate
	}
}

// cost is the operation's complexity, remembered when no variable can change it.
func (c *ComplexityLimit) cost(ctx context.Context, opCtx *graphql.OperationContext) int {
	op := opCtx.Doc.Operations.ForName(opCtx.OperationName)
	if len(opCtx.Variables) > 0 {
		return complexity.Calculate(ctx, c.es, op, opCtx.Variables)
	}
	key := costKey{doc: opCtx.Doc, op: opCtx.OperationName}
	if cost, ok := c.costs.Get(key); ok {
		return cost
	}
	cost := complexity.Calculate(ctx, c.es, op, opCtx.Variables)
	c.costs.Add(key, cost)
	return cost
}
