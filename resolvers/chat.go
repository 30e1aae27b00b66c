package resolvers

import (
	"context"
	"encoding/json"

	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/models"
)

// Chat is what the resolvers need of the chat area.
type Chat interface {
	Chat(ctx context.Context, who models.Actor, in chat.Input) (<-chan *chat.Event, error)
	Send(ctx context.Context, who models.Actor, in chat.Input) (*chat.Reply, error)
	Agents(ctx context.Context, space string) ([]*chat.AgentAccess, error)
	Usage(ctx context.Context, space string, days int) (*models.UsageReport, error)
	Quote(ctx context.Context, who models.Actor, in chat.Input) (*chat.Quote, error)
	Resume(ctx context.Context, who models.Actor, runID string, after int) (<-chan *chat.Event, error)
	ApproveToolCall(ctx context.Context, userID, runID, callID string, approve bool, arguments json.RawMessage) (*chat.ToolCallApproval, error)
}

// defaultUsageDays is the span of a usage report the client does not size.
const defaultUsageDays = 30

func (r subscriptionResolver) Chat(ctx context.Context, input chat.Input) (<-chan *chat.Event, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Resolver.Chat.Chat(ctx, caller.Actor(), input)
}

func (r mutationResolver) SendChat(ctx context.Context, input chat.Input) (*chat.Reply, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Chat.Send(ctx, caller.Actor(), input)
}

func (r mutationResolver) ApproveToolCall(ctx context.Context, runID, callID string, approve bool, arguments json.RawMessage) (*chat.ToolCallApproval, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Chat.ApproveToolCall(ctx, caller.UserID, runID, callID, approve, arguments)
}

func (r queryResolver) Agents(ctx context.Context) ([]*chat.AgentAccess, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Chat.Agents(ctx, caller.Space())
}

func (r queryResolver) Usage(ctx context.Context, days *int) (*models.UsageReport, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	n := defaultUsageDays
	if days != nil {
		n = *days
	}
	return r.Chat.Usage(ctx, caller.Space(), n)
}

func (r queryResolver) ChatQuote(ctx context.Context, input chat.Input) (*chat.Quote, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Chat.Quote(ctx, caller.Actor(), input)
}

func (r subscriptionResolver) ChatRun(ctx context.Context, runID string, afterSeq int) (<-chan *chat.Event, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Resolver.Chat.Resume(ctx, caller.Actor(), runID, afterSeq)
}
