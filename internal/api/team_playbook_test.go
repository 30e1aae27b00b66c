package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

const savePlaybookMutation = `mutation($in: SavePlaybookInput!) { savePlaybook(input: $in) {
	id name description custom minTier updatedAt variables { name required } steps { index kind title templateId variables { name value } inputs { variable fromStep } from transform } } }`

// agendaPlaybook is a free custom playbook: a task from an email, tidied, then an
// agenda to discuss it, whose prompt carries the space's business name.
func agendaPlaybook(name string) map[string]any {
	return map[string]any{
		"name": name, "description": "A task from an email, and a meeting about it.",
		"steps": []map[string]any{
			{"title": "Draft the task", "kind": "LLM", "templateId": "email_to_task"},
			{"title": "Tidy the task", "kind": "DATA", "from": 1, "transform": "trim"},
			{"title": "Plan the meeting", "kind": "LLM", "templateId": "meeting_agenda",
				"values": []map[string]string{{"name": "duration", "value": "20 minutes"}},
				"inputs": []map[string]any{{"variable": "meeting", "step": 2}}},
		},
	}
}

// TestTeamPlaybooksOverGraphQL: a team's admin saves a custom playbook in the team's
// space; its members list it and run it with the team's persona context, but may not
// save or delete; a stranger's attempt is NOT_FOUND; it is not in anyone's personal
// list; the save is in the team's audit log.
func TestTeamPlaybooksOverGraphQL(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withLLM(echoLLM(t).URL()), withoutRateLimits)
	users := map[string][2]string{}
	for _, name := range []string{actorsOwner, actorsAdmin, actorsMember, actorsOther, actorsStranger} {
		access, _, id := a.register(t, "team-"+name+"@example.com")
		users[name] = [2]string{access, id}
	}
	f := a.teamFixture(t, 1, users, "")
	admin, member, stranger := f.tokens[actorsAdmin], f.tokens[actorsMember], f.tokens[actorsStranger]

	// The team's brand, and the member's own, different one.
	_, errs := a.doIn(t, admin, f.teamA, `mutation { createBusinessInfo(input: {businessName: "Teamwork Bakery", description: "The team's bakery, with rye and sourdough."}) { id } }`, nil)
	require.Empty(t, errs)
	_, errs = a.do(t, member, `mutation { createBusinessInfo(input: {businessName: "Solo Corner Shop", description: "The member's own shop on the corner."}) { id } }`, nil)
	require.Empty(t, errs)

	// The admin saves it in the team.
	data, errs := a.doIn(t, admin, f.teamA, savePlaybookMutation, map[string]any{"in": agendaPlaybook("Email triage")})
	require.Empty(t, errs)
	saved := data["savePlaybook"].(map[string]any)
	id := saved["id"].(string)
	require.True(t, strings.HasPrefix(id, "custom_"), id)
	require.Equal(t, true, saved["custom"])
	require.Equal(t, "FREE", saved["minTier"])
	require.NotNil(t, saved["updatedAt"])
	steps := saved["steps"].([]any)
	require.Equal(t, []any{map[string]any{"name": "duration", "value": "20 minutes"}}, steps[2].(map[string]any)["variables"])
	require.Equal(t, []any{map[string]any{"variable": "meeting", "fromStep": float64(2)}}, steps[2].(map[string]any)["inputs"])

	// A member lists it and reads it in the team; nobody's personal list has it.
	data, errs = a.doIn(t, member, f.teamA, `{ playbooks { id custom } }`, nil)
	require.Empty(t, errs)
	require.Contains(t, data["playbooks"], map[string]any{"id": id, "custom": true})
	require.Contains(t, data["playbooks"], map[string]any{"id": "email_to_task", "custom": false})
	data, errs = a.doIn(t, member, f.teamA, `query($id: ID!) { playbook(id: $id) { name } }`, map[string]any{"id": id})
	require.Empty(t, errs)
	require.Equal(t, "Email triage", data["playbook"].(map[string]any)["name"])
	for _, who := range []string{actorsMember, actorsAdmin} {
		data, errs = a.do(t, f.tokens[who], `{ playbooks { id } }`, nil)
		require.Empty(t, errs)
		require.NotContains(t, data["playbooks"], map[string]any{"id": id}, who)
	}
	_, errs = a.do(t, member, `query($id: ID!) { playbook(id: $id) { name } }`, map[string]any{"id": id})
	require.Len(t, errs, 1)
	require.Equal(t, "NOT_FOUND", errs[0].Extensions["code"])
	require.Equal(t, "id", errs[0].Extensions["field"])

	// The member runs it over a socket acting in the team: the team's persona
	// context reaches the prompts, not the member's own.
	ts := serve(t, a)
	ws := dialInTeam(t, ts.URL, member, f.teamA)
	payload, err := json.Marshal(map[string]any{
		"query": `subscription($id: ID!, $v: [PlaybookValueInput!]) { runPlaybook(id: $id, variables: $v) {
			type step done { result calls outputs { step } } error { code message } } }`,
		"variables": map[string]any{"id": id, "v": []map[string]string{{"name": "email", "value": "Bake forty rye loaves for Friday. — Ana"}}},
	})
	require.NoError(t, err)
	ws.write(t, wsMessage{ID: "run", Type: "subscribe", Payload: payload})
	var last struct {
		Type string `json:"type"`
		Done *struct {
			Result  string `json:"result"`
			Calls   int    `json:"calls"`
			Outputs []any  `json:"outputs"`
		} `json:"done"`
		Error *struct{ Code, Message string } `json:"error"`
	}
	for {
		m := ws.next(t)
		if m.Type == "complete" {
			break
		}
		require.Equal(t, "next", m.Type, "%s", m.Payload)
		var p struct {
			Data struct {
				RunPlaybook json.RawMessage `json:"runPlaybook"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(m.Payload, &p), string(m.Payload))
		require.NoError(t, json.Unmarshal(p.Data.RunPlaybook, &last))
	}
	require.Equal(t, "DONE", last.Type, "%+v", last.Error)
	require.Equal(t, 2, last.Done.Calls)
	require.Len(t, last.Done.Outputs, 3)
	require.Contains(t, last.Done.Result, "Teamwork Bakery")
	require.Contains(t, last.Done.Result, "Bake forty rye loaves")
	require.NotContains(t, last.Done.Result, "Solo Corner Shop")
	requireNoTemplateText(t, last.Done.Result)

	// A member may not save or delete in the team (FORBIDDEN, field team); a
	// stranger is not in it (NOT_FOUND, field team). Nothing changes.
	before := a.customPlaybookRows(t)
	replace := agendaPlaybook("Renamed")
	replace["id"] = id
	for _, tc := range []struct {
		who, code string
	}{{actorsMember, "FORBIDDEN"}, {actorsStranger, "NOT_FOUND"}} {
		token := f.tokens[tc.who]
		_, errs = a.doIn(t, token, f.teamA, savePlaybookMutation, map[string]any{"in": agendaPlaybook("Mine")})
		require.Len(t, errs, 1, tc.who)
		require.Equal(t, tc.code, errs[0].Extensions["code"], tc.who)
		require.Equal(t, "team", errs[0].Extensions["field"], tc.who)
		_, errs = a.doIn(t, token, f.teamA, savePlaybookMutation, map[string]any{"in": replace})
		require.Len(t, errs, 1, tc.who)
		require.Equal(t, tc.code, errs[0].Extensions["code"], tc.who)
		_, errs = a.doIn(t, token, f.teamA, `mutation($id: ID!) { deletePlaybook(id: $id) { id } }`, map[string]any{"id": id})
		require.Len(t, errs, 1, tc.who)
		require.Equal(t, tc.code, errs[0].Extensions["code"], tc.who)
		require.Equal(t, "team", errs[0].Extensions["field"], tc.who)
	}
	// Outside the team, the team's playbook is no one else's to replace or delete.
	_, errs = a.do(t, stranger, savePlaybookMutation, map[string]any{"in": replace})
	require.Len(t, errs, 1)
	require.Equal(t, "NOT_FOUND", errs[0].Extensions["code"])
	require.Equal(t, "input.id", errs[0].Extensions["field"])
	_, errs = a.do(t, admin, `mutation($id: ID!) { deletePlaybook(id: $id) { id } }`, map[string]any{"id": id})
	require.Len(t, errs, 1)
	require.Equal(t, "NOT_FOUND", errs[0].Extensions["code"])
	require.Equal(t, "id", errs[0].Extensions["field"])
	require.Equal(t, before, a.customPlaybookRows(t))

	// A bad input names its field, and a template above the team's plan is
	// PAYMENT_REQUIRED.
	bad := agendaPlaybook("Bad")
	bad["steps"].([]map[string]any)[2]["templateId"] = "nope"
	_, errs = a.doIn(t, admin, f.teamA, savePlaybookMutation, map[string]any{"in": bad})
	require.Len(t, errs, 1)
	require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"])
	require.Equal(t, "input.steps[3].templateId", errs[0].Extensions["field"])
	bad["steps"].([]map[string]any)[2]["templateId"] = "weekly_report"
	bad["steps"].([]map[string]any)[2]["values"] = nil
	bad["steps"].([]map[string]any)[2]["inputs"] = []map[string]any{{"variable": "highlights", "step": 2}}
	_, errs = a.doIn(t, admin, f.teamA, savePlaybookMutation, map[string]any{"in": bad})
	require.Len(t, errs, 1)
	require.Equal(t, "PAYMENT_REQUIRED", errs[0].Extensions["code"])
	require.Equal(t, "input.steps[3].templateId", errs[0].Extensions["field"])
	_, errs = a.doIn(t, admin, f.teamA, savePlaybookMutation, map[string]any{"in": agendaPlaybook("Email triage")})
	require.Len(t, errs, 1)
	require.Equal(t, "CONFLICT", errs[0].Extensions["code"])
	require.Equal(t, "input.name", errs[0].Extensions["field"])
	require.Equal(t, before, a.customPlaybookRows(t))

	// The save is in the team's audit log, as a brand edit by the admin; refused
	// saves are not.
	require.ElementsMatch(t, []string{"createBusinessInfo", "savePlaybook"}, a.teamBrandEdits(t, f.tokens[actorsOwner], f.teamA))

	// The admin deletes it; it is gone for the members, and the delete is audited.
	data, errs = a.doIn(t, admin, f.teamA, `mutation($id: ID!) { deletePlaybook(id: $id) { id name custom } }`, map[string]any{"id": id})
	require.Empty(t, errs)
	require.Equal(t, map[string]any{"id": id, "name": "Email triage", "custom": true}, data["deletePlaybook"])
	_, errs = a.doIn(t, member, f.teamA, `query($id: ID!) { playbook(id: $id) { name } }`, map[string]any{"id": id})
	require.Len(t, errs, 1)
	require.Equal(t, "NOT_FOUND", errs[0].Extensions["code"])
	require.Equal(t, "[]", a.customPlaybookRows(t))
	require.ElementsMatch(t, []string{"createBusinessInfo", "savePlaybook", "deletePlaybook"}, a.teamBrandEdits(t, f.tokens[actorsOwner], f.teamA))
}

// teamBrandEdits lists the fields of the team's TEAM_BRAND_EDITED audit entries whose
// outcome was ok (an admin's attempt that failed is on record with its code).
func (a *app) teamBrandEdits(t *testing.T, token, team string) []string {
	t.Helper()
	var edits []string
	for _, detail := range a.brandEditLog(t, token, team) {
		if detail["outcome"] == "ok" {
			edits = append(edits, detail["field"])
		}
	}
	return edits
}

// TestPersonalPlaybooksOverGraphQL: without a team, a user saves, lists, runs over
// SSE and deletes their own custom playbook.
func TestPersonalPlaybooksOverGraphQL(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withLLM(echoLLM(t).URL()), withoutRateLimits)
	access, _, _ := a.register(t, "own-playbooks@example.com")
	in := agendaPlaybook("Mine")
	in["variables"] = []map[string]any{{"name": "email", "description": "The email", "required": true}}
	data, errs := a.do(t, access, savePlaybookMutation, map[string]any{"in": in})
	require.Empty(t, errs)
	saved := data["savePlaybook"].(map[string]any)
	id := saved["id"].(string)
	require.Equal(t, []any{map[string]any{"name": "email", "required": true}}, saved["variables"])

	ts := serve(t, a)
	events := subscribeSSE(t, t.Context(), ts.URL, access,
		`subscription { runPlaybook(id: "`+id+`", variables: [{name: "email", value: "Order more rye flour."}]) { type done { calls } error { code } } }`)
	var last string
	for ev := range events {
		if ev.name == "next" {
			last = ev.data
		}
	}
	require.Contains(t, last, `"type":"DONE"`)
	require.Contains(t, last, `"calls":2`)

	data, errs = a.do(t, access, `mutation($id: ID!) { deletePlaybook(id: $id) { id } }`, map[string]any{"id": id})
	require.Empty(t, errs)
	require.Equal(t, id, data["deletePlaybook"].(map[string]any)["id"])
}

// customPlaybookRows is every custom playbook row, for comparing before and after.
func (a *app) customPlaybookRows(t *testing.T) string {
	t.Helper()
	var rows []struct {
		ID, UserID, Name, Spec string
	}
	require.NoError(t, a.db.NewSelect().Table("custom_playbooks").Column("id", "user_id", "name", "spec").
		Order("id").Scan(t.Context(), &rows))
	b, err := json.Marshal(rows)
	require.NoError(t, err)
	if rows == nil {
		return "[]"
	}
	return string(b)
}
