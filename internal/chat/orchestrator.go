package chat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/inkgraph/inkgraph/internal/catalog"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/llm/sanitize"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/internal/platform/runlog"
	"github.com/inkgraph/inkgraph/models"
)

const (
	// MaxToolIterations bounds the model calls of one agent: the last call
	// may not call tools, and tool calls it makes anyway are not run.
	MaxToolIterations = 5
	// DefaultMaxTokens bounds each answer when Config.MaxTokens is zero.
	DefaultMaxTokens = 1024
	// minFragmentRunes is the shortest prompt piece the sanitizer removes.
	minFragmentRunes = 24
)

// Catalog lists the templates a plan may use; *catalog.Catalog satisfies it.
type Catalog interface {
	// AgentTemplates returns the templates agent can carry out that a user on tier
	// may run, in the catalogue's order of preference.
	AgentTemplates(tier models.Tier, agent string) []catalog.Template
}

// Recorder books what a run used, once it has ended; the metering area satisfies it.
type Recorder interface {
	// Record books uses under paidBy; the run counts as one request of the first.
	Record(ctx context.Context, userID string, paidBy models.UsageProvider, uses ...models.SourceUsage) error
}

// Config is what an Orchestrator uses.
type Config struct {
	// Provider answers runs whose request names none.
	Provider llm.Provider
	// Registry defaults to DefaultRegistry().
	Registry *Registry
	// Catalog serves PLAN mode; without one, PLAN runs are refused.
	Catalog Catalog
	// Now and NewRunID default to the clock and random IDs.
	Now      func() time.Time
	NewRunID func() string
	// MaxTokens bounds each model answer; DefaultMaxTokens when zero.
	MaxTokens int
	// Logger receives the causes of internal failures, which a client sees only as
	// INTERNAL; discarded when nil.
	Logger *slog.Logger
	// Meter, when set, books each run's usage once the run has ended, however it
	// ended (done, failed, or abandoned by the client), if it made any LLM call.
	Meter Recorder
	// Journal, when set, keeps every run's events for Service.Resume, and a run
	// whose client went away goes on for ResumeGrace (DefaultResumeGrace when zero)
	// waiting to be resumed. Without it a run ends with its client.
	Journal     runlog.Log
	ResumeGrace time.Duration
	// Events, when set, carries a resumed run's stop from the instance its reader is
	// on to the one running it.
	Events Events
	// Knowledge, when set, searches the user's documents: for Input.Ground and for
	// the search tool, search_knowledge, which New gives every agent of the registry
	// when it is set. Without it a grounded chat is refused and the tool is absent.
	Knowledge Knowledge
	// approvals, when set, is where calls that need the user's approval wait; without
	// it they are declined (Service sets it when it has a database).
	approvals *approvals
}

// Orchestrator runs chats. It is safe for concurrent use.
type Orchestrator struct {
	cfg     Config
	secrets *sanitize.Set
}

// New returns an Orchestrator for cfg.
func New(cfg Config) (*Orchestrator, error) {
	if cfg.Provider == nil {
		return nil, errors.New("chat: an LLM provider is required")
	}
	if cfg.Registry == nil {
		cfg.Registry = DefaultRegistry()
	}
	if cfg.Knowledge != nil {
		cfg.Registry = cfg.Registry.withKnowledgeTool()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewRunID == nil {
		cfg.NewRunID = randomID
	}
	if cfg.MaxTokens == 0 {
		cfg.MaxTokens = DefaultMaxTokens
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ResumeGrace <= 0 {
		cfg.ResumeGrace = DefaultResumeGrace
	}
	return &Orchestrator{cfg: cfg, secrets: sanitize.NewSet(secretFragments(cfg.Registry))}, nil
}

// secretFragments are the pieces of every prompt and tool definition an
// answer must never carry.
func secretFragments(reg *Registry) []string {
	var all []string
	names := make([]string, 0, len(reg.agents))
	for _, a := range reg.agents {
		names = append(names, a.Name)
	}
	texts := []string{classifierPrompt(reg, names), synthesisPrompt, commonRules, groundingRules}
	for _, a := range reg.agents {
		texts = append(texts, a.Prompt)
		for _, t := range a.Tools {
			texts = append(texts, t.Description)
			if b, err := json.Marshal(t.Params.JSON()); err == nil {
				all = append(all, string(b))
			}
		}
	}
	return append(all, sanitize.Fragments(minFragmentRunes, texts...)...)
}

// Registry returns the orchestrator's agents, for listing them.
func (o *Orchestrator) Registry() *Registry { return o.cfg.Registry }

// Run checks req and starts a run, on a goroutine of its own or, when the transport
// of ctx offers it (llm.Inline), on the transport's. The run's events arrive on the channel,
// which is closed after DONE or ERROR, or as soon as ctx ends: ending ctx
// (a closed subscription, a dropped connection) cancels the upstream LLM
// request at once. Input errors are returned here, before any event. When the
// server's llm.Drain in ctx stops the run, its LLM request is cancelled and it
// ends with USAGE and a retryable ERROR, so that the client knows the answer was
// cut off.
func (o *Orchestrator) Run(ctx context.Context, req Request) (<-chan *Event, error) {
	if err := o.check(&req); err != nil {
		return nil, err
	}
	var grounding []*models.Passage
	if req.Ground {
		// Before any event: a document the caller may not read is the input's fault.
		found, err := o.cfg.Knowledge.Search(ctx, req.space(), groundQuery(req.Message), GroundPassages, req.DocumentIDs, req.Tag)
		if err != nil {
			return nil, err
		}
		grounding = found
	}
	r := &run{
		o: o, ctx: ctx, req: req, id: o.cfg.NewRunID(), now: o.cfg.Now(),
		provider: req.Provider,
		outcome:  metrics.OutcomeCancelled,
	}
	r.shown.add(grounding)
	r.life, r.endLife = ctx, func(error) {}
	// A run nobody can resume (sendChat's: its ID reaches the client with the
	// answer) is not kept, and ends with its client.
	if o.cfg.Journal != nil && !req.Unattended {
		if w, err := o.cfg.Journal.Open(ctx, r.id, ownerKey(req.UserID, req.space())); err != nil {
			// The run goes on, as a run that cannot be resumed.
			o.cfg.Logger.WarnContext(ctx, "chat: the run's journal did not open: it cannot be resumed", "error", err, "run_id", r.id)
		} else {
			r.journal = w
			r.life, r.endLife = context.WithCancelCause(context.WithoutCancel(ctx))
		}
	}
	calls, release := llm.RunContext(r.life)
	var stopWatching atomic.Pointer[func() bool]
	r.calls, r.release = calls, func() {
		if stop := stopWatching.Load(); stop != nil {
			(*stop)()
		}
		release()
	}
	if r.provider == nil {
		r.provider = o.cfg.Provider
	}
	r.batch.send = r.send
	r.batch.panicked = func(v any) {
		r.o.cfg.Logger.ErrorContext(r.ctx, "chat: sending an event panicked: the stream ends", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	}
	if deliver, ok := llm.Adopt(ctx, r.run); ok {
		// The transport runs the run on the goroutine that sends its events.
		r.out, r.deliver = make(chan *Event, 1), deliver
		r.watchClient(&stopWatching)
		return r.out, nil
	}
	r.out = make(chan *Event)
	r.watchClient(&stopWatching)
	go r.run()
	return r.out, nil
}

// watchClient has a journaled run told when its client's context ends (clientGone),
// once the run is set up; release stops the watch.
func (r *run) watchClient(stop *atomic.Pointer[func() bool]) {
	if r.journal != nil {
		f := context.AfterFunc(r.ctx, r.clientGone)
		stop.Store(&f)
	}
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
