package api

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/inkgraph/inkgraph/models"
)

// ShapeLimits refuses a document whose shape would make validating it expensive,
// before gqlgen validates it. The parser is linear and bounded by the token limit;
// validation is not: comparing the fields that merge into one selection set is
// quadratic in their number (12,000 fields took 21 s), and fragments spread inside
// fragments multiply what every later step walks. So the document is parsed here
// (once more: parsing is cheap), counted in one pass that visits each fragment once,
// and refused with QUERY_TOO_LARGE naming the measure, the count and the limit.
//
// A document found in the query cache has passed validation, and so these limits,
// already: it is not parsed again. A zero limit is no limit.
type ShapeLimits struct {
	// FieldsPerSet bounds the fields of one selection set, with those its inline
	// fragments and spread fragments merge into it (what validation compares pairwise).
	FieldsPerSet int
	// Selections bounds fields, fragment spreads and inline fragments in the document,
	// each fragment counted wherever it is spread.
	Selections      int
	Aliases         int
	FragmentSpreads int
	Directives      int
	Variables       int
	// IntrospectionFields bounds __schema and __type fields, each fragment counted
	// wherever it is spread: one costs a walk of the whole schema.
	IntrospectionFields int

	// NoIntrospection refuses every __schema and __type field (production) with
	// INTROSPECTION_DISABLED: a request error like any validation error, where
	// gqlgen's executor would answer each field with an internal error.
	NoIntrospection bool

	// TokenLimit is the parser's, as gqlgen's own parse uses it.
	TokenLimit int
	// Cache is gqlgen's query cache: what it holds was validated.
	Cache graphql.Cache[*ast.QueryDocument]
}

var (
	_ graphql.HandlerExtension          = ShapeLimits{}
	_ graphql.OperationParameterMutator = ShapeLimits{}
)

func (ShapeLimits) ExtensionName() string                   { return "ShapeLimits" }
func (ShapeLimits) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters runs before gqlgen parses and validates the query (and
// after automatic persisted queries have filled it in, being registered later).
func (l ShapeLimits) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if params.Query == "" {
		return nil
	}
	if l.Cache != nil {
		if _, ok := l.Cache.Get(ctx, params.Query); ok {
			return nil
		}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: params.Query}, l.TokenLimit)
	if err != nil {
		// gqlgen would parse it again and say the same: say it now.
		var gqlErr *gqlerror.Error
		if !errors.As(err, &gqlErr) {
			gqlErr = gqlerror.Wrap(err)
		}
		errcode.Set(gqlErr, errcode.ParseFailed)
		return gqlErr
	}
	return l.check(measureShape(doc, l.Selections))
}

// shape is what ShapeLimits counts of a document.
type shape struct {
	largestSet, selections, aliases, spreads, directives, variables, introspection int
}

// check returns the first limit s passes, as a QUERY_TOO_LARGE error, or
// INTROSPECTION_DISABLED.
func (l ShapeLimits) check(s shape) *gqlerror.Error {
	if l.NoIntrospection && s.introspection > 0 {
		const message = "introspection is disabled"
		return &gqlerror.Error{
			Message:    message,
			Err:        &models.Error{Code: models.CodeIntrospectionDisabled, Message: message},
			Extensions: map[string]any{"code": models.CodeIntrospectionDisabled},
		}
	}
	for _, m := range []struct {
		name, what   string
		count, limit int
	}{
		{"fieldsPerSelectionSet", "fields in one selection set", s.largestSet, l.FieldsPerSet},
		{"selections", "selections", s.selections, l.Selections},
		{"aliases", "aliases", s.aliases, l.Aliases},
		{"fragmentSpreads", "fragment spreads", s.spreads, l.FragmentSpreads},
		{"directives", "directives", s.directives, l.Directives},
		{"variables", "variables", s.variables, l.Variables},
		{"introspectionFields", "__schema and __type fields", s.introspection, l.IntrospectionFields},
	} {
		if m.limit > 0 && m.count > m.limit {
			return queryTooLarge(m.name, fmt.Sprintf("the query has %d %s, more than the %d allowed", m.count, m.what, m.limit), m.count, m.limit)
		}
	}
	return nil
}

// queryTooLarge is the refusal of a document for its shape: a request error, like a
// validation error, whose extensions say which measure passed which limit.
func queryTooLarge(measure, message string, count, limit int) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    message,
		Err:        &models.Error{Code: models.CodeQueryTooLarge, Message: message},
		Extensions: map[string]any{"code": models.CodeQueryTooLarge, "measure": measure, "count": count, "limit": limit},
	}
}

// measureShape counts doc. The first pass visits each selection set and each
// fragment definition once, reusing a fragment's totals wherever it is spread
// (fragments spreading fragments twice over can describe 2^n selections in n lines,
// so totals saturate rather than overflow). Only when the selections, fragments
// expanded, are within limit does the second pass merge the fields validation
// merges: fields of one response name in a set have their selections compared as one
// set, however many times the name is repeated.
func measureShape(doc *ast.QueryDocument, selectionLimit int) shape {
	m := &shapeMeter{doc: doc, fragments: make(map[string]*fragmentTotals, len(doc.Fragments)), cyclic: map[string]bool{}}
	for _, op := range doc.Operations {
		m.s.variables += len(op.VariableDefinitions)
		m.s.directives += len(op.Directives)
		for _, v := range op.VariableDefinitions {
			m.s.directives += len(v.Directives)
		}
		t := m.set(op.SelectionSet)
		m.s.selections = saturatingAdd(m.s.selections, t.selections)
		m.s.introspection = saturatingAdd(m.s.introspection, t.introspection)
	}
	// Fragments no operation spreads are still validated (and then refused as unused).
	var unused []ast.SelectionSet
	for _, f := range doc.Fragments {
		if _, seen := m.fragments[f.Name]; !seen {
			t := m.fragment(f.Name)
			m.s.selections = saturatingAdd(m.s.selections, t.selections)
			m.s.introspection = saturatingAdd(m.s.introspection, t.introspection)
			unused = append(unused, f.SelectionSet)
		}
	}
	if selectionLimit > 0 && m.s.selections > selectionLimit {
		return m.s
	}
	for _, op := range doc.Operations {
		m.mergedSet([]ast.SelectionSet{op.SelectionSet})
	}
	for _, set := range unused {
		m.mergedSet([]ast.SelectionSet{set})
	}
	return m.s
}

// fragmentTotals are a selection set's counts with its fragments expanded.
type fragmentTotals struct {
	// fields is how many fields merge into the set: its own and those of the inline
	// fragments and fragments spread directly in it.
	fields        int
	selections    int
	introspection int
}

type shapeMeter struct {
	doc       *ast.QueryDocument
	fragments map[string]*fragmentTotals
	// cyclic holds the fragments spread while being counted: the second pass does
	// not follow spreads of them, which leaves no cycle (validation refuses cycles).
	cyclic map[string]bool
	s      shape
}

// set counts one selection set and everything under it, and records its merged
// field count.
func (m *shapeMeter) set(set ast.SelectionSet) fragmentTotals {
	t := m.merged(set)
	m.s.largestSet = max(m.s.largestSet, t.fields)
	return t
}

// merged counts set without recording it as a selection set of its own: an inline
// fragment's fields belong to the set around it.
func (m *shapeMeter) merged(set ast.SelectionSet) fragmentTotals {
	var t fragmentTotals
	for _, sel := range set {
		t.selections = saturatingAdd(t.selections, 1)
		switch s := sel.(type) {
		case *ast.Field:
			t.fields = saturatingAdd(t.fields, 1)
			m.s.directives += len(s.Directives)
			if s.Alias != "" && s.Alias != s.Name {
				m.s.aliases++
			}
			if isIntrospectionField(s.Name) {
				t.introspection = saturatingAdd(t.introspection, 1)
			}
			if len(s.SelectionSet) > 0 {
				sub := m.set(s.SelectionSet)
				t.selections = saturatingAdd(t.selections, sub.selections)
				t.introspection = saturatingAdd(t.introspection, sub.introspection)
			}
		case *ast.InlineFragment:
			m.s.directives += len(s.Directives)
			sub := m.merged(s.SelectionSet)
			t.add(sub)
		case *ast.FragmentSpread:
			m.s.spreads++
			m.s.directives += len(s.Directives)
			t.add(*m.fragment(s.Name))
		}
	}
	return t
}

// fragment returns the named fragment's totals, counting its definition the first
// time. A fragment being counted (a cycle) or unknown counts nothing more.
func (m *shapeMeter) fragment(name string) *fragmentTotals {
	if t, ok := m.fragments[name]; ok {
		if t.selections < 0 {
			m.cyclic[name] = true
			return &fragmentTotals{}
		}
		return t
	}
	t := &fragmentTotals{selections: -1} // being counted
	m.fragments[name] = t
	def := m.doc.Fragments.ForName(name)
	if def == nil {
		*t = fragmentTotals{}
		return t
	}
	m.s.directives += len(def.Directives)
	*t = m.merged(def.SelectionSet)
	m.s.largestSet = max(m.s.largestSet, t.fields)
	return t
}

// mergedSet counts the fields of one merged selection set made of sets (those of the
// fields of one response name), then does the same for each response name in it. Its
// work is bounded by the selections counted in the first pass.
func (m *shapeMeter) mergedSet(sets []ast.SelectionSet) {
	fields := 0
	var names []string
	children := map[string][]ast.SelectionSet{}
	var visit func(set ast.SelectionSet)
	visit = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				fields++
				if len(s.SelectionSet) == 0 {
					continue
				}
				name := s.Alias
				if name == "" {
					name = s.Name
				}
				if _, ok := children[name]; !ok {
					names = append(names, name)
				}
				children[name] = append(children[name], s.SelectionSet)
			case *ast.InlineFragment:
				visit(s.SelectionSet)
			case *ast.FragmentSpread:
				if def := m.doc.Fragments.ForName(s.Name); def != nil && !m.cyclic[s.Name] {
					visit(def.SelectionSet)
				}
			}
		}
	}
	for _, set := range sets {
		visit(set)
	}
	m.s.largestSet = max(m.s.largestSet, fields)
	for _, name := range names {
		m.mergedSet(children[name])
	}
}

func (t *fragmentTotals) add(o fragmentTotals) {
	t.fields = saturatingAdd(t.fields, o.fields)
	t.selections = saturatingAdd(t.selections, o.selections)
	t.introspection = saturatingAdd(t.introspection, o.introspection)
}

// saturatingAdd adds two non-negative counts, stopping at a bound far above any limit.
func saturatingAdd(a, b int) int {
	const ceiling = 1 << 40
	return min(a+b, ceiling)
}

// isIntrospectionField reports whether a field reads the schema.
func isIntrospectionField(name string) bool {
	return strings.HasPrefix(name, "__") && name != "__typename"
}

// rulesWithoutSuggestions are gqlparser's validation rules with none that suggests
// names ("Did you mean ...?"): production gives no hint of the schema. gqlgen's
// SetDisableSuggestion swaps the field and leaf rules only; arguments, enum values,
// input fields and type names suggest too.
func rulesWithoutSuggestions() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, swap := range []struct {
		from string
		to   core.Rule
	}{
		{rules.FieldsOnCorrectTypeRule.Name, rules.FieldsOnCorrectTypeRuleWithoutSuggestions},
		{rules.ScalarLeafsRule.Name, rules.ScalarLeafsRuleWithoutSuggestions},
		{rules.KnownArgumentNamesRule.Name, rules.KnownArgumentNamesRuleWithoutSuggestions},
		{rules.KnownTypeNamesRule.Name, rules.KnownTypeNamesRuleWithoutSuggestions},
		{rules.ValuesOfCorrectTypeRule.Name, rules.ValuesOfCorrectTypeRuleWithoutSuggestions},
	} {
		r.RemoveRule(swap.from)
		r.AddRule(swap.to.Name, swap.to.RuleFunc)
	}
	return r
}
