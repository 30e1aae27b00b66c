package api_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/api"
	inkgraph "github.com/inkgraph/inkgraph/internal/app"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
)

// TestShutdownEndsRunsWithARetryableError holds a chat and a playbook run mid-answer on
// one graphql-transport-ws socket of a real listener, then ends Serve's context, as
// SIGTERM does: each run's client gets what was streamed, the chat its USAGE, then a
// retryable ERROR saying the answer was cut off, then complete; the socket closes with
// 1001 and Serve returns cleanly.
func TestShutdownEndsRunsWithARetryableError(t *testing.T) {
	t.Parallel()
	llmSrv := fakellm.New(t)
	llmSrv.Reply = func(req fakellm.Request) fakellm.Response {
		switch {
		case strings.HasPrefix(req.Body.Messages[0].Content, "You route requests"):
			return fakellm.Response{Content: "task"}
		case len(req.Body.Tools) > 0: // the chat's task agent
			return fakellm.Response{Chunks: []fakellm.Chunk{{Content: "Looking "}, {Content: "now"}}, Hold: true}
		default: // the playbook's step
			return fakellm.Response{Chunks: []fakellm.Chunk{{Content: "Drafting "}, {Content: "the task"}}, Hold: true}
		}
	}
	var svc *inkgraph.Services
	a := startAppWith(t, testkit.DatabaseURL(t, testkit.SQLite),
		wiring{services: func(s *inkgraph.Services, _ *bun.DB) { svc = s }},
		withLLM(llmSrv.URL()), withoutRateLimits)
	access, _, _ := a.register(t, "shutdown@example.com")
	srv := api.New(api.Deps{
		Config: a.cfg, Logger: slog.New(slog.DiscardHandler), Services: svc,
		Ready: func(context.Context) error { return nil },
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	ws := dialGraphQLWS(t, "http://"+ln.Addr().String(), access)
	ws.subscribe(t, "chat", `subscription { chat(input: {message: "list my open tasks"}) { `+chatEventFields+` } }`)
	payload, err := json.Marshal(map[string]any{
		"query": `subscription($v: [PlaybookValueInput!]) { runPlaybook(id: "email_to_task", variables: $v) {
			type delta error { code message retryable } } }`,
		"variables": map[string]any{"v": []map[string]string{{"name": "email", "value": "Please send the Q3 numbers by Friday. — Ana"}}},
	})
	require.NoError(t, err)
	ws.write(t, wsMessage{ID: "playbook", Type: "subscribe", Payload: payload})

	type playbookEvent struct {
		Type  string `json:"type"`
		Delta string `json:"delta"`
		Error *struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			Retryable bool   `json:"retryable"`
		} `json:"error"`
	}
	chatEvents := map[string][]string{} // by operation: the types, then "complete"
	var chatRun []chatEvent
	var playbookRun []playbookEvent
	read := func() {
		t.Helper()
		m := ws.next(t)
		if m.Type == "complete" {
			chatEvents[m.ID] = append(chatEvents[m.ID], "complete")
			return
		}
		require.Equal(t, "next", m.Type, "%s: %s", m.ID, m.Payload)
		var p struct {
			Data struct {
				Chat        *chatEvent     `json:"chat"`
				RunPlaybook *playbookEvent `json:"runPlaybook"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(m.Payload, &p), string(m.Payload))
		switch m.ID {
		case "chat":
			chatRun = append(chatRun, *p.Data.Chat)
			chatEvents[m.ID] = append(chatEvents[m.ID], p.Data.Chat.Type)
		case "playbook":
			playbookRun = append(playbookRun, *p.Data.RunPlaybook)
			chatEvents[m.ID] = append(chatEvents[m.ID], p.Data.RunPlaybook.Type)
		default:
			t.Fatalf("a message for %q", m.ID)
		}
	}
	streaming := func(id string) bool {
		for _, typ := range chatEvents[id] {
			if typ == "TOKEN" {
				return true
			}
		}
		return false
	}
	for !streaming("chat") || !streaming("playbook") {
		read()
	}

	stop() // SIGTERM
	for len(chatEvents["chat"]) == 0 || chatEvents["chat"][len(chatEvents["chat"])-1] != "complete" ||
		len(chatEvents["playbook"]) == 0 || chatEvents["playbook"][len(chatEvents["playbook"])-1] != "complete" {
		read()
	}

	tail := func(types []string) []string {
		for i, typ := range types {
			if typ == "TOKEN" {
				for i < len(types) && types[i] == "TOKEN" {
					i++
				}
				return types[i:]
			}
		}
		return types
	}
	require.Equal(t, []string{"USAGE", "ERROR", "complete"}, tail(chatEvents["chat"]), "%v", chatEvents["chat"])
	last := chatRun[len(chatRun)-1]
	require.Equal(t, "UPSTREAM_UNAVAILABLE", last.Error.Code)
	require.True(t, last.Error.Retryable)
	require.Contains(t, last.Error.Message, "shutting down")
	require.Equal(t, 1, chatRun[len(chatRun)-2].Usage.Calls-1, "the router and the cut-off answer")

	require.Equal(t, []string{"ERROR", "complete"}, tail(chatEvents["playbook"]), "%v", chatEvents["playbook"])
	end := playbookRun[len(playbookRun)-1]
	require.Equal(t, "UPSTREAM_UNAVAILABLE", end.Error.Code)
	require.True(t, end.Error.Retryable)
	require.Contains(t, end.Error.Message, "shutting down")

	_, _, err = ws.conn.ReadMessage()
	require.True(t, websocket.IsCloseError(err, websocket.CloseGoingAway), "%v", err)
	require.NoError(t, <-served)
	reqs := llmSrv.Requests()
	require.Len(t, reqs, 3, "the router, the chat's answer and the playbook's step")
	for _, r := range reqs {
		select {
		case <-r.Ended:
		case <-time.After(10 * time.Second):
			t.Fatal("an upstream request outlived the shutdown")
		}
	}
}
