package api_test

import (
	"net"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

func withSMTP(addr string) func(*config.Config) {
	return func(c *config.Config) {
		c.SMTPURL = "smtp://" + addr
		c.MailFrom = "Inkgraph <noreply@inkgraph.test>"
		c.PublicURL = "https://app.inkgraph.test"
	}
}

var invitationToken = regexp.MustCompile(`https://app\.inkgraph\.test/invitations/accept\?token=(inv_[A-Za-z0-9_-]+)`)

// TestInvitationByEmail: with SMTP configured (a real server: mailpit), an invitation
// by email goes to its address with the link, and the inviter sees no token; the
// invited user accepts with the token read from the email. A link invitation still
// shows its token. An email that cannot be sent makes no invitation.
func TestInvitationByEmail(t *testing.T) {
	t.Parallel()
	mp := testkit.Mailpit(t)
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			a := newApp(t, d, withSMTP(mp.SMTPAddr), withoutRateLimits)
			owner, _, _ := a.register(t, "mail-owner-"+string(d)+"@example.com")
			invitee := "mail-invitee-" + string(d) + "@example.com"
			data, errs := a.do(t, owner, `mutation { createTeam(name: "Acme writers") { id } }`, nil)
			require.Empty(t, errs)
			teamID := data["createTeam"].(map[string]any)["id"].(string)

			data, errs = a.do(t, owner, `mutation($t: ID!, $e: String) { inviteMember(teamId: $t, email: $e, role: ADMIN) { token link emailed invitation { id email } } }`,
				map[string]any{"t": teamID, "e": invitee})
			require.Empty(t, errs)
			payload := data["inviteMember"].(map[string]any)
			require.Nil(t, payload["token"], "the token went by email only")
			require.Nil(t, payload["link"])
			require.Equal(t, true, payload["emailed"])

			msg := mp.Only(t, invitee)
			require.Equal(t, `Join the team "Acme writers" on Inkgraph`, msg.Subject)
			require.Equal(t, "noreply@inkgraph.test", msg.From.Address)
			require.Contains(t, msg.Text, "mail-owner-"+string(d)+"@example.com invited you")
			require.Contains(t, msg.Text, "as admin")
			m := invitationToken.FindStringSubmatch(msg.Text)
			require.Len(t, m, 2, msg.Text)

			access, _, _ := a.register(t, invitee)
			data, errs = a.do(t, access, `mutation($k: String!) { acceptInvitation(token: $k) { id role } }`, map[string]any{"k": m[1]})
			require.Empty(t, errs)
			require.Equal(t, map[string]any{"id": teamID, "role": "ADMIN"}, data["acceptInvitation"])

			data, errs = a.do(t, owner, `mutation($t: ID!) { inviteMember(teamId: $t, link: true) { token link emailed } }`, map[string]any{"t": teamID})
			require.Empty(t, errs)
			link := data["inviteMember"].(map[string]any)
			require.Equal(t, false, link["emailed"])
			require.Regexp(t, `^inv_`, link["token"])
			require.Equal(t, "https://app.inkgraph.test/invitations/accept?token="+link["token"].(string), link["link"])

			data, errs = a.do(t, owner, `query($t: ID!) { teamAuditLog(teamId: $t) { edges { node { kind detail { key value } } } } }`, map[string]any{"t": teamID})
			require.Empty(t, errs)
			edges := data["teamAuditLog"].(map[string]any)["edges"].([]any)
			created := edges[len(edges)-1].(map[string]any)["node"].(map[string]any)
			require.Equal(t, "TEAM_INVITATION_CREATED", created["kind"])
			require.Contains(t, created["detail"], map[string]any{"key": "emailed", "value": "true"})
		})
	}
}

// TestInvitationEmailFails: an SMTP server that cannot be reached makes no
// invitation: UPSTREAM_UNAVAILABLE on email, and the team's rows and log as before.
func TestInvitationEmailFails(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())
	a := newApp(t, testkit.SQLite, withSMTP(closed), withoutRateLimits)
	owner, _, _ := a.register(t, "fail-owner@example.com")
	data, errs := a.do(t, owner, `mutation { createTeam(name: "Unreachable") { id } }`, nil)
	require.Empty(t, errs)
	teamID := data["createTeam"].(map[string]any)["id"].(string)
	before := a.teamRows(t, teamID)
	logBefore := countRows(t, a.db, "audit_log")

	data, errs = a.do(t, owner, `mutation($t: ID!) { inviteMember(teamId: $t, email: "someone@example.com") { emailed } }`, map[string]any{"t": teamID})
	requireError(t, errs, "UPSTREAM_UNAVAILABLE", "email", "no invitation was made")
	require.Nil(t, data)
	require.Equal(t, before, a.teamRows(t, teamID), "no invitation is left")
	require.Equal(t, logBefore, countRows(t, a.db, "audit_log"))
	data, errs = a.do(t, owner, `query($t: ID!) { team(id: $t) { seatsUsed invitations { id } } }`, map[string]any{"t": teamID})
	require.Empty(t, errs)
	require.Empty(t, data["team"].(map[string]any)["invitations"])
}
