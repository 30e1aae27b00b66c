package catalog_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/catalog"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

func TestBuildRefusesBadPlans(t *testing.T) {
	t.Parallel()
	reg, err := catalog.BuiltinTemplates()
	require.NoError(t, err)
	plan := func() *catalog.Builder {
		return catalog.NewPlan("test_plan", "Test", "A test plan.", models.TierFree)
	}
	email := map[string]string{"email": "Please send the invoice by Friday."}

	tests := []struct {
		name    string
		builder *catalog.Builder
		field   string
		message string
	}{
		{"unknown template", plan().LLM("Task", "email_to_task", nil, nil).LLM("Mystery", "nope", nil, nil),
			"steps[2].templateId", `step 2: unknown template "nope"`},
		{"missing variable", plan().Vars(catalog.Variable{Name: "email", Required: true}).
			LLM("Task", "email_to_task", nil, nil).LLM("Report", "weekly_report", nil, nil),
			"steps[2].variables.highlights", `step 2: variable "highlights" of template "weekly_report" has no value`},
		{"required variable fed by an optional one", plan().Vars(catalog.Variable{Name: "email"}, catalog.Variable{Name: "today"}).
			LLM("Task", "email_to_task", nil, nil),
			"steps[1].variables.email", "step 1: template \"email_to_task\" requires \"email\""},
		{"data step takes a later step", plan().LLM("Task", "email_to_task", nil, nil).Data("Trim", 3, catalog.TransformTrim).
			LLM("Task again", "email_to_task", email, nil),
			"steps[2].from", "step 2 takes step 3, which comes after it"},
		{"data step takes a missing step", plan().LLM("Task", "email_to_task", nil, nil).Data("Trim", 0, catalog.TransformTrim),
			"steps[2].from", "step 2 takes step 0, which does not exist"},
		{"data step takes itself", plan().LLM("Task", "email_to_task", nil, nil).Data("Trim", 2, catalog.TransformTrim),
			"steps[2].from", "step 2 takes itself"},
		{"first step is data", plan().Data("Trim", 1, catalog.TransformTrim),
			"steps[1].from", "step 1 takes itself"},
		{"input from a later step", plan().LLM("Report", "weekly_report", nil, map[string]int{"highlights": 2}).
			LLM("Task", "email_to_task", nil, nil),
			"steps[1].inputs.highlights", "step 1 fills highlights from step 2, which comes after it"},
		{"input from itself", plan().LLM("Task", "email_to_task", nil, nil).
			LLM("Report", "weekly_report", nil, map[string]int{"highlights": 2}),
			"steps[2].inputs.highlights", "step 2 fills highlights from itself"},
		{"input from a missing step", plan().LLM("Report", "weekly_report", nil, map[string]int{"highlights": -1}),
			"steps[1].inputs.highlights", "step 1 fills highlights from step -1, which does not exist"},
		{"input to an undeclared variable", plan().LLM("Task", "email_to_task", nil, nil).
			LLM("Task again", "email_to_task", nil, map[string]int{"mood": 1}),
			"steps[2].inputs.mood", `step 2: template "email_to_task" has no variable "mood"`},
		{"value and input for one variable", plan().LLM("Task", "email_to_task", nil, nil).
			LLM("Task again", "email_to_task", email, map[string]int{"email": 1}),
			"steps[2].inputs.email", "step 2: variable \"email\" has both a value and an input"},
		{"value of an undeclared variable", plan().LLM("Task", "email_to_task", map[string]string{"mood": "x"}, nil),
			"steps[1].variables.mood", `step 1: template "email_to_task" has no variable "mood"`},
		{"unknown transform", plan().LLM("Task", "email_to_task", nil, nil).Data("Shout", 1, "upper"),
			"steps[2].transform", `step 2: unknown transform "upper"`},
		{"untitled step", plan().LLM(" ", "email_to_task", nil, nil), "steps[1].title", "step 1 has no title"},
		{"plan variable no step uses", plan().Vars(catalog.Variable{Name: "email", Required: true}, catalog.Variable{Name: "today"},
			catalog.Variable{Name: "extra"}).LLM("Task", "email_to_task", nil, nil),
			"variables.extra", `plan variable "extra" is used by no step`},
		{"bad id", catalog.NewPlan("Test Plan", "Test", "", models.TierFree).LLM("Task", "email_to_task", nil, nil), "id", "must match"},
		{"unknown tier", catalog.NewPlan("test_plan", "Test", "", "gold").LLM("Task", "email_to_task", nil, nil), "minTier", "unknown tier"},
		{"no steps", plan(), "steps", "has no steps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := tt.builder.Build(reg)
			require.Nil(t, p)
			testkit.RequireCode(t, err, models.CodeBadUserInput, tt.field)
			require.ErrorContains(t, err, tt.message)
		})
	}
}

func TestBuildDerivesTheClientsVariables(t *testing.T) {
	t.Parallel()
	reg, err := catalog.BuiltinTemplates()
	require.NoError(t, err)
	inputs := map[string]int{"outline": 1}
	p, err := catalog.NewPlan("blog", "Blog", "A blog post.", models.TierPro).
		LLM("Outline", "blog_outline", nil, nil).
		LLM("Write", "blog_post", map[string]string{"length": "short"}, inputs).
		Build(reg)
	require.NoError(t, err)
	inputs["outline"] = 5 // the plan keeps its own copy
	require.Equal(t, []catalog.Variable{
		{Name: "topic", Description: "What the post is about", Required: true},
		{Name: "keywords", Description: "Words the post should use, for search"},
	}, p.Variables)
	require.Equal(t, []catalog.Step{
		{Index: 1, Kind: catalog.StepLLM, Title: "Outline", TemplateID: "blog_outline"},
		{Index: 2, Kind: catalog.StepLLM, Title: "Write", TemplateID: "blog_post",
			Variables: map[string]string{"length": "short"}, Inputs: map[string]int{"outline": 1}},
	}, p.Steps)
}

func TestBuiltinPlaybooks(t *testing.T) {
	t.Parallel()
	reg, err := catalog.BuiltinTemplates()
	require.NoError(t, err)
	plans, err := catalog.BuiltinPlaybooks(reg)
	require.NoError(t, err)

	tiers := map[string]models.Tier{}
	vars := map[string][]string{}
	multi, data := 0, 0
	for _, p := range plans {
		tiers[p.ID] = p.MinTier
		for _, v := range p.Variables {
			vars[p.ID] = append(vars[p.ID], v.Name)
		}
		if len(p.Steps) > 1 {
			multi++
		}
		for _, s := range p.Steps {
			if s.Kind == catalog.StepData {
				data++
			}
		}
	}
	require.Equal(t, map[string]models.Tier{
		"email_to_task": models.TierFree, "meeting_agenda": models.TierFree, "weekly_report": models.TierPro,
		"blog_post": models.TierPro, "linkedin_from_website": models.TierPower,
	}, tiers)
	require.Equal(t, map[string][]string{
		"email_to_task":         {"email", "today"},
		"meeting_agenda":        {"meeting", "related", "duration"},
		"weekly_report":         {"metrics", "notes", "period"},
		"blog_post":             {"topic", "keywords", "length"},
		"linkedin_from_website": {"url", "page", "goal"},
	}, vars)
	require.GreaterOrEqual(t, multi, 2)
	require.GreaterOrEqual(t, data, 1)
}
