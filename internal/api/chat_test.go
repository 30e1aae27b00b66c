package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/conformance"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
)

// chatEventFields is what the Go-side chat tests read of each event.
const chatEventFields = `runId seq type agent delta
	route { agents source }
	usage { totalTokens calls provider offline }
	done { response finishReason offline }
	error { code message retryable }`

// chatEvent is one ChatEvent as the tests decode it.
type chatEvent struct {
	RunID string `json:"runId"`
	Seq   int    `json:"seq"`
	Type  string `json:"type"`
	Agent string `json:"agent"`
	Delta string `json:"delta"`
	Route *struct {
		Agents []string `json:"agents"`
		Source string   `json:"source"`
	} `json:"route"`
	Usage *struct {
		TotalTokens int    `json:"totalTokens"`
		Calls       int    `json:"calls"`
		Provider    string `json:"provider"`
		Offline     bool   `json:"offline"`
	} `json:"usage"`
	Done *struct {
		Response     string `json:"response"`
		FinishReason string `json:"finishReason"`
		Offline      bool   `json:"offline"`
	} `json:"done"`
	Error *struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		Retryable bool   `json:"retryable"`
	} `json:"error"`
}

// chatLLM is a fake OpenAI-compatible server answering as the chat tests need: the
// router says "task", the task agent streams answer word by word, or holds its
// answer open after two words once hold is set.
type chatLLM struct {
	*fakellm.Server
	hold atomic.Bool
}

const chatAnswer = "You have one open task: Write the launch post."

func newChatLLM(t testing.TB) *chatLLM {
	t.Helper()
	f := &chatLLM{Server: fakellm.New(t)}
	f.Reply = func(req fakellm.Request) fakellm.Response {
		if len(req.Body.Tools) == 0 {
			return fakellm.Response{Content: "task", Usage: &fakellm.Usage{PromptTokens: 20, CompletionTokens: 1, TotalTokens: 21}}
		}
		if f.hold.Load() {
			return fakellm.Response{Chunks: []fakellm.Chunk{{Content: "Looking "}, {Content: "now"}}, Hold: true}
		}
		return fakellm.Response{Content: chatAnswer}
	}
	return f
}

// withLLM points the server's LLM at url.
func withLLM(url string) func(*config.Config) {
	return func(c *config.Config) { c.LLMBaseURL, c.LLMModel = url, "fake-model" }
}

// requireChatRun checks one run's events: one run ID, sequence numbers from 1 without
// gaps, routed first, DONE last with the tokens as its response.
func requireChatRun(t *testing.T, events []chatEvent) {
	t.Helper()
	require.NotEmpty(t, events)
	var text strings.Builder
	for i, e := range events {
		require.Equal(t, events[0].RunID, e.RunID)
		require.Equal(t, i+1, e.Seq, "sequence numbers count from 1 without gaps")
		if e.Type == "TOKEN" {
			text.WriteString(e.Delta)
		}
	}
	require.Equal(t, "AGENT_ROUTED", events[0].Type)
	require.Equal(t, []string{"task"}, events[0].Route.Agents)
	last := events[len(events)-1]
	require.Equal(t, "DONE", last.Type, "%+v", last.Error)
	require.Equal(t, chatAnswer, last.Done.Response)
	require.Equal(t, chatAnswer, text.String())
	require.False(t, last.Done.Offline)
	require.Equal(t, "USAGE", events[len(events)-2].Type)
}

// TestChatOverTheGraphQLWSClient streams a chat to the real graphql-ws client, then
// has it unsubscribe mid-answer: the upstream request must end at once and the run's
// goroutines go. Not parallel: it counts goroutines.
func TestChatOverTheGraphQLWSClient(t *testing.T) {
	llmSrv := newChatLLM(t)
	a := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits)
	access, _, _ := a.register(t, "chat-ws@example.com")
	ts := serve(t, a)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := conformance.Node(t, ctx, "chat-client.mjs", "ws"+strings.TrimPrefix(ts.URL, "http")+"/graphql", access)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	// The node process writes stderr from its own goroutine while the test reads it.
	var stderr testkit.SyncBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	defer func() { cancel(); _ = cmd.Wait() }() // a failed check must not wait for the script
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	type step struct {
		Step   string `json:"step"`
		Error  string `json:"error"`
		Events []struct {
			At   float64 `json:"at"`
			Data struct {
				Chat chatEvent `json:"chat"`
			} `json:"data"`
			Errors json.RawMessage `json:"errors"`
		} `json:"events"`
	}
	next := func() step {
		t.Helper()
		require.True(t, lines.Scan(), "the script ended early: %s", stderr.String())
		var s step
		require.NoError(t, json.Unmarshal(lines.Bytes(), &s), lines.Text())
		require.NotEqual(t, "fatal", s.Step, s.Error)
		return s
	}

	streamed := next()
	require.Equal(t, "streamed", streamed.Step)
	var events []chatEvent
	for _, e := range streamed.Events {
		require.Empty(t, e.Errors)
		events = append(events, e.Data.Chat)
	}
	requireChatRun(t, events)
	tokens := 0
	for _, e := range events {
		if e.Type == "TOKEN" {
			tokens++
		}
	}
	// The sanitizer holds back a delta only while it could begin a prompt fragment,
	// so the answer arrives in pieces, not as one block at the end. How many: the fake
	// model sends its words at once, faster than the socket takes them, and the deltas
	// the socket has not taken go out joined (internal/chat/batch.go).
	require.Greater(t, tokens, 1, "the answer streams as it is written")

	baseline := len(llmSrv.Requests())
	llmSrv.hold.Store(true)
	_, err = io.WriteString(stdin, "go\n")
	require.NoError(t, err)
	require.Equal(t, "unsubscribed", next().Step)
	reqs := llmSrv.Requests()
	require.Len(t, reqs, baseline+2, "the router, then the held answer")
	held := reqs[len(reqs)-1]
	select {
	case <-held.Ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream request outlived the subscription")
	}
	require.True(t, held.Canceled(), "unsubscribing cancels the upstream request")
	_, err = io.WriteString(stdin, "done\n")
	require.NoError(t, err)
	require.Equal(t, "closed", next().Step)
	require.NoError(t, cmd.Wait(), stderr.String())
}

// TestChatOverSSE streams a chat over Server-Sent Events.
func TestChatOverSSE(t *testing.T) {
	t.Parallel()
	llmSrv := newChatLLM(t)
	a := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits)
	access, _, _ := a.register(t, "chat-sse@example.com")
	ts := serve(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stream := subscribeSSE(t, ctx, ts.URL, access,
		`subscription { chat(input: {message: "list my open tasks"}) { `+chatEventFields+` } }`)
	var events []chatEvent
	for ev := range stream {
		if ev.name == "complete" {
			break
		}
		require.Equal(t, "next", ev.name)
		var payload struct {
			Data struct {
				Chat chatEvent `json:"chat"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(ev.data), &payload), ev.data)
		events = append(events, payload.Data.Chat)
	}
	requireChatRun(t, events)
}

// TestChatCancelledByACompleteOrADroppedSocket ends a chat mid-answer from the client's
// side, by complete on the legacy and the current subprotocol (at once) and by
// dropping the connection (after the resume grace): each time the upstream request
// ends and the goroutines return to their baseline. Not parallel: it counts goroutines.
func TestChatCancelledByACompleteOrADroppedSocket(t *testing.T) {
	llmSrv := newChatLLM(t)
	llmSrv.hold.Store(true)
	a := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits)
	access, _, _ := a.register(t, "chat-cancel@example.com")
	ts := serve(t, a)
	query := `subscription { chat(input: {message: "list my open tasks"}) { type delta } }`

	heldRequest := func(t *testing.T, before int) fakellm.Request {
		t.Helper()
		require.Eventually(t, func() bool { return len(llmSrv.Requests()) >= before+2 }, 10*time.Second, 5*time.Millisecond)
		return llmSrv.Requests()[before+1]
	}
	requireEnded := func(t *testing.T, req fakellm.Request) {
		t.Helper()
		select {
		case <-req.Ended:
		case <-time.After(10 * time.Second):
			t.Fatal("the upstream request outlived the subscription")
		}
		require.True(t, req.Canceled())
	}
	// firstToken reads the subscription's messages up to its first TOKEN.
	firstToken := func(t *testing.T, conn *websocket.Conn, dataType string) {
		t.Helper()
		for {
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
			var m wsMessage
			require.NoError(t, conn.ReadJSON(&m))
			if m.Type == dataType && strings.Contains(string(m.Payload), `"TOKEN"`) {
				return
			}
		}
	}

	t.Run("complete over graphql-transport-ws", func(t *testing.T) {
		ws := dialGraphQLWS(t, ts.URL, access)
		baseline := testkit.SettledGoroutines(t)
		before := len(llmSrv.Requests())
		ws.subscribe(t, "c1", query)
		firstToken(t, ws.conn, "next")
		ws.stop(t, "c1")
		requireEnded(t, heldRequest(t, before))
		require.Eventually(t, func() bool { return runtime.NumGoroutine() <= baseline }, 10*time.Second, 10*time.Millisecond,
			"goroutines after completing: %d, baseline %d", runtime.NumGoroutine(), baseline)
	})

	t.Run("stop over legacy graphql-ws", func(t *testing.T) {
		conn := dialLegacyWS(t, ts.URL, access).conn
		baseline := testkit.SettledGoroutines(t)
		before := len(llmSrv.Requests())
		payload, _ := json.Marshal(map[string]string{"query": query})
		require.NoError(t, conn.WriteJSON(wsMessage{ID: "l1", Type: "start", Payload: payload}))
		firstToken(t, conn, "data")
		require.NoError(t, conn.WriteJSON(wsMessage{ID: "l1", Type: "stop"}))
		requireEnded(t, heldRequest(t, before))
		require.Eventually(t, func() bool { return runtime.NumGoroutine() <= baseline }, 10*time.Second, 10*time.Millisecond,
			"goroutines after stop: %d, baseline %d", runtime.NumGoroutine(), baseline)
	})

	// A dropped connection is not a stop: the run goes on for the grace, waiting to be
	// resumed (chatRun), then ends upstream.
	t.Run("dropped connection", func(t *testing.T) {
		const grace = 300 * time.Millisecond
		b := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits,
			func(c *config.Config) { c.ChatResumeGrace = grace })
		access, _, _ := b.register(t, "chat-drop@example.com")
		ts := serve(t, b)
		baseline := testkit.SettledGoroutines(t)
		ws := dialGraphQLWS(t, ts.URL, access)
		before := len(llmSrv.Requests())
		ws.subscribe(t, "d1", query)
		firstToken(t, ws.conn, "next")
		dropped := time.Now()
		require.NoError(t, ws.conn.Close())
		requireEnded(t, heldRequest(t, before))
		require.GreaterOrEqual(t, time.Since(dropped), grace, "the run was cancelled before its grace was over")
		require.Eventually(t, func() bool { return runtime.NumGoroutine() <= baseline }, 10*time.Second, 10*time.Millisecond,
			"goroutines after the drop: %d, baseline %d", runtime.NumGoroutine(), baseline)
	})
}

// TestHundredConcurrentChats runs 100 chats at once over 10 sockets (run it with
// -race): every run completes with its own ID, its own sequence and the whole answer.
func TestHundredConcurrentChats(t *testing.T) {
	t.Parallel()
	llmSrv := newChatLLM(t)
	a := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits)
	access, _, _ := a.register(t, "chat-many@example.com")
	ts := serve(t, a)
	const sockets, perSocket = 10, 10
	query := `subscription { chat(input: {message: "list my open tasks"}) { ` + chatEventFields + ` } }`

	runs := make(chan []chatEvent, sockets*perSocket)
	var wg sync.WaitGroup
	for s := range sockets {
		ws := dialGraphQLWS(t, ts.URL, access)
		wg.Go(func() {
			for i := range perSocket {
				ws.subscribe(t, fmt.Sprintf("s%d-%d", s, i), query)
			}
			byID := map[string][]chatEvent{}
			for finished := 0; finished < perSocket; {
				m := ws.next(t)
				switch m.Type {
				case "next":
					var p struct {
						Data struct {
							Chat chatEvent `json:"chat"`
						} `json:"data"`
					}
					require.NoError(t, json.Unmarshal(m.Payload, &p), string(m.Payload))
					byID[m.ID] = append(byID[m.ID], p.Data.Chat)
				case "complete":
					finished++
					runs <- byID[m.ID]
				default:
					t.Errorf("unexpected %s: %s", m.Type, m.Payload)
					return
				}
			}
		})
	}
	wg.Wait()
	close(runs)
	ids := map[string]bool{}
	for events := range runs {
		requireChatRun(t, events)
		ids[events[0].RunID] = true
	}
	require.Len(t, ids, sockets*perSocket, "every chat is its own run")

	var usage struct {
		Usage struct {
			Rows []struct {
				Source   string `json:"source"`
				Requests int    `json:"requests"`
			} `json:"rows"`
		} `json:"usage"`
	}
	data, errs := a.do(t, access, `{ usage(days: 1) { rows { source requests } } }`, nil)
	require.Empty(t, errs)
	b, _ := json.Marshal(data)
	require.NoError(t, json.Unmarshal(b, &usage))
	requests := map[string]int{}
	for _, r := range usage.Usage.Rows {
		requests[r.Source] += r.Requests
	}
	require.Equal(t, sockets*perSocket, requests["task"], "every run metered once")
}

// TestChatOverGraphQLInProcess covers the rest of the area's graph: agents, sendChat,
// bad input and an upstream failure mid-stream.
func TestChatOverGraphQLInProcess(t *testing.T) {
	t.Parallel()
	llmSrv := newChatLLM(t)
	a := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits)
	access, _, _ := a.register(t, "chat-graph@example.com")

	data, errs := a.do(t, access, `{ agents { name allowed tools } }`, nil)
	require.Empty(t, errs)
	agents := data["agents"].([]any)
	require.Len(t, agents, 4)
	allowed := 0
	for _, ag := range agents {
		if ag.(map[string]any)["allowed"].(bool) {
			allowed++
		}
	}
	require.Equal(t, 3, allowed, "the free tier has three agents")

	data, errs = a.do(t, access, `mutation { sendChat(input: {message: "list my open tasks"}) {
		runId response finishReason offline route { agents } usage { totalTokens provider } } }`, nil)
	require.Empty(t, errs)
	reply := data["sendChat"].(map[string]any)
	require.Equal(t, chatAnswer, reply["response"])
	require.Equal(t, "stop", reply["finishReason"])
	require.Equal(t, false, reply["offline"])

	for _, tc := range []struct{ input, field string }{
		{`{message: "   "}`, "message"},
		{`{message: "` + strings.Repeat("a", 8001) + `"}`, "message"},
	} {
		_, errs = a.do(t, access, `mutation { sendChat(input: `+tc.input+`) { runId } }`, nil)
		require.Len(t, errs, 1)
		require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"])
		require.Equal(t, tc.field, errs[0].Extensions["field"])
	}
	_, errs = a.do(t, "", `mutation { sendChat(input: {message: "hi"}) { runId } }`, nil)
	require.Equal(t, "UNAUTHENTICATED", errs[0].Extensions["code"])

	// An upstream failure after the answer began is one error, and no retry.
	llmSrv.Reply = func(req fakellm.Request) fakellm.Response {
		if len(req.Body.Tools) == 0 {
			return fakellm.Response{Content: "task"}
		}
		return fakellm.Response{Header: map[string][]string{"Content-Type": {"text/event-stream"}}, Body: "" +
			`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}` + "\n\n" +
			`data: {"error":{"message":"overloaded","type":"server_error"}}` + "\n\n"}
	}
	before := len(llmSrv.Requests())
	_, errs = a.do(t, access, `mutation { sendChat(input: {message: "list my open tasks"}) { runId } }`, nil)
	require.Len(t, errs, 1)
	require.Equal(t, "UPSTREAM_UNAVAILABLE", errs[0].Extensions["code"])
	require.Len(t, llmSrv.Requests(), before+2, "the router and the one failed answer: no retry")
}

// TestChatOnTheUsersOwnKey has a power user chat with their own OpenAI key, saved
// through onboarding: the key goes to the OpenAI endpoint alone, with the BYOK
// model, and the run is metered as theirs, outside the server's quota.
func TestChatOnTheUsersOwnKey(t *testing.T) {
	t.Parallel()
	server := newChatLLM(t)
	own := fakellm.New(t, fakellm.WithAPIKey(openAIKey))
	own.Reply = server.Reply
	a := newApp(t, testkit.SQLite, withLLM(server.URL()), withoutRateLimits, func(c *config.Config) {
		c.ProviderBaseURLs = map[string]string{"openai": strings.TrimSuffix(own.URL(), "/v1")}
	})
	access, _, userID := a.register(t, "byok@example.com")
	_, errs := a.do(t, access, `mutation($k: String!) { saveProviderKey(provider: "openai", key: $k) { status } }`, map[string]any{"k": openAIKey})
	require.Empty(t, errs)

	send := func() map[string]any {
		data, errs := a.do(t, access, `mutation { sendChat(input: {message: "list my open tasks"}) { response usage { model } } }`, nil)
		require.Empty(t, errs)
		return data["sendChat"].(map[string]any)
	}
	require.Equal(t, "fake-model", send()["usage"].(map[string]any)["model"], "the free tier chats on the server's LLM")
	require.Empty(t, own.Requests())

	_, err := a.db.NewUpdate().Table("users").Set("tier = ?", "power").Where("id = ?", userID).Exec(t.Context())
	require.NoError(t, err)
	serverCalls := len(server.Requests())
	reply := send()
	require.Equal(t, chatAnswer, reply["response"])
	require.Equal(t, "gpt-4o-mini", reply["usage"].(map[string]any)["model"])
	require.Len(t, server.Requests(), serverCalls, "the server's LLM is not asked")
	require.NotEmpty(t, own.Requests())
	for _, r := range own.Requests() {
		require.Equal(t, "Bearer "+openAIKey, r.Header.Get("Authorization"))
	}

	data, errs := a.do(t, access, `{ usage(days: 1) { rows { provider requests } monthTokens } }`, nil)
	require.Empty(t, errs)
	byProvider := map[string]float64{}
	for _, r := range data["usage"].(map[string]any)["rows"].([]any) {
		row := r.(map[string]any)
		byProvider[row["provider"].(string)] += row["requests"].(float64)
	}
	require.Equal(t, map[string]float64{"SERVER": 1, "BYOK": 1}, byProvider)
}

// TestASlowClientNeverBlocksAnother streams a long answer to a socket that never
// reads, until the server can write no more to it, while another socket chats to
// the end; closing the stuck socket then ends its upstream request (after the resume
// grace).
func TestASlowClientNeverBlocksAnother(t *testing.T) {
	t.Parallel()
	flood := strings.Repeat("lorem ", 200_000) // well past the sockets' buffers
	llmSrv := newChatLLM(t)
	reply := llmSrv.Reply
	llmSrv.Reply = func(req fakellm.Request) fakellm.Response {
		if len(req.Body.Tools) > 0 && strings.Contains(req.Body.Messages[len(req.Body.Messages)-1].Content, "flood") {
			// Held open after the flood: the run (which reads upstream without
			// waiting for its client, its TOKENs batched) cannot finish on its own.
			return fakellm.Response{Content: flood, Hold: true}
		}
		return reply(req)
	}
	// A closed socket leaves its run the resume grace: a short one here.
	a := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits,
		func(c *config.Config) { c.ChatResumeGrace = 100 * time.Millisecond })
	access, _, _ := a.register(t, "slow@example.com")
	ts := serve(t, a)

	stuck := dialGraphQLWS(t, ts.URL, access)
	stuck.subscribe(t, "flood", `subscription { chat(input: {message: "flood me with text"}) { type delta } }`)
	// The flood's answer is streaming (and backing up) before the other chat starts.
	require.Eventually(t, func() bool { return len(llmSrv.Requests()) >= 2 }, 10*time.Second, 5*time.Millisecond)
	flooded := llmSrv.Requests()[1]

	other := dialGraphQLWS(t, ts.URL, access)
	other.subscribe(t, "ok", `subscription { chat(input: {message: "list my open tasks"}) { `+chatEventFields+` } }`)
	var events []chatEvent
	for {
		m := other.next(t) // each read waits at most 10 s
		if m.Type == "complete" {
			break
		}
		require.Equal(t, "next", m.Type, "%s", m.Payload)
		var p struct {
			Data struct {
				Chat chatEvent `json:"chat"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(m.Payload, &p))
		events = append(events, p.Data.Chat)
	}
	requireChatRun(t, events)
	select {
	case <-flooded.Ended:
		t.Fatal("the flood's upstream ended while its client was still connected")
	default:
	}

	require.NoError(t, stuck.conn.Close())
	select {
	case <-flooded.Ended:
	case <-time.After(30 * time.Second):
		t.Fatal("the stuck client's upstream request outlived its connection")
	}
}

// TestChatEnumsOnTheWire reads the enums whose Go values are lower case (an action's
// type, a usage row's provider) as GraphQL writes them: upper case.
func TestChatEnumsOnTheWire(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits) // offline
	access, _, _ := a.register(t, "chat-enums@example.com")

	data, errs := a.do(t, access, `mutation { sendChat(input: {message: "create a new task for the user: call the bank"}) {
		offline actions { type collection } } }`, nil)
	require.Empty(t, errs)
	reply := data["sendChat"].(map[string]any)
	require.Equal(t, true, reply["offline"])
	require.Equal(t, []any{map[string]any{"type": "CREATE_RECORD", "collection": "tasks"}}, reply["actions"])

	data, errs = a.do(t, access, `{ usage(days: 1) { rows { provider } } }`, nil)
	require.Empty(t, errs)
	require.Equal(t, []any{map[string]any{"provider": "OFFLINE"}}, data["usage"].(map[string]any)["rows"])
}

// TestChatPipelineTokensAreTheAnswer runs a pipeline chat (email, then task, then the
// synthesis) over graphql-transport-ws, the model streaming each text in pieces that
// split multi-byte text, the synthesis's with a line of a prompt in it: the TOKEN
// deltas joined are exactly done.response, the synthesis's answer without the line,
// and the agents' own texts come as AGENT_TOKEN, before it, and not in the answer.
func TestChatPipelineTokensAreTheAnswer(t *testing.T) {
	t.Parallel()
	const (
		promptLine = "You are the task agent of Inkgraph, an assistant for writers and small teams."
		emailText  = "Ada wants the draft 🙂 by Friday."
		taskText   = "Proposed: send the draft to Ada — café first."
		synthesis  = "Réponse: send Ada the draft by Friday 👩\u200d💻. " + promptLine + " Done."
		answer     = "Réponse: send Ada the draft by Friday 👩\u200d💻.  Done."
	)
	// chunks cuts text every two runes: the pieces split the three-rune ZWJ emoji.
	chunks := func(text string) []fakellm.Chunk {
		var out []fakellm.Chunk
		runes := []rune(text)
		for i := 0; i < len(runes); i += 2 {
			out = append(out, fakellm.Chunk{Content: string(runes[i:min(i+2, len(runes))])})
		}
		return out
	}
	llmSrv := fakellm.New(t)
	llmSrv.Reply = func(req fakellm.Request) fakellm.Response {
		first := req.Body.Messages[0].Content
		switch {
		case strings.HasPrefix(first, "You route requests"):
			return fakellm.Response{Content: "pipeline:[email,task]"}
		case strings.HasPrefix(first, "You write the final answer"):
			return fakellm.Response{Chunks: chunks(synthesis)}
		case strings.HasPrefix(first, "You are the email agent"):
			return fakellm.Response{Chunks: chunks(emailText)}
		default:
			return fakellm.Response{Chunks: chunks(taskText)}
		}
	}
	a := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits)
	access, _, _ := a.register(t, "chat-pipeline@example.com")
	ts := serve(t, a)

	ws := dialGraphQLWS(t, ts.URL, access)
	ws.subscribe(t, "p1", `subscription { chat(input: {message: "turn Ada's email into a task"}) { `+chatEventFields+` } }`)
	var events []chatEvent
	for {
		m := ws.next(t)
		if m.Type == "complete" {
			break
		}
		require.Equal(t, "next", m.Type, "%s", m.Payload)
		var p struct {
			Data struct {
				Chat chatEvent `json:"chat"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(m.Payload, &p), string(m.Payload))
		events = append(events, p.Data.Chat)
	}

	require.NotEmpty(t, events)
	require.Equal(t, []string{"email", "task"}, events[0].Route.Agents)
	last := events[len(events)-1]
	require.Equal(t, "DONE", last.Type, "%+v", last.Error)
	require.Equal(t, "synthesis", last.Agent)
	var tokens strings.Builder
	agentText := map[string]string{}
	for i, e := range events {
		require.Equal(t, i+1, e.Seq)
		switch e.Type {
		case "TOKEN":
			require.Equal(t, "synthesis", e.Agent)
			tokens.WriteString(e.Delta)
		case "AGENT_TOKEN":
			require.Empty(t, tokens.String(), "the agents stream before the answer")
			agentText[e.Agent] += e.Delta
		}
	}
	require.Equal(t, answer, last.Done.Response)
	require.Equal(t, last.Done.Response, tokens.String(), "the TOKEN deltas joined are the answer")
	require.Equal(t, map[string]string{"email": emailText, "task": taskText}, agentText)
}
