package chat

import (
	"context"
	"log/slog"

	"github.com/inkgraph/inkgraph/models"
)

// History keeps the conversations of the users who turned history on; the
// conversation area satisfies it.
type History interface {
	// Turns returns the last n messages of the user's conversation, oldest first:
	// NOT_FOUND (field conversationId) for an unknown one or another user's,
	// QUOTA_EXCEEDED (field conversationId) for one that can hold no more.
	Turns(ctx context.Context, userID, conversationID string, n int) ([]*models.ConversationMessage, error)
	// CanStart refuses QUOTA_EXCEEDED (field conversationId) when the user may keep
	// no further conversation.
	CanStart(ctx context.Context, userID string) error
	// Append adds message and answer to the user's conversation, or to a new one
	// when conversationID is "", and answers its ID; "" when the user keeps no
	// history (any more), and then nothing is stored.
	Append(ctx context.Context, userID, conversationID, message, answer string) (string, error)
}

// keeping is where a run keeps its exchange at DONE.
type keeping struct {
	history        History
	userID         string
	conversationID string // "" for a new conversation
}

// userSettings is the user's chat settings, the defaults without a Settings.
func (s *Service) userSettings(ctx context.Context, userID string) (*models.ChatSettings, error) {
	if s.d.Settings == nil {
		return &models.ChatSettings{UserID: userID}, nil
	}
	return s.d.Settings.ChatSettings(ctx, userID)
}

// withHistory applies the user's history setting to req before its run. A user who
// keeps history continues the conversation req names (its stored turns become the
// run's history; sending context.history as well is refused) or, naming none,
// starts one; the run keeps its exchange at DONE. A user who keeps none cannot
// name a conversation.
func (s *Service) withHistory(ctx context.Context, req *Request) error {
	keep := false
	if s.d.History != nil {
		st, err := s.userSettings(ctx, req.UserID)
		if err != nil {
			return err
		}
		keep = st.KeepHistory
	}
	id := req.ConversationID
	if !keep {
		if id != "" {
			return models.InvalidInput("conversationId", "conversation history is off: turn it on with updateChatSettings, or send the conversation as context.history")
		}
		return nil
	}
	if id == "" {
		if err := s.d.History.CanStart(ctx, req.UserID); err != nil {
			return err
		}
	} else {
		if len(req.Context.History) > 0 {
			return models.InvalidInput("conversationId", "send either conversationId or context.history, not both: a stored conversation is its own history")
		}
		turns, err := s.d.History.Turns(ctx, req.UserID, id, MaxHistory)
		if err != nil {
			return err
		}
		req.Context.History = make([]Turn, 0, len(turns))
		for _, t := range turns {
			req.Context.History = append(req.Context.History, Turn{Role: t.Role, Content: t.Content})
		}
	}
	req.keep = &keeping{history: s.d.History, userID: req.UserID, conversationID: id}
	return nil
}

// keepExchange keeps the run's message and answer when the user keeps history, and
// answers the conversation's ID for DONE; nil when nothing was kept. The write
// outlives the client (the run is done): a run that goes on without its client,
// waiting to be resumed, keeps it too; a run its client stopped stores nothing.
func (r *run) keepExchange(answer string) *string {
	k := r.req.keep
	if k == nil || r.over() {
		return nil
	}
	return k.record(r.ctx, r.o.cfg.Logger, r.req.Message, answer)
}

func (k *keeping) record(ctx context.Context, logger *slog.Logger, message, answer string) *string {
	id, err := k.history.Append(context.WithoutCancel(ctx), k.userID, k.conversationID, message, answer)
	if err != nil {
		logger.ErrorContext(ctx, "chat: keep the conversation", "error", err, "user_id", k.userID, "conversation_id", k.conversationID)
		return nil
	}
	if id == "" {
		return nil
	}
	return &id
}
