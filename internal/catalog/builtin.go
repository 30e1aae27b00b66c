package catalog

import (
	"fmt"

	"github.com/inkgraph/inkgraph/models"
)

// BuiltinPlaybooks builds the playbooks every installation offers, against
// reg (normally BuiltinTemplates), cheapest tier first.
func BuiltinPlaybooks(reg *Registry) ([]*Plan, error) {
	builders := []*Builder{
		NewPlan("email_to_task", "Task from an email",
			"Turns an email into a task with a title, due date and priority.", models.TierFree).
			LLM("Draft the task", "email_to_task", nil, nil),
		NewPlan("meeting_agenda", "Meeting agenda",
			"Drafts an agenda from the meeting's calendar entry and related events.", models.TierFree).
			LLM("Draft the agenda", "meeting_agenda", nil, nil),
		NewPlan("weekly_report", "Weekly report",
			"Finds the week's highlights in your metrics and notes and writes the team's weekly report.", models.TierPro).
			LLM("Find the highlights", "weekly_highlights", nil, nil).
			Data("Keep the highlights", 1, TransformBullets).
			LLM("Write the report", "weekly_report", nil, map[string]int{"highlights": 2}),
		NewPlan("blog_post", "Blog post in your persona",
			"Outlines a blog post on your topic, then writes it in your persona's voice.", models.TierPro).
			Vars(
				Variable{Name: "topic", Description: "What the post is about", Required: true},
				Variable{Name: "keywords", Description: "Words the post should use, for search"},
				Variable{Name: "length", Description: "How long the post should be", Default: "about 800 words"},
			).
			LLM("Outline the post", "blog_outline", nil, nil).
			LLM("Write the post", "blog_post", nil, map[string]int{"outline": 1}),
		NewPlan("linkedin_from_website", "LinkedIn post from a website",
			"Analyses a web page, then writes a LinkedIn post about it in your voice.", models.TierPower).
			LLM("Analyse the website", "website_analysis", nil, nil).
			Data("Tidy the analysis", 1, TransformTrim).
			LLM("Write the post", "linkedin_post", nil, map[string]int{"analysis": 2}),
	}
	plans := make([]*Plan, 0, len(builders))
	for _, b := range builders {
		p, err := b.Build(reg)
		if err != nil {
			return nil, fmt.Errorf("catalog: builtin playbook %s: %w", b.plan.ID, err)
		}
		plans = append(plans, p)
	}
	return plans, nil
}
