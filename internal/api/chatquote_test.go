package api_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

const chatQuoteQuery = `query($input: ChatInput!) { chatQuote(input: $input) {
	provider model offline paidBy estimatedPromptTokens estimateRule maxModelCalls
	maxCompletionTokens countsAgainstQuota quotaRemaining } }`

// quoteOf runs chatQuote for message as token.
func quoteOf(t *testing.T, a *app, token, message string) map[string]any {
	t.Helper()
	data, errs := a.do(t, token, chatQuoteQuery, map[string]any{"input": map[string]any{"message": message}})
	require.Empty(t, errs)
	return data["chatQuote"].(map[string]any)
}

// remaining reads a quotaRemaining (an Int64, a JSON number).
func remaining(t *testing.T, v any) int64 {
	t.Helper()
	require.NotNil(t, v)
	return int64(v.(float64))
}

// TestChatQuoteOverGraphQL quotes a chat on the server's provider, runs it (as a
// mutation, then streamed), and checks the quote against what the runs left: what
// the quote said was left is what each run left plus what it used.
func TestChatQuoteOverGraphQL(t *testing.T) {
	t.Parallel()
	llmSrv := newChatLLM(t)
	a := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits)
	token, _, _ := a.register(t, "quote@example.com")
	const message = "list my open tasks"

	q := quoteOf(t, a, token, message)
	require.Empty(t, llmSrv.Requests(), "a quote calls no model")
	require.Equal(t, "openai-compatible", q["provider"])
	require.Equal(t, "fake-model", q["model"])
	require.Equal(t, false, q["offline"])
	require.Equal(t, "SERVER", q["paidBy"])
	require.Equal(t, true, q["countsAgainstQuota"])
	require.Equal(t, "ceil(characters/4) + 4 per message", q["estimateRule"])
	require.Positive(t, q["estimatedPromptTokens"].(float64))
	free := models.FeaturesOf(models.TierFree)
	require.Equal(t, free.MonthlyTokens, remaining(t, q["quotaRemaining"]))
	// The free plan's three agents, any pipeline of them the router may choose.
	calls := 1 + free.Agents*chat.MaxToolIterations + 1
	require.EqualValues(t, calls, q["maxModelCalls"])
	require.EqualValues(t, 20+(calls-1)*a.cfg.ChatMaxTokens, q["maxCompletionTokens"])

	data, errs := a.do(t, token, `mutation { sendChat(input: {message: "`+message+`"}) {
		usage { totalTokens completionTokens calls } quotaRemaining } }`, nil)
	require.Empty(t, errs)
	reply := data["sendChat"].(map[string]any)
	usage := reply["usage"].(map[string]any)
	require.LessOrEqual(t, usage["calls"].(float64), q["maxModelCalls"].(float64))
	require.LessOrEqual(t, usage["completionTokens"].(float64), q["maxCompletionTokens"].(float64))
	left := remaining(t, reply["quotaRemaining"])
	require.Equal(t, remaining(t, q["quotaRemaining"]), left+int64(usage["totalTokens"].(float64)))
	data, errs = a.do(t, token, `{ usage(days: 1) { remainingTokens } }`, nil)
	require.Empty(t, errs)
	require.Equal(t, left, remaining(t, data["usage"].(map[string]any)["remainingTokens"]))

	// Streamed, DONE carries the run's usage and what it left.
	q = quoteOf(t, a, token, message)
	require.Equal(t, left, remaining(t, q["quotaRemaining"]))
	ts := serve(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var done map[string]any
	for ev := range subscribeSSE(t, ctx, ts.URL, token,
		`subscription { chat(input: {message: "`+message+`"}) { type done { usage { totalTokens } quotaRemaining } } }`) {
		if ev.name == "complete" {
			break
		}
		var p struct {
			Data struct {
				Chat struct {
					Type string         `json:"type"`
					Done map[string]any `json:"done"`
				} `json:"chat"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(ev.data), &p), ev.data)
		if p.Data.Chat.Type == "DONE" {
			done = p.Data.Chat.Done
		}
	}
	require.NotNil(t, done)
	total := int64(done["usage"].(map[string]any)["totalTokens"].(float64))
	require.Positive(t, total)
	require.Equal(t, remaining(t, q["quotaRemaining"]), remaining(t, done["quotaRemaining"])+total)
}

func TestChatQuoteOfflineAndBadInput(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite) // no LLM: the offline provider answers
	token, _, _ := a.register(t, "quote-offline@example.com")

	q := quoteOf(t, a, token, "list my open tasks")
	require.Equal(t, "OFFLINE", q["paidBy"])
	require.Equal(t, true, q["offline"])
	require.Equal(t, false, q["countsAgainstQuota"])
	require.Nil(t, q["quotaRemaining"])
	require.EqualValues(t, chat.MaxToolIterations, q["maxModelCalls"], "the keywords' one agent, no router offline")

	data, errs := a.do(t, token, `mutation { sendChat(input: {message: "list my open tasks"}) { quotaRemaining usage { calls } } }`, nil)
	require.Empty(t, errs)
	require.Nil(t, data["sendChat"].(map[string]any)["quotaRemaining"])

	// The same refusals as the chat's, with the same fields.
	for input, field := range map[string]string{
		`{message: "  "}`: "message",
		`{message: "hi", context: {history: [{role: "system", content: "x"}]}}`: "context.history[0].role",
	} {
		_, errs := a.do(t, token, `{ chatQuote(input: `+input+`) { model } }`, nil)
		require.Len(t, errs, 1)
		require.Equal(t, models.CodeBadUserInput, errs[0].Extensions["code"])
		require.Equal(t, field, errs[0].Extensions["field"])
		_, chatErrs := a.do(t, token, `mutation { sendChat(input: `+input+`) { response } }`, nil)
		require.Len(t, chatErrs, 1)
		require.Equal(t, errs[0].Extensions, chatErrs[0].Extensions)
	}

	// Without a sign-in there is nothing to quote.
	_, errs = a.do(t, "", `{ chatQuote(input: {message: "hi"}) { model } }`, nil)
	require.Len(t, errs, 1)
	require.Equal(t, models.CodeUnauthenticated, errs[0].Extensions["code"])
}
