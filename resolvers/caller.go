package resolvers

import (
	"context"

	"github.com/inkgraph/inkgraph/models"
)

// The helpers below predate the one resolver preamble (caller from models.CallerFrom,
// then one service call). Resolvers still using them are being converted; once none
// does, this file goes.

func callerID(ctx context.Context) (string, error) {
	c, err := models.CallerFrom(ctx)
	return c.UserID, err
}

// withCaller runs fn for the signed-in caller.
func withCaller[T any](ctx context.Context, fn func(userID string) (T, error)) (T, error) {
	id, err := callerID(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	return fn(id)
}
