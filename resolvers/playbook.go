package resolvers

import (
	"context"

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
}

func (r *queryResolver) Playbooks(ctx context.Context) ([]*catalog.Plan, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Resolver.Playbooks.Playbooks(ctx, caller.Space())
}

func (r *queryResolver) Playbook(ctx context.Context, id string) (*catalog.Plan, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := r.Resolver.Playbooks.Playbook(ctx, caller.Space(), id)
	return p, notFoundArgument(err, "id")
}

func (r *queryResolver) PlaybookTemplates(ctx context.Context) ([]*catalog.Template, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Resolver.Playbooks.Templates(ctx, caller.Space())
}

func (r *mutationResolver) ExecuteTemplate(ctx context.Context, templateID string, variables []*catalog.Value) (*playbook.Execution, error) {
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

func (r *subscriptionResolver) RunPlaybook(ctx context.Context, id string, variables []*catalog.Value) (<-chan *playbook.Event, error) {
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
