package resolvers

import (
	"context"

	"github.com/inkgraph/inkgraph/graph/model"
	"github.com/inkgraph/inkgraph/internal/catalog"
	"github.com/inkgraph/inkgraph/internal/playbook"
	"github.com/inkgraph/inkgraph/models"
)

// Playbooks is what the resolvers need of the playbook area.
type Playbooks interface {
	Playbooks(ctx context.Context, userID string) ([]*catalog.Plan, error)
	Playbook(ctx context.Context, userID, id string) (*catalog.Plan, error)
	Templates(ctx context.Context, userID string) ([]*catalog.Template, error)
	Run(ctx context.Context, userID, id string, vars map[string]string) (<-chan *playbook.Event, error)
	ExecuteTemplate(ctx context.Context, userID, templateID string, vars map[string]string) (*playbook.Execution, error)
	Save(ctx context.Context, space, userID string, in playbook.SaveInput) (*catalog.Plan, error)
	Delete(ctx context.Context, space, id string) (*catalog.Plan, error)
}

func (r queryResolver) Playbooks(ctx context.Context) ([]*catalog.Plan, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Resolver.Playbooks.Playbooks(ctx, caller.Space())
}

func (r queryResolver) Playbook(ctx context.Context, id string) (*catalog.Plan, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := r.Resolver.Playbooks.Playbook(ctx, caller.Space(), id)
	return p, notFoundArgument(err, "id")
}

func (r queryResolver) PlaybookTemplates(ctx context.Context) ([]*catalog.Template, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Resolver.Playbooks.Templates(ctx, caller.Space())
}

func (r mutationResolver) ExecuteTemplate(ctx context.Context, templateID string, variables []*catalog.Value) (*playbook.Execution, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	vars, err := catalog.Values(variables)
	if err != nil {
		return nil, err
	}
	return r.Playbooks.ExecuteTemplate(ctx, caller.Space(), templateID, vars)
}

func (r subscriptionResolver) RunPlaybook(ctx context.Context, id string, variables []*catalog.Value) (<-chan *playbook.Event, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	vars, err := catalog.Values(variables)
	if err != nil {
		return nil, err
	}
	events, err := r.Playbooks.Run(ctx, caller.Space(), id, vars)
	return events, notFoundArgument(err, "id")
}

func (r mutationResolver) SavePlaybook(ctx context.Context, input model.SavePlaybookInput) (*catalog.Plan, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Playbooks.Save(ctx, caller.Space(), caller.UserID, saveInput(input))
}

func (r mutationResolver) DeletePlaybook(ctx context.Context, id string) (*catalog.Plan, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Playbooks.Delete(ctx, caller.Space(), id)
}

// saveInput maps the GraphQL input onto the playbook area's.
func saveInput(in model.SavePlaybookInput) playbook.SaveInput {
	out := playbook.SaveInput{
		ID: deref(in.ID), Name: in.Name, Description: deref(in.Description),
		DeclaresVariables: in.Variables != nil,
	}
	for _, v := range in.Variables {
		out.Variables = append(out.Variables, catalog.Variable{
			Name: v.Name, Description: deref(v.Description), Required: valueOf(v.Required), Default: deref(v.Default),
		})
	}
	for _, st := range in.Steps {
		step := playbook.StepInput{
			Title: st.Title, Kind: st.Kind, TemplateID: deref(st.TemplateID), From: valueOf(st.From), Transform: deref(st.Transform),
		}
		for _, v := range st.Values {
			step.Values = append(step.Values, *v)
		}
		for _, i := range st.Inputs {
			step.Inputs = append(step.Inputs, catalog.StepInput{Variable: i.Variable, FromStep: i.Step})
		}
		out.Steps = append(out.Steps, step)
	}
	return out
}

// valueOf is what p points to, or T's zero value for nil.
func valueOf[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
