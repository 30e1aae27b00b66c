package chat

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/models"
)

// check refuses a request the agents cannot work on, naming the field at fault, and
// fills in the defaults.
func (o *Orchestrator) check(req *Request) error {
	req.Message = strings.TrimSpace(req.Message)
	switch {
	case req.Message == "":
		return models.InvalidInput("message", "the message is empty")
	case !utf8.ValidString(req.Message):
		return models.InvalidInput("message", "the message is not valid UTF-8")
	case utf8.RuneCountInString(req.Message) > MaxMessageRunes:
		return models.InvalidInput("message", "the message is longer than %d characters", MaxMessageRunes)
	case len(req.Context.History) > MaxHistory:
		return models.InvalidInput("context.history", "at most %d earlier messages", MaxHistory)
	}
	c := req.Context
	for field, n := range map[string]int{"documents": len(c.Documents), "tasks": len(c.Tasks),
		"events": len(c.Events), "emails": len(c.Emails), "metrics": len(c.Metrics)} {
		if n > MaxItems {
			return models.InvalidInput("context."+field, "at most %d items", MaxItems)
		}
	}
	if err := checkContext(c); err != nil {
		return err
	}
	if req.Mode == "" {
		req.Mode = ModeDirect
	}
	if req.Mode != ModeDirect && req.Mode != ModePlan {
		return models.InvalidInput("mode", "unknown mode %q: want DIRECT or PLAN", req.Mode)
	}
	if req.Mode == ModePlan && o.cfg.Catalog == nil {
		return models.InvalidInput("mode", "plan mode is not available")
	}
	if err := o.checkGround(req); err != nil {
		return err
	}
	if len(req.AllowedAgents) == 0 {
		return models.Errorf(models.CodeForbidden, "your plan includes no chat agents")
	}
	for _, name := range req.AllowedAgents {
		if _, ok := o.cfg.Registry.Agent(name); !ok {
			return models.Internal(nil, "chat: unknown agent %q allowed", name)
		}
	}
	return nil
}

// checkContext refuses context items the agents could only misread, naming the item.
func checkContext(c Context) error {
	for i, t := range c.Tasks {
		field := fmt.Sprintf("context.tasks[%d]", i)
		switch {
		case t.Status != "" && t.Status != TaskTodo && t.Status != TaskInProgress && t.Status != TaskDone:
			return models.InvalidInput(field+".status", "task status must be todo, in_progress or done")
		case t.Priority != "" && t.Priority != "low" && t.Priority != "medium" && t.Priority != "high":
			return models.InvalidInput(field+".priority", "task priority must be low, medium or high")
		}
	}
	for i, h := range c.History {
		if h.Role != string(llm.RoleUser) && h.Role != string(llm.RoleAssistant) {
			return models.InvalidInput(fmt.Sprintf("context.history[%d].role", i), "a turn's role must be user or assistant")
		}
	}
	for i, e := range c.Events {
		if e.End.Before(e.Start) {
			return models.InvalidInput(fmt.Sprintf("context.events[%d].end", i), "an event cannot end before it starts")
		}
	}
	return nil
}

// contextJSON is the request's context as the agents read it.
func (r *run) contextJSON() string {
	c := r.req.Context
	view := map[string]any{"now": r.now.Format(time.RFC3339)}
	if c.Profile != nil {
		view["profile"] = c.Profile
	}
	if p := r.req.Personalization; p != nil {
		view["writer"] = map[string]any{
			"business": p.BusinessName, "industry": p.Industry, "audience": p.TargetAudience,
			"tone": p.WritingTone, "language": p.Language, "voice": p.Voice,
			"persona": p.PersonaSummary, "topics": p.KeyTopics,
		}
	}
	add := func(key string, n int, v any) {
		if n > 0 {
			view[key] = v
		}
	}
	tasks := make([]taskView, 0, len(c.Tasks))
	for _, t := range c.Tasks {
		tasks = append(tasks, viewTask(t))
	}
	events := make([]eventView, 0, len(c.Events))
	for _, e := range c.Events {
		events = append(events, viewEvent(e))
	}
	add("tasks", len(tasks), tasks)
	add("events", len(events), events)
	add("emails", len(c.Emails), c.Emails)
	add("documents", len(c.Documents), c.Documents)
	add("metrics", len(c.Metrics), c.Metrics)
	b, err := json.Marshal(view)
	if err != nil {
		return "{}"
	}
	return string(b)
}
