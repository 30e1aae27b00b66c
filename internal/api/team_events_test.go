package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

// TestTeamEventsAcrossInstances: on PostgreSQL, members subscribed to teamEvents on
// instance A hear of changes made on instance B (LISTEN/NOTIFY); a stranger and
// another team's owner cannot subscribe; a member removed on B gets nothing more and
// their stream ends; deleting the team ends the owner's after TEAM_DELETED.
func TestTeamEventsAcrossInstances(t *testing.T) {
	t.Parallel()
	url := testkit.DatabaseURL(t, testkit.Postgres)
	a := startApp(t, url, withoutRateLimits)
	b := startApp(t, url, withoutRateLimits)
	owner, _, _ := a.register(t, "events-owner@example.com")
	member, _, memberID := a.register(t, "events-member@example.com")
	stranger, _, _ := a.register(t, "events-stranger@example.com")
	other, _, _ := a.register(t, "events-other@example.com")
	data, errs := a.do(t, owner, `mutation { createTeam(name: "Live") { id } }`, nil)
	require.Empty(t, errs)
	teamID := data["createTeam"].(map[string]any)["id"].(string)
	_, errs = a.do(t, other, `mutation { createTeam(name: "Other") { id } }`, nil)
	require.Empty(t, errs)
	data, errs = a.do(t, owner, `mutation($t: ID!) { inviteMember(teamId: $t, link: true) { token } }`, map[string]any{"t": teamID})
	require.Empty(t, errs)
	_, errs = a.do(t, member, `mutation($k: String!) { acceptInvitation(token: $k) { id } }`, map[string]any{"k": data["inviteMember"].(map[string]any)["token"]})
	require.Empty(t, errs)

	ts := serve(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sub := `subscription { teamEvents(teamId: "` + teamID + `") { type teamId userId role } }`
	for _, token := range []string{stranger, other} {
		ev := <-subscribeSSE(t, ctx, ts.URL, token, sub)
		require.Contains(t, ev.data, `"NOT_FOUND"`, "only members follow a team")
		require.Contains(t, ev.data, `"field":"teamId"`)
	}
	ownerEvents := subscribeSSE(t, ctx, ts.URL, owner, sub)
	memberEvents := subscribeSSE(t, ctx, ts.URL, member, sub)

	// The streams are live once their LISTEN is in place: change roles on B until
	// both have heard of one.
	role := "ADMIN"
	heard := map[string]bool{}
	require.Eventually(t, func() bool {
		_, errs := b.do(t, owner, `mutation($t: ID!, $u: ID!, $r: TeamRole!) { changeRole(teamId: $t, userId: $u, role: $r) { role } }`,
			map[string]any{"t": teamID, "u": memberID, "r": role})
		require.Empty(t, errs)
		role = map[string]string{"ADMIN": "MEMBER", "MEMBER": "ADMIN"}[role]
		for name, ch := range map[string]<-chan sseEvent{"owner": ownerEvents, "member": memberEvents} {
			select {
			case ev := <-ch:
				require.Equal(t, "next", ev.name)
				if strings.Contains(ev.data, `"type":"MEMBER_JOINED"`) {
					// The member's joining, published on A before the streams were
					// live, may still reach one under load: not what this waits for.
					continue
				}
				require.Contains(t, ev.data, `"type":"ROLE_CHANGED"`)
				require.Contains(t, ev.data, `"userId":"`+memberID+`"`)
				heard[name] = true
			case <-time.After(100 * time.Millisecond):
			}
		}
		return heard["owner"] && heard["member"]
	}, 30*time.Second, 10*time.Millisecond)

	// Removed on B: the member's stream ends with nothing more; the owner hears of it.
	_, errs = b.do(t, owner, `mutation($t: ID!, $u: ID!) { removeMember(teamId: $t, userId: $u) { userId } }`, map[string]any{"t": teamID, "u": memberID})
	require.Empty(t, errs)
	var last sseEvent
	for ev := range memberEvents {
		require.NotContains(t, ev.data, "MEMBER_REMOVED", "a removed member sees nothing after the removal")
		last = ev
	}
	require.Equal(t, "complete", last.name)
	require.NoError(t, ctx.Err(), "the stream ended, not the test's deadline")
	requireTeamEvent(t, ownerEvents, "MEMBER_REMOVED")

	_, errs = b.do(t, owner, `mutation($id: ID!) { deleteTeam(id: $id) }`, map[string]any{"id": teamID})
	require.Empty(t, errs)
	requireTeamEvent(t, ownerEvents, "TEAM_DELETED")
	for ev := range ownerEvents {
		last = ev
	}
	require.Equal(t, "complete", last.name)
	require.NoError(t, ctx.Err())
}

// requireTeamEvent reads the stream until an event of the type, skipping the late
// role changes of the loop that waited for the stream.
func requireTeamEvent(t *testing.T, ch <-chan sseEvent, typ string) {
	t.Helper()
	for ev := range ch {
		if strings.Contains(ev.data, `"type":"ROLE_CHANGED"`) {
			continue
		}
		require.Contains(t, ev.data, `"type":"`+typ+`"`)
		return
	}
	t.Fatalf("the stream ended before %s", typ)
}
