package chat_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/platform/runlog"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
	"github.com/inkgraph/inkgraph/models"
)

// Secret fragments a model may repeat, which the sanitizer removes: a line of the
// task agent's prompt and one of the synthesis prompt. Neither has a routing keyword
// but the first's "task", so the offline runs only put the second in a message.
const synthesisPromptLine = "Combine their results into one short answer to the user's request, mention every change they proposed, and do not repeat yourself."

// tokenWords are the words random texts are made of: plain, accented, CJK, an emoji,
// a combining sequence and a ZWJ emoji (whose runes a chunk may split apart), none of
// them an agent's keyword.
var tokenWords = []string{"alpha", "bravo", "café", "naïve", "日本語", "🙂", "e\u0301clair", "👩\u200d💻", "Ünïcödé", "ok.",
	"green tea [1].", "[2, 9]", "[3]"} // citation markers, of passages shown and not

// routeKeywords route a message offline to each agent.
var routeKeywords = map[string]string{
	"task": "add a task", "calendar": "check my calendar", "email": "sort my inbox", "analytics": "report the metrics",
}

// TestTokensJoinToTheAnswer is the property of issue 17: in every mode, for one agent
// or a pipeline, offline or with a model that streams in arbitrary chunks, on the
// run's own goroutine or the transport's, the deltas of a run's TOKEN events joined
// in order are exactly its DONE's response. DIRECT streams the answer as TOKENs (none
// when the answer is empty); PLAN always sends its plan's text as one TOKEN. A
// pipeline's agents stream as AGENT_TOKEN, before the synthesis's TOKENs. Each case
// runs many seeded random inputs: texts mixing multi-byte runes, secret fragments the
// sanitizer removes (split across chunks) and, last, the start of one, which the
// sanitizer holds back until the stream ends.
func TestTokensJoinToTheAnswer(t *testing.T) {
	t.Parallel()
	const runsPerCase = 12
	cat := tokenCatalog()
	seed := uint64(0)
	for _, mode := range []chat.Mode{chat.ModeDirect, chat.ModePlan} {
		for _, pipeline := range []bool{false, true} {
			for _, remote := range []bool{false, true} {
				for _, inline := range []bool{false, true} {
					name := fmt.Sprintf("%s/pipeline=%t/llm=%t/inline=%t", mode, pipeline, remote, inline)
					seed++
					t.Run(name, func(t *testing.T) {
						var script atomic.Pointer[tokenScript]
						provider := llm.Provider(llm.NewOffline())
						if remote {
							srv := fakellm.New(t)
							srv.Reply = func(req fakellm.Request) fakellm.Response { return script.Load().reply(req) }
							provider = remoteProvider(t, srv)
						}
						// Journaled, as the server's runs are: what chatRun replays of each
						// run is what its client got. DIRECT runs are grounded half of the time: what
						// they cite is carried through the journal too.
						k := teaKnowledge()
						o, err := chat.New(chat.Config{Provider: provider, Catalog: cat, Now: fixedNow, Knowledge: k,
							NewRunID: func() string { return "run-1" }, Journal: runlog.NewMemory(runlog.Limits{})})
						require.NoError(t, err)
						redacted, cited := 0, 0
						for i := range runsPerCase {
							rng := rand.New(rand.NewPCG(seed, uint64(i)))
							s := newTokenScript(rng, pipeline, remote)
							script.Store(s)
							ground := mode == chat.ModeDirect && rng.IntN(2) == 0
							req := chat.Request{Input: chat.Input{Message: s.message, Mode: mode, Context: tokenContext(rng), Ground: ground},
								UserID: "u1", Choice: llm.Choice{Tier: models.TierPro}, AllowedAgents: allAgents}
							var events []chat.Event
							if inline {
								events = runInline(t, o, req)
							} else {
								events = runChat(t, o, req)
							}
							requireTokensJoinToTheAnswer(t, events, mode, s)
							done := events[len(events)-1].Done
							if ground {
								requireCitationsShown(t, k, "u1", done.Citations)
								for _, c := range done.Citations {
									require.Regexp(t, fmt.Sprintf(`\[(\d+, )*%d(, \d+)*\]`, c.Marker), done.Response)
								}
								cited += len(done.Citations)
							} else {
								require.Empty(t, done.Citations, "a run shown no passage cites none")
							}
							replay, err := o.Resume(context.Background(), "u1", "run-1", 0)
							require.NoError(t, err)
							require.Equal(t, events, collect(t, replay), "the journal replays the run as it was sent")
							if s.want() != s.raw() {
								redacted++
							}
						}
						if remote && mode == chat.ModeDirect {
							require.Positive(t, redacted, "some answers had a secret to remove")
						}
						if mode == chat.ModeDirect {
							require.Positive(t, cited, "some grounded answers cited a passage")
						}
					})
				}
			}
		}
	}
}

// requireTokensJoinToTheAnswer checks one run's events against the property and,
// with a scripted model, against the answer the script makes.
func requireTokensJoinToTheAnswer(t *testing.T, events []chat.Event, mode chat.Mode, s *tokenScript) {
	t.Helper()
	requireWellFormed(t, events)
	last := events[len(events)-1]
	require.Equal(t, chat.EventDone, last.Type, "%+v", last.Error)
	route := events[0].Route
	require.Equal(t, s.agents, route.Agents, "the message %q", s.message)
	require.Equal(t, len(s.agents) > 1, route.Pipeline)

	answer := ofType(events, chat.EventToken)
	require.Equal(t, last.Done.Response, tokens(events), "the TOKEN deltas joined are the answer")
	for _, e := range answer {
		require.Equal(t, last.Agent, e.Agent, "only the answer's author streams TOKENs")
	}
	if mode == chat.ModePlan {
		require.Len(t, answer, 1, "a plan's text is one TOKEN")
		require.Empty(t, ofType(events, chat.EventAgentToken), "a plan runs no agent")
		return
	}
	if route.Pipeline {
		require.Equal(t, "synthesis", last.Agent)
		firstAnswer := slices.IndexFunc(events, func(e chat.Event) bool { return e.Type == chat.EventToken })
		for i, e := range events {
			if e.Type == chat.EventAgentToken {
				require.Contains(t, route.Agents, e.Agent)
				require.True(t, firstAnswer < 0 || i < firstAnswer, "agents stream before the synthesis answers")
			}
		}
	} else {
		require.Empty(t, ofType(events, chat.EventAgentToken), "one agent's text is the answer")
		require.Equal(t, route.Agents[0], last.Agent)
	}
	for _, e := range events {
		for _, text := range []string{e.Delta, last.Done.Response} {
			require.True(t, utf8.ValidString(text), "%q splits a rune", text)
			require.NotContains(t, text, taskPromptLine)
			require.NotContains(t, text, synthesisPromptLine)
		}
	}
	if s.remote {
		require.Equal(t, s.want(), last.Done.Response)
		for _, agent := range s.agents {
			if len(s.agents) == 1 {
				break
			}
			var text strings.Builder
			for _, e := range ofType(events, chat.EventAgentToken) {
				if e.Agent == agent {
					text.WriteString(e.Delta)
				}
			}
			require.Equal(t, s.clean(s.answers[agent]...), text.String(), "the %s agent's AGENT_TOKENs", agent)
		}
	}
}

// tokenScript is one random input: the message, the route it must take and, for the
// scripted model, what each agent and the synthesis answer, call by call.
type tokenScript struct {
	message string
	agents  []string
	remote  bool
	// answers are, by agent ("synthesis" too), the text of each call: a tool call
	// follows each but the last.
	answers map[string][]string
	mu      sync.Mutex // the server's handlers take turns with rng
	rng     *rand.Rand // cuts the answers into chunks
}

func newTokenScript(rng *rand.Rand, pipeline, remote bool) *tokenScript {
	s := &tokenScript{remote: remote, answers: map[string][]string{}}
	n := 1
	if pipeline {
		n = 2 + rng.IntN(2)
	}
	s.agents = slices.Clone(allAgents)
	rng.Shuffle(len(s.agents), func(i, j int) { s.agents[i], s.agents[j] = s.agents[j], s.agents[i] })
	s.agents = s.agents[:n]
	if remote {
		s.message = randomText(rng, false, false)
		s.rng = rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		for _, agent := range append(slices.Clone(s.agents), "synthesis") {
			calls := 1
			if agent != "synthesis" {
				calls += rng.IntN(3)
			}
			for range calls {
				s.answers[agent] = append(s.answers[agent], randomText(rng, true, true))
			}
		}
		return s
	}
	// Offline the keywords route: each agent's in order, random words between them,
	// and a secret fragment that the task agent's answer may quote.
	parts := []string{randomText(rng, false, false)}
	for _, agent := range s.agents {
		parts = append(parts, routeKeywords[agent], randomText(rng, false, false))
	}
	if rng.IntN(2) == 0 {
		parts = append(parts, synthesisPromptLine)
	}
	s.message = strings.Join(parts, " ")
	return s
}

// randomText is a few random words, maybe with a secret fragment among them and
// maybe ending in the start of one; sometimes nothing.
func randomText(rng *rand.Rand, secrets, empty bool) string {
	if empty && rng.IntN(8) == 0 {
		return ""
	}
	var words []string
	for range 1 + rng.IntN(12) {
		words = append(words, tokenWords[rng.IntN(len(tokenWords))])
	}
	if secrets && rng.IntN(3) == 0 {
		i := rng.IntN(len(words) + 1)
		words = slices.Insert(words, i, []string{taskPromptLine, synthesisPromptLine}[rng.IntN(2)])
	}
	text := strings.Join(words, " ")
	if secrets && rng.IntN(4) == 0 {
		text += " " + taskPromptLine[:1+rng.IntN(len(taskPromptLine)-1)]
	}
	return text
}

// clean is what the sanitizer makes of the calls' texts, each streamed on its own.
func (s *tokenScript) clean(texts ...string) string {
	var b strings.Builder
	for _, text := range texts {
		text = strings.ReplaceAll(text, taskPromptLine, "")
		b.WriteString(strings.ReplaceAll(text, synthesisPromptLine, ""))
	}
	return b.String()
}

// raw is the answer the script makes, before the sanitizer.
func (s *tokenScript) raw() string {
	if len(s.agents) == 1 {
		return strings.Join(s.answers[s.agents[0]], "")
	}
	return strings.Join(s.answers["synthesis"], "")
}

// want is the answer the script makes: the one agent's texts, or the synthesis's.
func (s *tokenScript) want() string {
	if len(s.agents) == 1 {
		return s.clean(s.answers[s.agents[0]]...)
	}
	return s.clean(s.answers["synthesis"]...)
}

// reply answers the orchestrator's requests as the script says: the route, then each
// call of each agent in chunks cut at random rune boundaries, a tool call after all
// but an agent's last text.
func (s *tokenScript) reply(req fakellm.Request) fakellm.Response {
	if isClassifier(req) {
		if len(s.agents) == 1 {
			return fakellm.Response{Content: s.agents[0]}
		}
		return fakellm.Response{Content: "pipeline:[" + strings.Join(s.agents, ",") + "]"}
	}
	agent := "synthesis"
	if !isSynthesis(req) {
		agent = strings.Fields(req.Body.Messages[0].Content)[3] // "You are the <agent> agent"
	}
	call := 0
	for _, m := range req.Body.Messages {
		if m.Role == "tool" {
			call++
		}
	}
	texts := s.answers[agent]
	chunks := s.chunks(texts[call])
	if call < len(texts)-1 {
		a, _ := chat.DefaultRegistry().Agent(agent)
		chunks = append(chunks, fakellm.Chunk{ToolCalls: []fakellm.ToolCallDelta{{
			Index: 0, ID: fmt.Sprintf("call_%d", call), Name: a.Info().Tools[0], Arguments: `{}`}}})
	}
	return fakellm.Response{Chunks: chunks}
}

// chunks cuts text at random rune boundaries (JSON carries whole runes), empty
// chunks included.
func (s *tokenScript) chunks(text string) []fakellm.Chunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []fakellm.Chunk
	for text != "" {
		n := 0
		for range s.rng.IntN(6) {
			if n == len(text) {
				break
			}
			_, size := utf8.DecodeRuneInString(text[n:])
			n += size
		}
		out = append(out, fakellm.Chunk{Content: text[:n]})
		text = text[n:]
	}
	return out
}

// tokenContext is a random context the offline agents' tools answer from.
func tokenContext(rng *rand.Rand) chat.Context {
	c := sampleContext()
	for i := range rng.IntN(3) {
		c.Tasks = append(c.Tasks, chat.Task{ID: fmt.Sprintf("r%d", i), Title: randomText(rng, false, false), Status: "todo", Priority: "high"})
	}
	if rng.IntN(2) == 0 {
		c.Emails = c.Emails[:1]
	}
	return c
}

// tokenCatalog offers every agent a template, for PLAN mode.
func tokenCatalog() stubCatalog {
	return stubCatalog{
		"task":      {{ID: "tpl-task", Name: "Tâche de suivi 🙂", Description: "Follow up on a task"}},
		"calendar":  {{ID: "tpl-cal", Name: "Reschedule", Description: "Move a meeting"}},
		"email":     {{ID: "tpl-mail", Name: "返信 reply", Description: "Draft a reply"}},
		"analytics": {{ID: "tpl-kpi", Name: "Weekly report", Description: "Report the metrics"}},
	}
}

// runInline runs req on the transport's goroutine (llm.Inline), as the WebSocket
// transport does, and returns its events.
func runInline(t *testing.T, o *chat.Orchestrator, req chat.Request) []chat.Event {
	t.Helper()
	var in llm.Inline
	ctx := llm.WithInline(context.Background(), &in)
	in.Open()
	ch, err := o.Run(ctx, req)
	require.NoError(t, err)
	job := in.Close()
	require.NotNil(t, job, "the run adopted the transport's goroutine")
	var events []chat.Event
	in.SetDeliver(func() bool {
		select {
		case e := <-ch:
			events = append(events, *e)
			return true
		default:
			t.Error("deliver was called without an event waiting")
			return false
		}
	})
	job()
	return events
}
