package chat

import (
	"context"
	"unicode/utf8"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/models"
)

// classifierMaxTokens bounds the intent classifier's answer: one agent name, or a
// short pipeline.
const classifierMaxTokens = 20

// Estimator constants: a token is about four characters of English text, and a chat
// message costs a few tokens of framing (its role and separators) besides its text.
const (
	charsPerToken     = 4
	tokensPerMessage  = 4
	quoteEstimateRule = "ceil(characters/4) + 4 per message"
)

// Quote is what a run of an input would cost, answered before it runs and without
// calling the model.
type Quote struct {
	// Provider and Model are who would answer (as the run's USAGE reports them), and
	// PaidBy who would pay: the server, the user's own key or nobody (offline).
	Provider string
	Model    string
	Offline  bool
	PaidBy   models.UsageProvider
	// EstimatedPromptTokens estimates the tokens the run's first call at each step
	// sends (EstimateRule): the intent classifier's when it would be asked, each
	// agent's of the route the keywords give (its prompt, the context, the history
	// and the message), and a pipeline's synthesis's (its prompt and the message).
	// It is an estimate and a floor of sorts: the agents' results a synthesis
	// reads, and each further tool-loop call (which sends the conversation again,
	// with the tool results), come on top; the provider counts with its own
	// tokenizer.
	EstimatedPromptTokens int
	// EstimateRule says how EstimatedPromptTokens was counted.
	EstimateRule string
	// MaxModelCalls bounds the model calls the run may make: the classifier's, each
	// agent's tool loop (MaxToolIterations each) and a synthesis; when the model
	// chooses the route, any pipeline of the allowed agents.
	MaxModelCalls int
	// MaxCompletionTokens is what those calls may ask the model to write at most:
	// each call's max_tokens (the classifier's 20, the configured limit otherwise),
	// summed over MaxModelCalls.
	MaxCompletionTokens int
	// CountsAgainstQuota is true when the server's provider would answer: the run's
	// tokens count in the month's, as metering counts them (the user's key and the
	// offline provider do not).
	CountsAgainstQuota bool
	// QuotaRemaining is what is left of the month's tokens now (as usage reports
	// it); nil when the run would not count or the tier has no limit.
	QuotaRemaining *int64
}

// Quote answers what a chat of in would cost the user, making the same decisions
// as Chat (who answers, the tier's agents and quota, the input's checks, with the
// same errors) and calling no model.
func (s *Service) Quote(ctx context.Context, who models.Actor, in Input) (*Quote, error) {
	req, err := s.request(ctx, who, in)
	if err != nil {
		return nil, err
	}
	if err := s.withHistory(ctx, &req); err != nil {
		return nil, err
	}
	q, err := s.orch.quote(req)
	if err != nil {
		return nil, err
	}
	if q.QuotaRemaining, err = s.quotaLeft(ctx, req.space(), req.Choice); err != nil {
		return nil, err
	}
	q.CountsAgainstQuota = req.PaidBy == models.UsageServer
	return q, nil
}

// quotaLeft is what is left of the user's monthly tokens when c would count against
// them; nil when it would not (the user's key, offline, or an unlimited tier).
func (s *Service) quotaLeft(ctx context.Context, userID string, c llm.Choice) (left *int64, err error) {
	if c.PaidBy == models.UsageServer && models.FeaturesOf(c.Tier).MonthlyTokens != models.Unlimited {
		var report *models.UsageReport
		if report, err = s.d.Meter.Usage(ctx, userID, 1); err == nil {
			left = report.RemainingTokens()
		}
	}
	return left, err
}

// quote checks req as Run does and estimates it.
func (o *Orchestrator) quote(req Request) (*Quote, error) {
	if err := o.check(&req); err != nil {
		return nil, err
	}
	r := &run{o: o, req: req, now: o.cfg.Now(), provider: req.Provider}
	if r.provider == nil {
		r.provider = o.cfg.Provider
	}
	info := r.provider.Info()
	q := &Quote{Provider: info.Provider, Model: info.Model, Offline: info.Offline, PaidBy: req.PaidBy, EstimateRule: quoteEstimateRule}

	allowed := req.AllowedAgents
	// The route the keywords give is the estimate's (offline, or with one agent, it
	// is the run's); the bounds take any route the model may choose.
	keyword := KeywordRoute(o.cfg.Registry, allowed, req.Message).Agents
	agents := len(keyword)
	if len(allowed) > 1 && !info.Offline { // as classify asks the model
		q.EstimatedPromptTokens += estimateTokens([]llm.Message{
			{Role: llm.RoleSystem, Content: classifierPrompt(o.cfg.Registry, allowed)},
			{Role: llm.RoleUser, Content: req.Message},
		})
		q.MaxModelCalls++
		q.MaxCompletionTokens += classifierMaxTokens
		// The model may answer any pipeline of the allowed agents.
		agents = max(agents, len(allowed))
	}
	if req.Mode == ModePlan {
		return q, nil // a plan calls no model after the route
	}
	for _, name := range keyword {
		agent, _ := o.cfg.Registry.Agent(name)
		q.EstimatedPromptTokens += estimateTokens(r.agentMessages(agent, nil))
	}
	q.MaxModelCalls += agents * MaxToolIterations
	q.MaxCompletionTokens += agents * MaxToolIterations * o.cfg.MaxTokens
	if agents > 1 && !info.Offline { // a synthesis, which offline joins the answers
		if len(keyword) > 1 {
			q.EstimatedPromptTokens += estimateTokens([]llm.Message{
				{Role: llm.RoleSystem, Content: synthesisPrompt},
				{Role: llm.RoleUser, Content: req.Message},
			})
		}
		q.MaxModelCalls++
		q.MaxCompletionTokens += o.cfg.MaxTokens
	}
	return q, nil
}

// estimateTokens estimates the prompt tokens of msgs by quoteEstimateRule.
func estimateTokens(msgs []llm.Message) int {
	n := 0
	for _, m := range msgs {
		n += (utf8.RuneCountInString(m.Content)+charsPerToken-1)/charsPerToken + tokensPerMessage
	}
	return n
}
