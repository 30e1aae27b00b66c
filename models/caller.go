package models

import (
	"context"
	"time"
)

// Caller is who an operation runs for, from a verified access token.
type Caller struct {
	UserID    string
	SessionID string
	ExpiresAt time.Time
}

type callerKey struct{}
type tokenErrorKey struct{}

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
