package api

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inkgraph/inkgraph/internal/llm"
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

// teamRoles tells a user's role in a team (NOT_FOUND, field team, when the team does
// not exist or the user is not in it) and follows the team's events while they stay a
// member. The team area satisfies it.
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
// the operation selects one, it must select nothing else (a personal root field beside
// them is BAD_USER_INPUT, field team: such an operation would spend the team's budget
// on the caller's own business), and the caller's role in the team is read once. The
// operation is refused whole, before anything runs, when the caller is not a member
// (NOT_FOUND, field team) or holds a lower role than one of its fields needs
// (FORBIDDEN, field team). A refusal is handed to teamInside, inside the rate limit,
// so refused operations still spend the caller's own budget. An admitted operation's
// caller carries the team and role (models.Caller.Team, TeamRole): Caller.Space is
// then the team's shared space. An admitted subscription ends when the caller leaves
// the team, is removed, loses the role it needs, or the team is deleted. Every root
// field an admin runs that needs ADMIN (a change to the team's brand) is recorded in
// their audit log and the team's, with its outcome.
type teamGuard struct {
	teams  teamRoles
	audit  brandAuditor
	logger *slog.Logger
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
	g.needs = map[string]models.TeamRole{}
	roots, err := rootFields(es.Schema(), func(op ast.Operation, root string, f *ast.FieldDefinition) error {
		d := f.Directives.ForName(directiveInTeam)
		if d == nil {
			return nil
		}
		arg := d.Arguments.ForName("role")
		if arg == nil || !models.TeamRole(arg.Value.Raw).Valid() {
			return fmt.Errorf("%s.%s: @inTeam needs a known role", root, f.Name)
		}
		if op == ast.Subscription && models.TeamRole(arg.Value.Raw) != models.TeamRoleMember {
			// whileMember ends a subscription with the membership, not with a role.
			return fmt.Errorf("%s.%s: an @inTeam subscription needs MEMBER", root, f.Name)
		}
		g.needs[root+"."+f.Name] = models.TeamRole(arg.Value.Raw)
		return nil
	})
	g.roots = roots
	return err
}

// teamUse is an @inTeam root field an operation selects.
type teamUse struct {
	field, alias string
	role         models.TeamRole
}

// InterceptOperation admits the operation in the team the request names, or hands its
// refusal to teamInside.
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
	var uses []teamUse
	var personal []string
	need := models.TeamRoleMember
	for _, f := range graphql.CollectFields(op, op.Operation.SelectionSet, []string{root}) {
		role, ok := g.needs[root+"."+f.Name]
		switch {
		case ok:
			uses = append(uses, teamUse{f.Name, f.Alias, role})
			if roleRank[role] > roleRank[need] {
				need = role
			}
		case !strings.HasPrefix(f.Name, "__"):
			personal = append(personal, f.Name)
		}
	}
	if len(uses) == 0 {
		return next(ctx) // nothing acts in a team: the caller's own data
	}
	if len(personal) > 0 {
		return next(withTeamRefusal(ctx, &models.Error{Code: models.CodeBadUserInput, Field: "team", Message: fmt.Sprintf(
			"an operation acting in a team (X-Inkgraph-Team) selects only fields that act in it: send %s in another operation, without the team",
			strings.Join(personal, ", "))}))
	}
	if err := models.CheckTeamID(teamID); err != nil {
		return next(withTeamRefusal(ctx, err))
	}
	role, err := g.teams.Role(ctx, caller.UserID, teamID)
	if err != nil {
		return next(withTeamRefusal(ctx, err))
	}
	if roleRank[role] < roleRank[need] {
		field := ""
		for _, u := range uses {
			if u.role == need {
				field = u.field
				break
			}
		}
		g.logger.InfoContext(ctx, "operation refused: team role", "team_id", teamID, "role", role, "field", field)
		return next(withTeamRefusal(ctx, &models.Error{Code: models.CodeForbidden, Field: "team", Message: fmt.Sprintf(
			"%s needs the %s role in the team, and yours is %s: owners and admins change what the team shares", field, need, role)}))
	}
	caller.Team, caller.TeamRole = teamID, role
	ctx = models.WithCaller(ctx, caller)
	if op.Operation.Operation == ast.Subscription {
		// Followed inside the rate limit (teamInside), so that a client over its
		// budget costs no subscription to the team's events. No subscription
		// changes the brand.
		return next(context.WithValue(ctx, followTeamKey{}, true))
	}
	return g.recordEdits(ctx, uses, next(ctx))
}

// followTeamKey marks an admitted subscription acting in a team for teamInside.
type followTeamKey struct{}

// errLeftTeam ends a subscription whose caller is no longer in the team as a stop
// (llm.ErrStopped): a resumable chat run ends at once instead of waiting to be
// resumed, which would go on showing them the team's space.
var errLeftTeam = fmt.Errorf("no longer a member of the team: %w", llm.ErrStopped)

// membershipRecheck is how often a subscription acting in a team reads its caller's
// membership again, besides following the team's events: an event lost on the bus
// (its connection down a moment) ends the subscription of a removed member by then.
const membershipRecheck = 30 * time.Second

// whileMember runs a subscription admitted in the caller's team for as long as they
// are a member: the team's events (from any instance) say when they leave or are
// removed, or the team is deleted, and every recheck their membership is read again;
// the subscription then ends with NOT_FOUND, field team, and whatever the run had not
// yet sent is not sent: it is the team's, which they may no longer see. (Every
// @inTeam subscription needs MEMBER only, so no role change ends one.) When the events
// end and the membership cannot be read, the subscription ends too
// (SERVICE_UNAVAILABLE, retryable: subscribe again), rather than go on unchecked. The
// run it ends stops as one its client stopped (llm.ErrStopped): nobody can resume it.
func whileMember(ctx context.Context, next graphql.OperationHandler, teams teamRoles, present graphql.ErrorPresenterFunc,
	logger *slog.Logger, recheck time.Duration) graphql.ResponseHandler {
	caller, _ := models.SignedIn(ctx)
	ctx, cancel := context.WithCancelCause(ctx)
	events, err := teams.TeamEvents(ctx, caller.UserID, caller.Team)
	if err != nil {
		cancel(nil)
		if models.ErrorCode(err) == models.CodeNotFound { // they left between the two reads
			err = notAMember()
		}
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{present(ctx, err)}})
	}
	var ended atomic.Pointer[models.Error]
	end := func(err *models.Error) {
		logger.InfoContext(ctx, "a team subscription ended", "team_id", caller.Team, "code", err.Code)
		ended.Store(err)
		cancel(errLeftTeam)
	}
	// member reads the membership again: false when the caller is no longer in the team.
	member := func() (bool, error) {
		_, err := teams.Role(ctx, caller.UserID, caller.Team)
		if models.ErrorCode(err) == models.CodeNotFound {
			return false, nil
		}
		return err == nil, err
	}
	go func() {
		tick := time.NewTicker(recheck)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if ok, err := member(); !ok && err == nil {
					end(notAMember())
					return
				} // a read that failed is tried again at the next tick
			case e, open := <-events:
				if open && e.Type != models.TeamDeleted {
					continue
				}
				// The events ended (no longer a member, the team deleted, or the bus
				// or database away): decide now.
				events = nil
				if ctx.Err() != nil {
					return
				}
				ok, err := member()
				switch {
				case err != nil:
					end(&models.Error{Code: models.CodeServiceUnavailable, Field: "team", RetryAfter: time.Second,
						Message: "your membership of the team could not be checked: subscribe again"})
					return
				case !ok:
					end(notAMember())
					return
				}
				// Still a member (the bus closed): followed by the rechecks alone.
			}
		}
	}()
	h := next(ctx)
	done := false
	return func(rctx context.Context) *graphql.Response {
		if done {
			return nil
		}
		resp := h(rctx)
		if err := ended.Load(); err != nil {
			done = true
			return &graphql.Response{Errors: gqlerror.List{present(rctx, err)}}
		}
		if resp == nil {
			cancel(nil)
		}
		return resp
	}
}

// notAMember is the error of a caller who is not (or no longer) in the team.
func notAMember() *models.Error {
	return &models.Error{Code: models.CodeNotFound, Field: "team", Message: "team not found"}
}

// recordEdits records, once the operation has answered, each root field of uses that
// needs ADMIN (a change to the team's brand) in the acting caller's audit log and the
// team's: detail field (the root field) and outcome ("ok", or the code of the field's
// own error), so that an attempt that changed something before it failed is on record
// too.
func (g *teamGuard) recordEdits(ctx context.Context, uses []teamUse, h graphql.ResponseHandler) graphql.ResponseHandler {
	var edits []teamUse
	for _, u := range uses {
		if u.role != models.TeamRoleMember {
			edits = append(edits, u)
		}
	}
	if len(edits) == 0 {
		return h
	}
	inTeam := context.WithoutCancel(ctx) // the acting caller, for the entries
	teamID := models.RequestedTeam(ctx)
	recorded := false
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if resp == nil || recorded {
			return resp
		}
		recorded = true
		if refusedWhole(resp.Errors) {
			return resp // refused before anything ran (rate limit, scopes, cost)
		}
		for _, e := range edits {
			detail := models.AuditDetail{"field": e.field, "outcome": fieldOutcome(resp.Errors, e.alias)}
			if err := g.audit.Record(inTeam, teamID, models.AuditTeamBrandEdited, detail); err != nil {
				g.logger.ErrorContext(ctx, "record a team brand edit", "error", err, "team_id", teamID, "field", e.field)
			}
		}
		return resp
	}
}

// teamRefusalKey carries the team guard's refusal of an operation to teamInside.
type teamRefusalKey struct{}

func withTeamRefusal(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, teamRefusalKey{}, err)
}

// teamInside is the team guard's half inside the rate limit: it answers the refusal
// the guard decided (so a refused operation spends the caller's own budget, and
// probing teams is limited like any other request) before anything runs, and follows
// an admitted subscription's membership (whileMember).
type teamInside struct {
	teams   teamRoles
	present graphql.ErrorPresenterFunc
	logger  *slog.Logger
}

var (
	_ graphql.HandlerExtension     = teamInside{}
	_ graphql.OperationInterceptor = teamInside{}
)

func (teamInside) ExtensionName() string                   { return "TeamSpaceInside" }
func (teamInside) Validate(graphql.ExecutableSchema) error { return nil }
func (t teamInside) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if err, ok := ctx.Value(teamRefusalKey{}).(error); ok {
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{t.present(ctx, err)}})
	}
	if follow, _ := ctx.Value(followTeamKey{}).(bool); follow {
		return whileMember(ctx, next, t.teams, t.present, t.logger, membershipRecheck)
	}
	return next(ctx)
}

// refusedWhole reports whether errs refuse the operation as a whole (an error without
// a path): nothing of it ran.
func refusedWhole(errs gqlerror.List) bool {
	for _, e := range errs {
		if len(e.Path) == 0 {
			return true
		}
	}
	return false
}

// fieldOutcome is "ok" when errs hold no error of the root field answered under alias
// itself (an error of a field below it is not the change's), else that error's code.
// Errors without a path (the operation refused whole) never reach it: recordEdits
// records nothing then.
func fieldOutcome(errs gqlerror.List, alias string) string {
	for _, e := range errs {
		if len(e.Path) != 1 {
			continue
		}
		if name, ok := e.Path[0].(ast.PathName); !ok || string(name) != alias {
			continue
		}
		if code, ok := e.Extensions["code"].(string); ok {
			return code
		}
		return string(models.CodeInternal)
	}
	return "ok"
}
