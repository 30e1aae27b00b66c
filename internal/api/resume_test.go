package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
)

// pausedChatLLM answers as chatLLM does, but the task agent's answer stops after its
// first three words until gate is closed.
func pausedChatLLM(t *testing.T) (*fakellm.Server, chan struct{}) {
	t.Helper()
	gate := make(chan struct{})
	f := fakellm.New(t)
	f.Reply = func(req fakellm.Request) fakellm.Response {
		if len(req.Body.Tools) == 0 {
			return fakellm.Response{Content: "task", Usage: &fakellm.Usage{PromptTokens: 20, CompletionTokens: 1, TotalTokens: 21}}
		}
		return fakellm.Response{Content: chatAnswer, Pause: gate, PauseAfter: 3}
	}
	return f, gate
}

// readEvents reads operation id's events until its complete (or an error message),
// stopping early once until says so.
func readEvents(t *testing.T, ws *wsClient, id string, until func([]chatEvent) bool) (events []chatEvent, completed bool) {
	t.Helper()
	for {
		m := ws.next(t)
		require.Equal(t, id, m.ID, "%s", m.Payload)
		switch m.Type {
		case "complete":
			return events, true
		case "next":
		default:
			t.Fatalf("unexpected %s: %s", m.Type, m.Payload)
		}
		var p struct {
			Data   map[string]chatEvent `json:"data"`
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		require.NoError(t, json.Unmarshal(m.Payload, &p), "%s", m.Payload)
		require.Empty(t, p.Errors, "%s", m.Payload)
		for _, e := range p.Data {
			events = append(events, e)
		}
		if until != nil && until(events) {
			return events, false
		}
	}
}

// listTasksChat is the chat the resume tests run: the task agent answers it.
const listTasksChat = `subscription { chat(input: {message: "list my open tasks"}) { ` + chatEventFields + ` } }`

// requireUpstreamCancelled waits (up to within) for the LLM request numbered i to end
// cancelled: the run it served was stopped.
func requireUpstreamCancelled(t *testing.T, llmSrv *fakellm.Server, i int, within time.Duration, msg string) {
	t.Helper()
	require.Eventually(t, func() bool {
		reqs := llmSrv.Requests()
		if len(reqs) <= i {
			return false
		}
		select {
		case <-reqs[i].Ended:
			return reqs[i].Canceled()
		default:
			return false
		}
	}, within, 10*time.Millisecond, msg)
}

func joinedTokens(events []chatEvent) string {
	var b strings.Builder
	for _, e := range events {
		if e.Type == "TOKEN" {
			b.WriteString(e.Delta)
		}
	}
	return b.String()
}

// TestChatResumesOnAnotherInstance drops a chat's socket mid-answer on one instance
// and resumes the run on another (two servers, one PostgreSQL, one Redis): the events
// after the last one read come, none missing and none twice, then DONE, whose answer
// is what the TOKENs of both halves spell. Then, after the run ended, a resume from
// the middle gets the remainder and DONE; another user's resume is NOT_FOUND.
func TestChatResumesOnAnotherInstance(t *testing.T) {
	t.Parallel()
	llmSrv, gate := pausedChatLLM(t)
	url := testkit.DatabaseURL(t, testkit.Postgres)
	tune := []func(*config.Config){withTestRedis(t), withLLM(llmSrv.URL()), withoutRateLimits}
	first, second := startApp(t, url, tune...), startApp(t, url, tune...)
	access, _, _ := first.register(t, "resume-owner@example.com")
	other, _, _ := first.register(t, "resume-other@example.com")
	ts1, ts2 := serve(t, first), serve(t, second)

	ws1 := dialGraphQLWS(t, ts1.URL, access)
	ws1.subscribe(t, "c", listTasksChat)
	before, completed := readEvents(t, ws1, "c", func(events []chatEvent) bool {
		return joinedTokens(events) == "You have one "
	})
	require.False(t, completed)
	require.NoError(t, ws1.conn.Close()) // the phone changes network
	last := before[len(before)-1].Seq
	runID := before[0].RunID

	ws2 := dialGraphQLWS(t, ts2.URL, access)
	ws2.subscribe(t, "r", fmt.Sprintf(`subscription { chatRun(runId: %q, afterSeq: %d) { %s } }`, runID, last, chatEventFields))
	close(gate) // the model goes on
	after, completed := readEvents(t, ws2, "r", nil)
	require.True(t, completed)
	requireChatRun(t, append(before, after...)) // one run, seqs 1… without gap or repeat, DONE with the whole answer
	require.Equal(t, last+1, after[0].Seq)

	// After the end: the remainder from the middle, then DONE, on either instance.
	ws3 := dialGraphQLWS(t, ts1.URL, access)
	ws3.subscribe(t, "again", fmt.Sprintf(`subscription { chatRun(runId: %q, afterSeq: 2) { %s } }`, runID, chatEventFields))
	rest, completed := readEvents(t, ws3, "again", nil)
	require.True(t, completed)
	whole := append(before, after...)
	require.Equal(t, whole[2:], rest)

	// Another user's resume, and a seq before the first, change nothing and say why.
	for _, c := range []struct {
		token, args, code, field string
	}{
		{other, fmt.Sprintf(`runId: %q`, runID), "NOT_FOUND", "runId"},
		{access, `runId: "no-such-run"`, "NOT_FOUND", "runId"},
		{access, fmt.Sprintf(`runId: %q, afterSeq: -1`, runID), "BAD_USER_INPUT", "afterSeq"},
	} {
		ws := dialGraphQLWS(t, ts2.URL, c.token)
		ws.subscribe(t, "x", `subscription { chatRun(`+c.args+`) { seq } }`)
		m := ws.next(t)
		require.Contains(t, []string{"next", "error"}, m.Type, "%s", m.Payload)
		require.Contains(t, string(m.Payload), `"code":"`+c.code+`"`)
		require.Contains(t, string(m.Payload), `"field":"`+c.field+`"`)
	}
}

// TestChatRunResumedInProcess: without Redis the run's events are kept in the process
// that runs it, and a second socket to the same server resumes it.
func TestChatRunResumedInProcess(t *testing.T) {
	t.Parallel()
	llmSrv, gate := pausedChatLLM(t)
	a := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits)
	access, _, _ := a.register(t, "resume-local@example.com")
	ts := serve(t, a)
	// With history on, a resumed run's exchange is kept as its client's would be.
	_, errs := a.do(t, access, `mutation { updateChatSettings(input: {keepHistory: true}) { keepHistory } }`, nil)
	require.Empty(t, errs)

	ws1 := dialGraphQLWS(t, ts.URL, access)
	ws1.subscribe(t, "c", listTasksChat)
	before, _ := readEvents(t, ws1, "c", func(events []chatEvent) bool { return len(events) >= 2 })
	require.NoError(t, ws1.conn.Close())

	ws2 := dialGraphQLWS(t, ts.URL, access)
	ws2.subscribe(t, "r", fmt.Sprintf(`subscription { chatRun(runId: %q, afterSeq: %d) { %s } }`,
		before[0].RunID, before[len(before)-1].Seq, chatEventFields))
	close(gate)
	after, completed := readEvents(t, ws2, "r", nil)
	require.True(t, completed)
	requireChatRun(t, append(before, after...))
	data, errs := a.do(t, access, `query { conversations(first: 5) { edges { node { messageCount } } } }`, nil)
	require.Empty(t, errs)
	got, err := json.Marshal(data["conversations"])
	require.NoError(t, err)
	require.JSONEq(t, `{"edges": [{"node": {"messageCount": 2}}]}`, string(got))
}

// TestChatRunNobodyResumesIsCancelled: a run whose client went away and that nobody
// resumed within the grace is cancelled upstream; a late reader sees it end with
// CANCELLED, after the events the client missed.
func TestChatRunNobodyResumesIsCancelled(t *testing.T) {
	t.Parallel()
	llmSrv, _ := pausedChatLLM(t) // the gate stays shut: the model never finishes
	const grace = 200 * time.Millisecond
	a := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits,
		func(c *config.Config) { c.ChatResumeGrace = grace })
	access, _, _ := a.register(t, "resume-never@example.com")
	ts := serve(t, a)

	ws1 := dialGraphQLWS(t, ts.URL, access)
	ws1.subscribe(t, "c", listTasksChat)
	before, _ := readEvents(t, ws1, "c", func(events []chatEvent) bool { return len(events) >= 1 })
	require.NoError(t, ws1.conn.Close())
	requireUpstreamCancelled(t, llmSrv, 1, 10*time.Second, "the upstream request outlived the grace")

	ws2 := dialGraphQLWS(t, ts.URL, access)
	ws2.subscribe(t, "r", fmt.Sprintf(`subscription { chatRun(runId: %q) { %s } }`, before[0].RunID, chatEventFields))
	events, completed := readEvents(t, ws2, "r", nil)
	require.True(t, completed)
	require.Equal(t, before, events[:len(before)])
	end := events[len(events)-1]
	require.Equal(t, "ERROR", end.Type)
	require.Equal(t, "CANCELLED", end.Error.Code)
	require.False(t, end.Error.Retryable)
	for i, e := range events {
		require.Equal(t, i+1, e.Seq)
	}
}

// TestDroppedSocketIsFreedWhileItsRunGoesOn: the connection of a dropped chat is
// finished at once, not when its run (which goes on, waiting to be resumed) ends: with
// one socket allowed per address, the client's next socket is admitted, and resumes
// the run.
func TestDroppedSocketIsFreedWhileItsRunGoesOn(t *testing.T) {
	t.Parallel()
	llmSrv, gate := pausedChatLLM(t)
	a := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits,
		func(c *config.Config) { c.WSMaxConnsPerIP, c.ChatResumeGrace = 1, time.Minute })
	access, _, _ := a.register(t, "resume-freed@example.com")
	ts := serve(t, a)

	ws1 := dialGraphQLWS(t, ts.URL, access)
	ws1.subscribe(t, "c", listTasksChat)
	before, _ := readEvents(t, ws1, "c", func(events []chatEvent) bool { return joinedTokens(events) == "You have one " })
	require.NoError(t, ws1.conn.Close())

	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	var conn *websocket.Conn
	require.Eventually(t, func() bool {
		c, _, err := dialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/graphql", nil)
		if err != nil {
			return false
		}
		conn = c
		return true
	}, 10*time.Second, 20*time.Millisecond, "the dropped socket still holds the address's one place")
	t.Cleanup(func() { _ = conn.Close() })
	ws2 := &wsClient{conn: conn}
	init, err := json.Marshal(map[string]string{"authorization": "Bearer " + access})
	require.NoError(t, err)
	ws2.write(t, wsMessage{Type: "connection_init", Payload: init})
	require.Equal(t, "connection_ack", ws2.next(t).Type)
	ws2.subscribe(t, "r", fmt.Sprintf(`subscription { chatRun(runId: %q, afterSeq: %d) { %s } }`,
		before[0].RunID, before[len(before)-1].Seq, chatEventFields))
	close(gate)
	after, completed := readEvents(t, ws2, "r", nil)
	require.True(t, completed)
	requireChatRun(t, append(before, after...))
}

// TestChatRunStoppedByItsReader: a client that resumed a run on another instance and
// then completes its chatRun stops the run, as completing chat would: its upstream
// request ends long before the grace, and a later reader sees the run end with
// CANCELLED. A run its own client completed, or whose legacy socket the client
// terminated, ends with CANCELLED for a reader too.
func TestChatRunStoppedByItsReader(t *testing.T) {
	t.Parallel()
	llmSrv, _ := pausedChatLLM(t) // the model never finishes on its own
	url := testkit.DatabaseURL(t, testkit.Postgres)
	tune := []func(*config.Config){withTestRedis(t), withLLM(llmSrv.URL()), withoutRateLimits,
		func(c *config.Config) { c.ChatResumeGrace = 10 * time.Minute }}
	first, second := startApp(t, url, tune...), startApp(t, url, tune...)
	access, _, _ := first.register(t, "resume-stop@example.com")
	ts1, ts2 := serve(t, first), serve(t, second)
	endsCancelled := func(runID string) {
		t.Helper()
		ws := dialGraphQLWS(t, ts1.URL, access)
		ws.subscribe(t, "late", fmt.Sprintf(`subscription { chatRun(runId: %q) { %s } }`, runID, chatEventFields))
		events, completed := readEvents(t, ws, "late", nil)
		require.True(t, completed)
		end := events[len(events)-1]
		require.Equal(t, "ERROR", end.Type)
		require.Equal(t, "CANCELLED", end.Error.Code)
		for i, e := range events {
			require.Equal(t, i+1, e.Seq)
		}
	}

	t.Run("by the reader that resumed it", func(t *testing.T) {
		before := len(llmSrv.Requests())
		ws1 := dialGraphQLWS(t, ts1.URL, access)
		ws1.subscribe(t, "c", listTasksChat)
		events, _ := readEvents(t, ws1, "c", func(events []chatEvent) bool { return joinedTokens(events) == "You have one " })
		require.NoError(t, ws1.conn.Close())
		ws2 := dialGraphQLWS(t, ts2.URL, access)
		ws2.subscribe(t, "r", fmt.Sprintf(`subscription { chatRun(runId: %q, afterSeq: 1) { %s } }`, events[0].RunID, chatEventFields))
		readEvents(t, ws2, "r", func(events []chatEvent) bool { return len(events) >= 1 })
		ws2.stop(t, "r")
		requireUpstreamCancelled(t, llmSrv, before+1, 10*time.Second, "the upstream request outlived the stop")
		endsCancelled(events[0].RunID)
	})

	t.Run("by connection_terminate over the legacy protocol", func(t *testing.T) {
		before := len(llmSrv.Requests())
		conn := dialLegacyWS(t, ts1.URL, access).conn
		payload, err := json.Marshal(map[string]string{"query": listTasksChat})
		require.NoError(t, err)
		require.NoError(t, conn.WriteJSON(wsMessage{ID: "l", Type: "start", Payload: payload}))
		var runID string
		for runID == "" {
			var m wsMessage
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
			require.NoError(t, conn.ReadJSON(&m))
			var p struct {
				Data struct {
					Chat chatEvent `json:"chat"`
				} `json:"data"`
			}
			if m.Type == "data" && json.Unmarshal(m.Payload, &p) == nil && p.Data.Chat.Type == "TOKEN" {
				runID = p.Data.Chat.RunID
			}
		}
		require.NoError(t, conn.WriteJSON(wsMessage{Type: "connection_terminate"}))
		requireUpstreamCancelled(t, llmSrv, before+1, 10*time.Second, "the upstream request outlived connection_terminate")
		endsCancelled(runID)
	})

	t.Run("by its own client", func(t *testing.T) {
		before := len(llmSrv.Requests())
		ws := dialGraphQLWS(t, ts1.URL, access)
		ws.subscribe(t, "c", listTasksChat)
		events, _ := readEvents(t, ws, "c", func(events []chatEvent) bool { return len(events) >= 2 })
		ws.stop(t, "c")
		requireUpstreamCancelled(t, llmSrv, before+1, 10*time.Second, "the upstream request outlived the stop")
		endsCancelled(events[0].RunID)
	})
}

// TestChatRunGraceRestartsWhenItsReaderLeaves: a run resumed and then dropped again
// by its reader gets the grace again from the reader's leaving, not from its first
// client's: it is not cancelled before then.
func TestChatRunGraceRestartsWhenItsReaderLeaves(t *testing.T) {
	t.Parallel()
	llmSrv, _ := pausedChatLLM(t) // the model never finishes on its own
	const grace = 500 * time.Millisecond
	a := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits,
		func(c *config.Config) { c.ChatResumeGrace = grace })
	access, _, _ := a.register(t, "resume-again@example.com")
	ts := serve(t, a)

	ws1 := dialGraphQLWS(t, ts.URL, access)
	ws1.subscribe(t, "c", listTasksChat)
	before, _ := readEvents(t, ws1, "c", func(events []chatEvent) bool { return len(events) >= 2 })
	require.NoError(t, ws1.conn.Close())
	ws2 := dialGraphQLWS(t, ts.URL, access)
	ws2.subscribe(t, "r", fmt.Sprintf(`subscription { chatRun(runId: %q) { %s } }`, before[0].RunID, chatEventFields))
	readEvents(t, ws2, "r", func(events []chatEvent) bool { return len(events) >= 2 })
	time.Sleep(2 * grace) // past the first client's grace, the reader still there
	left := time.Now()
	require.NoError(t, ws2.conn.Close())

	requireUpstreamCancelled(t, llmSrv, 1, 30*time.Second, "the run was never cancelled")
	require.GreaterOrEqual(t, time.Since(left), grace, "the run was cancelled before the grace from its reader's leaving")
}
