package catalog_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/catalog"
	"github.com/inkgraph/inkgraph/models"
)

func TestNewRefusesBadPlaybooks(t *testing.T) {
	t.Parallel()
	reg, err := catalog.BuiltinTemplates()
	require.NoError(t, err)
	other, err := catalog.LoadTemplates(files("other.tmpl", validTemplate))
	require.NoError(t, err)
	foreign, err := catalog.NewPlan("foreign", "Foreign", "", models.TierFree).LLM("Go", "good", nil, nil).Build(other)
	require.NoError(t, err)

	tests := []struct {
		name  string
		reg   *catalog.Registry
		plans []*catalog.Plan
		want  string
	}{
		{"no registry", nil, nil, "registry is required"},
		{"template from another registry", reg, []*catalog.Plan{foreign}, `uses template "good"`},
		{"duplicate playbook", other, []*catalog.Plan{foreign, foreign}, "two playbooks"},
		{"nil playbook", reg, []*catalog.Plan{nil}, "a nil playbook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := catalog.New(tt.reg, tt.plans)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// TestTheTierRule: a template is offered from the cheapest tier of a playbook that
// uses it, to chat's plans and to playbooks alike.
func TestTheTierRule(t *testing.T) {
	t.Parallel()
	c, err := catalog.Builtin()
	require.NoError(t, err)

	var ids []string
	for _, tm := range c.Templates(models.TierFree) {
		ids = append(ids, tm.ID)
	}
	require.Equal(t, []string{"email_to_task", "meeting_agenda"}, ids)

	tests := []struct {
		tier  models.Tier
		agent string
		want  []string
	}{
		{models.TierFree, "task", []string{"email_to_task"}},
		{models.TierFree, "calendar", []string{"meeting_agenda"}},
		{models.TierFree, "analytics", nil},
		{models.TierPro, "analytics", []string{"weekly_highlights", "weekly_report"}},
		{models.TierPower, "analytics", []string{"linkedin_post", "website_analysis", "weekly_highlights", "weekly_report"}},
		{models.TierPower, "email", nil},
		{models.TierPower, "nobody", nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.tier)+"/"+tt.agent, func(t *testing.T) {
			t.Parallel()
			found := c.AgentTemplates(tt.tier, tt.agent)
			require.NotNil(t, found)
			var ids []string
			for _, tm := range found {
				ids = append(ids, tm.ID)
				require.NotEmpty(t, tm.Name)
				require.NotEmpty(t, tm.Description)
			}
			require.Equal(t, tt.want, ids)
		})
	}

	tier, ok := c.TemplateTier("weekly_highlights")
	require.True(t, ok)
	require.Equal(t, models.TierPro, tier)
	_, ok = c.TemplateTier("nope")
	require.False(t, ok)
	blog, ok := c.Registry().Template("blog_post")
	require.True(t, ok)
	require.Equal(t, []string{"topic", "outline"}, blog.Required())
}

func TestPlaybooksAreCopies(t *testing.T) {
	t.Parallel()
	c, err := catalog.Builtin()
	require.NoError(t, err)
	plans := c.Playbooks(models.TierFree)
	require.Len(t, plans, 2)
	plans[0].Steps[0].Title = "changed"
	again, ok := c.Playbook(plans[0].ID)
	require.True(t, ok)
	require.NotEqual(t, "changed", again.Steps[0].Title)
}
