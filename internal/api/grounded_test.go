package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	inkgraph "github.com/inkgraph/inkgraph/internal/app"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
)

// groundedAnswer is what the model answers a grounded chat: a marker of the first
// passage shown, and one of a passage never shown, which must be dropped.
const groundedAnswer = "Steep green tea for two minutes at 80 degrees [1]. Some say ten minutes [9]."

// citationFields is what the tests read of a citation.
const citationFields = `citations { marker documentId documentTitle chunkId quote start end }`

type citation struct {
	Marker        int    `json:"marker"`
	DocumentID    string `json:"documentId"`
	DocumentTitle string `json:"documentTitle"`
	ChunkID       string `json:"chunkId"`
	Quote         string `json:"quote"`
	Start         int    `json:"start"`
	End           int    `json:"end"`
}

// groundingDocs is where the grounded chat tests keep users' documents: how the app
// gets the search (options) and how a user adds a document (seed, which returns its
// ID).
type groundingDocs interface {
	options() []inkgraph.Option
	seed(t *testing.T, a *app, token, userID, title, text string) string
}

// newGroundingDocs keeps the tests' documents in the server's own knowledge area.
func newGroundingDocs() groundingDocs { return knowledgeDocs{} }

// knowledgeDocs adds each document as a page the server fetches from a loopback
// site (addDocumentFromUrl; the tests allow loopback fetches) and ingests with its
// worker, as a user would.
type knowledgeDocs struct{}

func (knowledgeDocs) options() []inkgraph.Option { return nil }

func (knowledgeDocs) seed(t *testing.T, a *app, token, _, title, text string) string {
	t.Helper()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(text))
	}))
	t.Cleanup(site.Close)
	data, errs := a.do(t, token, `mutation($url: String!, $title: String) { addDocumentFromUrl(input: {url: $url, title: $title}) { id } }`,
		map[string]any{"url": site.URL + "/notes.txt", "title": title})
	require.Empty(t, errs)
	id := data["addDocumentFromUrl"].(map[string]any)["id"].(string)
	require.Eventually(t, func() bool {
		data, errs := a.do(t, token, `query($id: ID!) { document(id: $id) { state } }`, map[string]any{"id": id})
		require.Empty(t, errs)
		state := data["document"].(map[string]any)["state"]
		require.NotEqual(t, "FAILED", state)
		return state == "READY"
	}, time.Minute, 20*time.Millisecond, "the worker ingests it")
	return id
}

// newGroundedLLM routes every message to the task agent and answers with markers,
// keeping the messages of each answer's request for the test to read.
func newGroundedLLM(t *testing.T) *fakellm.Server {
	t.Helper()
	srv := fakellm.New(t)
	srv.Reply = func(req fakellm.Request) fakellm.Response {
		if len(req.Body.Tools) == 0 {
			return fakellm.Response{Content: "task"}
		}
		return fakellm.Response{Content: groundedAnswer}
	}
	return srv
}

// groundingShown is the text of the passages the model was shown in the grounded
// system message of its last answering request.
func groundingShown(t *testing.T, srv *fakellm.Server) string {
	t.Helper()
	reqs := srv.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if len(reqs[i].Body.Tools) == 0 {
			continue
		}
		for _, m := range reqs[i].Body.Messages {
			if m.Role == "system" && strings.Contains(m.Content, "[1] ") {
				return m.Content
			}
		}
	}
	t.Fatal("no request showed the model passages")
	return ""
}

const teaHandbook = "Green tea is delicate.\n\nSteep green tea for two minutes at 80 degrees. Longer makes it bitter.\n\nBlack tea wants boiling water."

// TestGroundedChatEndToEnd runs a grounded chat over SSE and sendChat over HTTP: the
// answer's citations point at passages of the caller's documents that the model was
// shown, the marker of a passage it was not shown is dropped, and another user's
// documents are never searched nor shown.
func TestGroundedChatEndToEnd(t *testing.T) {
	t.Parallel()
	llmSrv := newGroundedLLM(t)
	docs := newGroundingDocs()
	a := startAppWith(t, testkit.DatabaseURL(t, testkit.SQLite), wiring{options: docs.options()},
		withLLM(llmSrv.URL()), withoutRateLimits)
	ts := serve(t, a)
	access, _, userID := a.register(t, "grounded@example.com")
	otherAccess, _, otherID := a.register(t, "grounded-other@example.com")
	teaDoc := docs.seed(t, a, access, userID, "Tea handbook", teaHandbook)
	const secret = "The green tea secret of the other user: steep it for eleven minutes."
	otherDoc := docs.seed(t, a, otherAccess, otherID, "Other's notes", secret)

	requireCited := func(t *testing.T, response string, cites []citation) {
		t.Helper()
		require.Equal(t, groundedAnswer, response, "the sanitizer leaves the markers")
		shown := groundingShown(t, llmSrv)
		require.NotContains(t, shown, "eleven minutes", "another user's passages are never shown")
		require.Len(t, cites, 1, "[9] names no passage shown and is dropped")
		c := cites[0]
		require.Equal(t, 1, c.Marker)
		require.Equal(t, "Tea handbook", c.DocumentTitle)
		require.Equal(t, teaDoc, c.DocumentID)
		require.NotEmpty(t, c.ChunkID)
		require.Equal(t, "Steep green tea for two minutes at 80 degrees.", c.Quote)
		require.Contains(t, shown, "[1] Tea handbook\n", "the cited passage is the one shown as [1]")
		passage := shown[strings.Index(shown, "[1] Tea handbook\n")+len("[1] Tea handbook\n"):]
		require.Equal(t, c.Quote, passage[c.Start:c.End], "the offsets are in the passage the model saw")
		require.Contains(t, teaHandbook, c.Quote)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stream := subscribeSSE(t, ctx, ts.URL, access, `subscription { chat(input: {message: "How long should green tea steep?", ground: true}) {
		type delta done { response `+citationFields+` } error { code message } } }`)
	var (
		text string
		done *struct {
			Response  string     `json:"response"`
			Citations []citation `json:"citations"`
		}
	)
	for ev := range stream {
		if ev.name == "complete" {
			break
		}
		var payload struct {
			Data struct {
				Chat struct {
					Type  string `json:"type"`
					Delta string `json:"delta"`
					Done  *struct {
						Response  string     `json:"response"`
						Citations []citation `json:"citations"`
					} `json:"done"`
					Error *struct{ Code, Message string } `json:"error"`
				} `json:"chat"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(ev.data), &payload), ev.data)
		e := payload.Data.Chat
		require.Nil(t, e.Error)
		text += e.Delta
		if e.Type == "DONE" {
			done = e.Done
		}
	}
	require.NotNil(t, done)
	require.Equal(t, done.Response, text)
	requireCited(t, done.Response, done.Citations)

	// sendChat over HTTP says the same.
	body, _ := json.Marshal(map[string]any{"query": `mutation($docs: [ID!]) { sendChat(input: {message: "How long should green tea steep?", ground: true, documentIds: $docs}) {
		response ` + citationFields + ` } }`, "variables": map[string]any{"docs": []string{teaDoc}}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/graphql", strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+access)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	var reply struct {
		Data struct {
			SendChat struct {
				Response  string     `json:"response"`
				Citations []citation `json:"citations"`
			} `json:"sendChat"`
		} `json:"data"`
		Errors []gqlError `json:"errors"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&reply))
	require.Empty(t, reply.Errors)
	requireCited(t, reply.Data.SendChat.Response, reply.Data.SendChat.Citations)

	// Another user's document is not the caller's to ground on; nothing ran.
	before := len(llmSrv.Requests())
	_, errs := a.do(t, access, `mutation($docs: [ID!]) { sendChat(input: {message: "tea?", ground: true, documentIds: $docs}) { response } }`,
		map[string]any{"docs": []string{otherDoc}})
	require.Len(t, errs, 1)
	require.Equal(t, "NOT_FOUND", errs[0].Extensions["code"])
	require.Equal(t, "documentIds", errs[0].Extensions["field"])
	require.Len(t, llmSrv.Requests(), before)

	// A chat that is not grounded cites nothing, and says so with an empty list.
	data, errs := a.do(t, access, `mutation { sendChat(input: {message: "hello"}) { citations { marker } } }`, nil)
	require.Empty(t, errs)
	require.Equal(t, []any{}, data["sendChat"].(map[string]any)["citations"])
}

// A grounded chat of a user with no documents still answers (the server's
// knowledge area is always there), citing nothing.
func TestGroundedChatWithoutDocuments(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	access, _, _ := a.register(t, "ungrounded@example.com")
	data, errs := a.do(t, access, `mutation { sendChat(input: {message: "tea?", ground: true}) { response citations { marker } } }`, nil)
	require.Empty(t, errs)
	reply := data["sendChat"].(map[string]any)
	require.NotEmpty(t, reply["response"])
	require.Equal(t, []any{}, reply["citations"])
}
