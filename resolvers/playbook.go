package resolvers

import (
	"context"

	"github.com/inkgraph/inkgraph/internal/playbook"
	"github.com/inkgraph/inkgraph/models"
)

// Playbooks is what the resolvers need of the playbook area.
type Playbooks interface {
	Playbooks(ctx context.Context, userID string) ([]*playbook.Plan, error)
	Playbook(ctx context.Context, userID, id string) (*playbook.Plan, error)
	Templates(ctx context.Context, userID string) ([]*playbook.Template, error)
	Run(ctx context.Context, userID, id string, vars map[string]string) (<-chan *playbook.Event, error)
	ExecuteTemplate(ctx context.Context, userID, templateID string, vars map[string]string) (*playbook.Execution, error)
}

// withPlaybooks runs fn for the signed-in caller with the playbook area.
func withPlaybooks[T any](ctx context.Context, r *Resolver, fn func(userID string, p Playbooks) (T, error)) (T, error) {
	return withCaller(ctx, func(id string) (T, error) {
		if r.Playbooks == nil {
			var zero T
			return zero, models.Errorf(models.CodeInternal, "playbooks are not wired on this server")
		}
		return fn(id, r.Playbooks)
	})
}

func (r *queryResolver) Playbooks(ctx context.Context) ([]*playbook.Plan, error) {
	return withPlaybooks(ctx, r.Resolver, func(id string, p Playbooks) ([]*playbook.Plan, error) { return p.Playbooks(ctx, id) })
}

func (r *queryResolver) Playbook(ctx context.Context, pid string) (*playbook.Plan, error) {
	return withPlaybooks(ctx, r.Resolver, func(id string, p Playbooks) (*playbook.Plan, error) { return p.Playbook(ctx, id, pid) })
}

func (r *queryResolver) PlaybookTemplates(ctx context.Context) ([]*playbook.Template, error) {
	return withPlaybooks(ctx, r.Resolver, func(id string, p Playbooks) ([]*playbook.Template, error) { return p.Templates(ctx, id) })
}

func (r *mutationResolver) ExecuteTemplate(ctx context.Context, templateID string, variables []*playbook.Value) (*playbook.Execution, error) {
	return withPlaybooks(ctx, r.Resolver, func(id string, p Playbooks) (*playbook.Execution, error) {
		vars, err := playbook.Values(variables)
		if err != nil {
			return nil, err
		}
		return p.ExecuteTemplate(ctx, id, templateID, vars)
	})
}

func (r *subscriptionResolver) RunPlaybook(ctx context.Context, pid string, variables []*playbook.Value) (<-chan *playbook.Event, error) {
	return withPlaybooks(ctx, r.Resolver, func(id string, p Playbooks) (<-chan *playbook.Event, error) {
		vars, err := playbook.Values(variables)
		if err != nil {
			return nil, err
		}
		return p.Run(ctx, id, pid, vars)
	})
}
