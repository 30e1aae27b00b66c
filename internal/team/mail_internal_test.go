package team

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/models"
)

// TestInvitationEmailOfAnOldName: a team named before names were checked may hold a
// control character; its invitation's subject and text show a space there, never a
// line break that would start a header or a line of the sender's choosing.
func TestInvitationEmailOfAnOldName(t *testing.T) {
	t.Parallel()
	email := "invitee@example.com"
	msg := invitationEmail(&models.Team{Name: "Acme\r\nBcc: x@evil.test\x1b"},
		&models.TeamInvitation{Email: &email, Role: models.TeamRoleAdmin, ExpiresAt: time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)},
		"owner@example.com", "https://app.inkgraph.test/invitations/accept?token=inv_x")
	require.Equal(t, `Join the team "Acme  Bcc: x@evil.test " on Inkgraph`, msg.Subject)
	require.Contains(t, msg.Text, `join the team "Acme  Bcc: x@evil.test " on Inkgraph as admin`)
	require.NotContains(t, msg.Subject+msg.Text, "\x1b")
	require.NotContains(t, msg.Subject, "\n")
}
