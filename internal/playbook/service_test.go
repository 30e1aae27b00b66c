package playbook_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/catalog"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/playbook"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

func TestNewServiceRefusesBadDeps(t *testing.T) {
	t.Parallel()
	cat, err := catalog.Builtin()
	require.NoError(t, err)
	full := playbook.Deps{Catalog: cat, Tiers: newTiers(), Personalizer: personalizer{}, Meter: &meter{p: llm.NewOffline()},
		DB: testkit.NewDB(t, testkit.SQLite)}

	// A playbook using a template the registry lacks, or two with one ID, are the
	// catalogue's to refuse: see internal/catalog.
	tests := []struct {
		name   string
		change func(*playbook.Deps)
		want   string
	}{
		{"no catalog", func(d *playbook.Deps) { d.Catalog = nil }, "catalog is required"},
		{"no meter", func(d *playbook.Deps) { d.Meter = nil }, "are required"},
		{"no database", func(d *playbook.Deps) { d.DB = nil }, "are required"},
		{"negative cache", func(d *playbook.Deps) { d.CacheSize = -1 }, "cannot be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := full
			tt.change(&d)
			_, err := playbook.NewService(d)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestPlaybooksByTier(t *testing.T) {
	t.Parallel()
	s, _ := newService(t, llm.NewOffline())
	tests := []struct {
		user string
		want []string
	}{
		{freeUser, []string{"email_to_task", "meeting_agenda"}},
		{proUser, []string{"email_to_task", "meeting_agenda", "weekly_report", "blog_post"}},
		{powerUser, []string{"email_to_task", "meeting_agenda", "weekly_report", "blog_post", "linkedin_from_website"}},
		{teamUser, []string{"email_to_task", "meeting_agenda", "weekly_report", "blog_post", "linkedin_from_website"}},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			t.Parallel()
			plans, err := s.Playbooks(t.Context(), tt.user)
			require.NoError(t, err)
			var ids []string
			for _, p := range plans {
				ids = append(ids, p.ID)
			}
			require.Equal(t, tt.want, ids)
		})
	}
}

func TestPlaybook(t *testing.T) {
	t.Parallel()
	s, _ := newService(t, llm.NewOffline())
	tests := []struct {
		name, user, id string
		code           string
		message        string
	}{
		{"free playbook for a free user", freeUser, "email_to_task", "", ""},
		{"pro playbook for a free user", freeUser, "weekly_report", models.CodePaymentRequired, "the Weekly report playbook needs the PRO plan or higher"},
		{"power playbook for a pro user", proUser, "linkedin_from_website", models.CodePaymentRequired, "needs the POWER plan"},
		{"power playbook for a team user", teamUser, "linkedin_from_website", "", ""},
		{"unknown playbook", powerUser, "nope", models.CodeNotFound, `no playbook "nope"`},
		{"unknown user", "stranger", "email_to_task", models.CodeNotFound, `no user "stranger"`},
	}
	strangers, _ := newService(t, llm.NewOffline(), func(d *playbook.Deps) { d.Tiers = unknownTiers("stranger") })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := s
			if tt.user == "stranger" {
				s = strangers
			}
			p, err := s.Playbook(t.Context(), tt.user, tt.id)
			if tt.code == "" {
				require.NoError(t, err)
				require.Equal(t, tt.id, p.ID)
				return
			}
			require.Nil(t, p)
			require.Equal(t, tt.code, models.ErrorCode(err), "%v", err)
			require.Contains(t, models.ErrorMessage(err), tt.message)
		})
	}
}

func TestPlaybookIsACopy(t *testing.T) {
	t.Parallel()
	s, _ := newService(t, llm.NewOffline())
	p, err := s.Playbook(t.Context(), powerUser, "weekly_report")
	require.NoError(t, err)
	p.Steps[2].Inputs["highlights"] = 3
	p.Variables[0].Required = false
	again, err := s.Playbook(t.Context(), powerUser, "weekly_report")
	require.NoError(t, err)
	require.Equal(t, 2, again.Steps[2].Inputs["highlights"])
	require.True(t, again.Variables[0].Required)
}

// TestTemplates: the catalogue's tier rule (tested with it in internal/catalog)
// answers a user's templates.
func TestTemplates(t *testing.T) {
	t.Parallel()
	s, _ := newService(t, llm.NewOffline())

	tests := []struct {
		user string
		want []string
	}{
		{freeUser, []string{"email_to_task", "meeting_agenda"}},
		{proUser, []string{"blog_outline", "blog_post", "email_to_task", "meeting_agenda", "weekly_highlights", "weekly_report"}},
	}
	for _, tt := range tests {
		all, err := s.Templates(t.Context(), tt.user)
		require.NoError(t, err)
		var ids []string
		for _, tm := range all {
			ids = append(ids, tm.ID)
		}
		require.Equal(t, tt.want, ids)
	}
}

func TestExecuteTemplate(t *testing.T) {
	t.Parallel()
	reg, err := catalog.BuiltinTemplates()
	require.NoError(t, err)
	p := echo()
	s, m := newService(t, p)

	vars := map[string]string{"topic": "Why rye needs patience", "outline": "1. Starter\n2. Proof\n3. Bake"}
	ex, err := s.ExecuteTemplate(t.Context(), proUser, "blog_post", vars)
	require.NoError(t, err)
	require.Equal(t, "blog_post", ex.TemplateID)
	require.Equal(t, llm.FinishStop, ex.FinishReason)
	require.False(t, ex.Offline)
	require.Contains(t, ex.Output, "Why rye needs patience", "the echo carries the user's own text")
	require.Contains(t, ex.Output, "Mara, a baker", "the prompt carries the persona")
	for _, f := range reg.Fragments() {
		require.NotContains(t, ex.Output, f)
	}
	require.Contains(t, userPrompt(p.requests()[0]), "Write the blog post about the topic below")
	require.Equal(t, []usageRecord{{userID: proUser, source: "template:blog_post", usage: ex.Usage, calls: 1, paidBy: models.UsageBYOK}}, m.recorded())
	require.Positive(t, ex.Usage.TotalTokens)

	tests := []struct {
		name, user, id string
		vars           map[string]string
		code, field    string
	}{
		{"above the user's tier", freeUser, "blog_post", vars, models.CodePaymentRequired, ""},
		{"unknown template", proUser, "nope", vars, models.CodeNotFound, "templateId"},
		{"missing variable", proUser, "blog_post", map[string]string{"outline": "x"}, models.CodeBadUserInput, "variables.topic"},
		{"undeclared variable", proUser, "blog_post", map[string]string{"topic": "x", "outline": "y", "mood": "z"}, models.CodeBadUserInput, "variables.mood"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ex, err := s.ExecuteTemplate(t.Context(), tt.user, tt.id, tt.vars)
			require.Nil(t, ex)
			testkit.RequireCode(t, err, tt.code, tt.field)
		})
	}
}

func TestExecuteTemplateOverQuota(t *testing.T) {
	t.Parallel()
	p := echo()
	s, m := newService(t, p)
	m.AllowFn = func(context.Context, string) error {
		return models.Errorf(models.CodeQuotaExceeded, "your monthly tokens are spent")
	}
	_, err := s.ExecuteTemplate(t.Context(), freeUser, "email_to_task", map[string]string{"email": "hi"})
	require.Equal(t, models.CodeQuotaExceeded, models.ErrorCode(err))
	require.Empty(t, p.requests())
	require.Empty(t, m.recorded())
}

func TestResolvedPlanCache(t *testing.T) {
	t.Parallel()
	s, _ := newService(t, llm.NewOffline(), func(d *playbook.Deps) { d.CacheSize = 2 })
	run := func(vars map[string]string) error {
		ch, err := s.Run(t.Context(), freeUser, "email_to_task", vars)
		if err != nil {
			return err
		}
		collect(ch)
		return nil
	}
	steps := []struct {
		name    string
		vars    map[string]string
		wantErr bool
		wantLen int
	}{
		{"first run adds an entry", map[string]string{"email": "one"}, false, 1},
		{"same variables hit it", map[string]string{"email": "one"}, false, 1},
		{"different variables add one", map[string]string{"email": "two"}, false, 2},
		{"an optional variable makes it different", map[string]string{"email": "two", "today": "2025-03-03"}, false, 2},
		{"capacity holds", map[string]string{"email": "three"}, false, 2},
		{"refused variables are not cached", map[string]string{"mood": "x"}, true, 2},
	}
	// The steps share one cache, so they run in order.
	for _, st := range steps {
		err := run(st.vars)
		require.Equal(t, st.wantErr, err != nil, "%s: %v", st.name, err)
		require.Equal(t, st.wantLen, s.CacheLen(), st.name)
	}
}

func TestTemplatesPassTierErrors(t *testing.T) {
	t.Parallel()
	s, _ := newService(t, llm.NewOffline(), func(d *playbook.Deps) { d.Tiers = unknownTiers("stranger") })
	_, err := s.Templates(t.Context(), "stranger")
	require.Equal(t, models.CodeNotFound, models.ErrorCode(err))
	require.True(t, strings.Contains(err.Error(), "stranger"))
}
