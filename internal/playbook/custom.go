package playbook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/catalog"
	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/lazyregexp"
	"github.com/inkgraph/inkgraph/models"
)

// Limits of custom playbooks.
const (
	// MaxCustomPlaybooks is how many custom playbooks a space keeps.
	MaxCustomPlaybooks = 50
	// MaxCustomSteps is how many steps a custom playbook has at most.
	MaxCustomSteps = 20
	// MaxNameRunes bounds a custom playbook's name, MaxDescriptionRunes its
	// description, MaxTitleRunes a step's title and a variable's description.
	MaxNameRunes        = 100
	MaxDescriptionRunes = 1000
	MaxTitleRunes       = 200
	// MaxSpecBytes bounds a custom playbook as stored: its spec's JSON (what
	// every list and read builds again), whatever its steps and values.
	MaxSpecBytes = 64 << 10
)

// CustomPrefix starts the ID of every custom playbook ("custom_" and a UUID's 32
// hex digits, which catalog's ID pattern allows): no built-in playbook has one.
const CustomPrefix = "custom_"

// SaveInput is a custom playbook as a user or a team's admin saves it: steps over
// the server's templates, which Save builds and checks with catalog's plan builder.
type SaveInput struct {
	// ID, when set, names the space's playbook to replace; empty creates one.
	ID          string
	Name        string
	Description string
	// Variables, when DeclaresVariables, are what a client supplies to run it
	// (catalog.Builder.Vars); otherwise they are derived from the templates.
	DeclaresVariables bool
	Variables         []catalog.Variable
	Steps             []StepInput
}

// StepInput is one step of a SaveInput: an LLM step (TemplateID, Values fixed,
// Inputs from earlier steps) or a DATA step (From, Transform).
type StepInput struct {
	Title      string
	Kind       catalog.StepKind
	TemplateID string
	Values     []catalog.Value
	Inputs     []catalog.StepInput
	From       int
	Transform  string
}

// spec is a custom playbook as stored in custom_playbooks.spec (the name is a
// column): what was saved, built again against the registry on every read.
type spec struct {
	Description string     `json:"description"`
	Declared    bool       `json:"declared,omitempty"`
	Variables   []varSpec  `json:"variables,omitempty"`
	Steps       []stepSpec `json:"steps"`
}

type varSpec struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Required    bool   `json:"required,omitempty"`
	Default     string `json:"default,omitempty"`
}

type stepSpec struct {
	Title      string            `json:"title"`
	Kind       catalog.StepKind  `json:"kind"`
	TemplateID string            `json:"templateId,omitempty"`
	Values     map[string]string `json:"values,omitempty"`
	Inputs     map[string]int    `json:"inputs,omitempty"`
	From       int               `json:"from,omitempty"`
	Transform  string            `json:"transform,omitempty"`
}

// stepVariables matches the start of the builder's field for a step's fixed value.
var stepVariables = lazyregexp.New(`^(steps\[\d+\])\.variables\.`)

// variableName is what a declared variable's name must match (catalog's template
// and variable IDs; the builder checks it again).
var variableName = lazyregexp.New(`^[a-z][a-z0-9_]*$`)

// IsCustom says whether id has the shape of a custom playbook's ID (CustomPrefix
// and 32 lower-case hex digits), which no built-in playbook's has.
func IsCustom(id string) bool {
	rest, ok := strings.CutPrefix(id, CustomPrefix)
	if !ok || len(rest) != 32 {
		return false
	}
	for _, c := range rest {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func newCustomID() string {
	return CustomPrefix + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", "")
}

// toSpec checks what the builder does not (lengths, counts, text, a value given
// twice, declared variables) and turns in into what is stored. Fields are named as
// the GraphQL input's: a step by its index from 1, as steps refer to each other,
// and a declared variable by its index from 1 too (input.variables[N].name), as
// its name may be what is wrong.
func toSpec(in SaveInput) (*spec, error) {
	switch n := utf8.RuneCountInString(in.Name); {
	case strings.TrimSpace(in.Name) == "":
		return nil, models.InvalidInput("input.name", "name the playbook")
	case n > MaxNameRunes:
		return nil, models.InvalidInput("input.name", "a playbook's name is at most %d characters", MaxNameRunes)
	}
	if err := models.CheckText("input.name", "a playbook's name", in.Name, false); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(in.Description) > MaxDescriptionRunes {
		return nil, models.InvalidInput("input.description", "a playbook's description is at most %d characters", MaxDescriptionRunes)
	}
	if err := models.CheckText("input.description", "a playbook's description", in.Description, true); err != nil {
		return nil, err
	}
	switch {
	case len(in.Steps) == 0:
		return nil, models.InvalidInput("input.steps", "a playbook has at least one step")
	case len(in.Steps) > MaxCustomSteps:
		return nil, models.InvalidInput("input.steps", "a playbook has at most %d steps", MaxCustomSteps)
	}
	sp := &spec{Description: in.Description, Declared: in.DeclaresVariables}
	declared := map[string]bool{}
	for i, v := range in.Variables {
		prefix := fmt.Sprintf("input.variables[%d]", i+1)
		switch {
		case v.Name == "":
			return nil, models.InvalidInput(prefix+".name", "name the variable")
		case !variableName.MatchString(v.Name):
			return nil, models.InvalidInput(prefix+".name", "variable name %q must match %s", v.Name, variableName)
		case declared[v.Name]:
			return nil, models.InvalidInput(prefix+".name", "variable %q is declared twice", v.Name)
		case utf8.RuneCountInString(v.Description) > MaxTitleRunes:
			return nil, models.InvalidInput(prefix+".description", "a variable's description is at most %d characters", MaxTitleRunes)
		case v.Required && v.Default != "":
			return nil, models.InvalidInput(prefix+".default", "variable %q is required and has a default", v.Name)
		}
		declared[v.Name] = true
		if err := models.CheckText(prefix+".description", "a variable's description", v.Description, false); err != nil {
			return nil, err
		}
		if err := catalog.CheckValue(prefix+".default", v.Default); err != nil {
			return nil, err
		}
		if err := models.CheckText(prefix+".default", "the value", v.Default, true); err != nil {
			return nil, err
		}
		sp.Variables = append(sp.Variables, varSpec{Name: v.Name, Description: v.Description, Required: v.Required, Default: v.Default})
	}
	for i, st := range in.Steps {
		prefix := fmt.Sprintf("input.steps[%d]", i+1)
		if utf8.RuneCountInString(st.Title) > MaxTitleRunes {
			return nil, models.InvalidInput(prefix+".title", "a step's title is at most %d characters", MaxTitleRunes)
		}
		if err := models.CheckText(prefix+".title", "a step's title", st.Title, false); err != nil {
			return nil, err
		}
		s := stepSpec{Title: st.Title, Kind: st.Kind, TemplateID: st.TemplateID, From: st.From, Transform: st.Transform}
		if st.Kind != catalog.StepLLM && st.Kind != catalog.StepData {
			return nil, models.InvalidInput(prefix+".kind", "unknown kind %q: want LLM or DATA", st.Kind)
		}
		if st.Kind == catalog.StepData && (st.TemplateID != "" || len(st.Values) > 0 || len(st.Inputs) > 0) {
			return nil, models.InvalidInput(prefix+".kind", "a DATA step takes from and transform, not templateId, values or inputs")
		}
		if st.Kind == catalog.StepLLM && (st.From != 0 || st.Transform != "") {
			return nil, models.InvalidInput(prefix+".kind", "an LLM step takes templateId, values and inputs, not from or transform")
		}
		for _, v := range st.Values {
			if _, dup := s.Values[v.Name]; dup {
				return nil, models.InvalidInput(prefix+".values."+v.Name, "the value of %q is given twice", v.Name)
			}
			if err := models.CheckText(prefix+".values."+v.Name, "the value", v.Value, true); err != nil {
				return nil, err
			}
			if s.Values == nil {
				s.Values = map[string]string{}
			}
			s.Values[v.Name] = v.Value
		}
		for _, in := range st.Inputs {
			if _, dup := s.Inputs[in.Variable]; dup {
				return nil, models.InvalidInput(prefix+".inputs."+in.Variable, "the input of %q is given twice", in.Variable)
			}
			if s.Inputs == nil {
				s.Inputs = map[string]int{}
			}
			s.Inputs[in.Variable] = in.FromStep
		}
		sp.Steps = append(sp.Steps, s)
	}
	return sp, nil
}

// encode is sp as stored: JSON, without HTML escapes (a value's "<" is one byte, not
// six), at most MaxSpecBytes (else BAD_USER_INPUT, field input).
func (sp *spec) encode() (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(sp); err != nil {
		return "", models.Internal(err, "playbook: encode the spec")
	}
	raw := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(raw) > MaxSpecBytes {
		return "", models.InvalidInput("input", "the playbook is %d bytes as stored, over the limit of %d bytes: shorten its values, titles or descriptions, or split it",
			len(raw), MaxSpecBytes)
	}
	return string(raw), nil
}

// build makes the plan of a stored or saved playbook with catalog's builder against
// the registry, offered from the highest tier of its templates (the catalogue's tier
// rule: a template is offered from the cheapest built-in playbook that uses it, and
// one no built-in playbook uses is offered to nobody). Errors name the input's
// fields ("input.steps[2].templateId"); a template above tier, when tier is set, is
// PAYMENT_REQUIRED.
func (s *Service) build(id, name string, sp *spec, tier models.Tier) (*catalog.Plan, error) {
	b := catalog.NewPlan(id, name, sp.Description, models.TierFree)
	if sp.Declared {
		vars := make([]catalog.Variable, len(sp.Variables))
		for i, v := range sp.Variables {
			vars[i] = catalog.Variable{Name: v.Name, Description: v.Description, Required: v.Required, Default: v.Default}
		}
		b.Vars(vars...)
	}
	for _, st := range sp.Steps {
		if st.Kind == catalog.StepData {
			b.Data(st.Title, st.From, st.Transform)
		} else { // toSpec allowed LLM and DATA only
			b.LLM(st.Title, st.TemplateID, st.Values, st.Inputs)
		}
	}
	p, err := b.Build(s.reg)
	if err != nil {
		var e *models.Error
		if errors.As(err, &e) && e.Field != "" {
			named := *e
			// The builder names a step's fixed values "variables", as a plan's
			// steps are read; the input calls them values. A declared variable
			// is named by its index (see toSpec).
			named.Field = "input." + stepVariables.ReplaceAllString(e.Field, "${1}.values.")
			if name, ok := strings.CutPrefix(e.Field, "variables."); ok && sp.Declared {
				for i, v := range sp.Variables {
					if v.Name == name {
						named.Field = fmt.Sprintf("input.variables[%d].name", i+1)
						break
					}
				}
			}
			return nil, &named
		}
		return nil, err
	}
	for _, st := range p.Steps {
		if st.Kind != catalog.StepLLM {
			continue
		}
		field := fmt.Sprintf("input.steps[%d].templateId", st.Index)
		min, offered := s.cat.TemplateTier(st.TemplateID)
		if !offered {
			e := catalog.UnknownTemplate(st.TemplateID)
			return nil, &models.Error{Code: models.CodeBadUserInput, Field: field, Message: e.Message}
		}
		if tier != "" && !catalog.Reaches(tier, min) {
			t, _ := s.reg.Template(st.TemplateID)
			return nil, &models.Error{Code: models.CodePaymentRequired, Field: field,
				Message: fmt.Sprintf("the %s template needs the %s plan or higher", t.Name, tierName(min))}
		}
		if !catalog.Reaches(p.MinTier, min) {
			p.MinTier = min
		}
	}
	p.Custom = true
	return p, nil
}

// stored is a custom playbook read back: its plan and, when it no longer builds,
// why it cannot run.
type stored struct {
	plan   *catalog.Plan
	broken *models.Error
}

// fromRow builds a stored playbook's plan. One that no longer builds (a template
// the server has dropped since it was saved) is still returned, its steps as
// saved, with broken saying why it cannot run (BAD_USER_INPUT, field id), so that
// its admins can see it to replace or delete it.
func (s *Service) fromRow(r *customRow) (stored, error) {
	var sp spec
	if err := json.Unmarshal([]byte(r.Spec), &sp); err != nil {
		return stored{}, models.Internal(err, "playbook: custom playbook %s has an unreadable spec", r.ID)
	}
	updated := r.UpdatedAt
	p, err := s.build(r.ID, r.Name, &sp, "")
	if err == nil {
		p.UpdatedAt = &updated
		return stored{plan: p}, nil
	}
	p = &catalog.Plan{ID: r.ID, Name: r.Name, Description: sp.Description, MinTier: models.TierFree, Custom: true, UpdatedAt: &updated}
	for _, v := range sp.Variables {
		p.Variables = append(p.Variables, catalog.Variable{Name: v.Name, Description: v.Description, Required: v.Required, Default: v.Default})
	}
	for i, st := range sp.Steps {
		p.Steps = append(p.Steps, catalog.Step{Index: i + 1, Kind: st.Kind, Title: st.Title, TemplateID: st.TemplateID,
			Variables: st.Values, Inputs: st.Inputs, From: st.From, Transform: st.Transform})
		if min, ok := s.cat.TemplateTier(st.TemplateID); ok && !catalog.Reaches(p.MinTier, min) {
			p.MinTier = min
		}
	}
	return stored{plan: p, broken: &models.Error{Code: models.CodeBadUserInput, Field: "id", Message: fmt.Sprintf(
		"the %s playbook no longer fits this server's templates (%s): save it again or delete it", r.Name, models.ErrorMessage(err))}}, nil
}

// customs returns the space's custom playbooks that tier reaches, by name; one that
// no longer builds is listed (see fromRow).
func (s *Service) customs(ctx context.Context, space string, tier models.Tier) ([]*catalog.Plan, error) {
	rows, err := findCustoms(ctx, s.db, space)
	if err != nil {
		return nil, err
	}
	out := make([]*catalog.Plan, 0, len(rows))
	for _, r := range rows {
		st, err := s.fromRow(r)
		if err != nil {
			return nil, err
		}
		if st.broken != nil {
			s.log.WarnContext(ctx, "playbook: a custom playbook no longer builds", "playbook", r.ID, "err", st.broken)
		}
		if catalog.Reaches(tier, st.plan.MinTier) {
			out = append(out, st.plan)
		}
	}
	return out, nil
}

// custom returns the space's custom playbook id, built, and its spec as stored (what
// resolved plans are cached under). One that no longer builds is BAD_USER_INPUT
// saying so, field id.
func (s *Service) custom(ctx context.Context, space, id string) (*catalog.Plan, string, error) {
	r, err := findCustom(ctx, s.db, space, id)
	if err != nil {
		return nil, "", err
	}
	st, err := s.fromRow(r)
	if err != nil {
		return nil, "", err
	}
	if st.broken != nil {
		return nil, "", st.broken
	}
	return st.plan, r.Name + "\x00" + r.Spec, nil
}

// Save creates, or with in.ID replaces, a custom playbook of space (a user's own, or
// a team's shared space), saved by userID. Every step is built and checked against
// the registry; a template above the space's tier is PAYMENT_REQUIRED; the name is
// unique in the space (CONFLICT); a space keeps at most MaxCustomPlaybooks. Another
// space's ID is NOT_FOUND (field input.id). A refused save changes nothing.
func (s *Service) Save(ctx context.Context, space, userID string, in SaveInput) (*catalog.Plan, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.ID != "" && !IsCustom(in.ID) {
		return nil, &models.Error{Code: models.CodeNotFound, Field: "input.id", Message: fmt.Sprintf("no custom playbook %q", in.ID)}
	}
	sp, err := toSpec(in)
	if err != nil {
		return nil, err
	}
	raw, err := sp.encode()
	if err != nil {
		return nil, err
	}
	// The tier is read before the transaction: its lookup has a connection of its
	// own, and SQLite has one.
	tier, err := s.tierOf(ctx, space)
	if err != nil {
		return nil, err
	}
	id := in.ID
	if id == "" {
		id = newCustomID()
	}
	p, err := s.build(id, in.Name, sp, tier)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Microsecond) // as PostgreSQL keeps it, so a read gives what Save returned
	row := &customRow{ID: id, UserID: space, Name: in.Name, Spec: raw, CreatedBy: &userID, CreatedAt: now, UpdatedAt: now}
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := database.LockUser(ctx, tx, space); err != nil {
			return err
		}
		if in.ID != "" {
			if _, err := findCustom(ctx, tx, space, in.ID); err != nil {
				return withField(err, models.CodeNotFound, "input.id")
			}
		} else {
			n, err := countCustoms(ctx, tx, space)
			if err != nil {
				return err
			}
			if n >= MaxCustomPlaybooks {
				return &models.Error{Code: models.CodeQuotaExceeded, Field: "playbooks",
					Message: fmt.Sprintf("a space keeps at most %d custom playbooks: delete one first", MaxCustomPlaybooks),
					Quota:   &models.Quota{Used: int64(n + 1), Limit: MaxCustomPlaybooks}}
			}
		}
		if taken, err := nameTaken(ctx, tx, space, in.Name, id); err != nil {
			return err
		} else if taken {
			return nameConflict(in.Name)
		}
		if in.ID != "" {
			// Under the space's lock the row read above is still there (Delete
			// takes it too); updateCustom says NOT_FOUND should it not be.
			return updateCustom(ctx, tx, row)
		}
		return insertCustom(ctx, tx, row)
	})
	if database.IsUniqueViolation(err) {
		return nil, nameConflict(in.Name) // a concurrent save took the name first
	}
	if err != nil {
		return nil, err
	}
	p.UpdatedAt = &now
	return p, nil
}

func nameConflict(name string) error {
	return &models.Error{Code: models.CodeConflict, Field: "input.name", Message: fmt.Sprintf("a playbook of this space is already named %q", name)}
}

// withField names field on err when it is an error of code without a field.
func withField(err error, code, field string) error {
	var e *models.Error
	if !errors.As(err, &e) || e.Code != code || e.Field != "" {
		return err
	}
	named := *e
	named.Field = field
	return &named
}

// Delete removes the space's custom playbook id and returns it as it was: NOT_FOUND
// (field id) for a built-in playbook or another space's. One that no longer builds
// can be deleted. It holds the space's lock, as Save does, so that what it returns
// is the version it removed: a concurrent replace either comes first (and Delete
// removes and returns the new version) or after (and is NOT_FOUND).
func (s *Service) Delete(ctx context.Context, space, id string) (*catalog.Plan, error) {
	if !IsCustom(id) {
		return nil, &models.Error{Code: models.CodeNotFound, Field: "id", Message: fmt.Sprintf("no custom playbook %q", id)}
	}
	var p *catalog.Plan
	err := database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := database.LockUser(ctx, tx, space); err != nil {
			return err
		}
		r, err := findCustom(ctx, tx, space, id)
		if err != nil {
			return withField(err, models.CodeNotFound, "id")
		}
		st, err := s.fromRow(r)
		if err != nil {
			return err
		}
		p = st.plan
		return withField(deleteCustom(ctx, tx, space, id), models.CodeNotFound, "id")
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// now is the service's clock.
func (s *Service) now() time.Time { return s.clock() }
