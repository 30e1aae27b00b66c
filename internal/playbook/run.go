package playbook

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/inkgraph/inkgraph/internal/catalog"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/models"
)

// EventType names a run event.
type EventType string

// The events of a run: per step STEP_STARTED, TOKEN… (LLM steps only) and
// STEP_FINISHED, then DONE; or ERROR, which ends the run.
const (
	EventStepStarted  EventType = "STEP_STARTED"
	EventToken        EventType = "TOKEN"
	EventStepFinished EventType = "STEP_FINISHED"
	EventDone         EventType = "DONE"
	EventError        EventType = "ERROR"
)

// Event is one event of a run. Seq counts from 1 within the run.
type Event struct {
	RunID     string
	Seq       int
	Type      EventType
	Step      int
	StepTitle string
	Delta     string // TOKEN
	Output    string // STEP_FINISHED
	Done      *RunDone
	Error     *RunError
}

// RunDone ends a complete run.
type RunDone struct {
	Outputs []StepOutput
	Result  string // the last step's output
	Usage   models.Usage
	Offline bool
}

// Calls is the number of LLM requests the run made.
func (d *RunDone) Calls() int { return d.Usage.Calls }

// StepOutput is what one step produced.
type StepOutput struct {
	Step   int
	Output string
}

// RunError ends a failed run.
type RunError struct {
	Code      string
	Message   string
	Step      int
	Retryable bool
}

// Run starts playbook id for the user with the client's variables. Input,
// tier and quota errors are returned here, before any event. The events
// arrive on the channel, which the service closes after DONE or ERROR, or as
// soon as ctx ends; ending ctx cancels the upstream LLM request at once. When
// the server's llm.Drain in ctx stops the run, its LLM request is cancelled and
// it ends with a retryable ERROR, so that the client knows it was cut off. The run
// has a goroutine of its own unless the transport of ctx offers its own (llm.Inline).
func (s *Service) Run(ctx context.Context, userID, id string, vars map[string]string) (<-chan *Event, error) {
	p, version, err := s.playbook(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	res, err := s.resolve(p, version, vars)
	if err != nil {
		return nil, err
	}
	pc, choice, err := s.prepare(ctx, userID)
	if err != nil {
		return nil, err
	}
	r := &run{
		s: s, ctx: ctx, userID: userID, id: s.newRunID(), res: res, pc: pc, choice: choice,
		outputs: map[int]string{}, outcome: metrics.OutcomeCancelled,
	}
	r.calls, r.release = llm.RunContext(ctx)
	if deliver, ok := llm.Adopt(ctx, r.run); ok {
		// The transport runs the run on the goroutine that sends its events.
		r.out, r.deliver = make(chan *Event, 1), deliver
		return r.out, nil
	}
	r.out = make(chan *Event)
	go r.run()
	return r.out, nil
}

// run is one run's state, owned by its goroutine.
type run struct {
	s   *Service
	ctx context.Context // the client's: events go out while it lasts
	// calls is the context of the run's LLM calls (llm.RunContext): ctx with the
	// run's one deadline for the model's first byte, ended early by a shutdown.
	calls   context.Context
	release func()
	userID  string
	id      string
	res     *resolved
	pc      *models.PersonalizationContext
	choice  llm.Choice
	out     chan *Event
	// deliver, for a run the transport adopted (llm.Adopt), has the transport take
	// the event just put in out (of capacity one) and send it.
	deliver func() bool

	seq int
	// outcome is the run's in the runs metric: cancelled (the client went away) unless
	// DONE or ERROR went out; streamed counts the model's text deltas sent as TOKEN.
	outcome  string
	streamed int
	usage    models.Usage
	offline  bool
	outputs  map[int]string
	list     []StepOutput
}

// emit sends the run's next event, unless the client is gone.
func (r *run) emit(e Event) bool {
	r.seq++
	e.RunID, e.Seq = r.id, r.seq
	if r.ctx.Err() != nil {
		// Before the select: out may have room (a run the transport adopted), which
		// the select could choose although the client is gone.
		return false
	}
	select {
	case r.out <- &e:
	case <-r.ctx.Done():
		return false
	}
	if r.deliver != nil && !r.deliver() {
		return false
	}
	if e.Type == EventDone {
		// Delivered (or handed to the run's own goroutine's reader): a DONE the
		// transport failed to write is the client gone, not an answered run.
		r.outcome = metrics.OutcomeOK
	}
	return true
}

func (r *run) run() {
	defer close(r.out)
	defer func() {
		metrics.RunEnded(metrics.KindPlaybook, r.outcome)
		if r.streamed > 0 {
			metrics.TokensOf(metrics.KindPlaybook).Add(float64(r.streamed))
		}
	}()
	defer func() { r.s.record(r.ctx, r.userID, "playbook:"+r.res.plan.ID, r.choice.PaidBy, r.usage) }()
	defer r.release()
	for _, st := range r.res.plan.Steps {
		if !r.emit(Event{Type: EventStepStarted, Step: st.Index, StepTitle: st.Title}) {
			return
		}
		var out string
		var err error
		if st.Kind == catalog.StepData {
			out, err = catalog.Transform(st.Transform, r.outputs[st.From])
			// A transform may reassemble what the sanitizer cut apart.
			out = r.s.secrets.Clean(out)
		} else {
			out, err = r.llmStep(st)
		}
		if err != nil {
			r.fail(st.Index, err)
			return
		}
		r.outputs[st.Index] = out
		r.list = append(r.list, StepOutput{Step: st.Index, Output: out})
		if !r.emit(Event{Type: EventStepFinished, Step: st.Index, StepTitle: st.Title, Output: out}) {
			return
		}
	}
	r.emit(Event{Type: EventDone, Done: &RunDone{
		Outputs: r.list, Result: r.list[len(r.list)-1].Output,
		Usage: r.usage, Offline: r.offline,
	}})
}

func (r *run) llmStep(st catalog.Step) (string, error) {
	t, _ := r.s.reg.Template(st.TemplateID) // the catalogue checked every step's template
	vars := map[string]string{}
	for _, v := range t.Variables {
		if value, ok := st.Variables[v.Name]; ok {
			vars[v.Name] = value
			continue
		}
		if from, ok := st.Inputs[v.Name]; ok {
			out := r.outputs[from]
			if strings.TrimSpace(out) == "" {
				return "", models.Errorf(models.CodeUpstreamUnavailable, "step %d gave no output for step %d to work from", from, st.Index)
			}
			vars[v.Name] = cut(out, catalog.MaxValueRunes)
			continue
		}
		if value, ok := r.res.values[v.Name]; ok {
			vars[v.Name] = value
		}
	}
	system, user, err := r.s.reg.Prompt(st.TemplateID, vars, r.pc, r.outputs)
	if err != nil {
		return "", err
	}
	res, err := r.s.complete(r.calls, drafting(r.choice.Provider, t, vars, r.pc), system, user, func(delta string) bool {
		return r.emit(Event{Type: EventToken, Step: st.Index, StepTitle: st.Title, Delta: delta})
	})
	r.usage = r.usage.Add(res.Usage)
	r.streamed += res.Streamed
	if err != nil {
		return res.Text, err
	}
	r.offline = r.offline || offline(r.choice.Provider, res.Done)
	return res.Text, nil
}

// cut shortens s to n runes: a model's answer may run longer than a client
// may send, and the next step can work from most of it.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// fail ends the run with one ERROR, unless the client is gone.
func (r *run) fail(step int, err error) {
	if r.ctx.Err() != nil {
		return
	}
	if stopped := llm.Interrupted(r.calls); stopped != nil {
		err = stopped // whatever the cut-off call made of it
	}
	code := models.ErrorCode(err)
	r.outcome = metrics.FailedOutcome(err)
	if code == models.CodeInternal {
		r.s.log.ErrorContext(r.ctx, "playbook: run failed", "run", r.id, "playbook", r.res.plan.ID, "step", step, "err", err)
	}
	r.emit(Event{Type: EventError, Step: step, Error: &RunError{
		Code: code, Message: models.ErrorMessage(err), Step: step,
		Retryable: code == models.CodeUpstreamUnavailable || code == models.CodeRateLimited,
	}})
}
