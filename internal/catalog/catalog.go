package catalog

import (
	"errors"
	"fmt"
	"slices"

	"github.com/inkgraph/inkgraph/models"
)

// Catalog is the templates and the playbooks built on them. A playbook is offered
// from its minimum tier, and a template from the cheapest tier of a playbook that
// uses it: that is the tier rule both chat (plans) and playbooks (runs) read here.
// It is immutable and safe for concurrent use.
type Catalog struct {
	reg   *Registry
	plans []*Plan
	byID  map[string]*Plan
	// templateTier is, for each template a playbook uses, the cheapest tier of
	// such a playbook.
	templateTier map[string]models.Tier
}

// Builtin returns the catalogue every installation offers: the embedded templates
// and the built-in playbooks.
func Builtin() (*Catalog, error) {
	reg, err := BuiltinTemplates()
	if err != nil {
		return nil, err
	}
	return New(reg, nil)
}

// New checks plans against reg and returns their catalogue; nil plans are
// BuiltinPlaybooks(reg).
func New(reg *Registry, plans []*Plan) (*Catalog, error) {
	if reg == nil {
		return nil, errors.New("catalog: a template registry is required")
	}
	if plans == nil {
		var err error
		if plans, err = BuiltinPlaybooks(reg); err != nil {
			return nil, err
		}
	}
	c := &Catalog{reg: reg, byID: map[string]*Plan{}, templateTier: map[string]models.Tier{}}
	for _, p := range plans {
		if p == nil {
			return nil, errors.New("catalog: a nil playbook")
		}
		if _, dup := c.byID[p.ID]; dup {
			return nil, fmt.Errorf("catalog: two playbooks have the id %q", p.ID)
		}
		p = p.Clone() // a caller changing its plans cannot change ours
		for _, id := range p.TemplateIDs() {
			if _, ok := reg.byID[id]; !ok {
				return nil, fmt.Errorf("catalog: playbook %s uses template %q, which the registry lacks", p.ID, id)
			}
			if t, ok := c.templateTier[id]; !ok || rank(p.MinTier) < rank(t) {
				c.templateTier[id] = p.MinTier
			}
		}
		c.byID[p.ID] = p
		c.plans = append(c.plans, p)
	}
	return c, nil
}

func rank(t models.Tier) int { return slices.Index(models.Tiers(), t) }

// Reaches says whether a user on tier may use what min offers.
func Reaches(tier, min models.Tier) bool { return rank(tier) >= rank(min) }

// Registry returns the templates.
func (c *Catalog) Registry() *Registry { return c.reg }

// Playbooks returns copies of the playbooks tier reaches, cheapest first.
func (c *Catalog) Playbooks(tier models.Tier) []*Plan {
	out := []*Plan{}
	for _, p := range c.plans {
		if Reaches(tier, p.MinTier) {
			out = append(out, p.Clone())
		}
	}
	return out
}

// Playbook returns playbook id whatever its tier. It is the catalogue's own: Clone
// it before handing it to anyone who may change it.
func (c *Catalog) Playbook(id string) (*Plan, bool) {
	p, ok := c.byID[id]
	return p, ok
}

// TemplateTier returns the cheapest tier a template is offered from; false for a
// template no playbook uses, which is offered to nobody.
func (c *Catalog) TemplateTier(id string) (models.Tier, bool) {
	t, ok := c.templateTier[id]
	return t, ok
}

// Templates returns the public information of the templates tier reaches, in the
// registry's order.
func (c *Catalog) Templates(tier models.Tier) []Template {
	out := []Template{}
	for _, e := range c.reg.order {
		if min, ok := c.templateTier[e.info.ID]; ok && Reaches(tier, min) {
			out = append(out, e.info.clone())
		}
	}
	return out
}

// AgentTemplates returns the templates tier reaches that agent can carry out, in the
// registry's order: what a chat plan may use.
func (c *Catalog) AgentTemplates(tier models.Tier, agent string) []Template {
	out := []Template{}
	for _, t := range c.Templates(tier) {
		if t.Agent == agent {
			out = append(out, t)
		}
	}
	return out
}

// Required names the variables a template requires, in its order.
func (t Template) Required() []string {
	var out []string
	for _, v := range t.Variables {
		if v.Required {
			out = append(out, v.Name)
		}
	}
	return out
}
