package llm_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/models"
)

// TestOfflineDraft: a draft is deterministic, labelled once, of its template's kind,
// and uses the variables and the user's audience and topics; a template without a
// rule gets each variable under its name.
func TestOfflineDraft(t *testing.T) {
	t.Parallel()
	pc := &models.PersonalizationContext{TargetAudience: "home bakers", KeyTopics: []string{"sourdough", "rye bread"}}
	in := llm.DraftInput{TemplateID: "blog_outline", Name: "Blog post outline",
		Vars: map[string]string{"topic": "Rye starters", "keywords": "rye, starter"}, Context: pc}
	got := llm.Draft(in)
	require.Equal(t, got, llm.Draft(in), "deterministic")
	require.True(t, strings.HasPrefix(got, llm.OfflineDraftLabel+"\n\n"))
	for _, want := range []string{"Working title: Rye starters: what home bakers need to know", "1. Why it matters now",
		`use the keyword "rye"`, `use the keyword "starter"`, "connect it to sourdough, rye bread", "5. What to do next"} {
		require.Contains(t, got, want)
	}

	// The outline, fed to the post as an earlier step's output: its sections become
	// the post's, and its label is not repeated.
	post := llm.Draft(llm.DraftInput{TemplateID: "blog_post", Vars: map[string]string{"topic": "Rye starters", "outline": got}, Context: pc})
	require.Equal(t, 1, strings.Count(post, llm.OfflineDraftLabel))
	require.Contains(t, post, "## Why it matters now")
	require.Contains(t, post, "## What to do next")
	require.NotContains(t, post, "## Working title")

	other := llm.Draft(llm.DraftInput{TemplateID: "custom", Name: "Press release", Vars: map[string]string{"b": "second", "a": "first"}})
	require.Equal(t, llm.OfflineDraftLabel+"\n\nPress release\n\na:\nfirst\n\nb:\nsecond\n", other)
}
