package chat

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/internal/platform/runlog"
	"github.com/inkgraph/inkgraph/models"
)

// Tiers tells the tier a user has now.
type Tiers interface {
	TierOf(ctx context.Context, userID string) (models.Tier, error)
}

// Personalizer tells what onboarding knows of the writer.
type Personalizer interface {
	PersonalizationContext(ctx context.Context, userID string) (*models.PersonalizationContext, error)
}

// Meter chooses who answers a user and who pays, holds the user to the tier's
// monthly tokens, and books and reports what runs used; the metering area
// satisfies it.
type Meter interface {
	Recorder
	// Choose picks who answers the user's next run, refusing QUOTA_EXCEEDED
	// when the server would pay and the month's tokens are spent.
	Choose(ctx context.Context, userID string) (llm.Choice, error)
	Usage(ctx context.Context, userID string, days int) (*models.UsageReport, error)
}

// Settings tells a user's chat preferences.
type Settings interface {
	ChatSettings(ctx context.Context, userID string) (*models.ChatSettings, error)
}

// Deps is what a Service uses.
type Deps struct {
	Meter Meter
	Tiers Tiers
	// Personalizer, when set, tells the agents about the writer.
	Personalizer Personalizer
	// Settings, when set, tells each user's chat preferences; without it every user
	// has the defaults (models.ChatSettings's zero value).
	Settings Settings
	// History, when set, keeps the conversations of users whose settings say so.
	History History
	// Knowledge, when set, searches each user's documents: grounded chat
	// (Input.Ground) and the agents' search_knowledge tool. Without it both are
	// absent: a grounded chat is BAD_USER_INPUT (field ground).
	Knowledge Knowledge
	// Catalog, when set, serves PLAN mode.
	Catalog Catalog
	// Registry defaults to DefaultRegistry().
	Registry *Registry
	// DB, when set, keeps the tool calls waiting for approval (chat_approvals);
	// without it a call that needs approval is declined.
	DB *bun.DB
	// Events, when set, wakes a run on one instance when its call is decided on
	// another; without it runs find decisions by polling alone.
	Events Events
	// ApprovalTimeout is how long a call waits for approval before it is declined
	// (DefaultApprovalTimeout when zero); ApprovalPoll how often a waiting run reads
	// its call's row, in case a notification was lost (DefaultApprovalPoll when zero).
	ApprovalTimeout time.Duration
	ApprovalPoll    time.Duration
	Logger          *slog.Logger
	Now             func() time.Time
	NewRunID        func() string
	MaxTokens       int
	// Journal, when set, keeps runs' events for Resume; a run whose client went away
	// then waits ResumeGrace to be resumed (see Config).
	Journal     runlog.Log
	ResumeGrace time.Duration
}

// Service is the chat area: it asks the meter who answers a user, enforces the tier's
// agents, runs the orchestrator, which books each run's usage to the meter.
type Service struct {
	d    Deps
	orch *Orchestrator
}

// NewService returns the chat service.
func NewService(d Deps) (*Service, error) {
	if d.Meter == nil || d.Tiers == nil {
		return nil, errors.New("chat: Meter and Tiers are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = DefaultRegistry()
	}
	if d.Knowledge != nil {
		d.Registry = d.Registry.withKnowledgeTool()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	cfg := Config{
		Provider: llm.NewOffline(), Registry: d.Registry, Catalog: d.Catalog, Now: d.Now,
		NewRunID: d.NewRunID, MaxTokens: d.MaxTokens, Meter: d.Meter, Logger: d.Logger,
		Journal: d.Journal, ResumeGrace: d.ResumeGrace, Events: d.Events, Knowledge: d.Knowledge,
	}
	if d.DB != nil {
		cfg.approvals = &approvals{
			db: d.DB, events: d.Events, registry: d.Registry, now: d.Now, logger: d.Logger,
			timeout: cmp.Or(d.ApprovalTimeout, DefaultApprovalTimeout), poll: cmp.Or(d.ApprovalPoll, DefaultApprovalPoll),
		}
	}
	orch, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return &Service{d: d, orch: orch}, nil
}

// Chat starts a run for the user: it checks the input, the tier's agents and monthly
// tokens before any event; the events then arrive on the channel, which closes after
// DONE or ERROR, or as soon as ctx ends (which cancels the upstream request).
//
// A run the server's provider answers on a tier with a monthly limit reads what is
// left of it first, for DONE's QuotaRemaining.
//
// who.Space decides the brand, tier, token allowance and documents the run uses (a
// team's when the caller acts in one); who.UserID the settings, history, approvals and
// the run's ownership.
func (s *Service) Chat(ctx context.Context, who models.Actor, in Input) (<-chan *Event, error) {
	return s.start(ctx, who, in, false)
}

// start is Chat; an unattended run (Send's) declines at once the calls that need the
// user's approval, since nobody sees it ask.
func (s *Service) start(ctx context.Context, who models.Actor, in Input, unattended bool) (<-chan *Event, error) {
	req, err := s.request(ctx, who, in)
	if err != nil {
		if models.ErrorCode(err) == models.CodeQuotaExceeded {
			metrics.RunEnded(metrics.KindChat, metrics.OutcomeQuota)
		}
		return nil, err
	}
	if err := s.withHistory(ctx, &req); err != nil {
		return nil, err
	}
	if req.QuotaLeft, err = s.quotaLeft(ctx, req.space(), req.Choice); err != nil {
		return nil, err
	}
	req.Unattended = unattended
	return s.orch.Run(ctx, req)
}

// request is the run of in the service would ask the orchestrator for: who answers
// (the meter's choice, refused QUOTA_EXCEEDED when the month's tokens are spent),
// the tier's agents and the writer's personalisation.
func (s *Service) request(ctx context.Context, who models.Actor, in Input) (Request, error) {
	if who.Space == "" {
		who.Space = who.UserID
	}
	c, err := s.d.Meter.Choose(ctx, who.Space)
	if err != nil {
		return Request{}, err
	}
	req := Request{Input: in, UserID: who.UserID, Space: who.Space, Choice: c, AllowedAgents: AllowedAgents(s.orch.Registry(), models.FeaturesOf(c.Tier))}
	if s.d.Personalizer != nil {
		if req.Personalization, err = s.d.Personalizer.PersonalizationContext(ctx, who.Space); err != nil {
			return Request{}, err
		}
	}
	if req.ApprovalAgents, err = s.approvalAgents(ctx, who.UserID, req.AllowedAgents); err != nil {
		return Request{}, err
	}
	return req, nil
}

// approvalAgents are the agents among allowed whose tools with effects wait for the
// user's approval: all of them when the user asks for it (RequireToolApproval), else
// those that ask for it themselves (Agent.RequireApproval).
func (s *Service) approvalAgents(ctx context.Context, userID string, allowed []string) ([]string, error) {
	var settings models.ChatSettings
	if s.d.Settings != nil {
		got, err := s.d.Settings.ChatSettings(ctx, userID)
		if err != nil {
			return nil, err
		}
		if got != nil {
			settings = *got
		}
	}
	var out []string
	for _, name := range allowed {
		if a, ok := s.orch.Registry().Agent(name); ok && (settings.RequireToolApproval || a.RequireApproval) {
			out = append(out, name)
		}
	}
	return out, nil
}

// ApproveToolCall records the user's decision on a tool call of one of their runs
// that waits for it, wherever the run is: approve runs the call, with arguments
// instead of the model's when given (checked against the tool's parameters); decline
// tells the model the user declined. An unknown call, or another user's, is
// NOT_FOUND; one already decided, expired or whose run ended is CONFLICT; arguments
// that do not fit are BAD_USER_INPUT, the call still waiting.
func (s *Service) ApproveToolCall(ctx context.Context, userID, runID, callID string, approve bool, arguments json.RawMessage) (*ToolCallApproval, error) {
	if s.orch.cfg.approvals == nil {
		return nil, &models.Error{Code: models.CodeNotFound, Field: "callId", Message: "no tool call of this run waits for your approval"}
	}
	return s.orch.cfg.approvals.decide(ctx, userID, runID, callID, approve, arguments)
}

// Reply is a whole run's outcome, for a client that does not stream.
type Reply struct {
	RunID        string
	Route        *Route
	Response     string
	Actions      []Action
	FinishReason string
	Plan         *Plan
	Usage        *Usage
	Offline      bool
	// QuotaRemaining is DONE's.
	QuotaRemaining *int64
	// ConversationID is DONE's.
	ConversationID *string
	// Citations are DONE's.
	Citations []Citation
}

// Send runs a chat to its end. A run that fails after it began answers the error
// it ended with.
func (s *Service) Send(ctx context.Context, who models.Actor, in Input) (*Reply, error) {
	ch, err := s.start(ctx, who, in, true)
	if err != nil {
		return nil, err
	}
	r := &Reply{}
	var done *Done
	var failed *RunError
	var cause error
	for e := range ch {
		r.RunID = e.RunID
		switch e.Type {
		case EventAgentRouted:
			r.Route = e.Route
		case EventUsage:
			r.Usage = e.Usage
		case EventDone:
			done = e.Done
		case EventError:
			failed, cause = e.Error, e.cause
		}
	}
	switch {
	case failed != nil && cause != nil:
		return nil, cause // with its field, retryAfter or quota
	case failed != nil:
		return nil, &models.Error{Code: failed.Code, Message: failed.Message}
	case done == nil:
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, models.Internal(nil, "chat: the run ended without an answer")
	}
	r.Response, r.Actions, r.FinishReason, r.Plan, r.Offline = done.Response, done.Actions, done.FinishReason, done.Plan, done.Offline
	r.QuotaRemaining, r.ConversationID, r.Citations = done.QuotaRemaining, done.ConversationID, done.Citations
	if r.Citations == nil {
		r.Citations = []Citation{}
	}
	if r.Actions == nil {
		r.Actions = []Action{}
	}
	return r, nil
}

// AgentAccess is an agent and whether the user's tier may use it.
type AgentAccess struct {
	AgentInfo
	Allowed bool
}

// Agents lists every agent with whether the user's tier reaches it.
func (s *Service) Agents(ctx context.Context, userID string) ([]*AgentAccess, error) {
	tier, err := s.d.Tiers.TierOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	allowed := map[string]bool{}
	for _, name := range AllowedAgents(s.orch.Registry(), models.FeaturesOf(tier)) {
		allowed[name] = true
	}
	var out []*AgentAccess
	for _, a := range s.orch.Registry().Agents() {
		out = append(out, &AgentAccess{AgentInfo: a.Info(), Allowed: allowed[a.Name]})
	}
	return out, nil
}

// Usage reports the user's LLM use over the last days days (today included) and the
// month's allowance, chat's and playbooks' alike.
func (s *Service) Usage(ctx context.Context, userID string, days int) (*models.UsageReport, error) {
	return s.d.Meter.Usage(ctx, userID, days)
}
