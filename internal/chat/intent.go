package chat

import (
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/inkgraph/inkgraph/internal/llm"
)

// How a route was chosen.
const (
	RouteByLLM     = "llm"
	RouteByKeyword = "keyword"
	RouteByDefault = "default"
)

// Route is the agents a message goes to: one, or several in order (a
// pipeline, whose agents each see the earlier results, then a synthesis).
type Route struct {
	Agents   []string
	Pipeline bool
	// Source is how the route was chosen: llm, keyword or default.
	Source string
}

// classifierPrompt asks for a constrained answer that ParseRoute reads.
func classifierPrompt(reg *Registry, allowed []string) string {
	var b strings.Builder
	b.WriteString("You route requests to the agents of Inkgraph, an assistant for writers and small teams.\n")
	b.WriteString("The agents are:\n")
	for _, name := range allowed {
		if a, ok := reg.Agent(name); ok {
			b.WriteString("- " + a.Name + ": " + a.Description + "\n")
		}
	}
	b.WriteString("Answer with exactly one agent name, or with pipeline:[first,second] when the request needs several agents in that order.\n")
	b.WriteString("Answer with nothing else: no explanation, no punctuation.")
	return b.String()
}

// ParseRoute reads a classifier's answer: an agent name, or pipeline:[a,b].
// It accepts the stray quotes, backticks, case and full stops models add, and
// rejects anything naming an agent outside allowed.
func ParseRoute(answer string, allowed []string) (Route, bool) {
	s := strings.ToLower(strings.TrimSpace(answer))
	s = strings.Trim(s, "`'\". \n")
	rest, isPipeline := strings.CutPrefix(s, "pipeline")
	if !isPipeline {
		if slices.Contains(allowed, s) {
			return Route{Agents: []string{s}}, true
		}
		return Route{}, false
	}
	rest = strings.TrimSpace(rest)
	rest, ok := strings.CutPrefix(rest, ":")
	if !ok {
		return Route{}, false
	}
	rest = strings.Trim(strings.TrimSpace(rest), "[]()")
	var agents []string
	for _, part := range strings.Split(rest, ",") {
		name := strings.Trim(strings.TrimSpace(part), "`'\"")
		if !slices.Contains(allowed, name) {
			return Route{}, false
		}
		if !slices.Contains(agents, name) {
			agents = append(agents, name)
		}
	}
	if len(agents) == 0 {
		return Route{}, false
	}
	return Route{Agents: agents, Pipeline: len(agents) > 1}, true
}

// KeywordRoute routes by the agents' keywords: every allowed agent whose
// keyword the message contains, in the order the message first mentions
// them; none gives the task agent (or the first allowed one).
func KeywordRoute(reg *Registry, allowed []string, message string) Route {
	words := strings.FieldsFunc(strings.ToLower(message), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-'
	})
	type hit struct {
		agent string
		pos   int
	}
	var hits []hit
	for _, name := range allowed {
		a, ok := reg.Agent(name)
		if !ok {
			continue
		}
	search:
		for i, w := range words {
			for _, k := range a.Keywords {
				// "meetings" and "rescheduled" count; "due" must be whole.
				if w == k || (len(k) >= 4 && strings.HasPrefix(w, k)) {
					hits = append(hits, hit{name, i})
					break search
				}
			}
		}
	}
	if len(hits) == 0 {
		def := allowed[0]
		if slices.Contains(allowed, AgentTask) {
			def = AgentTask
		}
		return Route{Agents: []string{def}, Source: RouteByDefault}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].pos < hits[j].pos })
	r := Route{Source: RouteByKeyword}
	for _, h := range hits {
		r.Agents = append(r.Agents, h.agent)
	}
	r.Pipeline = len(r.Agents) > 1
	return r
}

// classify asks the model for a constrained answer, then falls back to the
// keywords. The offline provider is not asked: it has no opinion to give.
func (r *run) classify() (Route, error) {
	allowed := r.req.AllowedAgents
	if len(allowed) > 1 && !r.offline() {
		zero := 0.0
		req := llm.Request{
			Messages: []llm.Message{
				{Role: llm.RoleSystem, Content: classifierPrompt(r.o.cfg.Registry, allowed)},
				{Role: llm.RoleUser, Content: r.req.Message},
			},
			MaxTokens: 20, Temperature: &zero,
		}
		text, err := r.complete(RouterAgent, req)
		if err == nil {
			if route, ok := ParseRoute(text, allowed); ok {
				route.Source = RouteByLLM
				return route, nil
			}
		}
		if ctxErr := r.calls.Err(); ctxErr != nil {
			// The client went away or the server is shutting down: no more calls.
			return Route{}, ctxErr
		}
	}
	return KeywordRoute(r.o.cfg.Registry, allowed, r.req.Message), nil
}
