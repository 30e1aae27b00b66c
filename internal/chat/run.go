package chat

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/internal/platform/runlog"
	"github.com/inkgraph/inkgraph/models"
)

// run is one run's state, owned by its goroutine.
type run struct {
	o   *Orchestrator
	ctx context.Context // the client's: events go out while it lasts
	// calls is the context of the run's LLM calls (llm.RunContext): ctx with the
	// run's one deadline for the model's first byte, ended early by a shutdown.
	calls   context.Context
	release func()
	req     Request
	id      string
	now     time.Time
	out     chan *Event
	// deliver, for a run the transport adopted (llm.Adopt), has the transport take
	// the event just put in out (of capacity one) and send it.
	deliver func() bool
	// batch sends the run's TOKENs, joining them while the client is slow to take them.
	batch batcher

	// journal keeps the run's events for chatRun; nil when runs are not resumable.
	// A journaled run outlives its client: life, the context its calls derive from,
	// ends with the run (endLife) or when nobody resumed it within the grace.
	journal runlog.Writer
	life    context.Context
	endLife context.CancelCauseFunc
	// detached is set once the client is gone: the events go to the journal alone;
	// ended once DONE or ERROR is in it. Only the goroutine sending (the run's, or
	// its batcher's in turn) touches them.
	detached bool
	ended    bool
	// followedAt is when a reader last followed the run that lost its client.
	followedAt time.Time

	provider llm.Provider
	// shown are the passages of the user's documents the run showed the model,
	// numbered as it showed them; DONE's citations point into them.
	shown   shownPassages
	seq     int
	answer  llm.Done // provider, model, offline of the last answer
	actions []Action
	// total and byAgent are the whole run's use, for the USAGE event and the meter.
	total     models.Usage
	byAgent   []models.SourceUsage // in the order the agents were first counted
	usageSent bool
	// reported is the usage USAGE reported, which DONE repeats.
	reported *Usage
	// outcome is the run's in the runs metric: cancelled (the client went away) unless
	// DONE or ERROR went out; streamed counts the model's text deltas sent as TOKEN.
	outcome  string
	streamed int
}

// agentResult is what one agent produced.
type agentResult struct {
	agent  string
	text   string
	finish string
}

func (r *run) run() {
	defer r.end()
	route, err := r.classify()
	if err != nil {
		r.fail(err)
		return
	}
	if !r.emit(&Event{Type: EventAgentRouted, Route: &route}) {
		return
	}
	if r.req.Mode == ModePlan {
		r.plan(route)
		return
	}
	r.respond(route)
}

// end closes the run: its calls' context released, its usage booked and counted, its
// channel closed.
func (r *run) end() {
	// Last: the run's life (which the server's drain counts) ends once the run is
	// booked and its client is done with it, as a run without a journal's does.
	defer r.endLifeAfterClient()
	defer close(r.out)
	defer r.countRun()
	defer r.book()
	r.batch.wait() // its sender is done with out before out closes
	if r.journal != nil {
		r.endJournal()
	}
	r.release()
}

// endLifeAfterClient ends the run's life once its client's context ends (at once when
// it has).
func (r *run) endLifeAfterClient() {
	context.AfterFunc(r.ctx, func() { r.endLife(nil) })
}

// respond runs the route's agents and sends the final answer.
func (r *run) respond(route Route) {
	final, err := r.pipeline(route)
	if err != nil {
		r.fail(err)
		return
	}
	if !r.emitUsage() {
		return
	}
	r.emit(&Event{Type: EventDone, Agent: final.agent, Done: r.done(&Done{
		Response: final.text, Actions: r.actions, FinishReason: final.finish, Offline: r.offline(),
		Citations: r.citations(final.text),
	})})
}

// done completes d with the run's usage and what it leaves of the user's quota, and
// keeps the exchange when the user keeps history.
func (r *run) done(d *Done) *Done {
	d.Usage = r.reported
	if d.Citations == nil {
		d.Citations = []Citation{}
	}
	d.ConversationID = r.keepExchange(d.Response)
	if left := r.req.QuotaLeft; left != nil {
		after := max(*left-int64(r.total.TotalTokens), 0)
		d.QuotaRemaining = &after
	}
	return d
}

func (r *run) offline() bool { return r.provider.Info().Offline }

// complete runs a request whose text is not shown to the client.
func (r *run) complete(agent string, req llm.Request) (string, error) {
	res, err := llm.Run(r.calls, r.provider, &req, nil, nil)
	r.count(agent, res)
	return res.Text, err
}

// stream runs a request whose text streams to the client, sanitized, as events of
// typ (TOKEN for the answer, AGENT_TOKEN for a pipeline agent's text), and returns
// that text: exactly the deltas sent, so that the answer is what its TOKENs spell.
func (r *run) stream(agent string, typ EventType, req *llm.Request) (string, *llm.Done, error) {
	res, err := llm.Run(r.calls, r.provider, req, r.o.secrets, func(s string) bool {
		return r.emit(&Event{Type: typ, Agent: agent, Delta: s})
	})
	r.count(agent, res)
	return res.Text, res.Done, err
}

// count adds one call's usage to the run's and to agent's.
func (r *run) count(agent string, res *llm.Result) {
	r.total = r.total.Add(res.Usage)
	r.streamed += res.Streamed
	// A run has a few agents: a slice kept with the run costs less than a map.
	i := slices.IndexFunc(r.byAgent, func(a models.SourceUsage) bool { return a.Source == agent })
	if i < 0 {
		i = len(r.byAgent)
		r.byAgent = append(r.byAgent, models.SourceUsage{Source: agent})
	}
	r.byAgent[i].Usage = r.byAgent[i].Add(res.Usage)
	if res.Done != nil {
		r.answer = *res.Done
	}
}

// countRun adds the run to the runs and streamed tokens metrics.
func (r *run) countRun() {
	metrics.RunEnded(metrics.KindChat, r.outcome)
	if r.streamed > 0 {
		// Once per run, not per token: the token path stays a field increment.
		metrics.TokensOf(metrics.KindChat).Add(float64(r.streamed))
	}
}

// agentUsage lists the run's usage per agent, by name.
func (r *run) agentUsage() []models.SourceUsage {
	out := append(make([]models.SourceUsage, 0, len(r.byAgent)), r.byAgent...)
	slices.SortFunc(out, func(a, b models.SourceUsage) int { return strings.Compare(a.Source, b.Source) })
	return out
}

// usage is the run's whole usage as reported.
func (r *run) usage() *Usage {
	info := r.provider.Info()
	u := &Usage{Usage: r.total, Provider: info.Provider, Model: info.Model, Offline: info.Offline, Agents: r.agentUsage()}
	if r.answer.Model != "" {
		u.Model = r.answer.Model
	}
	return u
}

// book gives the run's whole usage, once, to the meter: one row per agent, the run
// counting as one request of its first agent by name other than the router (of the
// router when it is the only one).
func (r *run) book() {
	if r.o.cfg.Meter == nil || r.total.Calls == 0 {
		return
	}
	uses := r.agentUsage()
	if i := slices.IndexFunc(uses, func(u models.SourceUsage) bool { return u.Source != RouterAgent }); i > 0 {
		first := uses[i]
		uses = append([]models.SourceUsage{first}, slices.Delete(uses, i, i+1)...)
	}
	if err := r.o.cfg.Meter.Record(r.ctx, r.req.space(), r.req.PaidBy, uses...); err != nil {
		r.o.cfg.Logger.ErrorContext(r.ctx, "meter chat usage", "error", err, "user_id", r.req.UserID, "space", r.req.space())
	}
}
