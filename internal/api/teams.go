package api

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inkgraph/inkgraph/models"
)

// teamHeader names the team a request acts in; a socket names it in its
// connection_init payload under teamParam instead (or under headers, as GraphiQL
// sends them).
const (
	teamHeader      = "X-Inkgraph-Team"
	teamParam       = "team"
	directiveInTeam = "inTeam"
)

// requestedTeam is the team a request names, as the guard reads it: trimmed and in
// lower case (a team's ID is a UUID, and UUIDs are case-insensitive). A blank value
// becomes one the guard refuses (BAD_USER_INPUT, field team), as any other that is no
// team's ID, rather than the request acting in the caller's own space.
func requestedTeam(raw string) string {
	if v := strings.ToLower(strings.TrimSpace(raw)); v != "" {
		return v
	}
	return blankTeam
}

// blankTeam is what a blank team a request names is read as: no team's ID.
const blankTeam = "(blank)"

// roleRank orders the roles: a role serves a field needing any role of lower rank.
var roleRank = map[models.TeamRole]int{models.TeamRoleMember: 1, models.TeamRoleAdmin: 2, models.TeamRoleOwner: 3}

// teamRoles tells a user's role in a team: NOT_FOUND (field team) when the team does
// not exist or the user is not in it. TeamEvents follows the team's events for a
// member, and closes once they are no longer one (after TEAM_DELETED, or when they
// left or were removed). The team area satisfies it.
type teamRoles interface {
	Role(ctx context.Context, userID, teamID string) (models.TeamRole, error)
	TeamEvents(ctx context.Context, userID, teamID string) (<-chan *models.TeamEvent, error)
}

// brandAuditor records what an owner or admin changed of a team's shared brand.
type brandAuditor interface {
	Record(ctx context.Context, userID string, kind models.AuditKind, detail models.AuditDetail) error
}

// teamGuard lets an operation act in the team its request names (X-Inkgraph-Team, or
// a socket's connection_init "team"). Only root fields marked @inTeam act there; when
// the operation selects one, the caller's role in the team is read once, and the
// whole operation is refused before anything runs when the caller is not a member
// (NOT_FOUND, field team) or holds a lower role than one of its fields needs
// (FORBIDDEN, field team). An admitted operation's caller carries the team and role
// (models.Caller.Team, TeamRole): Caller.Space is then the team's shared space. Root
// fields without @inTeam (the account, billing, backups, conversations, teams) always
// act on the caller's own data, whatever the request names. Every change an admin
// makes to the team's brand (an admitted root field needing ADMIN, which answered
// without an error) is recorded in their audit log and the team's. A subscription
// admitted in a team ends, with NOT_FOUND (field team), once its caller is no longer
// a member: it would otherwise go on showing them the team's space.
type teamGuard struct {
	teams   teamRoles
	audit   brandAuditor
	present graphql.ErrorPresenterFunc
	logger  *slog.Logger
	// needs maps "Type.field" of every @inTeam root field to the least role it needs.
	needs map[string]models.TeamRole
	roots map[ast.Operation]string
}

var (
	_ graphql.HandlerExtension     = (*teamGuard)(nil)
	_ graphql.OperationInterceptor = (*teamGuard)(nil)
)

func (*teamGuard) ExtensionName() string { return "TeamSpaces" }

// Validate reads every root field's @inTeam role from the schema.
func (g *teamGuard) Validate(es graphql.ExecutableSchema) error {
	schema := es.Schema()
	g.needs = map[string]models.TeamRole{}
	g.roots = map[ast.Operation]string{}
	for op, def := range map[ast.Operation]*ast.Definition{ast.Query: schema.Query, ast.Mutation: schema.Mutation, ast.Subscription: schema.Subscription} {
		if def == nil {
			continue
		}
		g.roots[op] = def.Name
		for _, f := range def.Fields {
			d := f.Directives.ForName(directiveInTeam)
			if d == nil {
				continue
			}
			arg := d.Arguments.ForName("role")
			if arg == nil || !models.TeamRole(arg.Value.Raw).Valid() {
				return fmt.Errorf("%s.%s: @inTeam needs a known role", def.Name, f.Name)
			}
			g.needs[def.Name+"."+f.Name] = models.TeamRole(arg.Value.Raw)
		}
	}
	return nil
}

// InterceptOperation admits the operation in the team the request names, or refuses it.
func (g *teamGuard) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	teamID := models.RequestedTeam(ctx)
	if teamID == "" {
		return next(ctx)
	}
	caller, ok := models.SignedIn(ctx)
	op := graphql.GetOperationContext(ctx)
	if !ok || op == nil || op.Operation == nil {
		return next(ctx) // the resolvers say to sign in
	}
	root := g.roots[op.Operation.Operation]
	type use struct {
		field, alias string
		role         models.TeamRole
	}
	var uses []use
	for _, f := range graphql.CollectFields(op, op.Operation.SelectionSet, []string{root}) {
		if role, ok := g.needs[root+"."+f.Name]; ok {
			uses = append(uses, use{f.Name, f.Alias, role})
		}
	}
	if len(uses) == 0 {
		return next(ctx)
	}
	// A refusal goes on through the rate limit, which counts it against the caller's
	// own budget (the team is not theirs to spend), and teamRefusal answers it there.
	base := ctx
	refuse := func(err error) graphql.ResponseHandler {
		return next(context.WithValue(base, teamRefusalKey{}, err))
	}
	if err := models.CheckTeamID(teamID); err != nil {
		return refuse(err)
	}
	role, err := g.teams.Role(ctx, caller.UserID, teamID)
	if err != nil {
		return refuse(err)
	}
	var edits []string
	for _, u := range uses {
		if roleRank[role] < roleRank[u.role] {
			g.logger.InfoContext(ctx, "operation refused: team role", "team_id", teamID, "role", role, "field", u.field)
			return refuse(&models.Error{Code: models.CodeForbidden, Field: "team", Message: fmt.Sprintf(
				"%s needs the %s role in the team, and yours is %s: owners and admins change what the team shares", u.field, u.role, role)})
		}
		if u.role != models.TeamRoleMember {
			edits = append(edits, u.field+"\x00"+u.alias)
		}
	}
	caller.Team, caller.TeamRole = teamID, role
	ctx = models.WithCaller(ctx, caller)
	if op.Operation.Operation == ast.Subscription {
		return g.whileMember(ctx, caller, next, refuse)
	}
	inTeam := context.WithoutCancel(ctx) // the acting caller, for the audit entries
	h := next(ctx)
	if len(edits) == 0 {
		return h
	}
	recorded := false
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if resp == nil || recorded {
			return resp
		}
		recorded = true
		for _, e := range edits {
			field, alias, _ := strings.Cut(e, "\x00")
			if failed(resp.Errors, alias) {
				continue
			}
			err := g.audit.Record(inTeam, teamID, models.AuditTeamBrandEdited, models.AuditDetail{"field": field})
			if err != nil {
				g.logger.ErrorContext(ctx, "record a team brand edit", "error", err, "team_id", teamID, "field", field)
			}
		}
		return resp
	}
}

// whileMember runs a subscription admitted in the caller's team for as long as they
// are a member: the team's events say when they leave, are removed, or the team is
// deleted (on any instance); the subscription then ends with NOT_FOUND, field team.
func (g *teamGuard) whileMember(ctx context.Context, caller models.Caller, next graphql.OperationHandler,
	refuse func(error) graphql.ResponseHandler) graphql.ResponseHandler {
	ctx, cancel := context.WithCancel(ctx)
	events, err := g.teams.TeamEvents(ctx, caller.UserID, caller.Team)
	if err != nil {
		cancel()
		if models.ErrorCode(err) == models.CodeNotFound { // they left between the two reads
			err = notAMember()
		}
		return refuse(err)
	}
	var left atomic.Bool
	go func() {
		defer cancel()
		for e := range events {
			if e.Type == models.TeamDeleted {
				break
			}
		}
		if ctx.Err() != nil {
			return // the subscription ended first
		}
		// The events ended: the caller left or was removed, or the team was deleted;
		// else the bus closed (the server stops), and the subscription just ends.
		if _, err := g.teams.Role(ctx, caller.UserID, caller.Team); models.ErrorCode(err) == models.CodeNotFound {
			g.logger.InfoContext(ctx, "subscription ended: no longer in the team", "team_id", caller.Team)
			left.Store(true)
		}
	}()
	h := next(ctx)
	done := false
	return func(rctx context.Context) *graphql.Response {
		if done {
			return nil
		}
		resp := h(rctx)
		if left.Load() {
			// Whatever came meanwhile is the team's, which they may no longer see.
			done = true
			return &graphql.Response{Errors: gqlerror.List{g.present(rctx, notAMember())}}
		}
		if resp == nil {
			cancel()
		}
		return resp
	}
}

// notAMember is the error of a caller who is not (or no longer) in the team.
func notAMember() error {
	return &models.Error{Code: models.CodeNotFound, Field: "team", Message: "team not found"}
}

type teamRefusalKey struct{}

// teamRefusal answers an operation the team guard refused (NOT_FOUND, FORBIDDEN or
// BAD_USER_INPUT, field team) before anything runs. It sits inside the rate limit, as
// the scope guard does: a refused operation spends the caller's own budget, so naming
// a team is no way around the rate limit.
type teamRefusal struct {
	present graphql.ErrorPresenterFunc
}

var (
	_ graphql.HandlerExtension     = teamRefusal{}
	_ graphql.OperationInterceptor = teamRefusal{}
)

func (teamRefusal) ExtensionName() string { return "TeamRefusals" }

func (teamRefusal) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation answers the team guard's refusal, if any.
func (r teamRefusal) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if err, ok := ctx.Value(teamRefusalKey{}).(error); ok {
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{r.present(ctx, err)}})
	}
	return next(ctx)
}

// failed reports whether errs hold an error of the root field answered under alias.
func failed(errs gqlerror.List, alias string) bool {
	for _, e := range errs {
		if len(e.Path) == 0 {
			return true // the operation as a whole
		}
		if name, ok := e.Path[0].(ast.PathName); ok && string(name) == alias {
			return true
		}
	}
	return false
}
