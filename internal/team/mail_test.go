package team_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/mail"
	"github.com/inkgraph/inkgraph/internal/team"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// mailer is the Mailer fake: send is what Send does.
type mailer struct {
	send func(ctx context.Context, msg mail.Message) error
}

func (m *mailer) Send(ctx context.Context, msg mail.Message) error { return m.send(ctx, msg) }

// TestInvitationEmailIsOneAddress: an invitation's email is one bare address as the
// mailer parses it: a list, a display name or a comment is BAD_USER_INPUT (field
// email) and makes nothing.
func TestInvitationEmailIsOneAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testkit.NewDB(t, testkit.SQLite))
	ctx := context.Background()
	owner := e.user(t)
	tm, err := e.svc.CreateTeam(ctx, owner, "Acme")
	require.NoError(t, err)
	for _, bad := range []string{"a@b.com,c@d.com", "evil<victim@x.com>", "victim@x.com(evil)", `"Eve" <victim@x.com>`,
		"a@b.com c@d.com", "@x.com", "a@", "not-an-email", ""} {
		_, err := e.svc.InviteMember(ctx, owner, models.InviteMemberInput{TeamID: tm.ID, Email: &bad, Role: models.TeamRoleMember})
		testkit.RequireCode(t, err, models.CodeBadUserInput, "email")
	}
	invs, err := e.svc.Invitations(ctx, owner, tm.ID)
	require.NoError(t, err)
	require.Empty(t, invs)
	good := "  Zoe@Example.com "
	p, err := e.svc.InviteMember(ctx, owner, models.InviteMemberInput{TeamID: tm.ID, Email: &good, Role: models.TeamRoleMember})
	require.NoError(t, err)
	require.Equal(t, "zoe@example.com", *p.Invitation.Email)
}

// TestInvitationEmailFailure: an email that failed makes no invitation, unless the
// invitation was accepted meanwhile (the email did arrive, only the server's goodbye
// failed): then it stays and the inviter is told it went.
func TestInvitationEmailFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testkit.NewDB(t, testkit.SQLite)
	var accept bool
	m := &mailer{}
	e := newEnv(t, db, func(d *team.Deps) { d.Mailer = m })
	m.send = func(ctx context.Context, msg mail.Message) error {
		if accept {
			_, err := db.NewUpdate().Table("team_invitations").Set("accepted_at = ?", e.clock.Now()).Where("email = ?", msg.To).Exec(ctx)
			require.NoError(t, err)
		}
		return errors.New("mail: 421 closing")
	}
	owner := e.user(t)
	tm, err := e.svc.CreateTeam(ctx, owner, "Acme")
	require.NoError(t, err)

	_, err = e.svc.InviteMember(ctx, owner, models.InviteMemberInput{TeamID: tm.ID, Email: email("lost"), Role: models.TeamRoleMember})
	testkit.RequireCode(t, err, models.CodeUpstreamUnavailable, "email")
	n, err := db.NewSelect().Table("team_invitations").Where("team_id = ?", tm.ID).Count(ctx)
	require.NoError(t, err)
	require.Zero(t, n)

	accept = true
	p, err := e.svc.InviteMember(ctx, owner, models.InviteMemberInput{TeamID: tm.ID, Email: email("quick"), Role: models.TeamRoleMember})
	require.NoError(t, err)
	require.True(t, p.Emailed)
	n, err = db.NewSelect().Table("team_invitations").Where("team_id = ? AND accepted_at IS NOT NULL", tm.ID).Count(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "the accepted invitation stays")
}
