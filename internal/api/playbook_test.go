package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/catalog"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
	"github.com/inkgraph/inkgraph/models"
)

// echoLLM answers every request with the whole prompt it was sent: whatever of a
// template's text a response carries, the test sees.
func echoLLM(t *testing.T) *fakellm.Server {
	t.Helper()
	srv := fakellm.New(t)
	srv.Reply = func(req fakellm.Request) fakellm.Response {
		var b strings.Builder
		for _, m := range req.Body.Messages {
			b.WriteString(m.Content + "\n")
		}
		return fakellm.Response{Content: b.String()}
	}
	return srv
}

// requireNoTemplateText fails if text carries any piece of a template's body.
func requireNoTemplateText(t *testing.T, text string) {
	t.Helper()
	reg, err := catalog.BuiltinTemplates()
	require.NoError(t, err)
	for _, f := range reg.Fragments() {
		require.NotContains(t, text, f)
	}
}

func TestPlaybooksOverGraphQL(t *testing.T) {
	t.Parallel()
	llmSrv := echoLLM(t)
	a := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits)
	access, _, userID := a.register(t, "playbooks@example.com")
	ts := serve(t, a)

	// The free tier sees the free playbooks, and a playbook above it says what it needs.
	data, errs := a.do(t, access, `{ playbooks { id minTier variables { name required } steps { index kind templateId inputs { variable fromStep } from transform } }
		playbookTemplates { id name agent variables { name } } }`, nil)
	require.Empty(t, errs)
	var ids []string
	for _, p := range data["playbooks"].([]any) {
		ids = append(ids, p.(map[string]any)["id"].(string))
		require.Equal(t, "FREE", p.(map[string]any)["minTier"])
	}
	require.Equal(t, []string{"email_to_task", "meeting_agenda"}, ids)
	raw, _ := json.Marshal(data)
	requireNoTemplateText(t, string(raw))
	_, errs = a.do(t, access, `{ playbook(id: "weekly_report") { id } }`, nil)
	require.Equal(t, "PAYMENT_REQUIRED", errs[0].Extensions["code"])
	_, errs = a.do(t, access, `{ playbook(id: "nope") { id } }`, nil)
	require.Equal(t, "NOT_FOUND", errs[0].Extensions["code"])

	// A pro user sees the pro playbooks and their plans.
	_, err := a.db.NewUpdate().Table("users").Set("tier = ?", models.TierPro).Where("id = ?", userID).Exec(t.Context())
	require.NoError(t, err)
	data, errs = a.do(t, access, `{ playbook(id: "weekly_report") { id minTier steps { index kind inputs { variable fromStep } from transform } } }`, nil)
	require.Empty(t, errs)
	steps := data["playbook"].(map[string]any)["steps"].([]any)
	require.Len(t, steps, 3)
	require.Equal(t, "DATA", steps[1].(map[string]any)["kind"])
	require.EqualValues(t, 1, steps[1].(map[string]any)["from"])
	require.Equal(t, []any{map[string]any{"variable": "highlights", "fromStep": float64(2)}}, steps[2].(map[string]any)["inputs"])

	// executeTemplate answers without the template's text, even from a model that
	// repeats its whole prompt.
	data, errs = a.do(t, access, `mutation($v: [PlaybookValueInput!]) { executeTemplate(templateId: "email_to_task", variables: $v) {
		templateId output finishReason offline usage { totalTokens } } }`,
		map[string]any{"v": []map[string]string{{"name": "email", "value": "Please send the Q3 numbers by Friday. — Ana"}}})
	require.Empty(t, errs)
	exec := data["executeTemplate"].(map[string]any)
	require.Contains(t, exec["output"], "Please send the Q3 numbers by Friday", "the user's own input may come back")
	requireNoTemplateText(t, exec["output"].(string))
	require.Equal(t, false, exec["offline"])

	for _, tc := range []struct{ vars, field string }{
		{`[]`, "variables.email"},
		{`[{name: "email", value: "a"}, {name: "email", value: "b"}]`, "variables.email"},
		{`[{name: "email", value: "a"}, {name: "secret", value: "b"}]`, "variables.secret"},
	} {
		_, errs = a.do(t, access, `mutation { executeTemplate(templateId: "email_to_task", variables: `+tc.vars+`) { output } }`, nil)
		require.Len(t, errs, 1, tc.vars)
		require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], tc.vars)
		require.Equal(t, tc.field, errs[0].Extensions["field"], tc.vars)
	}

	// runPlaybook streams each step over the socket, the data step's output feeding
	// the last step, and no template text.
	ws := dialGraphQLWS(t, ts.URL, access)
	payload, err := json.Marshal(map[string]any{
		"query": `subscription($v: [PlaybookValueInput!]) { runPlaybook(id: "weekly_report", variables: $v) {
			runId seq type step delta output done { result calls outputs { step output } } error { code message step } } }`,
		"variables": map[string]any{"v": []map[string]string{{"name": "notes", "value": "- Signed Acme\n- Shipped v2"},
			{"name": "metrics", "value": "signups 120 (last week 90)"}}},
	})
	require.NoError(t, err)
	ws.write(t, wsMessage{ID: "pb", Type: "subscribe", Payload: payload})
	type event struct {
		Seq    int    `json:"seq"`
		Type   string `json:"type"`
		Step   int    `json:"step"`
		Delta  string `json:"delta"`
		Output string `json:"output"`
		Done   *struct {
			Result string `json:"result"`
			Calls  int    `json:"calls"`
		} `json:"done"`
		Error *struct{ Code, Message string } `json:"error"`
	}
	var events []event
	var everything strings.Builder
	for {
		m := ws.next(t)
		if m.Type == "complete" {
			break
		}
		require.Equal(t, "next", m.Type, "%s", m.Payload)
		everything.Write(m.Payload)
		var p struct {
			Data struct {
				RunPlaybook event `json:"runPlaybook"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(m.Payload, &p), string(m.Payload))
		events = append(events, p.Data.RunPlaybook)
	}
	var kinds []string
	for i, e := range events {
		require.Equal(t, i+1, e.Seq)
		if e.Type != "TOKEN" || kinds[len(kinds)-1] != "TOKEN" {
			kinds = append(kinds, e.Type)
		}
	}
	require.Equal(t, []string{"STEP_STARTED", "TOKEN", "STEP_FINISHED", "STEP_STARTED", "STEP_FINISHED",
		"STEP_STARTED", "TOKEN", "STEP_FINISHED", "DONE"}, kinds, "%+v", events[len(events)-1].Error)
	last := events[len(events)-1]
	require.Equal(t, 2, last.Done.Calls)
	require.Contains(t, last.Done.Result, "Signed Acme", "the highlights reached the report through the data step")
	requireNoTemplateText(t, everything.String())

	// Playbook runs are metered with chat.
	data, errs = a.do(t, access, `{ usage(days: 1) { rows { source requests } } }`, nil)
	require.Empty(t, errs)
	sources := map[string]float64{}
	for _, r := range data["usage"].(map[string]any)["rows"].([]any) {
		row := r.(map[string]any)
		sources[row["source"].(string)] += row["requests"].(float64)
	}
	require.Equal(t, float64(1), sources["playbook:weekly_report"])
	require.Equal(t, float64(1), sources["template:email_to_task"])
}

// TestChatPlanModeUsesThePlaybookTemplates asks chat for a plan: its steps name the
// server's templates by ID, never their text.
func TestChatPlanModeUsesThePlaybookTemplates(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits) // offline
	access, _, _ := a.register(t, "plan@example.com")
	data, errs := a.do(t, access, `mutation { sendChat(input: {message: "turn this email into a task", mode: PLAN}) {
		response finishReason offline plan { steps { index agent templateId title inputs } } } }`, nil)
	require.Empty(t, errs)
	reply := data["sendChat"].(map[string]any)
	require.Equal(t, "plan", reply["finishReason"])
	require.Equal(t, true, reply["offline"])
	steps := reply["plan"].(map[string]any)["steps"].([]any)
	require.NotEmpty(t, steps)
	reg, err := catalog.BuiltinTemplates()
	require.NoError(t, err)
	for _, s := range steps {
		_, ok := reg.Template(s.(map[string]any)["templateId"].(string))
		require.True(t, ok, "a plan step names a template the server has: %v", s)
	}

	// The plan's first step runs as it is.
	first := steps[0].(map[string]any)
	var vars []map[string]string
	for name, value := range first["inputs"].(map[string]any) {
		vars = append(vars, map[string]string{"name": name, "value": value.(string)})
	}
	data, errs = a.do(t, access, `mutation($id: ID!, $v: [PlaybookValueInput!]) { executeTemplate(templateId: $id, variables: $v) { output } }`,
		map[string]any{"id": first["templateId"], "v": vars})
	require.Empty(t, errs)
	require.NotEmpty(t, data["executeTemplate"].(map[string]any)["output"])
}
