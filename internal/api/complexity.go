package api

import (
	"context"
	"errors"

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
	if cost > c.Limit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", cost, c.Limit)
		errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
		return err
	}
	return nil
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
