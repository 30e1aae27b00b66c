package resolvers

import (
	"context"

	"github.com/inkgraph/inkgraph/graph"
	"github.com/inkgraph/inkgraph/models"
)

// Conversations is what the resolvers need of the conversation area: the chat
// settings and the stored conversations. (Query resolvers reach it as
// r.Resolver.Conversations: their own Conversations method shadows the field.)
type Conversations interface {
	ChatSettings(ctx context.Context, userID string) (*models.ChatSettings, error)
	UpdateSettings(ctx context.Context, userID string, in models.UpdateChatSettingsInput) (*models.ChatSettings, error)
	Conversations(ctx context.Context, userID string, first int, after string) (*models.ConversationConnection, error)
	Conversation(ctx context.Context, userID, id string) (*models.Conversation, error)
	Messages(ctx context.Context, userID, conversationID string, first int, after string) (*models.ConversationMessageConnection, error)
	Rename(ctx context.Context, userID, id, title string) (*models.Conversation, error)
	Delete(ctx context.Context, userID, id string) (*models.Conversation, error)
}

func (r *Resolver) Conversation() graph.ConversationResolver { return conversationResolver{r} }

type conversationResolver struct{ *Resolver }

var _ graph.ConversationResolver = &conversationResolver{}

func (r queryResolver) ChatSettings(ctx context.Context) (*models.ChatSettings, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Resolver.Conversations.ChatSettings(ctx, caller.UserID)
}

func (r mutationResolver) UpdateChatSettings(ctx context.Context, input models.UpdateChatSettingsInput) (*models.ChatSettings, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Conversations.UpdateSettings(ctx, caller.UserID, input)
}

func (r queryResolver) Conversations(ctx context.Context, first *int, after *string) (*models.ConversationConnection, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	n, cursor, err := page(first, after)
	if err != nil {
		return nil, err
	}
	return r.Resolver.Conversations.Conversations(ctx, caller.UserID, n, cursor)
}

func (r queryResolver) Conversation(ctx context.Context, id string) (*models.Conversation, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Resolver.Conversations.Conversation(ctx, caller.UserID, id)
}

func (r conversationResolver) Messages(ctx context.Context, obj *models.Conversation, first *int, after *string) (*models.ConversationMessageConnection, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	n, cursor, err := page(first, after)
	if err != nil {
		return nil, err
	}
	return r.Conversations.Messages(ctx, caller.UserID, obj.ID, n, cursor)
}

func (r mutationResolver) RenameConversation(ctx context.Context, id string, title string) (*models.Conversation, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Conversations.Rename(ctx, caller.UserID, id, title)
}

func (r mutationResolver) DeleteConversation(ctx context.Context, id string) (*models.Conversation, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Conversations.Delete(ctx, caller.UserID, id)
}

// page reads a connection's arguments: first (0 when null, which the service takes
// for its default; an explicit 0 is refused) and after ("" when null).
func page(first *int, after *string) (int, string, error) {
	n, cursor := 0, ""
	if first != nil {
		if n = *first; n == 0 {
			return 0, "", models.InvalidInput("first", "first must be between 1 and 100")
		}
	}
	if after != nil {
		cursor = *after
	}
	return n, cursor, nil
}
