package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/inkgraph/inkgraph/models"
)

// StepKind says what a step does.
type StepKind string

// The kinds of step.
const (
	// StepLLM renders a template and asks the model.
	StepLLM StepKind = "LLM"
	// StepData transforms an earlier step's output without a model call.
	StepData StepKind = "DATA"
)

// The transforms of a DATA step.
const (
	// TransformTrim removes leading and trailing white space.
	TransformTrim = "trim"
	// TransformFirstParagraph keeps the first block of non-blank lines.
	TransformFirstParagraph = "first_paragraph"
	// TransformBullets keeps the list items (lines starting with -, *, • or
	// a number and a dot), each as "- item"; text without any keeps each
	// non-blank line as an item.
	TransformBullets = "bullets"
	// TransformJSON keeps the first JSON value of the text, indented; a text
	// without one fails the step.
	TransformJSON = "json"
)

var transforms = []string{TransformTrim, TransformFirstParagraph, TransformBullets, TransformJSON}

// Step is one step of a plan.
type Step struct {
	Index int // from 1
	Kind  StepKind
	Title string
	// TemplateID, Variables and Inputs are for an LLM step: Variables are
	// fixed values; Inputs maps a variable to the earlier step whose output
	// fills it.
	TemplateID string
	Variables  map[string]string
	Inputs     map[string]int
	// From and Transform are for a DATA step: the step whose output it takes
	// and what it does with it.
	From      int
	Transform string
}

// Plan is a validated playbook: its steps, and the variables a client
// supplies to run it.
type Plan struct {
	ID          string
	Name        string
	Description string
	MinTier     models.Tier
	Variables   []Variable
	Steps       []Step
	// Custom marks a plan a user or a team's admins saved (the playbook area
	// keeps them), not one of the server's; UpdatedAt is when it was last saved.
	Custom    bool
	UpdatedAt *time.Time
}

// Clone returns a deep copy of p, for a caller free to change it.
func (p *Plan) Clone() *Plan {
	c := *p
	c.Variables = slices.Clone(p.Variables)
	c.Steps = make([]Step, len(p.Steps))
	for i, s := range p.Steps {
		s.Variables = maps.Clone(s.Variables)
		s.Inputs = maps.Clone(s.Inputs)
		c.Steps[i] = s
	}
	return &c
}

// TemplateIDs lists the templates the plan's LLM steps use, in step order.
func (p *Plan) TemplateIDs() []string {
	var ids []string
	for _, s := range p.Steps {
		if s.Kind == StepLLM && !slices.Contains(ids, s.TemplateID) {
			ids = append(ids, s.TemplateID)
		}
	}
	return ids
}

// Builder assembles a Plan; Build validates it.
type Builder struct {
	plan     Plan
	declared []Variable
	explicit bool
}

// NewPlan starts a plan offered from minTier up.
func NewPlan(id, name, description string, minTier models.Tier) *Builder {
	return &Builder{plan: Plan{ID: id, Name: name, Description: description, MinTier: minTier}}
}

// LLM adds a step that renders templateID with vars (fixed values) and
// inputs (variable name -> earlier step whose output fills it). The
// template's other variables are the client's to supply.
func (b *Builder) LLM(title, templateID string, vars map[string]string, inputs map[string]int) *Builder {
	b.plan.Steps = append(b.plan.Steps, Step{
		Index: len(b.plan.Steps) + 1, Kind: StepLLM, Title: title, TemplateID: templateID,
		Variables: maps.Clone(vars), Inputs: maps.Clone(inputs),
	})
	return b
}

// Data adds a step applying transform to the output of step from.
func (b *Builder) Data(title string, from int, transform string) *Builder {
	b.plan.Steps = append(b.plan.Steps, Step{
		Index: len(b.plan.Steps) + 1, Kind: StepData, Title: title, From: from, Transform: transform,
	})
	return b
}

// Vars declares the variables the client supplies, with the descriptions
// clients see. Without it, Build derives them from the templates: every
// template variable no step gives a value or an input. With it, a required
// template variable left without a value, an input or a declared variable
// is an error, and so is a declared variable no step uses; an optional one
// left out keeps its template's default.
func (b *Builder) Vars(vars ...Variable) *Builder {
	b.declared = append(b.declared, vars...)
	b.explicit = true
	return b
}

// Build validates the plan against reg. Errors are BAD_USER_INPUT with the
// field at fault, such as "steps[2].templateId" or "steps[3].from".
func (b *Builder) Build(reg *Registry) (*Plan, error) {
	p := b.plan.Clone()
	switch {
	case !idPattern.MatchString(p.ID):
		return nil, models.InvalidInput("id", "plan id %q must match %s", p.ID, idPattern)
	case strings.TrimSpace(p.Name) == "":
		return nil, models.InvalidInput("name", "plan %q has no name", p.ID)
	case !p.MinTier.Valid():
		return nil, models.InvalidInput("minTier", "plan %q: unknown tier %q", p.ID, p.MinTier)
	case len(p.Steps) == 0:
		return nil, models.InvalidInput("steps", "plan %q has no steps", p.ID)
	}
	declared := map[string]Variable{}
	for _, v := range b.declared {
		field := "variables." + v.Name
		switch _, dup := declared[v.Name]; {
		case !idPattern.MatchString(v.Name):
			return nil, models.InvalidInput(field, "variable name %q must match %s", v.Name, idPattern)
		case dup:
			return nil, models.InvalidInput(field, "variable %q is declared twice", v.Name)
		case v.Required && v.Default != "":
			return nil, models.InvalidInput(field, "variable %q is required and has a default", v.Name)
		}
		declared[v.Name] = v
	}
	used := map[string]bool{}
	var derived []Variable
	for i := range p.Steps {
		s := &p.Steps[i]
		n := s.Index
		prefix := fmt.Sprintf("steps[%d]", n)
		if strings.TrimSpace(s.Title) == "" {
			return nil, models.InvalidInput(prefix+".title", "step %d has no title", n)
		}
		switch s.Kind {
		case StepData:
			if err := checkRef(prefix+".from", n, s.From, "takes"); err != nil {
				return nil, err
			}
			if !slices.Contains(transforms, s.Transform) {
				return nil, models.InvalidInput(prefix+".transform", "step %d: unknown transform %q: want one of %s",
					n, s.Transform, strings.Join(transforms, ", "))
			}
		case StepLLM:
			e, ok := reg.byID[s.TemplateID]
			if !ok {
				return nil, models.InvalidInput(prefix+".templateId", "step %d: unknown template %q", n, s.TemplateID)
			}
			for _, name := range sortedKeys(s.Variables) {
				field := prefix + ".variables." + name
				if _, ok := e.vars[name]; !ok {
					return nil, models.InvalidInput(field, "step %d: template %q has no variable %q", n, s.TemplateID, name)
				}
				if err := CheckValue(field, s.Variables[name]); err != nil {
					return nil, err
				}
			}
			for _, name := range sortedKeys(s.Inputs) {
				field := prefix + ".inputs." + name
				if _, ok := e.vars[name]; !ok {
					return nil, models.InvalidInput(field, "step %d: template %q has no variable %q", n, s.TemplateID, name)
				}
				if _, fixed := s.Variables[name]; fixed {
					return nil, models.InvalidInput(field, "step %d: variable %q has both a value and an input", n, name)
				}
				if err := checkRef(field, n, s.Inputs[name], "fills "+name+" from"); err != nil {
					return nil, err
				}
			}
			for _, v := range e.info.Variables {
				if _, fixed := s.Variables[v.Name]; fixed {
					continue
				}
				if _, input := s.Inputs[v.Name]; input {
					continue
				}
				if !b.explicit {
					used[v.Name] = true
					derived = merge(derived, v)
					continue
				}
				d, ok := declared[v.Name]
				if !ok && !v.Required {
					continue // the plan keeps the template's default
				}
				used[v.Name] = true
				field := prefix + ".variables." + v.Name
				switch {
				case !ok:
					return nil, models.InvalidInput(field, "step %d: variable %q of template %q has no value, input or plan variable",
						n, v.Name, s.TemplateID)
				case v.Required && !d.Required && d.Default == "":
					return nil, models.InvalidInput(field, "step %d: template %q requires %q, but the plan variable is optional without a default",
						n, s.TemplateID, v.Name)
				}
			}
		default:
			return nil, models.InvalidInput(prefix+".kind", "step %d: unknown kind %q: want LLM or DATA", n, s.Kind)
		}
	}
	if !b.explicit {
		p.Variables = derived
		return p, nil
	}
	for _, v := range b.declared {
		if !used[v.Name] {
			return nil, models.InvalidInput("variables."+v.Name, "plan variable %q is used by no step", v.Name)
		}
	}
	p.Variables = slices.Clone(b.declared)
	return p, nil
}

// checkRef refuses a reference from step n to anything but an earlier step.
func checkRef(field string, n, ref int, verb string) error {
	switch {
	case ref == n:
		return models.InvalidInput(field, "step %d %s itself", n, verb)
	case ref > n:
		return models.InvalidInput(field, "step %d %s step %d, which comes after it", n, verb, ref)
	case ref < 1:
		return models.InvalidInput(field, "step %d %s step %d, which does not exist", n, verb, ref)
	}
	return nil
}

// merge adds v to the derived plan variables. A variable several steps
// share is required if any of them requires it; otherwise the first
// template's default is the plan's, for every step.
func merge(vars []Variable, v Variable) []Variable {
	for i := range vars {
		if vars[i].Name != v.Name {
			continue
		}
		if v.Required {
			vars[i].Required, vars[i].Default = true, ""
		}
		if vars[i].Description == "" {
			vars[i].Description = v.Description
		}
		return vars
	}
	return append(vars, v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Transform applies a DATA step's transform.
func Transform(name, text string) (string, error) {
	switch name {
	case TransformTrim:
		return strings.TrimSpace(text), nil
	case TransformFirstParagraph:
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
			if strings.TrimSpace(l) == "" {
				break
			}
			lines = append(lines, strings.TrimRight(l, " \t\r"))
		}
		return strings.Join(lines, "\n"), nil
	case TransformBullets:
		return bullets(text), nil
	case TransformJSON:
		return firstJSON(text)
	}
	return "", models.Internal(nil, "catalog: unknown transform %q", name)
}

func bullets(text string) string {
	var items, lines []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		lines = append(lines, l)
		if item, ok := listItem(l); ok && item != "" {
			items = append(items, "- "+item)
		}
	}
	if len(items) == 0 {
		for _, l := range lines {
			items = append(items, "- "+l)
		}
	}
	return strings.Join(items, "\n")
}

// listItem returns the text of a list line: "- x", "* x", "• x" or "1. x".
func listItem(l string) (string, bool) {
	for _, marker := range []string{"- ", "* ", "• "} {
		if rest, ok := strings.CutPrefix(l, marker); ok {
			return strings.TrimSpace(rest), true
		}
	}
	digits := 0
	for digits < len(l) && l[digits] >= '0' && l[digits] <= '9' {
		digits++
	}
	if digits > 0 && digits < len(l) && (l[digits] == '.' || l[digits] == ')') {
		return strings.TrimSpace(l[digits+1:]), true
	}
	return "", false
}

// firstJSON finds the first JSON object or array in text, which a model may
// have wrapped in prose or a code fence, and indents it. It tries at most
// maxJSONStarts openings, so a text full of brackets costs little.
func firstJSON(text string) (string, error) {
	const maxJSONStarts = 64
	for i, tried := 0, 0; i < len(text) && tried < maxJSONStarts; i++ {
		if text[i] != '{' && text[i] != '[' {
			continue
		}
		tried++
		var raw json.RawMessage
		if json.NewDecoder(strings.NewReader(text[i:])).Decode(&raw) != nil {
			continue
		}
		var b bytes.Buffer
		if err := json.Indent(&b, raw, "", "  "); err != nil {
			continue
		}
		return b.String(), nil
	}
	return "", models.Errorf(models.CodeUpstreamUnavailable, "the model's answer holds no valid JSON")
}
