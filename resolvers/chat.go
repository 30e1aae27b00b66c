package resolvers

import (
	"context"

	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/models"
)

// Chat is what the resolvers need of the chat area.
type Chat interface {
	Chat(ctx context.Context, userID string, in chat.Input) (<-chan *chat.Event, error)
	Send(ctx context.Context, userID string, in chat.Input) (*chat.Reply, error)
	Agents(ctx context.Context, userID string) ([]*chat.AgentAccess, error)
	Usage(ctx context.Context, userID string, days int) (*models.UsageReport, error)
}

func (r *Resolver) chat() (Chat, error) {
	if r.Chat == nil {
		return nil, models.Errorf(models.CodeInternal, "chat is not wired on this server")
	}
	return r.Chat, nil
}

func (r *subscriptionResolver) Chat(ctx context.Context, input chat.Input) (<-chan *chat.Event, error) {
	return withCaller(ctx, func(id string) (<-chan *chat.Event, error) {
		c, err := r.chat()
		if err != nil {
			return nil, err
		}
		return c.Chat(ctx, id, input)
	})
}

func (r *mutationResolver) SendChat(ctx context.Context, input chat.Input) (*chat.Reply, error) {
	return withCaller(ctx, func(id string) (*chat.Reply, error) {
		c, err := r.chat()
		if err != nil {
			return nil, err
		}
		return c.Send(ctx, id, input)
	})
}

func (r *queryResolver) Agents(ctx context.Context) ([]*chat.AgentAccess, error) {
	return withCaller(ctx, func(id string) ([]*chat.AgentAccess, error) {
		c, err := r.chat()
		if err != nil {
			return nil, err
		}
		return c.Agents(ctx, id)
	})
}

func (r *queryResolver) Usage(ctx context.Context, days *int) (*models.UsageReport, error) {
	return withCaller(ctx, func(id string) (*models.UsageReport, error) {
		c, err := r.chat()
		if err != nil {
			return nil, err
		}
		n := 30
		if days != nil {
			n = *days
		}
		return c.Usage(ctx, id, n)
	})
}
