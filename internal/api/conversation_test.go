package api_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

const conversationFields = `id title messageCount createdAt updatedAt
	messages(first: 10) { edges { cursor node { position role content } } pageInfo { hasNextPage endCursor } }`

// TestConversationHistoryOverGraphQL: a user turns history on, chats over SSE (DONE
// names the new conversation) and again by sendChat naming it (the model sees the
// first exchange), lists, reads, renames and deletes it; another user meets
// NOT_FOUND on every operation; with history off nothing is stored and a
// conversationId is refused.
func TestConversationHistoryOverGraphQL(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			llmSrv := newChatLLM(t)
			a := newApp(t, d, withLLM(llmSrv.URL()), withoutRateLimits)
			access, _, _ := a.register(t, "history@example.com")
			other, _, _ := a.register(t, "other@example.com")
			ts := serve(t, a)

			// Off by default: nothing stored, a conversationId refused.
			data, errs := a.do(t, access, `{ chatSettings { keepHistory requireToolApproval } }`, nil)
			require.Empty(t, errs)
			require.Equal(t, map[string]any{"keepHistory": false, "requireToolApproval": false}, data["chatSettings"])
			data, errs = a.do(t, access, `mutation { sendChat(input: {message: "list my open tasks"}) { response conversationId } }`, nil)
			require.Empty(t, errs)
			require.Nil(t, data["sendChat"].(map[string]any)["conversationId"])
			_, errs = a.do(t, access, `mutation($id: ID) { sendChat(input: {message: "hi", conversationId: $id}) { response } }`,
				map[string]any{"id": uuid.NewString()})
			requireError(t, errs, "BAD_USER_INPUT", "conversationId", "history is off")
			require.Zero(t, countRows(t, a.db, "conversations"))
			require.Zero(t, countRows(t, a.db, "conversation_messages"))

			for _, token := range []string{access, other} {
				data, errs = a.do(t, token, `mutation { updateChatSettings(input: {keepHistory: true}) { keepHistory requireToolApproval } }`, nil)
				require.Empty(t, errs)
				require.Equal(t, map[string]any{"keepHistory": true, "requireToolApproval": false}, data["updateChatSettings"])
			}

			// The first run over SSE starts a conversation; DONE names it.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			stream := subscribeSSE(t, ctx, ts.URL, access,
				`subscription { chat(input: {message: "list my open tasks"}) { type done { response conversationId } } }`)
			var id string
			for ev := range stream {
				if ev.name == "complete" {
					break
				}
				var payload struct {
					Data struct {
						Chat struct {
							Type string `json:"type"`
							Done *struct {
								Response       string `json:"response"`
								ConversationID string `json:"conversationId"`
							} `json:"done"`
						} `json:"chat"`
					} `json:"data"`
				}
				require.NoError(t, json.Unmarshal([]byte(ev.data), &payload), ev.data)
				if payload.Data.Chat.Type == "DONE" {
					require.Equal(t, chatAnswer, payload.Data.Chat.Done.Response)
					id = payload.Data.Chat.Done.ConversationID
				}
			}
			require.NotEmpty(t, id, "DONE names the conversation")

			// The second names it: the model sees the first exchange.
			before := len(llmSrv.Requests())
			data, errs = a.do(t, access, `mutation($id: ID) { sendChat(input: {message: "and tomorrow?", conversationId: $id}) { response conversationId } }`,
				map[string]any{"id": id})
			require.Empty(t, errs)
			require.Equal(t, id, data["sendChat"].(map[string]any)["conversationId"])
			var seen []string
			for _, r := range llmSrv.Requests()[before:] {
				if len(r.Body.Tools) == 0 {
					continue // the router
				}
				for _, m := range r.Body.Messages {
					if m.Role == "user" || m.Role == "assistant" {
						seen = append(seen, m.Role+": "+m.Content)
					}
				}
				break
			}
			require.Equal(t, []string{"user: list my open tasks", "assistant: " + chatAnswer, "user: and tomorrow?"}, seen)

			_, errs = a.do(t, access, `mutation($id: ID) { sendChat(input: {message: "x", conversationId: $id, context: {history: [{role: "user", content: "y"}]}}) { response } }`,
				map[string]any{"id": id})
			requireError(t, errs, "BAD_USER_INPUT", "conversationId", "not both")

			// List and read.
			data, errs = a.do(t, access, `{ conversations(first: 5) { edges { node { `+conversationFields+` } } pageInfo { hasNextPage } } }`, nil)
			require.Empty(t, errs)
			edges := data["conversations"].(map[string]any)["edges"].([]any)
			require.Len(t, edges, 1)
			node := edges[0].(map[string]any)["node"].(map[string]any)
			require.Equal(t, id, node["id"])
			require.Equal(t, "list my open tasks", node["title"])
			require.EqualValues(t, 4, node["messageCount"])
			var msgs []string
			for _, e := range node["messages"].(map[string]any)["edges"].([]any) {
				m := e.(map[string]any)["node"].(map[string]any)
				msgs = append(msgs, m["role"].(string)+": "+m["content"].(string))
			}
			require.Equal(t, []string{"user: list my open tasks", "assistant: " + chatAnswer, "user: and tomorrow?", "assistant: " + chatAnswer}, msgs)
			data, errs = a.do(t, access, `query($id: ID!) { conversation(id: $id) { messages(first: 3) { edges { node { position } } pageInfo { hasNextPage endCursor } } } }`,
				map[string]any{"id": id})
			require.Empty(t, errs)
			page := data["conversation"].(map[string]any)["messages"].(map[string]any)
			require.Len(t, page["edges"], 3)
			require.Equal(t, true, page["pageInfo"].(map[string]any)["hasNextPage"])
			data, errs = a.do(t, access, `query($id: ID!, $after: String) { conversation(id: $id) { messages(first: 3, after: $after) { edges { node { position content } } } } }`,
				map[string]any{"id": id, "after": page["pageInfo"].(map[string]any)["endCursor"]})
			require.Empty(t, errs)
			rest := data["conversation"].(map[string]any)["messages"].(map[string]any)["edges"].([]any)
			require.Len(t, rest, 1)
			require.EqualValues(t, 4, rest[0].(map[string]any)["node"].(map[string]any)["position"])

			// Another user: NOT_FOUND everywhere, an empty list, nothing changed.
			vars := map[string]any{"id": id}
			_, errs = a.do(t, other, `query($id: ID!) { conversation(id: $id) { id } }`, vars)
			requireError(t, errs, "NOT_FOUND", "id", "")
			_, errs = a.do(t, other, `mutation($id: ID!) { renameConversation(id: $id, title: "mine now") { id } }`, vars)
			requireError(t, errs, "NOT_FOUND", "id", "")
			_, errs = a.do(t, other, `mutation($id: ID!) { deleteConversation(id: $id) { id } }`, vars)
			requireError(t, errs, "NOT_FOUND", "id", "")
			_, errs = a.do(t, other, `mutation($id: ID) { sendChat(input: {message: "read it", conversationId: $id}) { response } }`, vars)
			requireError(t, errs, "NOT_FOUND", "conversationId", "")
			data, errs = a.do(t, other, `{ conversations { edges { node { id } } } }`, nil)
			require.Empty(t, errs)
			require.Empty(t, data["conversations"].(map[string]any)["edges"])
			require.Equal(t, 4, countRows(t, a.db, "conversation_messages"), "the other user's refused runs stored nothing")

			// Rename and delete.
			data, errs = a.do(t, access, `mutation($id: ID!) { renameConversation(id: $id, title: " Tasks ") { id title } }`, vars)
			require.Empty(t, errs)
			require.Equal(t, "Tasks", data["renameConversation"].(map[string]any)["title"])
			_, errs = a.do(t, access, `mutation($id: ID!) { renameConversation(id: $id, title: "") { id } }`, vars)
			requireError(t, errs, "BAD_USER_INPUT", "title", "")
			data, errs = a.do(t, access, `mutation($id: ID!) { deleteConversation(id: $id) { id title } }`, vars)
			require.Empty(t, errs)
			require.Equal(t, map[string]any{"id": id, "title": "Tasks"}, data["deleteConversation"])
			_, errs = a.do(t, access, `query($id: ID!) { conversation(id: $id) { id } }`, vars)
			requireError(t, errs, "NOT_FOUND", "id", "")
			require.Zero(t, countRows(t, a.db, "conversation_messages"))

			// Off again: what was kept goes, and nothing more is kept.
			data, errs = a.do(t, access, `mutation { sendChat(input: {message: "keep this"}) { conversationId } }`, nil)
			require.Empty(t, errs)
			require.NotNil(t, data["sendChat"].(map[string]any)["conversationId"])
			_, errs = a.do(t, access, `mutation { updateChatSettings(input: {keepHistory: false}) { keepHistory } }`, nil)
			require.Empty(t, errs)
			require.Zero(t, countRows(t, a.db, "conversation_messages"))
			data, errs = a.do(t, access, `mutation { sendChat(input: {message: "forget this"}) { conversationId } }`, nil)
			require.Empty(t, errs)
			require.Nil(t, data["sendChat"].(map[string]any)["conversationId"])
			data, errs = a.do(t, access, `{ conversations { edges { node { id } } } }`, nil)
			require.Empty(t, errs)
			require.Empty(t, data["conversations"].(map[string]any)["edges"])
			require.Zero(t, countRows(t, a.db, "conversations"))
		})
	}
}

// TestConversationScopes: an API key reads the settings with READ and the
// conversations with CHAT only, and never changes the settings.
func TestConversationScopes(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	access, _, _ := a.register(t, "scopes-history@example.com")
	read, _ := a.createKey(t, access, "reader", "READ")
	talk, _ := a.createKey(t, access, "talker", "CHAT")

	data, errs := a.do(t, read, `{ chatSettings { keepHistory } }`, nil)
	require.Empty(t, errs)
	require.Equal(t, false, data["chatSettings"].(map[string]any)["keepHistory"])
	_, errs = a.do(t, read, `{ conversations { edges { node { id } } } }`, nil)
	requireError(t, errs, "FORBIDDEN", "scopes", "")
	_, errs = a.do(t, talk, `{ conversations { edges { node { id } } } }`, nil)
	require.Empty(t, errs)
	for _, key := range []string{read, talk} {
		_, errs = a.do(t, key, `mutation { updateChatSettings(input: {keepHistory: true}) { keepHistory } }`, nil)
		requireError(t, errs, "FORBIDDEN", "scopes", "")
	}
	data, errs = a.do(t, access, `{ chatSettings { keepHistory } }`, nil)
	require.Empty(t, errs)
	require.Equal(t, false, data["chatSettings"].(map[string]any)["keepHistory"], "unchanged")
}
