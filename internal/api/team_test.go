package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// teamRows is every row of a team's members and invitations, for comparing before
// and after a call.
func (a *app) teamRows(t *testing.T, teamID string) string {
	t.Helper()
	ctx := context.Background()
	var members []struct {
		UserID string `bun:"user_id"`
		Role   string `bun:"role"`
	}
	require.NoError(t, a.db.NewSelect().Table("team_members").Column("user_id", "role").
		Where("team_id = ?", teamID).Order("user_id").Scan(ctx, &members))
	var invs []struct {
		ID       string `bun:"id"`
		Accepted bool   `bun:"accepted"`
		Revoked  bool   `bun:"revoked"`
	}
	require.NoError(t, a.db.NewSelect().Table("team_invitations").
		ColumnExpr("id, accepted_at IS NOT NULL AS accepted, revoked_at IS NOT NULL AS revoked").
		Where("team_id = ?", teamID).Order("id").Scan(ctx, &invs))
	return fmt.Sprintf("%v %v", members, invs)
}

// teamFixture is team A with an owner, an admin and a member, a pending invitation
// and a link invitation's token; plus a stranger and the owner of another team B.
type teamFixture struct {
	teamA, teamB       string
	pending, linkToken string
	tokens, ids        map[string]string // by actor: access token, user ID
}

const actorsOwner, actorsAdmin, actorsMember, actorsOther, actorsStranger = "owner", "admin", "member", "other", "stranger"

func (a *app) teamFixture(t *testing.T, n int, users map[string][2]string, teamB string) *teamFixture {
	t.Helper()
	f := &teamFixture{teamB: teamB, tokens: map[string]string{}, ids: map[string]string{}}
	for name, u := range users {
		f.tokens[name], f.ids[name] = u[0], u[1]
	}
	must := func(token, q string, vars map[string]any) map[string]any {
		data, errs := a.do(t, token, q, vars)
		require.Empty(t, errs, q)
		return data
	}
	f.teamA = must(f.tokens["owner"], `mutation($n: String!) { createTeam(name: $n) { id } }`,
		map[string]any{"n": fmt.Sprintf("A-%d", n)})["createTeam"].(map[string]any)["id"].(string)
	invite := `mutation($t: ID!, $e: String, $r: TeamRole!, $l: Boolean) {
		inviteMember(teamId: $t, email: $e, role: $r, link: $l) { token invitation { id } } }`
	tok := must(f.tokens["owner"], invite, map[string]any{"t": f.teamA, "e": "team-admin@example.com", "r": "ADMIN"})["inviteMember"].(map[string]any)["token"]
	must(f.tokens["admin"], `mutation($k: String!) { acceptInvitation(token: $k) { id } }`, map[string]any{"k": tok})
	tok = must(f.tokens["owner"], invite, map[string]any{"t": f.teamA, "r": "MEMBER", "l": true})["inviteMember"].(map[string]any)["token"]
	must(f.tokens["member"], `mutation($k: String!) { acceptInvitation(token: $k) { id } }`, map[string]any{"k": tok})
	f.pending = must(f.tokens["owner"], invite, map[string]any{"t": f.teamA, "e": "someone@example.com", "r": "MEMBER"})["inviteMember"].(map[string]any)["invitation"].(map[string]any)["id"].(string)
	f.linkToken = must(f.tokens["owner"], invite, map[string]any{"t": f.teamA, "r": "MEMBER", "l": true})["inviteMember"].(map[string]any)["token"].(string)
	return f
}

// TestTeamIsolationOverGraphQL runs every team operation as team A's owner, admin and
// member, as the owner of another team and as a stranger: what each may do goes
// through, and a refused call answers its code and field, returns no data, and leaves
// both teams' rows as they were.
// anyTeamsPerOwner lifts the cap on the teams one user owns, for tests that make many.
func anyTeamsPerOwner(c *config.Config) { c.TeamsPerOwner = 0 }

func TestTeamIsolationOverGraphQL(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			a := newApp(t, d, withoutRateLimits, anyTeamsPerOwner) // a team per case
			users := map[string][2]string{}
			for _, name := range []string{actorsOwner, actorsAdmin, actorsMember, actorsOther, actorsStranger} {
				access, _, id := a.register(t, "team-"+name+"@example.com")
				users[name] = [2]string{access, id}
			}
			data, errs := a.do(t, users[actorsOther][0], `mutation { createTeam(name: "B") { id } }`, nil)
			require.Empty(t, errs)
			teamB := data["createTeam"].(map[string]any)["id"].(string)

			type want struct{ code, field string } // zero: allowed
			ok := want{}
			notFound := func(field string) want { return want{"NOT_FOUND", field} }
			forbidden := func(field string) want { return want{"FORBIDDEN", field} }
			ops := []struct {
				name  string
				query func(f *teamFixture) (string, map[string]any)
				want  map[string]want
				check func(t *testing.T, f *teamFixture, actor string, data map[string]any)
			}{
				{
					name: "team",
					query: func(f *teamFixture) (string, map[string]any) {
						return `query($id: ID!) { team(id: $id) { id name role members { userId email role } invitations { id email } } }`, map[string]any{"id": f.teamA}
					},
					want: map[string]want{actorsOwner: ok, actorsAdmin: ok, actorsMember: ok, actorsOther: notFound("id"), actorsStranger: notFound("id")},
					check: func(t *testing.T, f *teamFixture, actor string, data map[string]any) {
						tm := data["team"].(map[string]any)
						require.Len(t, tm["members"], 3)
						require.Equal(t, strings.ToUpper(actor), tm["role"])
						if actor == actorsMember {
							require.Empty(t, tm["invitations"], "members see no invitations")
						} else {
							require.Len(t, tm["invitations"], 2, "the pending email and link invitations")
						}
					},
				},
				{
					name: "team's plan and seats",
					query: func(f *teamFixture) (string, map[string]any) {
						return `query($id: ID!) { team(id: $id) { tier seatsUsed seatsPaid entitlements { feature allowed reason } } }`, map[string]any{"id": f.teamA}
					},
					want: map[string]want{actorsOwner: ok, actorsAdmin: ok, actorsMember: ok, actorsOther: notFound("id"), actorsStranger: notFound("id")},
					check: func(t *testing.T, f *teamFixture, _ string, data map[string]any) {
						tm := data["team"].(map[string]any)
						require.Equal(t, "FREE", tm["tier"])
						require.EqualValues(t, 5, tm["seatsUsed"], "three members and two pending invitations")
						require.Nil(t, tm["seatsPaid"], "billing is off: seats are not counted")
						require.NotEmpty(t, tm["entitlements"])
					},
				},
				{
					name: "teamCheckout",
					query: func(f *teamFixture) (string, map[string]any) {
						return `mutation($t: ID!) { teamCheckout(teamId: $t, seats: 10) { url } }`, map[string]any{"t": f.teamA}
					},
					// Allowed to the owner, where billing answers that it is off.
					want: map[string]want{actorsOwner: {"BILLING_NOT_CONFIGURED", ""}, actorsAdmin: forbidden("teamId"), actorsMember: forbidden("teamId"), actorsOther: notFound("teamId"), actorsStranger: notFound("teamId")},
				},
				{
					name: "teamBillingPortal",
					query: func(f *teamFixture) (string, map[string]any) {
						return `mutation($t: ID!) { teamBillingPortal(teamId: $t) { url } }`, map[string]any{"t": f.teamA}
					},
					want: map[string]want{actorsOwner: {"BILLING_NOT_CONFIGURED", ""}, actorsAdmin: forbidden("teamId"), actorsMember: forbidden("teamId"), actorsOther: notFound("teamId"), actorsStranger: notFound("teamId")},
				},
				{
					name: "teams",
					query: func(*teamFixture) (string, map[string]any) {
						return `{ teams { id name role } }`, nil
					},
					want: map[string]want{actorsOwner: ok, actorsAdmin: ok, actorsMember: ok, actorsOther: ok, actorsStranger: ok},
					check: func(t *testing.T, f *teamFixture, actor string, data map[string]any) {
						var ids []string
						for _, tm := range data["teams"].([]any) {
							ids = append(ids, tm.(map[string]any)["id"].(string))
						}
						switch actor {
						case actorsOther:
							require.Equal(t, []string{f.teamB}, ids)
						case actorsStranger:
							require.Empty(t, ids)
						default:
							require.Contains(t, ids, f.teamA)
							require.NotContains(t, ids, f.teamB)
						}
					},
				},
				{
					name: "inviteMember",
					query: func(f *teamFixture) (string, map[string]any) {
						return `mutation($t: ID!) { inviteMember(teamId: $t, link: true) { token } }`, map[string]any{"t": f.teamA}
					},
					want: map[string]want{actorsOwner: ok, actorsAdmin: ok, actorsMember: forbidden("teamId"), actorsOther: notFound("teamId"), actorsStranger: notFound("teamId")},
				},
				{
					name: "acceptInvitation",
					query: func(f *teamFixture) (string, map[string]any) {
						return `mutation($k: String!) { acceptInvitation(token: $k) { id role } }`, map[string]any{"k": f.linkToken}
					},
					want: map[string]want{actorsOwner: {"CONFLICT", "token"}, actorsAdmin: {"CONFLICT", "token"}, actorsMember: {"CONFLICT", "token"}, actorsOther: ok, actorsStranger: ok},
				},
				{
					name: "revokeInvitation",
					query: func(f *teamFixture) (string, map[string]any) {
						return `mutation($id: ID!) { revokeInvitation(id: $id) { id revokedAt } }`, map[string]any{"id": f.pending}
					},
					want: map[string]want{actorsOwner: ok, actorsAdmin: ok, actorsMember: notFound("id"), actorsOther: notFound("id"), actorsStranger: notFound("id")},
				},
				{
					name: "changeRole",
					query: func(f *teamFixture) (string, map[string]any) {
						return `mutation($t: ID!, $u: ID!) { changeRole(teamId: $t, userId: $u, role: ADMIN) { role } }`, map[string]any{"t": f.teamA, "u": f.ids[actorsMember]}
					},
					want: map[string]want{actorsOwner: ok, actorsAdmin: ok, actorsMember: forbidden("teamId"), actorsOther: notFound("teamId"), actorsStranger: notFound("teamId")},
				},
				{
					name: "changeRole of the owner",
					query: func(f *teamFixture) (string, map[string]any) {
						return `mutation($t: ID!, $u: ID!) { changeRole(teamId: $t, userId: $u, role: MEMBER) { role } }`, map[string]any{"t": f.teamA, "u": f.ids[actorsOwner]}
					},
					want: map[string]want{actorsOwner: {"CONFLICT", "role"}, actorsAdmin: forbidden("userId"), actorsMember: forbidden("teamId"), actorsOther: notFound("teamId"), actorsStranger: notFound("teamId")},
				},
				{
					name: "removeMember",
					query: func(f *teamFixture) (string, map[string]any) {
						return `mutation($t: ID!, $u: ID!) { removeMember(teamId: $t, userId: $u) { userId } }`, map[string]any{"t": f.teamA, "u": f.ids[actorsMember]}
					},
					want: map[string]want{actorsOwner: ok, actorsAdmin: ok, actorsMember: forbidden("teamId"), actorsOther: notFound("teamId"), actorsStranger: notFound("teamId")},
				},
				{
					name: "leaveTeam",
					query: func(f *teamFixture) (string, map[string]any) {
						return `mutation($t: ID!) { leaveTeam(teamId: $t) }`, map[string]any{"t": f.teamA}
					},
					want: map[string]want{actorsOwner: {"CONFLICT", "teamId"}, actorsAdmin: ok, actorsMember: ok, actorsOther: notFound("teamId"), actorsStranger: notFound("teamId")},
				},
				{
					name: "teamAuditLog",
					query: func(f *teamFixture) (string, map[string]any) {
						return `query($t: ID!) { teamAuditLog(teamId: $t, first: 50) { edges { node { kind detail { key value } } } } }`, map[string]any{"t": f.teamA}
					},
					want: map[string]want{actorsOwner: ok, actorsAdmin: ok, actorsMember: forbidden("teamId"), actorsOther: notFound("teamId"), actorsStranger: notFound("teamId")},
					check: func(t *testing.T, f *teamFixture, _ string, data map[string]any) {
						edges := data["teamAuditLog"].(map[string]any)["edges"].([]any)
						require.Len(t, edges, 6, "two invitations made and accepted, two more made")
						for _, e := range edges {
							require.Contains(t, e.(map[string]any)["node"].(map[string]any)["detail"], map[string]any{"key": "team", "value": f.teamA})
						}
					},
				},
				{
					name: "deleteTeam",
					query: func(f *teamFixture) (string, map[string]any) {
						return `mutation($id: ID!) { deleteTeam(id: $id) }`, map[string]any{"id": f.teamA}
					},
					want: map[string]want{actorsOwner: ok, actorsAdmin: forbidden("id"), actorsMember: forbidden("id"), actorsOther: notFound("id"), actorsStranger: notFound("id")},
					check: func(t *testing.T, f *teamFixture, _ string, _ map[string]any) {
						require.Equal(t, "[] []", a.teamRows(t, f.teamA), "members and invitations are gone")
						_, errs := a.do(t, f.tokens[actorsAdmin], `query($id: ID!) { team(id: $id) { id } }`, map[string]any{"id": f.teamA})
						requireError(t, errs, "NOT_FOUND", "id", "")
					},
				},
				{
					name: "transferOwnership",
					query: func(f *teamFixture) (string, map[string]any) {
						return `mutation($t: ID!, $u: ID!) { transferOwnership(teamId: $t, userId: $u) { role } }`, map[string]any{"t": f.teamA, "u": f.ids[actorsAdmin]}
					},
					want: map[string]want{actorsOwner: ok, actorsAdmin: forbidden("teamId"), actorsMember: forbidden("teamId"), actorsOther: notFound("teamId"), actorsStranger: notFound("teamId")},
				},
			}
			n := 0
			for _, op := range ops {
				for _, actor := range []string{actorsOwner, actorsAdmin, actorsMember, actorsOther, actorsStranger} {
					t.Run(op.name+"/"+actor, func(t *testing.T) {
						n++
						f := a.teamFixture(t, n, users, teamB)
						beforeA, beforeB := a.teamRows(t, f.teamA), a.teamRows(t, teamB)
						q, vars := op.query(f)
						data, errs := a.do(t, f.tokens[actor], q, vars)
						w := op.want[actor]
						if w == ok {
							require.Empty(t, errs)
							if op.check != nil {
								op.check(t, f, actor, data)
							}
							require.Equal(t, beforeB, a.teamRows(t, teamB), "the other team is untouched")
							return
						}
						requireError(t, errs, w.code, w.field, "")
						require.Nil(t, data, "a refused call returns nothing")
						require.NotContains(t, errs[0].Message, fmt.Sprintf("A-%d", n), "the team's name does not leak")
						require.Equal(t, beforeA, a.teamRows(t, f.teamA), "nothing changed")
						require.Equal(t, beforeB, a.teamRows(t, teamB), "nothing changed")
					})
				}
			}
		})
	}
}

// TestTeamBadInputOverGraphQL: each bad input answers its code and field and changes
// nothing.
func TestTeamBadInputOverGraphQL(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	users := map[string][2]string{}
	for _, name := range []string{actorsOwner, actorsAdmin, actorsMember, actorsOther, actorsStranger} {
		access, _, id := a.register(t, "team-"+name+"@example.com")
		users[name] = [2]string{access, id}
	}
	data, errs := a.do(t, users[actorsOther][0], `mutation { createTeam(name: "B") { id } }`, nil)
	require.Empty(t, errs)
	f := a.teamFixture(t, 1, users, data["createTeam"].(map[string]any)["id"].(string))
	owner, stranger := f.tokens[actorsOwner], f.tokens[actorsStranger]
	invite := func(vars map[string]any) string {
		vars["t"] = f.teamA
		data, errs := a.do(t, owner, `mutation($t: ID!, $e: String, $l: Boolean) { inviteMember(teamId: $t, email: $e, link: $l) { token invitation { id } } }`, vars)
		require.Empty(t, errs)
		return data["inviteMember"].(map[string]any)["token"].(string)
	}
	expired := invite(map[string]any{"l": true})
	_, err := a.db.NewUpdate().Table("team_invitations").Set("expires_at = created_at").Where("team_id = ?", f.teamA).Exec(context.Background())
	require.NoError(t, err) // every invitation so far has expired
	wrongEmail := invite(map[string]any{"e": "not-the-stranger@example.com"})
	revokedData, errs := a.do(t, owner, `mutation($t: ID!) { inviteMember(teamId: $t, link: true) { token invitation { id } } }`, map[string]any{"t": f.teamA})
	require.Empty(t, errs)
	revoked := revokedData["inviteMember"].(map[string]any)["token"].(string)
	_, errs = a.do(t, owner, `mutation($id: ID!) { revokeInvitation(id: $id) { id } }`,
		map[string]any{"id": revokedData["inviteMember"].(map[string]any)["invitation"].(map[string]any)["id"]})
	require.Empty(t, errs)
	reused := invite(map[string]any{"l": true})
	_, errs = a.do(t, f.tokens[actorsOther], `mutation($k: String!) { acceptInvitation(token: $k) { id } }`, map[string]any{"k": reused})
	require.Empty(t, errs)

	accept := `mutation($k: String!) { acceptInvitation(token: $k) { id } }`
	for _, c := range []struct {
		name, token, query string
		vars               map[string]any
		code, field        string
	}{
		{"empty name", stranger, `mutation { createTeam(name: " ") { id } }`, nil, "BAD_USER_INPUT", "name"},
		{"too long name", stranger, `mutation($n: String!) { createTeam(name: $n) { id } }`, map[string]any{"n": strings.Repeat("x", 101)}, "BAD_USER_INPUT", "name"},
		{"control character in name", stranger, `mutation($n: String!) { createTeam(name: $n) { id } }`, map[string]any{"n": "Ops\u001b[31m"}, "BAD_USER_INPUT", "name"},
		{"line break in name", stranger, `mutation($n: String!) { createTeam(name: $n) { id } }`, map[string]any{"n": "Ops\nTeam"}, "BAD_USER_INPUT", "name"},
		{"unknown team", owner, `{ team(id: "nope") { id } }`, nil, "NOT_FOUND", "id"},
		{"invite to an unknown team", owner, `mutation { inviteMember(teamId: "nope", link: true) { token } }`, nil, "NOT_FOUND", "teamId"},
		{"invite without email", owner, `mutation($t: ID!) { inviteMember(teamId: $t) { token } }`, map[string]any{"t": f.teamA}, "BAD_USER_INPUT", "email"},
		{"unknown invitation", stranger, accept, map[string]any{"k": "inv_unknown"}, "NOT_FOUND", "token"},
		{"expired invitation", stranger, accept, map[string]any{"k": expired}, "BAD_USER_INPUT", "token"},
		{"revoked invitation", stranger, accept, map[string]any{"k": revoked}, "BAD_USER_INPUT", "token"},
		{"reused invitation", stranger, accept, map[string]any{"k": reused}, "CONFLICT", "token"},
		{"wrong email", stranger, accept, map[string]any{"k": wrongEmail}, "FORBIDDEN", "token"},
		{"last owner leaving", owner, `mutation($t: ID!) { leaveTeam(teamId: $t) }`, map[string]any{"t": f.teamA}, "CONFLICT", "teamId"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := a.teamRows(t, f.teamA)
			_, errs := a.do(t, c.token, c.query, c.vars)
			requireError(t, errs, c.code, c.field, "")
			require.Equal(t, before, a.teamRows(t, f.teamA), "nothing changed")
		})
	}
	data, errs = a.do(t, stranger, `{ teams { id } }`, nil)
	require.Empty(t, errs)
	require.Empty(t, data["teams"], "the refused creations made no team, and no invitation let the stranger in")
}

// TestTeamsMembersCostFixedStatements: `teams { members { … } }` reads the caller's
// teams once and the members of all of them once, however many teams and members:
// the members' loader batches the teams, and each member's email comes in the same
// read.
func TestTeamsMembersCostFixedStatements(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			counter := &statementCounter{}
			a := startAppWith(t, testkit.DatabaseURL(t, d), wiring{queryHook: counter}, withoutRateLimits, anyTeamsPerOwner)
			small, _, _ := a.register(t, "few-teams@example.com")
			large, _, _ := a.register(t, "many-teams@example.com")
			var others []string
			for i := range 4 {
				token, _, _ := a.register(t, fmt.Sprintf("teammate-%d@example.com", i))
				others = append(others, token)
			}
			join := func(owner, teamName string, members []string) {
				data, errs := a.do(t, owner, `mutation($n: String!) { createTeam(name: $n) { id } }`, map[string]any{"n": teamName})
				require.Empty(t, errs)
				id := data["createTeam"].(map[string]any)["id"].(string)
				for _, m := range members {
					data, errs := a.do(t, owner, `mutation($t: ID!) { inviteMember(teamId: $t, link: true) { token } }`, map[string]any{"t": id})
					require.Empty(t, errs)
					_, errs = a.do(t, m, `mutation($k: String!) { acceptInvitation(token: $k) { id } }`, map[string]any{"k": data["inviteMember"].(map[string]any)["token"]})
					require.Empty(t, errs)
				}
			}
			join(small, "one", nil)
			for i := range 6 {
				join(large, fmt.Sprintf("team-%d", i), others)
			}
			q := `{ teams { id name role members { userId email role } } }`
			var smallBody, largeBody string
			nSmall, stmtsSmall := counter.count(func() { smallBody = a.raw(t, small, q) })
			nLarge, stmtsLarge := counter.count(func() { largeBody = a.raw(t, large, q) })
			require.NotContains(t, smallBody, `"errors"`, smallBody)
			require.NotContains(t, largeBody, `"errors"`, largeBody)
			require.Equal(t, 6*5, strings.Count(largeBody, `"userId"`), "six teams of five members")
			require.Equal(t, 6, strings.Count(largeBody, "teammate-3@example.com"))
			require.Equal(t, nSmall, nLarge, "the same statements whatever the number of teams:\n%s\n---\n%s",
				strings.Join(stmtsSmall, "\n"), strings.Join(stmtsLarge, "\n"))
			require.Equal(t, 2, nLarge, "the caller's teams, then every team's members: %s", strings.Join(stmtsLarge, "\n"))
		})
	}
}
