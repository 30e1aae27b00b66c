package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
	"github.com/inkgraph/inkgraph/internal/testkit/stripemock"
	"github.com/inkgraph/inkgraph/models"
)

// mustIn is doIn that fails the test on any error.
func (a *app) mustIn(t testing.TB, token, team, query string, vars map[string]any) map[string]any {
	t.Helper()
	data, errs := a.doIn(t, token, team, query, vars)
	require.Empty(t, errs, query)
	return data
}

// spaceTables are the tables keyed by user_id that a space's data lives in.
var spaceTables = []string{
	"business_infos", "chat_settings", "custom_playbooks", "documents", "document_tags", "document_chunks",
	"ingestion_jobs", "llm_usage", "onboarding_integrations", "onboarding_progress", "onboarding_steps",
	"personas", "provider_keys", "research_preferences", "website_analyses", "conversations",
	"conversation_messages", "chat_approvals",
}

// spaceRows is every row of the spaces ids (a user's or a team's) in spaceTables, and
// every audit entry of theirs (user_id or team_id), for comparing before and after.
func (a *app) spaceRows(t testing.TB, ids ...string) string {
	t.Helper()
	return a.rowsOf(t, ids, "user_id IN (?) OR team_id IN (?)", bun.List(ids), bun.List(ids))
}

// personalRows is spaceRows of the user's own space: their entries about a team they
// acted in (team_id set) are left out.
func (a *app) personalRows(t testing.TB, userID string) string {
	t.Helper()
	return a.rowsOf(t, []string{userID}, "user_id = ? AND COALESCE(team_id, '') = ''", userID)
}

// rowsOf is the rows of ids in spaceTables, and the audit entries auditWhere selects.
func (a *app) rowsOf(t testing.TB, ids []string, auditWhere string, auditArgs ...any) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, table := range spaceTables {
		var rows []map[string]any
		require.NoError(t, a.db.NewSelect().Table(table).Where("user_id IN (?)", bun.List(ids)).OrderExpr("1").Scan(ctx, &rows), table)
		fmt.Fprintf(&b, "%s: %v\n", table, rows)
	}
	var audit []map[string]any
	require.NoError(t, a.db.NewSelect().Table("audit_log").Where(auditWhere, auditArgs...).OrderExpr("id").Scan(ctx, &audit))
	fmt.Fprintf(&b, "audit_log: %v\n", audit)
	return b.String()
}

// teamSpace is a team A (owner, admin, member), a team B with its own member, and a
// stranger in no team.
type teamSpace struct {
	a            *app
	teamA, teamB string
	tokens, ids  map[string]string
}

const spaceOwner, spaceAdmin, spaceMember, spaceOther, spaceStranger = "owner", "admin", "member", "other", "stranger"

func newTeamSpace(t *testing.T, a *app, prefix string) *teamSpace {
	t.Helper()
	s := &teamSpace{a: a, tokens: map[string]string{}, ids: map[string]string{}}
	for _, name := range []string{spaceOwner, spaceAdmin, spaceMember, spaceOther, spaceStranger, "ownerB"} {
		access, _, id := a.register(t, prefix+"-"+name+"@example.com")
		s.tokens[name], s.ids[name] = access, id
	}
	create := `mutation($n: String!) { createTeam(name: $n) { id } }`
	invite := `mutation($t: ID!, $r: TeamRole!) { inviteMember(teamId: $t, role: $r, link: true) { token } }`
	accept := `mutation($k: String!) { acceptInvitation(token: $k) { id } }`
	join := func(owner, team, who, role string) {
		tok := a.mustIn(t, s.tokens[owner], "", invite, map[string]any{"t": team, "r": role})["inviteMember"].(map[string]any)["token"]
		a.mustIn(t, s.tokens[who], "", accept, map[string]any{"k": tok})
	}
	s.teamA = a.mustIn(t, s.tokens[spaceOwner], "", create, map[string]any{"n": prefix + " A"})["createTeam"].(map[string]any)["id"].(string)
	join(spaceOwner, s.teamA, spaceAdmin, "ADMIN")
	join(spaceOwner, s.teamA, spaceMember, "MEMBER")
	s.teamB = a.mustIn(t, s.tokens["ownerB"], "", create, map[string]any{"n": prefix + " B"})["createTeam"].(map[string]any)["id"].(string)
	join("ownerB", s.teamB, spaceOther, "MEMBER")
	return s
}

// settle waits until none of the team's documents is still being ingested, so that
// the app's worker changes no row while a test compares them.
func (s *teamSpace) settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := s.a.db.NewSelect().Table("documents").Where("user_id = ?", s.teamA).
			Where("state IN ('QUEUED', 'EXTRACTING', 'EMBEDDING')").Count(context.Background())
		require.NoError(t, err)
		jobs, err := s.a.db.NewSelect().Table("ingestion_jobs").Where("user_id = ?", s.teamA).
			Where("state IN ('QUEUED', 'RUNNING')").Count(context.Background())
		require.NoError(t, err)
		if n == 0 && jobs == 0 {
			return
		}
		require.True(t, time.Now().Before(deadline), "the team's documents are still being ingested")
		time.Sleep(20 * time.Millisecond)
	}
}

// latest is the newest row's id of table in the team's space.
func (s *teamSpace) latest(t *testing.T, table string) string {
	t.Helper()
	var id string
	require.NoError(t, s.a.db.NewSelect().Table(table).Column("id").Where("user_id = ?", s.teamA).
		OrderExpr("created_at DESC, id DESC").Limit(1).Scan(context.Background(), &id), table)
	return id
}

// spaceLLM answers the persona generation, the website's style analysis, the chat's
// router and its agents, and records what each request carried.
func spaceLLM(t testing.TB) *fakellm.Server {
	t.Helper()
	f := fakellm.New(t)
	f.Reply = func(req fakellm.Request) fakellm.Response {
		system := ""
		if len(req.Body.Messages) > 0 {
			system = req.Body.Messages[0].Content
		}
		switch {
		case strings.Contains(system, "writing personas"):
			return fakellm.Response{Content: `{"name":"Team Voice","archetype":"The Guide","summary":"A friendly guide.",
				"tone":["friendly"],"voice":"We speak to you directly.","audience":"founders",
				"vocabularyLevel":"plain","sentenceStyle":"short","keyTopics":["orchards"],
				"do":["use examples"],"dont":["use jargon"],"sampleOpening":"Hello.",
				"platformPersonas":[{"platform":"LINKEDIN","tone":"professional","format":"short post","maxLength":3000,"idealLength":"150 words","hashtags":3,"emojiUse":"SPARING","postingGuidance":["lead with a question"]}]}`}
		case len(req.Body.Tools) > 0:
			return fakellm.Response{Content: chatAnswer}
		case strings.Contains(system, "You route requests"):
			return fakellm.Response{Content: "task", Usage: &fakellm.Usage{PromptTokens: 20, CompletionTokens: 1, TotalTokens: 21}}
		case strings.Contains(strings.ToLower(system), "style"):
			return fakellm.Response{Content: `{"tone":"friendly","voice":"first person plural","audience":"small teams","complexity":"plain","keyMessages":["answers"],"observations":["short sentences"]}`}
		}
		return fakellm.Response{Content: chatAnswer}
	}
	return f
}

const ciderPage = `<html><head><title>Cider guide</title></head><body><h1>Cider</h1>
<p>Press the apples within a day of milling, and let the juice ferment cool.</p></body></html>`

// TestTeamSpaceIsolation runs every @inTeam root field in team A's space as its owner,
// admin and member, as team B's member and as a stranger: owners and admins do
// everything, members what needs MEMBER (FORBIDDEN, field team, otherwise); others
// are NOT_FOUND, field team. A refused call returns no data and changes no row of
// the team's space, its audit log, or the caller's own space.
func TestTeamSpaceIsolation(t *testing.T) {
	t.Parallel()
	llmSrv := spaceLLM(t)
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			// Keys are checked live against a provider that takes any.
			provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(`{"object":"list","data":[]}`))
			}))
			t.Cleanup(provider.Close)
			a := newApp(t, d, withoutRateLimits, withLLM(llmSrv.URL()), func(c *config.Config) {
				c.LiveKeyCheck = true
				c.ProviderBaseURLs = map[string]string{"openai": provider.URL}
			})
			s := newTeamSpace(t, a, "iso-"+string(d))
			siteURL := site(t, sitePage)
			docSite := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = w.Write([]byte(ciderPage))
			}))
			t.Cleanup(docSite.Close)
			owner := s.tokens[spaceOwner]
			ensureBusiness := func(t *testing.T) {
				data := a.mustIn(t, owner, s.teamA, `{ businessInfo { id } }`, nil)
				if data["businessInfo"] == nil {
					a.mustIn(t, owner, s.teamA, `mutation { createBusinessInfo(input: {businessName: "Team Co", description: "The team's shared business, described."}) { id } }`, nil)
				}
			}
			addDoc := func(t *testing.T) {
				a.mustIn(t, owner, s.teamA, `mutation($u: String!) { addDocumentFromUrl(input: {url: $u, tags: ["web"]}) { id } }`,
					map[string]any{"u": docSite.URL + "/cider"})
				s.settle(t)
			}
			docVar := func(t *testing.T) map[string]any {
				var id string
				require.NoError(t, a.db.NewSelect().Table("documents").Column("id").Where("user_id = ?", s.teamA).
					Where("state = 'READY'").OrderExpr("created_at DESC, id DESC").Limit(1).Scan(context.Background(), &id))
				return map[string]any{"id": id}
			}
			type op struct {
				name, role, query string
				vars              func(t *testing.T) map[string]any
				// before runs before each admitted call (as the owner, in the team).
				before func(t *testing.T)
				// settle: the call starts an ingestion; wait for it after an admitted call.
				settle bool
			}
			ops := []op{
				{name: "startOnboarding", role: "ADMIN", query: `mutation { startOnboarding { currentStep } }`},
				{name: "saveProviderKey", role: "ADMIN", query: `mutation($k: String!) { saveProviderKey(provider: "openai", key: $k) { masked } }`,
					vars: func(*testing.T) map[string]any { return map[string]any{"k": openAIKey} }},
				{name: "verifyProviderKey", role: "ADMIN", query: `mutation { verifyProviderKey(provider: "openai") { masked } }`},
				{name: "completeStep", role: "ADMIN", query: `mutation { completeStep(step: 1) { currentStep } }`},
				{name: "analyzeWebsite", role: "ADMIN", query: `mutation($u: String!) { analyzeWebsite(url: $u) { title } }`,
					vars: func(*testing.T) map[string]any { return map[string]any{"u": siteURL} }},
				{name: "completeStep 2", role: "ADMIN", query: `mutation { completeStep(step: 2) { currentStep } }`},
				{name: "saveResearchPreferences", role: "ADMIN", query: `mutation { saveResearchPreferences(input: {depth: STANDARD, contentTypes: [BLOG_POST]}) { depth } }`},
				{name: "completeStep 3", role: "ADMIN", query: `mutation { completeStep(step: 3) { currentStep } }`},
				{name: "skipStep", role: "ADMIN", query: `mutation { skipStep(step: 5) { currentStep } }`},
				{name: "completeOnboarding", role: "ADMIN", query: `mutation { completeOnboarding { completed } }`},
				{name: "setIntegrations", role: "ADMIN", query: `mutation { setIntegrations(kinds: [WORDPRESS]) { kind } }`},
				{name: "createBusinessInfo", role: "ADMIN", query: `mutation { createBusinessInfo(input: {businessName: "Team Co", description: "The team's shared business, described."}) { id } }`,
					before: func(t *testing.T) { a.mustIn(t, owner, s.teamA, `mutation { deleteBusinessInfo }`, nil) }},
				{name: "updateBusinessInfo", role: "ADMIN", query: `mutation { updateBusinessInfo(input: {businessName: "Team Co Renamed"}) { businessName } }`},
				{name: "previewPersona", role: "MEMBER", query: `mutation { previewPersona { source } }`},
				{name: "generatePersona", role: "ADMIN", query: `mutation { generatePersona { id } }`},
				{name: "setActivePersona", role: "ADMIN", query: `mutation($id: ID!) { setActivePersona(id: $id) { id } }`,
					vars: func(t *testing.T) map[string]any { return map[string]any{"id": s.latest(t, "personas")} }},
				{name: "onboarding", role: "MEMBER", query: summaryQuery},
				{name: "businessInfo", role: "MEMBER", query: `{ businessInfo { businessName } }`},
				{name: "personas", role: "MEMBER", query: `{ personas { id } }`},
				{name: "personaReadiness", role: "MEMBER", query: `{ personaReadiness { ready } }`},
				{name: "personalization", role: "MEMBER", query: `{ personalization { businessName personaId } }`},
				{name: "addDocumentFromUrl", role: "ADMIN", query: `mutation($u: String!) { addDocumentFromUrl(input: {url: $u, tags: ["web"]}) { id } }`,
					vars: func(*testing.T) map[string]any { return map[string]any{"u": docSite.URL + "/cider"} }, settle: true},
				{name: "addDocument", role: "ADMIN", query: `mutation { addDocument(input: {title: "Notes", mediaType: "text/plain", sizeBytes: 5,
					checksum: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}) { document { id } } }`,
					// An upload that never comes would stay UPLOADING: the next call deletes it.
					settle: false},
				{name: "deleteDocument of the upload", role: "ADMIN", query: `mutation($id: ID!) { deleteDocument(id: $id) { id } }`,
					vars: func(t *testing.T) map[string]any {
						var id string
						require.NoError(t, a.db.NewSelect().Table("documents").Column("id").Where("user_id = ?", s.teamA).
							Where("state = 'UPLOADING'").Where("COALESCE(error, '') = ''").Limit(1).Scan(context.Background(), &id))
						return map[string]any{"id": id}
					},
					before: func(t *testing.T) {
						a.mustIn(t, owner, s.teamA, `mutation { addDocument(input: {title: "Notes", mediaType: "text/plain", sizeBytes: 5,
							checksum: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}) { document { id } } }`, nil)
					}},
				{name: "documents", role: "MEMBER", query: `{ documents(first: 5) { edges { node { id title } } } }`},
				{name: "document", role: "MEMBER", query: `query($id: ID!) { document(id: $id) { id } }`, vars: docVar},
				{name: "searchDocuments", role: "MEMBER", query: `{ searchDocuments(query: "ferment the juice") { documentId } }`},
				{name: "renameDocument", role: "ADMIN", query: `mutation($id: ID!) { renameDocument(id: $id, title: "Cider") { id } }`, vars: docVar},
				{name: "setDocumentTags", role: "ADMIN", query: `mutation($id: ID!) { setDocumentTags(id: $id, tags: ["cider"]) { id } }`, vars: docVar},
				{name: "reingestDocument", role: "ADMIN", query: `mutation($id: ID!) { reingestDocument(id: $id) { id } }`, vars: docVar, settle: true},
				{name: "agents", role: "MEMBER", query: `{ agents { name allowed } }`},
				{name: "usage", role: "MEMBER", query: `{ usage(days: 1) { monthTokens } }`},
				{name: "chatQuote", role: "MEMBER", query: `{ chatQuote(input: {message: "list my open tasks"}) { estimatedPromptTokens } }`},
				{name: "sendChat", role: "MEMBER", query: `mutation { sendChat(input: {message: "list my open tasks"}) { response } }`},
				{name: "playbooks", role: "MEMBER", query: `{ playbooks { id } playbookTemplates { id } }`},
				{name: "executeTemplate", role: "MEMBER", query: `mutation { executeTemplate(templateId: "email_to_task", variables: [{name: "email", value: "Send the Q3 numbers. — Ana"}]) { output } }`},
				{name: "deleteDocument", role: "ADMIN", query: `mutation($id: ID!) { deleteDocument(id: $id) { id } }`, vars: docVar, before: addDoc},
				{name: "deleteProviderKey", role: "ADMIN", query: `mutation { deleteProviderKey(provider: "openai") }`,
					before: func(t *testing.T) {
						a.mustIn(t, owner, s.teamA, `mutation($k: String!) { saveProviderKey(provider: "openai", key: $k) { masked } }`, map[string]any{"k": openAIKey})
					}},
				{name: "deleteBusinessInfo", role: "ADMIN", query: `mutation { deleteBusinessInfo }`, before: ensureBusiness},
				{name: "resetOnboarding", role: "ADMIN", query: `mutation { resetOnboarding(deleteData: false) { dataDeleted } }`},
			}
			for _, o := range ops {
				vars := func(t *testing.T) map[string]any {
					if o.vars == nil {
						return nil
					}
					return o.vars(t)
				}
				// The refused first, while the space is as the admitted left it.
				refused := map[string]string{spaceOther: "NOT_FOUND", spaceStranger: "NOT_FOUND"}
				if o.role == "ADMIN" {
					refused[spaceMember] = "FORBIDDEN"
				}
				for _, who := range []string{spaceMember, spaceOther, spaceStranger} {
					code, ok := refused[who]
					if !ok {
						continue
					}
					before := a.spaceRows(t, s.teamA, s.ids[who])
					data, errs := a.doIn(t, s.tokens[who], s.teamA, o.query, vars(t))
					require.Len(t, errs, 1, "%s as %s: %+v", o.name, who, errs)
					require.Equal(t, code, errs[0].Extensions["code"], "%s as %s: %s", o.name, who, errs[0].Message)
					require.Equal(t, "team", errs[0].Extensions["field"], "%s as %s", o.name, who)
					require.Empty(t, data, "%s as %s", o.name, who)
					require.Equal(t, before, a.spaceRows(t, s.teamA, s.ids[who]), "%s as %s changed nothing", o.name, who)
				}
				admitted := []string{spaceOwner, spaceAdmin}
				if o.role == "MEMBER" {
					admitted = append(admitted, spaceMember)
				}
				for _, who := range admitted {
					if o.before != nil {
						o.before(t)
					}
					personal := a.personalRows(t, s.ids[who])
					data, errs := a.doIn(t, s.tokens[who], s.teamA, o.query, vars(t))
					require.Empty(t, errs, "%s as %s", o.name, who)
					require.NotEmpty(t, data, "%s as %s", o.name, who)
					if o.settle {
						s.settle(t)
					}
					if o.name != "sendChat" { // a chat's conversation is the caller's own
						require.Equal(t, personal, a.personalRows(t, s.ids[who]), "%s as %s acts in the team, not the caller's space", o.name, who)
					}
				}
			}
		})
	}
}

// auditKinds returns the kind and field detail ("KIND field") of every entry of a
// page of an audit log.
func auditKinds(conn any) []string {
	var out []string
	for _, e := range conn.(map[string]any)["edges"].([]any) {
		node := e.(map[string]any)["node"].(map[string]any)
		entry := node["kind"].(string)
		for _, f := range node["detail"].([]any) {
			if kv := f.(map[string]any); kv["key"] == "field" {
				entry += " " + kv["value"].(string)
			}
		}
		out = append(out, entry)
	}
	return out
}

// allowedAgents counts the agents an answer of `agents { allowed }` allows.
func allowedAgents(data map[string]any) int {
	n := 0
	for _, ag := range data["agents"].([]any) {
		if ag.(map[string]any)["allowed"].(bool) {
			n++
		}
	}
	return n
}

// dialInTeam opens a graphql-transport-ws socket whose connection_init names the team.
func dialInTeam(t testing.TB, serverURL, token, team string) *wsClient {
	t.Helper()
	return dialGraphQLWSWith(t, serverURL, map[string]string{"authorization": "Bearer " + token, "team": team})
}

// TestActingInATeam follows a team's shared brand from its admin to its members: what
// an admin sets up in the team a member sees and chats with there (the model gets the
// team's brand, the team pays), and not without the header; the team's plan is its
// members' there, until its subscription ends; brand edits are audited in the team's
// log and the admin's; sockets act in the team their connection_init names; a bad
// header is refused, and ignored by personal fields; deleting the team deletes its
// space's data.
func TestActingInATeam(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			llmSrv := spaceLLM(t)
			a := newApp(t, d, withoutRateLimits, withLLM(llmSrv.URL()))
			ts := serve(t, a)
			s := newTeamSpace(t, a, "act-"+string(d))
			ctx := context.Background()
			owner, admin, member, stranger := s.tokens[spaceOwner], s.tokens[spaceAdmin], s.tokens[spaceMember], s.tokens[spaceStranger]
			const brand = "Orchard Collective"

			// The admin sets the team's brand up, in the team.
			a.mustIn(t, admin, s.teamA, `mutation($n: String!) { createBusinessInfo(input: {businessName: $n, description: "Cider and apples from a shared orchard."}) { id } }`,
				map[string]any{"n": brand})
			a.mustIn(t, admin, s.teamA, `mutation { saveResearchPreferences(input: {depth: STANDARD, contentTypes: [BLOG_POST]}) { depth } }`, nil)
			persona := a.mustIn(t, admin, s.teamA, `mutation { generatePersona { id } }`, nil)["generatePersona"].(map[string]any)["id"].(string)
			a.mustIn(t, admin, s.teamA, `mutation($id: ID!) { setActivePersona(id: $id) { id } }`, map[string]any{"id": persona})

			t.Run("members use the shared brand", func(t *testing.T) {
				const q = `{ onboarding { businessInfo { businessName } activePersona { id } } personalization { businessName personaId } }`
				data := a.mustIn(t, member, s.teamA, q, nil)
				require.Equal(t, brand, data["onboarding"].(map[string]any)["businessInfo"].(map[string]any)["businessName"])
				require.Equal(t, persona, data["onboarding"].(map[string]any)["activePersona"].(map[string]any)["id"])
				require.Equal(t, brand, data["personalization"].(map[string]any)["businessName"])
				require.Equal(t, persona, data["personalization"].(map[string]any)["personaId"])

				data = a.mustIn(t, member, "", q, nil)
				require.Nil(t, data["onboarding"].(map[string]any)["businessInfo"], "the member's own space is empty")
				require.Nil(t, data["onboarding"].(map[string]any)["activePersona"])
				require.Empty(t, data["personalization"].(map[string]any)["businessName"])
				require.Nil(t, data["personalization"].(map[string]any)["personaId"])
			})

			t.Run("a member's chat in the team uses its brand and is booked to it", func(t *testing.T) {
				carried := func(from int) bool {
					for _, r := range llmSrv.Requests()[from:] {
						for _, m := range r.Body.Messages {
							if strings.Contains(m.Content, brand) {
								return true
							}
						}
					}
					return false
				}
				const usage = `{ usage(days: 1) { monthTokens } }`
				monthTokens := func(team string) float64 {
					return a.mustIn(t, member, team, usage, nil)["usage"].(map[string]any)["monthTokens"].(float64)
				}
				teamBefore := monthTokens(s.teamA)
				n := len(llmSrv.Requests())
				reply := a.mustIn(t, member, s.teamA, `mutation { sendChat(input: {message: "list my open tasks"}) { response offline } }`, nil)["sendChat"].(map[string]any)
				require.Equal(t, false, reply["offline"])
				require.True(t, carried(n), "the model was told the team's brand")
				require.Greater(t, monthTokens(s.teamA), teamBefore, "the team's usage counts the member's chat")
				require.Zero(t, monthTokens(""), "the member's own usage does not")

				n = len(llmSrv.Requests())
				a.mustIn(t, member, "", `mutation { sendChat(input: {message: "list my open tasks"}) { response } }`, nil)
				require.False(t, carried(n), "without the header the member chats with their own (empty) brand")
				require.Positive(t, monthTokens(""))
			})

			t.Run("brand edits are audited in the team's log and the admin's", func(t *testing.T) {
				teamLog := func() []string {
					return auditKinds(a.mustIn(t, owner, "", `query($t: ID!) { teamAuditLog(teamId: $t, first: 100) { edges { node { kind detail { key value } } } } }`,
						map[string]any{"t": s.teamA})["teamAuditLog"])
				}
				kinds := teamLog()
				for _, f := range []string{"createBusinessInfo", "generatePersona", "setActivePersona"} {
					require.Contains(t, kinds, "TEAM_BRAND_EDITED "+f)
				}
				own := auditKinds(a.mustIn(t, admin, "", `{ me { auditLog(first: 100) { edges { node { kind detail { key value } } } } } }`, nil)["me"].(map[string]any)["auditLog"])
				require.Contains(t, own, "TEAM_BRAND_EDITED createBusinessInfo")

				before := countRows(t, a.db, "audit_log")
				_, errs := a.doIn(t, member, s.teamA, `mutation { updateBusinessInfo(input: {businessName: "Hijacked"}) { id } }`, nil)
				requireError(t, errs, "FORBIDDEN", "team", "")
				require.Equal(t, before, countRows(t, a.db, "audit_log"), "a refused edit records nothing")

				a.mustIn(t, admin, s.teamA, `mutation($k: String!) { saveProviderKey(provider: "openai", key: $k) { masked } }`, map[string]any{"k": openAIKey})
				var teamIDs []string
				require.NoError(t, a.db.NewSelect().Table("audit_log").Column("team_id").Where("user_id = ?", s.ids[spaceAdmin]).
					Where("kind = 'PROVIDER_KEY_SAVED'").Scan(ctx, &teamIDs))
				require.Equal(t, []string{s.teamA}, teamIDs)
				require.Contains(t, teamLog(), "PROVIDER_KEY_SAVED")
			})

			t.Run("sockets act in the team connection_init names", func(t *testing.T) {
				const sub = `subscription { onboardingProgress { currentStep completed } }`
				ws := dialInTeam(t, ts.URL, member, s.teamA)
				ws.subscribe(t, "p", sub)
				first := ws.next(t)
				require.Equal(t, "next", first.Type, "%s", first.Payload)
				// A change in the team's space reaches the member's socket.
				a.mustIn(t, admin, s.teamA, `mutation { startOnboarding { currentStep } }`, nil)
				ev := ws.next(t)
				require.Equal(t, "next", ev.Type, "%s", ev.Payload)
				require.Equal(t, "p", ev.ID)
				ws.stop(t, "p")

				out := dialInTeam(t, ts.URL, stranger, s.teamA)
				out.subscribe(t, "x", sub)
				m := out.next(t)
				var errs []gqlError
				if m.Type == "next" {
					var p struct {
						Errors []gqlError `json:"errors"`
					}
					require.NoError(t, json.Unmarshal(m.Payload, &p))
					errs = p.Errors
				} else {
					require.Equal(t, "error", m.Type, "%s", m.Payload)
					require.NoError(t, json.Unmarshal(m.Payload, &errs))
				}
				requireError(t, errs, "NOT_FOUND", "team", "")
			})

			t.Run("a bad header", func(t *testing.T) {
				// A blank header is refused too, rather than acting in the caller's own space.
				for _, junk := range []string{"x;y", strings.Repeat("a", 200), " "} {
					before := a.spaceRows(t, s.teamA, s.ids[spaceMember])
					data, errs := a.doIn(t, member, junk, `mutation { createBusinessInfo(input: {businessName: "Junk", description: "Nothing to see here at all."}) { id } }`, nil)
					requireError(t, errs, "BAD_USER_INPUT", "team", "")
					require.Empty(t, data)
					require.Equal(t, before, a.spaceRows(t, s.teamA, s.ids[spaceMember]))
					// Personal fields act on the caller's own data, whatever the header says.
					data, errs = a.doIn(t, member, junk, `{ me { id } backups { edges { node { id } } } }`, nil)
					require.Empty(t, errs)
					require.Equal(t, s.ids[spaceMember], data["me"].(map[string]any)["id"])
				}
			})

			t.Run("a team's ID in capitals", func(t *testing.T) {
				data := a.mustIn(t, member, strings.ToUpper(s.teamA), `{ businessInfo { businessName } }`, nil)
				require.Equal(t, brand, data["businessInfo"].(map[string]any)["businessName"], "UUIDs are case-insensitive")
				ws := dialInTeam(t, ts.URL, member, " "+strings.ToUpper(s.teamA)+" ")
				ws.subscribe(t, "p", `subscription { onboardingProgress { currentStep } }`)
				require.Equal(t, "next", ws.next(t).Type)
				ws.stop(t, "p")
				blank := dialInTeam(t, ts.URL, member, "")
				blank.subscribe(t, "b", `subscription { onboardingProgress { currentStep } }`)
				m := blank.next(t)
				require.Contains(t, string(m.Payload), `"BAD_USER_INPUT"`, "a blank team in connection_init is refused: %s", m.Payload)
			})

			t.Run("deleting the team deletes its space", func(t *testing.T) {
				docSite := site(t, ciderPage)
				a.mustIn(t, admin, s.teamA, `mutation($u: String!) { addDocumentFromUrl(input: {url: $u}) { id } }`, map[string]any{"u": docSite + "cider"})
				s.settle(t)
				for _, table := range []string{"business_infos", "documents", "personas"} {
					require.Positive(t, countRowsWhere(t, a, table, "user_id", s.teamA), table)
				}
				a.mustIn(t, owner, "", `mutation($id: ID!) { deleteTeam(id: $id) }`, map[string]any{"id": s.teamA})
				for _, table := range append([]string{"audit_log"}, spaceTables...) {
					if table != "audit_log" {
						require.Zero(t, countRowsWhere(t, a, table, "user_id", s.teamA), table)
					}
				}
				require.Zero(t, countRowsWhere(t, a, "users", "id", s.teamA))
				_, errs := a.doIn(t, member, s.teamA, `{ businessInfo { id } }`, nil)
				requireError(t, errs, "NOT_FOUND", "team", "")
			})
		})
	}
}

// spaceLimits is postLimitsIn of an operation that must answer without errors, with
// its rate-limit extension.
func (a *app) spaceLimits(t *testing.T, token, team, query string) limitsResponse {
	t.Helper()
	r := a.postLimitsIn(t, token, team, query)
	require.Empty(t, r.Errors)
	require.NotNil(t, r.Extensions.RateLimit)
	return r
}

// TestTeamSpaceTier: a team on the team tier (Stripe's webhook, through stripe-mock)
// gives a free member acting in it the team tier's features (agents, tokens, the
// plan its onboarding shows) and spends the team's budget, at the team tier's rate
// times its seats, shared by its members; the same member without the header has
// their own free plan and budget. Once the team's subscription ends, members acting
// in it are free again.
func TestTeamSpaceTier(t *testing.T) {
	t.Parallel()
	mock := stripemock.Start(t)
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			a := newApp(t, d, withStripe(mock.URL))
			ts := serve(t, a)
			owner, _, _ := a.register(t, "tier-owner@example.com")
			member, _, _ := a.register(t, "tier-member@example.com")
			teamID := a.mustIn(t, owner, "", `mutation { createTeam(name: "Paid") { id } }`, nil)["createTeam"].(map[string]any)["id"].(string)
			a.mustIn(t, owner, "", `mutation($t: ID!) { teamCheckout(teamId: $t, seats: 3) { url } }`, map[string]any{"t": teamID})
			var customer string
			require.NoError(t, a.db.NewSelect().Table("team_billing_accounts").Column("customer_id").Where("team_id = ?", teamID).Scan(context.Background(), &customer))
			require.Equal(t, http.StatusOK, postWebhook(t, ts.URL, testWebhookSecret, stripeEvent("evt_space_created", "customer.subscription.created", teamSubscription(customer, "active", 3))))
			tok := a.mustIn(t, owner, "", `mutation($t: ID!) { inviteMember(teamId: $t, link: true) { token } }`, map[string]any{"t": teamID})["inviteMember"].(map[string]any)["token"]
			a.mustIn(t, member, "", `mutation($k: String!) { acceptInvitation(token: $k) { id } }`, map[string]any{"k": tok})

			const q = `{ agents { allowed } usage(days: 1) { monthlyTokenLimit } onboarding { plan { tier } } }`
			planOf := func(token, team string) spacePlan {
				r := a.spaceLimits(t, token, team, q)
				var data map[string]any
				require.NoError(t, json.Unmarshal(r.Data, &data))
				return spacePlan{
					agents: allowedAgents(data), tokens: data["usage"].(map[string]any)["monthlyTokenLimit"],
					tier: data["onboarding"].(map[string]any)["plan"].(map[string]any)["tier"],
					rate: r.Extensions.RateLimit.Limit, left: r.Extensions.RateLimit.Remaining,
				}
			}
			inTeam := planOf(member, teamID)
			require.Equal(t, spacePlan{agents: 4, tokens: nil, tier: "TEAM", rate: 200 * 3, left: inTeam.left}, inTeam, "the team tier's features and budget, per seat")
			byOwner := planOf(owner, teamID)
			require.Less(t, byOwner.left, inTeam.left, "the owner spends the same team budget as the member")
			require.Equal(t, spacePlan{agents: 3, tokens: float64(100_000), tier: "FREE", rate: 20}, planOf(member, "").noLeft(), "the member's own plan")

			require.Equal(t, http.StatusOK, postWebhook(t, ts.URL, testWebhookSecret, stripeEvent("evt_space_deleted", "customer.subscription.deleted", teamSubscription(customer, "canceled", 3))))
			a.clock.Advance(time.Hour) // past the rate limit's cached tier
			require.Equal(t, spacePlan{agents: 3, tokens: float64(100_000), tier: "FREE", rate: 20}, planOf(member, teamID).noLeft(), "a team whose subscription ended is free")

			// What the team's space stores as its tier is only what its onboarding shows,
			// written after the webhook's transaction; a write that did not happen (as
			// here) gives the team nothing its subscription does not.
			_, err := a.db.NewUpdate().Table("users").Set("tier = ?", models.TierTeam).Where("id = ?", teamID).Exec(context.Background())
			require.NoError(t, err)
			a.clock.Advance(time.Hour)
			require.Equal(t, 3, planOf(member, teamID).agents, "the ended subscription decides")
			data := a.mustIn(t, owner, "", `query($t: ID!) { team(id: $t) { tier } }`, map[string]any{"t": teamID})
			require.Equal(t, "FREE", data["team"].(map[string]any)["tier"])
		})
	}
}

// spacePlan is what a caller's answer says of their plan: agents allowed, monthly
// tokens, the onboarding plan's tier, the rate limit and what is left of it.
type spacePlan struct {
	agents     int
	tokens     any
	tier       any
	rate, left int
}

// noLeft is p without what is left of the budget.
func (p spacePlan) noLeft() spacePlan {
	p.left = 0
	return p
}

// TestTeamSpaceSubscriptionEndsWithMembership: a subscription acting in a team ends,
// with NOT_FOUND (field team), once its caller is no longer a member (removed, or the
// team deleted), on whichever instance that happened; until then it goes on.
func TestTeamSpaceSubscriptionEndsWithMembership(t *testing.T) {
	t.Parallel()
	url := testkit.PostgresSchemaURL(t)
	a, b := startApp(t, url, withoutRateLimits), startApp(t, url, withoutRateLimits)
	ts := serve(t, a)
	s := newTeamSpace(t, a, "ends")
	const sub = `subscription { onboardingProgress { currentStep } }`
	ended := func(t *testing.T, ws *wsClient, id string) {
		t.Helper()
		var errs []gqlError
		for {
			m := ws.next(t)
			require.Equal(t, id, m.ID)
			switch m.Type {
			case "next":
				var p struct {
					Errors []gqlError `json:"errors"`
				}
				require.NoError(t, json.Unmarshal(m.Payload, &p))
				require.NotEmpty(t, p.Errors, "no event of the team after the caller left it: %s", m.Payload)
				errs = append(errs, p.Errors...)
				continue
			case "error":
				var p []gqlError
				require.NoError(t, json.Unmarshal(m.Payload, &p))
				errs = append(errs, p...)
			default:
				require.Equal(t, "complete", m.Type)
			}
			break
		}
		requireError(t, errs, "NOT_FOUND", "team", "")
	}

	member := dialInTeam(t, ts.URL, s.tokens[spaceMember], s.teamA)
	member.subscribe(t, "m", sub)
	require.Equal(t, "next", member.next(t).Type)
	admin := dialInTeam(t, ts.URL, s.tokens[spaceAdmin], s.teamA)
	admin.subscribe(t, "a", sub)
	require.Equal(t, "next", admin.next(t).Type)

	// Removed through the other instance: the member's subscription ends; the admin's goes on.
	b.mustIn(t, s.tokens[spaceOwner], "", `mutation($t: ID!, $u: ID!) { removeMember(teamId: $t, userId: $u) { userId } }`,
		map[string]any{"t": s.teamA, "u": s.ids[spaceMember]})
	ended(t, member, "m")
	b.mustIn(t, s.tokens[spaceOwner], s.teamA, `mutation { startOnboarding { currentStep } }`, nil)
	m := admin.next(t)
	require.Equal(t, "next", m.Type)
	require.Contains(t, string(m.Payload), `"currentStep":1`)

	b.mustIn(t, s.tokens[spaceOwner], "", `mutation($id: ID!) { deleteTeam(id: $id) }`, map[string]any{"id": s.teamA})
	ended(t, admin, "a")
}

// TestTeamSpaceRefusalsSpendTheBudget: operations refused for the team they name
// (not a member, a bad team) still spend the caller's own budget, as refused keys do:
// naming a team is no way around the rate limit.
func TestTeamSpaceRefusalsSpendTheBudget(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.Postgres)
	owner, _, _ := a.register(t, "budget-owner@example.com")
	stranger, _, _ := a.register(t, "budget-stranger@example.com")
	teamID := a.mustIn(t, owner, "", `mutation { createTeam(name: "Budget") { id } }`, nil)["createTeam"].(map[string]any)["id"].(string)
	codes := map[string]int{}
	for i := range 25 {
		team := teamID
		if i%2 == 1 {
			team = "x;y"
		}
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query": "{ businessInfo { id } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+stranger)
		req.Header.Set("X-Inkgraph-Team", team)
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		var r limitsResponse
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &r), rec.Body.String())
		require.Len(t, r.Errors, 1)
		require.Contains(t, []string{"", "null"}, string(r.Data))
		codes[r.Errors[0].Extensions["code"].(string)]++
	}
	require.Equal(t, map[string]int{"NOT_FOUND": 10, "BAD_USER_INPUT": 10, "RATE_LIMITED": 5}, codes, "the free budget of 20")
}

// TestTeamSpaceOperationsStayInTheTeam: an operation naming a team selects only fields
// that act in it (one with a personal field too is BAD_USER_INPUT, field team, and
// changes nothing); an admin's change that failed is on the team's record with its
// code, one that worked with ok.
func TestTeamSpaceOperationsStayInTheTeam(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.Postgres, withoutRateLimits)
	s := newTeamSpace(t, a, "stay")
	admin, owner := s.tokens[spaceAdmin], s.tokens[spaceOwner]

	before := a.spaceRows(t, s.teamA, s.ids[spaceAdmin])
	for _, q := range []string{
		`mutation { createBusinessInfo(input: {businessName: "Acme", description: "Garden tools for small farms."}) { id } leaveTeam(teamId: "x") }`,
		`{ businessInfo { id } me { id } }`,
	} {
		data, errs := a.doIn(t, admin, s.teamA, q, nil)
		requireError(t, errs, "BAD_USER_INPUT", "team", "")
		require.Empty(t, data, q)
	}
	require.Equal(t, before, a.spaceRows(t, s.teamA, s.ids[spaceAdmin]), "nothing ran")
	data := a.mustIn(t, admin, s.teamA, `{ __typename businessInfo { id } }`, nil)
	require.Equal(t, "Query", data["__typename"], "__typename is no personal field")

	_, errs := a.doIn(t, admin, s.teamA, `mutation { createBusinessInfo(input: {businessName: "", description: "too short"}) { id } }`, nil)
	require.NotEmpty(t, errs)
	a.mustIn(t, admin, s.teamA, `mutation { createBusinessInfo(input: {businessName: "Acme", description: "Garden tools for small farms."}) { id } }`, nil)
	var outcomes []string
	for _, detail := range a.brandEditLog(t, owner, s.teamA) {
		require.Equal(t, "createBusinessInfo", detail["field"])
		require.Equal(t, s.teamA, detail["team"])
		outcomes = append(outcomes, detail["outcome"])
	}
	require.Equal(t, []string{"ok", "BAD_USER_INPUT"}, outcomes, "newest first")
}

// TestTeamChatEndsWithTheMembership: a member's chat in the team, mid-answer, ends
// (NOT_FOUND, field team) when they are removed, and its run stops upstream at once,
// as a run its client stopped does, rather than waiting to be resumed (chatRun would
// otherwise go on showing them the team's space).
func TestTeamChatEndsWithTheMembership(t *testing.T) {
	t.Parallel()
	llmSrv, _ := pausedChatLLM(t) // the answer never finishes by itself
	a := newApp(t, testkit.Postgres, withLLM(llmSrv.URL()), withoutRateLimits)
	ts := serve(t, a)
	s := newTeamSpace(t, a, "chatends")
	ws := dialInTeam(t, ts.URL, s.tokens[spaceMember], s.teamA)
	ws.subscribe(t, "c", listTasksChat)
	var started bool
	for !started {
		m := ws.next(t)
		require.Equal(t, "next", m.Type, "%s", m.Payload)
		started = strings.Contains(string(m.Payload), `"TOKEN"`)
	}
	a.mustIn(t, s.tokens[spaceOwner], "", `mutation($t: ID!, $u: ID!) { removeMember(teamId: $t, userId: $u) { userId } }`,
		map[string]any{"t": s.teamA, "u": s.ids[spaceMember]})
	var errs []gqlError
	for {
		m := ws.next(t)
		require.Equal(t, "c", m.ID)
		if m.Type == "complete" {
			break
		}
		var p struct {
			Errors []gqlError `json:"errors"`
		}
		require.NoError(t, json.Unmarshal(m.Payload, &p), "%s", m.Payload)
		errs = append(errs, p.Errors...)
	}
	requireError(t, errs, "NOT_FOUND", "team", "")
	requireUpstreamCancelled(t, llmSrv, 1, 10*time.Second, "the run went on for its resume grace")
}

// brandEditLog is the detail of each TEAM_BRAND_EDITED entry of the team's audit log,
// newest first, as token's user (an owner or admin) reads it.
func (a *app) brandEditLog(t testing.TB, token, team string) []map[string]string {
	t.Helper()
	data := a.mustIn(t, token, "", `query($t: ID!) { teamAuditLog(teamId: $t, first: 100) { edges { node { kind detail { key value } } } } }`,
		map[string]any{"t": team})
	var out []map[string]string
	for _, e := range data["teamAuditLog"].(map[string]any)["edges"].([]any) {
		node := e.(map[string]any)["node"].(map[string]any)
		if node["kind"] != "TEAM_BRAND_EDITED" {
			continue
		}
		detail := map[string]string{}
		for _, d := range node["detail"].([]any) {
			detail[d.(map[string]any)["key"].(string)] = d.(map[string]any)["value"].(string)
		}
		out = append(out, detail)
	}
	return out
}

// TestTeamChatResumesOnlyInTheTeam: a chat run a member started in the team, whose
// socket dropped, is resumed (chatRun) in the same team only: without the team it is
// NOT_FOUND (field runId), as another user's would be; in it, its events come; once
// the member is removed, NOT_FOUND (field team).
func TestTeamChatResumesOnlyInTheTeam(t *testing.T) {
	t.Parallel()
	llmSrv, _ := pausedChatLLM(t)
	a := newApp(t, testkit.Postgres, withLLM(llmSrv.URL()), withoutRateLimits)
	ts := serve(t, a)
	s := newTeamSpace(t, a, "resumes")
	member := s.tokens[spaceMember]
	ws := dialInTeam(t, ts.URL, member, s.teamA)
	ws.subscribe(t, "c", listTasksChat)
	before, _ := readEvents(t, ws, "c", func(events []chatEvent) bool { return len(events) >= 1 })
	require.NoError(t, ws.conn.Close())
	resume := fmt.Sprintf(`subscription { chatRun(runId: %q) { %s } }`, before[0].RunID, chatEventFields)
	firstErrors := func(c *wsClient, id string) []gqlError {
		t.Helper()
		m := c.next(t)
		require.Equal(t, id, m.ID)
		var errs []gqlError
		if m.Type == "error" {
			require.NoError(t, json.Unmarshal(m.Payload, &errs))
			return errs
		}
		var p struct {
			Errors []gqlError `json:"errors"`
		}
		require.NoError(t, json.Unmarshal(m.Payload, &p), "%s", m.Payload)
		return p.Errors
	}

	personal := dialGraphQLWS(t, ts.URL, member)
	personal.subscribe(t, "p", resume)
	requireError(t, firstErrors(personal, "p"), "NOT_FOUND", "runId", "")

	inTeam := dialInTeam(t, ts.URL, member, s.teamA)
	inTeam.subscribe(t, "r", resume)
	require.Empty(t, firstErrors(inTeam, "r"), "the member resumes the run in the team")
	inTeam.stop(t, "r")

	a.mustIn(t, s.tokens[spaceOwner], "", `mutation($t: ID!, $u: ID!) { removeMember(teamId: $t, userId: $u) { userId } }`,
		map[string]any{"t": s.teamA, "u": s.ids[spaceMember]})
	gone := dialInTeam(t, ts.URL, member, s.teamA)
	gone.subscribe(t, "g", resume)
	requireError(t, firstErrors(gone, "g"), "NOT_FOUND", "team", "")
}
