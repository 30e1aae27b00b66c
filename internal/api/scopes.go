package api

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inkgraph/inkgraph/models"
)

// The schema's directives on root fields that say what an API key may call: @scope
// names the scope a key needs, @public marks a field any caller may use. A root field
// with neither is for signed-in sessions only.
const (
	directiveScope       = "scope"
	directivePublic      = "public"
	directiveSessionOnly = "sessionOnly"
)

// sensitiveScopes are the scopes whose every use is audited: they spend the user's
// quota or read and delete their backups.
var sensitiveScopes = []models.Scope{models.ScopeChat, models.ScopePlaybooks, models.ScopeBackups}

// keyUseAuditor records that an API key used a sensitive scope.
type keyUseAuditor func(ctx context.Context, caller models.Caller, scope models.Scope, operation string)

// scopeGuard lets an API key run an operation only when every root field it selects
// is allowed to the key: public, or needing a scope the key holds. Otherwise the whole
// operation is refused before anything runs (FORBIDDEN, field `scopes`, naming the
// root field and the scope it needs), so a mutation with one forbidden field changes
// nothing. Sessions and anonymous callers pass untouched: the resolvers check sign-in.
// An admitted operation's root fields of sensitive scopes are each audited once.
type scopeGuard struct {
	present graphql.ErrorPresenterFunc
	audit   keyUseAuditor
	logger  *slog.Logger
	// rules maps "Type.field" of every root field to its rule, read from the schema.
	rules map[string]scopeRule
	// roots are the schema's root type names by operation.
	roots map[ast.Operation]string
}

// scopeRule is what a root field asks of an API key.
type scopeRule struct {
	public bool
	scope  models.Scope // "" with public false: sessions only
}

var (
	_ graphql.HandlerExtension     = (*scopeGuard)(nil)
	_ graphql.OperationInterceptor = (*scopeGuard)(nil)
)

func (*scopeGuard) ExtensionName() string { return "APIKeyScopes" }

// Validate reads every root field's rule from the schema; an unknown scope in the
// schema is a build error, reported at start.
func (g *scopeGuard) Validate(es graphql.ExecutableSchema) error {
	g.rules = map[string]scopeRule{}
	roots, err := rootFields(es.Schema(), func(_ ast.Operation, root string, f *ast.FieldDefinition) error {
		var rule scopeRule
		if f.Directives.ForName(directivePublic) != nil {
			rule.public = true
		}
		if d := f.Directives.ForName(directiveScope); d != nil {
			arg := d.Arguments.ForName("requires")
			if arg == nil || !models.Scope(arg.Value.Raw).Valid() {
				return fmt.Errorf("%s.%s: @scope needs a known scope", root, f.Name)
			}
			rule.scope = models.Scope(arg.Value.Raw)
		}
		g.rules[root+"."+f.Name] = rule
		return nil
	})
	g.roots = roots
	return err
}

// InterceptOperation admits the operation, or refuses it when an API key may not run it.
func (g *scopeGuard) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	caller, ok := models.SignedIn(ctx)
	if !ok || caller.APIKeyID == "" {
		return next(ctx)
	}
	op := graphql.GetOperationContext(ctx)
	if op == nil || op.Operation == nil {
		return next(ctx)
	}
	root := g.roots[op.Operation.Operation]
	type use struct {
		scope models.Scope
		field string
	}
	var audited []use
	for _, f := range graphql.CollectFields(op, op.Operation.SelectionSet, []string{root}) {
		if strings.HasPrefix(f.Name, "__") {
			continue // __typename, and the schema where introspection is on
		}
		rule := g.rules[root+"."+f.Name]
		var err error
		switch {
		case rule.public:
		case rule.scope == "":
			err = &models.Error{Code: models.CodeForbidden, Field: "scopes", Message: fmt.Sprintf(
				"%s is for signed-in sessions only: API keys cannot use it", f.Name)}
		case !caller.Allows(rule.scope):
			err = &models.Error{Code: models.CodeForbidden, Field: "scopes", Message: fmt.Sprintf(
				"%s needs the %s scope, which this API key lacks", f.Name, rule.scope)}
		}
		if err == nil {
			err = sessionOnlyBelow(f.Selections, map[string]bool{})
		}
		if err != nil {
			g.logger.InfoContext(ctx, "operation refused: API key scope", "key_id", caller.APIKeyID, "field", f.Name)
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{g.present(ctx, err)}})
		}
		if slices.Contains(sensitiveScopes, rule.scope) {
			audited = append(audited, use{rule.scope, f.Name})
		}
	}
	for _, u := range audited {
		g.audit(ctx, caller, u.scope, u.field)
	}
	return next(ctx)
}

// sessionOnlyBelow refuses a selection that reaches a field marked @sessionOnly,
// through any fragment (validation has bound every field to its definition). A field
// under @skip or @include counts too: refusing what a variable might skip is the safe
// side. seen stops fragment cycles (validation refuses them; the walk need not trust it).
func sessionOnlyBelow(set ast.SelectionSet, seen map[string]bool) error {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if d := sel.Definition; d != nil && d.Directives.ForName(directiveSessionOnly) != nil {
				return &models.Error{Code: models.CodeForbidden, Field: "scopes", Message: fmt.Sprintf(
					"%s.%s is for signed-in sessions only: API keys cannot read it", sel.ObjectDefinition.Name, sel.Name)}
			}
			if err := sessionOnlyBelow(sel.SelectionSet, seen); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := sessionOnlyBelow(sel.SelectionSet, seen); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if seen[sel.Name] || sel.Definition == nil {
				continue
			}
			seen[sel.Name] = true
			if err := sessionOnlyBelow(sel.Definition.SelectionSet, seen); err != nil {
				return err
			}
		}
	}
	return nil
}
