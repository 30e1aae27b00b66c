package models

import (
	"context"
	"fmt"
	"time"
)

// Caller is who an operation runs for, from a verified access token.
type Caller struct {
	UserID    string
	SessionID string
	ExpiresAt time.Time
	// APIKeyID is set when an API key authenticated the caller (SessionID is then
	// empty), and Scopes are what the key allows; a session allows everything.
	APIKeyID string
	Scopes   ScopeSet
	// Team is the team the request acts in, set only once the caller's membership
	// was checked (TeamRole is then theirs); empty for the caller's personal space.
	Team     string
	TeamRole TeamRole
}

// Space is whose shared data the request acts on: the team's ID when it acts in a
// team, else the caller's own user ID. A team's space is a users row of kind 'team'
// with the team's ID, so every area keyed by user ID keeps a team's brand, documents,
// playbooks and usage under it.
func (c Caller) Space() string {
	if c.Team != "" {
		return c.Team
	}
	return c.UserID
}

// Actor is who runs something and in whose space: the signed-in user (their own
// history, approvals and runs) and the space whose brand, tier, usage and documents
// the run uses (Caller.Space).
type Actor struct {
	UserID string
	Space  string
}

// Actor is the caller as an Actor.
func (c Caller) Actor() Actor { return Actor{UserID: c.UserID, Space: c.Space()} }

// PersonalActor is a user acting in their own space.
func PersonalActor(userID string) Actor { return Actor{UserID: userID, Space: userID} }

// Allows reports whether the caller may do what scope names: a session may do
// everything, an API key what its scopes say.
func (c Caller) Allows(scope Scope) bool { return c.APIKeyID == "" || c.Scopes.Has(scope) }

// Require returns nil when the caller may do what scope names, else FORBIDDEN naming
// the scope the key lacks.
func (c Caller) Require(scope Scope) error {
	if c.Allows(scope) {
		return nil
	}
	return &Error{Code: CodeForbidden, Field: "scopes", Message: fmt.Sprintf("this API key lacks the %s scope", scope)}
}

// RequireSession returns nil for a signed-in session, and FORBIDDEN for an API key:
// billing and account changes are never a key's to make.
func (c Caller) RequireSession() error {
	if c.APIKeyID == "" {
		return nil
	}
	return &Error{Code: CodeForbidden, Field: "scopes", Message: "API keys cannot change billing or the account: sign in"}
}

type callerKey struct{}
type tokenErrorKey struct{}
type requestedTeamKey struct{}

// WithRequestedTeam returns ctx remembering the team a request asks to act in (the
// X-Inkgraph-Team header, or a socket's connection_init "team"), not yet checked.
func WithRequestedTeam(ctx context.Context, teamID string) context.Context {
	return context.WithValue(ctx, requestedTeamKey{}, teamID)
}

// RequestedTeam returns the team the request asks to act in, "" for none.
func RequestedTeam(ctx context.Context) string {
	s, _ := ctx.Value(requestedTeamKey{}).(string)
	return s
}

// WithCaller returns ctx carrying the verified caller.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// WithTokenError returns ctx remembering why the presented token was refused, so an
// operation that needs a caller can say "expired" rather than just "sign in".
func WithTokenError(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, tokenErrorKey{}, err)
}

// TokenErrorFrom returns why a presented token was refused, or nil when none was
// presented or it was accepted.
func TokenErrorFrom(ctx context.Context) error {
	err, _ := ctx.Value(tokenErrorKey{}).(error)
	return err
}

// SignedIn returns the caller and true, or false when there is none: for code that
// only needs to know (the rate limit's budget, metrics), without building the error
// CallerFrom explains it with.
func SignedIn(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// CallerFrom returns the caller, or UNAUTHENTICATED saying why there is none.
func CallerFrom(ctx context.Context) (Caller, error) {
	if c, ok := SignedIn(ctx); ok {
		return c, nil
	}
	if err, ok := ctx.Value(tokenErrorKey{}).(error); ok {
		return Caller{}, err
	}
	return Caller{}, Errorf(CodeUnauthenticated, "sign in first: send an access token as 'Authorization: Bearer <token>'")
}
