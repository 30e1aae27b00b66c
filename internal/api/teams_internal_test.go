package api

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/models"
)

// fakeRoles answers Role from role/err (changed by the test) and TeamEvents with
// events.
type fakeRoles struct {
	mu     sync.Mutex
	role   models.TeamRole
	err    error
	events chan *models.TeamEvent
}

func (f *fakeRoles) set(role models.TeamRole, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.role, f.err = role, err
}

func (f *fakeRoles) Role(context.Context, string, string) (models.TeamRole, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.role, f.err
}

func (f *fakeRoles) TeamEvents(context.Context, string, string) (<-chan *models.TeamEvent, error) {
	return f.events, nil
}

// followed runs a subscription under whileMember that sends nothing until its context
// ends, and returns the first response it gives and the subscription's context.
func followed(t *testing.T, f *fakeRoles, recheck time.Duration) (func() *graphql.Response, func() context.Context) {
	t.Helper()
	ctx := models.WithCaller(t.Context(), models.Caller{UserID: "u1", Team: "t1", TeamRole: models.TeamRoleMember})
	var (
		mu  sync.Mutex
		sub context.Context
	)
	next := func(ctx context.Context) graphql.ResponseHandler {
		mu.Lock()
		sub = ctx
		mu.Unlock()
		return func(context.Context) *graphql.Response {
			<-ctx.Done()
			return nil
		}
	}
	present := func(_ context.Context, err error) *gqlerror.Error {
		var e *models.Error
		require.True(t, errors.As(err, &e))
		return &gqlerror.Error{Message: e.Message, Extensions: map[string]any{"code": e.Code, "field": e.Field}}
	}
	h := whileMember(ctx, next, f, present, slog.New(slog.DiscardHandler), recheck)
	return func() *graphql.Response { return h(ctx) }, func() context.Context { mu.Lock(); defer mu.Unlock(); return sub }
}

func codeOf(t *testing.T, resp *graphql.Response) string {
	t.Helper()
	require.NotNil(t, resp)
	require.Len(t, resp.Errors, 1)
	require.Equal(t, "team", resp.Errors[0].Extensions["field"])
	return resp.Errors[0].Extensions["code"].(string)
}

// TestWhileMemberRechecks: a removal whose event was lost still ends the subscription
// at the next recheck (NOT_FOUND), as a stop; a recheck that fails is tried again.
func TestWhileMemberRechecks(t *testing.T) {
	f := &fakeRoles{role: models.TeamRoleMember, events: make(chan *models.TeamEvent)}
	f.set("", errors.New("database away"))
	first, sub := followed(t, f, 20*time.Millisecond)
	time.Sleep(60 * time.Millisecond)
	require.NoError(t, sub().Err(), "a failed recheck is tried again, not taken for a removal")
	f.set("", &models.Error{Code: models.CodeNotFound, Field: "team"})
	require.Equal(t, models.CodeNotFound, codeOf(t, first()))
	require.ErrorIs(t, context.Cause(sub()), llm.ErrStopped, "the run stops, not left to be resumed")
}

// TestWhileMemberEventsEnd: events that end while the membership cannot be read end
// the subscription (SERVICE_UNAVAILABLE, subscribe again); events that end while the
// caller is still a member (the bus closed) leave it to the rechecks.
func TestWhileMemberEventsEnd(t *testing.T) {
	t.Run("unreadable", func(t *testing.T) {
		f := &fakeRoles{events: make(chan *models.TeamEvent)}
		f.set("", errors.New("database away"))
		first, _ := followed(t, f, time.Hour)
		close(f.events)
		require.Equal(t, models.CodeServiceUnavailable, codeOf(t, first()))
	})
	t.Run("still a member", func(t *testing.T) {
		f := &fakeRoles{events: make(chan *models.TeamEvent)}
		f.set(models.TeamRoleMember, nil)
		first, sub := followed(t, f, 30*time.Millisecond)
		close(f.events)
		time.Sleep(50 * time.Millisecond)
		require.NoError(t, sub().Err(), "the bus closing does not end it")
		f.set("", &models.Error{Code: models.CodeNotFound, Field: "team"})
		require.Equal(t, models.CodeNotFound, codeOf(t, first()))
	})
}

// TestSocketTeam: the team a socket's connection_init names: "team" in any letter
// case (the exact spelling first), else X-Inkgraph-Team under "headers", trimmed and
// in lower case; a blank one or one that is not a string is kept for the guard to
// refuse (or find no such team); none is none.
func TestSocketTeam(t *testing.T) {
	for _, c := range []struct {
		payload map[string]any
		want    string
		named   bool
	}{
		{map[string]any{"team": " 0193ABC "}, "0193abc", true},
		{map[string]any{"Team": "0193abc"}, "0193abc", true},
		{map[string]any{"Team": "other", "team": "0193abc"}, "0193abc", true},
		{map[string]any{"headers": map[string]any{"x-inkgraph-team": "0193abc"}}, "0193abc", true},
		{map[string]any{"team": "  "}, blankTeam, true},
		{map[string]any{"team": 42}, "42", true},
		{map[string]any{"team": nil}, "", false},
		{map[string]any{"authorization": "Bearer x"}, "", false},
	} {
		got, named := socketTeam(c.payload)
		require.Equal(t, c.named, named, "%v", c.payload)
		require.Equal(t, c.want, got, "%v", c.payload)
	}
	require.Error(t, models.CheckTeamID(blankTeam), "a blank team is refused, not taken for none")
}
