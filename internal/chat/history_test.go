package chat_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
	"github.com/inkgraph/inkgraph/models"
)

// fakeHistory is the History fake: one stored conversation, "c1", of the user owner,
// and a record of what was appended.
type fakeHistory struct {
	owner string
	turns []*models.ConversationMessage

	mu       sync.Mutex
	appended []string // "conversationID|message|answer"
	started  int      // CanStart calls
}

func (h *fakeHistory) Turns(_ context.Context, userID, id string, n int) ([]*models.ConversationMessage, error) {
	if userID != h.owner || id != "c1" {
		return nil, &models.Error{Code: models.CodeNotFound, Field: "conversationId", Message: "conversation not found"}
	}
	return h.turns[max(len(h.turns)-n, 0):], nil
}

func (h *fakeHistory) CanStart(context.Context, string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.started++
	return nil
}

func (h *fakeHistory) Append(_ context.Context, _, id, message, answer string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.appended = append(h.appended, id+"|"+message+"|"+answer)
	if id == "" {
		id = "new"
	}
	return id, nil
}

func (h *fakeHistory) calls() (appended []string, started int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.appended...), h.started
}

// settingsOf answers keep for every user.
type settingsOf bool

func (k settingsOf) ChatSettings(_ context.Context, userID string) (*models.ChatSettings, error) {
	return &models.ChatSettings{UserID: userID, KeepHistory: bool(k)}, nil
}

// historyService is the chat service of f with the settings keep and the history h.
func historyService(t *testing.T, f *serviceFixture, keep bool, h *fakeHistory) *chat.Service {
	t.Helper()
	svc, err := chat.NewService(chat.Deps{Meter: f.meter, Tiers: f.tiers, Settings: settingsOf(keep), History: h, Now: f.clock.Now})
	require.NoError(t, err)
	return svc
}

// TestServiceKeepsHistory: with history on, a named conversation's turns are the
// run's history and the exchange is appended at DONE (DONE names the
// conversation); without a name a new one starts. Naming one with context.history,
// or with history off, is refused before the run; an unknown one is NOT_FOUND.
func TestServiceKeepsHistory(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		ctx := context.Background()
		f := newService(t, db)
		f.server.Reply = func(req fakellm.Request) fakellm.Response {
			if len(req.Body.Tools) == 0 {
				return fakellm.Response{Content: "task"}
			}
			return fakellm.Response{Content: "Done that."}
		}
		u := f.user(t, models.TierPro)
		h := &fakeHistory{owner: u, turns: []*models.ConversationMessage{
			{Role: "user", Content: "earlier question"}, {Role: "assistant", Content: "earlier answer"},
		}}
		svc := historyService(t, f, true, h)

		reply, err := svc.Send(ctx, models.PersonalActor(u), chat.Input{Message: "  start something  "})
		require.NoError(t, err)
		require.NotNil(t, reply.ConversationID)
		require.Equal(t, "new", *reply.ConversationID)
		appended, started := h.calls()
		require.Equal(t, []string{"|start something|Done that."}, appended, "the trimmed message and the answer")
		require.Equal(t, 1, started)

		before := len(f.server.Requests())
		events, err := svc.Chat(ctx, models.PersonalActor(u), chat.Input{Message: "and now?", ConversationID: "c1"})
		require.NoError(t, err)
		all := collect(t, events)
		done := all[len(all)-1]
		require.Equal(t, chat.EventDone, done.Type)
		require.Equal(t, "c1", *done.Done.ConversationID)
		appended, _ = h.calls()
		require.Equal(t, "c1|and now?|Done that.", appended[1])
		var agentMsgs []fakellm.Message
		for _, r := range f.server.Requests()[before:] {
			if len(r.Body.Tools) > 0 {
				agentMsgs = r.Body.Messages
			}
		}
		require.NotEmpty(t, agentMsgs)
		n := len(agentMsgs)
		require.Equal(t, []string{"user earlier question", "assistant earlier answer", "user and now?"}, []string{
			agentMsgs[n-3].Role + " " + agentMsgs[n-3].Content, agentMsgs[n-2].Role + " " + agentMsgs[n-2].Content,
			agentMsgs[n-1].Role + " " + agentMsgs[n-1].Content,
		}, "the stored turns are the run's history")

		_, err = svc.Send(ctx, models.PersonalActor(u), chat.Input{Message: "x", ConversationID: "c1",
			Context: chat.Context{History: []chat.Turn{{Role: "user", Content: "mine"}}}})
		testkit.RequireCode(t, err, models.CodeBadUserInput, "conversationId")
		_, err = svc.Chat(ctx, models.PersonalActor(u), chat.Input{Message: "x", ConversationID: "someone-elses"})
		testkit.RequireCode(t, err, models.CodeNotFound, "conversationId")
		_, err = svc.Quote(ctx, models.PersonalActor(u), chat.Input{Message: "x", ConversationID: "someone-elses"})
		testkit.RequireCode(t, err, models.CodeNotFound, "conversationId")

		off := historyService(t, f, false, h)
		_, err = off.Send(ctx, models.PersonalActor(u), chat.Input{Message: "x", ConversationID: "c1"})
		testkit.RequireCode(t, err, models.CodeBadUserInput, "conversationId")
		reply, err = off.Send(ctx, models.PersonalActor(u), chat.Input{Message: "x"})
		require.NoError(t, err)
		require.Nil(t, reply.ConversationID, "history off: nothing kept")
		appended, _ = h.calls()
		require.Len(t, appended, 2, "refused and history-off runs appended nothing")
	})
}

// TestServiceKeepsNothingOfAFailedRun: a run ending in ERROR appends nothing.
func TestServiceKeepsNothingOfAFailedRun(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		f := newService(t, db)
		f.server.Reply = func(req fakellm.Request) fakellm.Response {
			if len(req.Body.Tools) == 0 {
				return fakellm.Response{Content: "task"}
			}
			return fakellm.Response{Status: 400}
		}
		u := f.user(t, models.TierPro)
		h := &fakeHistory{owner: u}
		svc := historyService(t, f, true, h)
		events, err := svc.Chat(context.Background(), models.PersonalActor(u), chat.Input{Message: "fail please", ConversationID: "c1"})
		require.NoError(t, err)
		all := collect(t, events)
		require.Equal(t, chat.EventError, all[len(all)-1].Type)
		appended, _ := h.calls()
		require.Empty(t, appended)
	})
}

// TestServiceKeepsNothingOfACancelledRun: a client gone mid-answer appends nothing.
func TestServiceKeepsNothingOfACancelledRun(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		f := newService(t, db)
		f.server.Reply = func(req fakellm.Request) fakellm.Response {
			if len(req.Body.Tools) == 0 {
				return fakellm.Response{Content: "task"}
			}
			return fakellm.Response{Chunks: []fakellm.Chunk{{Content: "Working "}, {Content: "on it"}}, Hold: true}
		}
		u := f.user(t, models.TierPro)
		h := &fakeHistory{owner: u}
		svc := historyService(t, f, true, h)
		ctx, cancel := context.WithCancel(context.Background())
		events, err := svc.Chat(ctx, models.PersonalActor(u), chat.Input{Message: "list my tasks"})
		require.NoError(t, err)
		for e := range events {
			if e.Type == chat.EventToken {
				cancel()
			}
		}
		cancel()
		appended, _ := h.calls()
		require.Empty(t, appended)
	})
}
