package chat_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/platform/runlog"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
	"github.com/inkgraph/inkgraph/models"
)

// fakeKnowledge is a knowledge search over fixed passages per user: it ranks a
// user's passages by the words they share with the query and records each search.
type fakeKnowledge struct {
	byUser map[string][]*models.Passage

	mu       sync.Mutex
	searches []search
}

type search struct {
	UserID, Query string
	First         int
	DocumentIDs   []string
	Tag           string
}

func (k *fakeKnowledge) Search(_ context.Context, userID, query string, first int, documentIDs []string, tag string) ([]*models.Passage, error) {
	k.mu.Lock()
	k.searches = append(k.searches, search{userID, query, first, documentIDs, tag})
	k.mu.Unlock()
	mine := k.byUser[userID]
	for _, id := range documentIDs {
		if !slices.ContainsFunc(mine, func(p *models.Passage) bool { return p.DocumentID == id }) {
			return nil, &models.Error{Code: models.CodeNotFound, Field: "documentIds", Message: "no such document"}
		}
	}
	type scored struct {
		p     *models.Passage
		score int
	}
	var hits []scored
	for _, p := range mine {
		if len(documentIDs) > 0 && !slices.Contains(documentIDs, p.DocumentID) {
			continue
		}
		score := 0
		for _, w := range strings.Fields(strings.ToLower(query)) {
			if len(w) > 3 && strings.Contains(strings.ToLower(p.Text), strings.Trim(w, "?.,")) {
				score++
			}
		}
		hits = append(hits, scored{p, score})
	}
	slices.SortStableFunc(hits, func(a, b scored) int { return b.score - a.score })
	var out []*models.Passage
	for _, h := range hits[:min(first, len(hits))] {
		out = append(out, h.p)
	}
	return out, nil
}

func (k *fakeKnowledge) calls() []search {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.searches)
}

func teaKnowledge() *fakeKnowledge {
	return &fakeKnowledge{byUser: map[string][]*models.Passage{
		"u1": {
			{DocumentID: "d1", DocumentTitle: "Tea handbook", ChunkID: "c1", Text: "Green tea is delicate. Steep green tea for two minutes at 80 degrees. Longer makes it bitter.", Embedder: "offline"},
			{DocumentID: "d1", DocumentTitle: "Tea handbook", ChunkID: "c2", Position: 1, Text: "Black tea is robust.\nSteep black tea for four minutes in boiling water.", Embedder: "offline"},
			{DocumentID: "d2", DocumentTitle: "Café notes", ChunkID: "c3", Text: "Espresso is pressed at nine bars.", Embedder: "offline"},
		},
		"u2": {
			{DocumentID: "d9", DocumentTitle: "Secret plans", ChunkID: "c9", Text: "The other user's green tea steeping secret is eleven minutes."},
		},
	}}
}

func groundedOrchestrator(t *testing.T, p llm.Provider, k chat.Knowledge) *chat.Orchestrator {
	t.Helper()
	o, err := chat.New(chat.Config{Provider: p, Now: fixedNow, NewRunID: func() string { return "run-1" }, Knowledge: k, Catalog: tokenCatalog(),
		Journal: runlog.NewMemory(runlog.Limits{})})
	require.NoError(t, err)
	return o
}

// requireCitationsShown checks that every citation quotes a passage of user's
// that the model was shown, at the offsets it names.
func requireCitationsShown(t *testing.T, k *fakeKnowledge, userID string, cites []chat.Citation) {
	t.Helper()
	for _, c := range cites {
		i := slices.IndexFunc(k.byUser[userID], func(p *models.Passage) bool { return p.ChunkID == c.ChunkID })
		require.GreaterOrEqual(t, i, 0, "citation %+v names a passage of %s's", c, userID)
		p := k.byUser[userID][i]
		require.Equal(t, p.DocumentID, c.DocumentID)
		require.Equal(t, p.DocumentTitle, c.DocumentTitle)
		require.Equal(t, p.Text[c.Start:c.End], c.Quote, "the quote is the passage's text at its offsets")
		require.NotEmpty(t, c.Quote)
	}
}

func TestGroundedChatCitesWhatTheModelSaw(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	srv.Reply = func(req fakellm.Request) fakellm.Response {
		return fakellm.Response{Content: "Steep green tea for two minutes [1]. Black tea takes four minutes in boiling water.[2] " +
			"Both come from one plant [4] [0], and [1, 2] agree. Again: two minutes at 80 degrees [1]."}
	}
	k := teaKnowledge()
	o := groundedOrchestrator(t, remoteProvider(t, srv), k)
	events := runChat(t, o, chat.Request{Input: chat.Input{Message: "How long should I steep green tea?", Ground: true},
		UserID: "u1", AllowedAgents: []string{"task"}})
	requireWellFormed(t, events)
	done := events[len(events)-1].Done
	require.NotNil(t, done, "%+v", events[len(events)-1].Error)

	// The search was the caller's, for the message; the model saw the passages numbered.
	require.Equal(t, []search{{UserID: "u1", Query: "How long should I steep green tea?", First: chat.GroundPassages}}, k.calls())
	prompt := srv.Requests()[0].Body.Messages
	var grounding string
	for _, m := range prompt {
		if m.Role == "system" && strings.Contains(m.Content, "[1] Tea handbook") {
			grounding = m.Content
		}
	}
	require.Contains(t, grounding, "[1] Tea handbook\nGreen tea is delicate. Steep green tea for two minutes at 80 degrees. Longer makes it bitter.")
	require.Contains(t, grounding, "[2] Tea handbook\nBlack tea is robust.")
	require.Contains(t, grounding, "[3] Café notes\nEspresso")
	require.NotContains(t, grounding, "eleven minutes", "another user's passages are never shown")

	// [4] and [0] name nothing shown (three passages were) and are dropped; [1] cited twice for different sentences
	// gives two quotes; [1, 2] cites both, each by its best sentence.
	type cite struct {
		Marker int
		Chunk  string
		Quote  string
	}
	var got []cite
	for _, c := range done.Citations {
		got = append(got, cite{c.Marker, c.ChunkID, c.Quote})
	}
	require.Equal(t, []cite{
		{1, "c1", "Steep green tea for two minutes at 80 degrees."},
		{2, "c2", "Steep black tea for four minutes in boiling water."},
		{1, "c1", "Green tea is delicate."},
		{2, "c2", "Black tea is robust."},
	}, got)
	requireCitationsShown(t, k, "u1", done.Citations)

	// The journal replays the citations as they were sent.
	replay, err := o.Resume(context.Background(), "u1", "run-1", 0)
	require.NoError(t, err)
	require.Equal(t, events, collect(t, replay))
}

func TestGroundedChatOffline(t *testing.T) {
	t.Parallel()
	k := teaKnowledge()
	o := groundedOrchestrator(t, llm.NewOffline(), k)
	events := runChat(t, o, chat.Request{Input: chat.Input{Message: "How long do I steep black tea?", Ground: true, DocumentIDs: []string{"d1"}},
		UserID: "u1", AllowedAgents: []string{"task"}})
	requireWellFormed(t, events)
	done := events[len(events)-1].Done
	require.NotNil(t, done)
	require.True(t, done.Offline)
	require.Equal(t, `Offline answer from your documents: "Steep black tea for four minutes in boiling water." [2]`, done.Response)
	require.Equal(t, []string{"d1"}, k.calls()[0].DocumentIDs)
	require.Len(t, done.Citations, 1)
	require.Equal(t, 2, done.Citations[0].Marker, "the fake ranks the green tea passage first")
	require.Equal(t, "c2", done.Citations[0].ChunkID)
	require.Equal(t, "Steep black tea for four minutes in boiling water.", done.Citations[0].Quote)
	requireCitationsShown(t, k, "u1", done.Citations)
}

func TestKnowledgeTool(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	var toolResult string
	srv.Reply = func(req fakellm.Request) fakellm.Response {
		msgs := req.Body.Messages
		if last := msgs[len(msgs)-1]; last.Role == "tool" {
			toolResult = last.Content
			return fakellm.Response{Content: "Espresso is pressed at nine bars [3]; green tea steeps two minutes [1] and [4] is made up."}
		}
		return toolCall("call_1", "search_knowledge", `{"query":"espresso pressure","first":2}`)
	}
	k := teaKnowledge()
	o := groundedOrchestrator(t, remoteProvider(t, srv), k)
	// Grounded too: the tool's new passage continues the numbering after the retrieved ones.
	events := runChat(t, o, chat.Request{Input: chat.Input{Message: "green tea", Ground: true, DocumentIDs: []string{"d1", "d2"}},
		UserID: "u1", AllowedAgents: []string{"task"}})
	requireWellFormed(t, events)
	done := events[len(events)-1].Done
	require.NotNil(t, done, "%+v", events[len(events)-1].Error)

	var tools []string
	for _, raw := range srv.Requests()[0].Body.Tools {
		var tool struct{ Function struct{ Name string } }
		require.NoError(t, json.Unmarshal(raw, &tool))
		tools = append(tools, tool.Function.Name)
	}
	require.Contains(t, tools, "search_knowledge")
	require.Equal(t, search{UserID: "u1", Query: "espresso pressure", First: 2, DocumentIDs: []string{"d1", "d2"}}, k.calls()[1])
	var result struct {
		Summary string
		Data    []struct {
			N        int
			Document string
			Text     string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(toolResult), &result))
	require.Len(t, result.Data, 2)
	require.Equal(t, 3, result.Data[0].N, "the passage keeps the number the prompt gave it")
	require.Equal(t, "Espresso is pressed at nine bars.", result.Data[0].Text)
	require.Contains(t, result.Summary, `"Espresso is pressed at nine bars." [3]`)

	require.Len(t, done.Citations, 2)
	require.Equal(t, "c3", done.Citations[0].ChunkID)
	require.Equal(t, "c1", done.Citations[1].ChunkID)
	requireCitationsShown(t, k, "u1", done.Citations)
}

// A passage first shown by the tool, with no grounding, is cited too.
func TestKnowledgeToolAloneOffline(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	srv.Reply = func(req fakellm.Request) fakellm.Response {
		if req.Body.Messages[len(req.Body.Messages)-1].Role == "tool" {
			return fakellm.Response{Content: "Nine bars [1]."}
		}
		return toolCall("call_1", "search_knowledge", `{"query":"espresso"}`)
	}
	k := teaKnowledge()
	o := groundedOrchestrator(t, remoteProvider(t, srv), k)
	events := runChat(t, o, chat.Request{Input: chat.Input{Message: "espresso?"}, UserID: "u1", AllowedAgents: []string{"task"}})
	done := events[len(events)-1].Done
	require.NotNil(t, done)
	require.Equal(t, chat.GroundPassages, k.calls()[0].First)
	require.Equal(t, []string{"c3"}, []string{done.Citations[0].ChunkID})
	require.Equal(t, "Espresso is pressed at nine bars.", done.Citations[0].Quote)
}

func TestGroundedChatRefusals(t *testing.T) {
	t.Parallel()
	k := teaKnowledge()
	with := groundedOrchestrator(t, llm.NewOffline(), k)
	without := newOrchestrator(t, llm.NewOffline(), stubCatalog{})
	cases := []struct {
		name  string
		o     *chat.Orchestrator
		in    chat.Input
		code  string
		field string
	}{
		{"no knowledge", without, chat.Input{Message: "tea", Ground: true}, models.CodeBadUserInput, "ground"},
		{"documents without ground", with, chat.Input{Message: "tea", DocumentIDs: []string{"d1"}}, models.CodeBadUserInput, "documentIds"},
		{"tag without ground", with, chat.Input{Message: "tea", Tag: "x"}, models.CodeBadUserInput, "tag"},
		{"plan", with, chat.Input{Message: "tea", Ground: true, Mode: chat.ModePlan}, models.CodeBadUserInput, "ground"},
		{"empty document ID", with, chat.Input{Message: "tea", Ground: true, DocumentIDs: []string{" "}}, models.CodeBadUserInput, "documentIds[0]"},
		{"too many documents", with, chat.Input{Message: "tea", Ground: true, DocumentIDs: make([]string, chat.MaxGroundDocuments+1)}, models.CodeBadUserInput, "documentIds"},
		{"another user's document", with, chat.Input{Message: "tea", Ground: true, DocumentIDs: []string{"d9"}}, models.CodeNotFound, "documentIds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.o.Run(context.Background(), chat.Request{Input: c.in, UserID: "u1", AllowedAgents: []string{"task"}})
			testkit.RequireCode(t, err, c.code)
			var e *models.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, c.field, e.Field)
		})
	}

	// Without knowledge the agents have no search tool.
	a, _ := without.Registry().Agent("task")
	require.NotContains(t, a.Info().Tools, "search_knowledge")
	a, _ = with.Registry().Agent("task")
	require.Contains(t, a.Info().Tools, "search_knowledge")
}

// strictKnowledge refuses a query longer than the knowledge area's search allows.
type strictKnowledge struct{ *fakeKnowledge }

func (k strictKnowledge) Search(ctx context.Context, userID, query string, first int, documentIDs []string, tag string) ([]*models.Passage, error) {
	if query == "" || utf8.RuneCountInString(query) > 1000 {
		return nil, models.InvalidInput("query", "a query must have 1 to 1000 characters")
	}
	return k.fakeKnowledge.Search(ctx, userID, query, first, documentIDs, tag)
}

// A message longer than a knowledge query may be is grounded on its beginning,
// cut at a word boundary.
func TestGroundedChatLongMessage(t *testing.T) {
	t.Parallel()
	k := teaKnowledge()
	o := groundedOrchestrator(t, llm.NewOffline(), strictKnowledge{k})
	msg := "How long do I steep black tea? " + strings.Repeat("Tell me everything about é-tea. ", 200)
	require.Greater(t, utf8.RuneCountInString(msg), 1000)
	require.LessOrEqual(t, utf8.RuneCountInString(msg), chat.MaxMessageRunes)
	events := runChat(t, o, chat.Request{Input: chat.Input{Message: msg, Ground: true}, UserID: "u1", AllowedAgents: []string{"task"}})
	requireWellFormed(t, events)
	done := events[len(events)-1].Done
	require.NotNil(t, done, "%+v", events[len(events)-1].Error)
	require.Len(t, k.calls(), 1)
	q := k.calls()[0].Query
	require.LessOrEqual(t, utf8.RuneCountInString(q), chat.MaxGroundQueryRunes)
	require.Greater(t, utf8.RuneCountInString(q), chat.MaxGroundQueryRunes-40)
	require.True(t, strings.HasPrefix(msg, q))
	require.Equal(t, byte(' '), msg[len(q)], "cut at a word boundary: %q", q[len(q)-20:])
	require.Contains(t, done.Response, "black tea")
}
