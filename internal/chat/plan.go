package chat

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/inkgraph/inkgraph/models"
)

// Plan is an execution plan: steps the client may run later, each by a
// template ID the server knows.
type Plan struct {
	Steps []PlanStep
}

// PlanStep is one step of a plan.
type PlanStep struct {
	Index      int // from 1
	Agent      string
	TemplateID string
	Title      string
	// DependsOn lists the steps whose results this one takes.
	DependsOn []int
	Inputs    map[string]any
}

// plan answers in PLAN mode: a plan of template steps, no tools run.
func (r *run) plan(route Route) {
	plan := buildPlan(r.o.cfg.Catalog, r.req.Tier, route, r.req.Message)
	text := describePlan(plan)
	if !r.emit(&Event{Type: EventToken, Agent: route.Agents[0], Delta: text}) || !r.emitUsage() {
		return
	}
	r.emit(&Event{Type: EventDone, Agent: route.Agents[0], Done: r.done(&Done{
		Response: text, FinishReason: FinishPlan, Plan: plan, Offline: r.offline(),
	})})
}

// buildPlan picks, for each routed agent, the template a user on tier may run that
// shares the most words with the message (the catalog's first on a tie). Agents
// without a template are left out.
func buildPlan(cat Catalog, tier models.Tier, route Route, message string) *Plan {
	plan := &Plan{}
	asked := wordSet(message)
	for _, agent := range route.Agents {
		templates := cat.AgentTemplates(tier, agent)
		best, bestScore := -1, -1
		for i, t := range templates {
			score := 0
			for w := range wordSet(t.Name + " " + t.Description) {
				if asked[w] {
					score++
				}
			}
			if score > bestScore {
				best, bestScore = i, score
			}
		}
		if best < 0 {
			continue
		}
		// The request fills the template's first required variable, so the step runs
		// as it is with executeTemplate; a template that needs more says so in its
		// other required variables, for the client to fill.
		tpl := templates[best]
		input := "request"
		if required := tpl.Required(); len(required) > 0 {
			input = required[0]
		}
		step := PlanStep{
			Index: len(plan.Steps) + 1, Agent: agent, TemplateID: tpl.ID, Title: tpl.Name,
			Inputs: map[string]any{input: message},
		}
		if step.Index > 1 {
			step.DependsOn = []int{step.Index - 1}
		}
		plan.Steps = append(plan.Steps, step)
	}
	return plan
}

func describePlan(p *Plan) string {
	if len(p.Steps) == 0 {
		return "No template fits this request, so there is no plan to run."
	}
	var b strings.Builder
	b.WriteString("Plan:")
	for _, s := range p.Steps {
		fmt.Fprintf(&b, " %d. %s (%s agent).", s.Index, s.Title, s.Agent)
	}
	return b.String()
}

func wordSet(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(w) >= 3 {
			out[strings.TrimSuffix(w, "s")] = true
		}
	}
	return out
}
