package catalog

import (
	"slices"

	"github.com/inkgraph/inkgraph/models"
)

// Value is one named variable value, as a client sends it.
type Value struct {
	Name  string
	Value string
}

// Values turns a client's list into variables, refusing a name given twice.
func Values(list []*Value) (map[string]string, error) {
	out := make(map[string]string, len(list))
	for _, v := range list {
		if _, dup := out[v.Name]; dup {
			return nil, models.InvalidInput("variables."+v.Name, "variable %q is given twice", v.Name)
		}
		out[v.Name] = v.Value
	}
	return out, nil
}

// StepInput says which earlier step's output fills a variable of an LLM step.
type StepInput struct {
	Variable string
	FromStep int
}

// FixedValues lists an LLM step's fixed variable values by name.
func (s Step) FixedValues() []Value {
	out := make([]Value, 0, len(s.Variables))
	for _, k := range sortedKeys(s.Variables) {
		out = append(out, Value{Name: k, Value: s.Variables[k]})
	}
	return out
}

// InputSteps lists which earlier steps fill an LLM step's variables, by name.
func (s Step) InputSteps() []StepInput {
	out := make([]StepInput, 0, len(s.Inputs))
	for _, k := range sortedKeys(s.Inputs) {
		out = append(out, StepInput{Variable: k, FromStep: s.Inputs[k]})
	}
	slices.SortStableFunc(out, func(a, b StepInput) int { return a.FromStep - b.FromStep })
	return out
}
