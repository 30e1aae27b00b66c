package models

import "context"

type refreshCookieKey struct{}

// refreshCookie is what the request's session cookie offers refreshToken and logout.
type refreshCookie struct {
	token string
	err   error
}

// WithRefreshCookie returns ctx carrying the refresh token of the request's session
// cookie, for refreshToken and logout called without one; or, with err, why the cookie
// cannot stand in for it (the CSRF header is missing, there is none).
func WithRefreshCookie(ctx context.Context, token string, err error) context.Context {
	return context.WithValue(ctx, refreshCookieKey{}, refreshCookie{token: token, err: err})
}

// RefreshCookieFrom returns the refresh token of the request's session cookie, or why
// there is none to use: without cookie sessions, BAD_USER_INPUT on refreshToken (the
// argument is then required, as it always was).
func RefreshCookieFrom(ctx context.Context) (string, error) {
	c, ok := ctx.Value(refreshCookieKey{}).(refreshCookie)
	if !ok {
		return "", InvalidInput("refreshToken", "refreshToken is required")
	}
	return c.token, c.err
}
