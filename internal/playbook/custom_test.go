package playbook_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/catalog"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/playbook"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

var customNow = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// customEnv is a service over db whose users' tiers the test sets.
type customEnv struct {
	s     *playbook.Service
	m     *meter
	db    *bun.DB
	tiers *testkit.Tiers
}

func newCustomEnv(t *testing.T, db *bun.DB, p llm.Provider, opts ...func(*playbook.Deps)) *customEnv {
	t.Helper()
	e := &customEnv{db: db, tiers: testkit.NewTiers()}
	opts = append([]func(*playbook.Deps){func(d *playbook.Deps) {
		d.DB, d.Tiers, d.Now = db, e.tiers, func() time.Time { return customNow }
	}}, opts...)
	e.s, e.m = newService(t, p, opts...)
	return e
}

// user adds a user (a space) on tier.
func (e *customEnv) user(t *testing.T, tier models.Tier) string {
	t.Helper()
	id := testkit.NewUser(t, e.db, tier, customNow)
	e.tiers.Set(id, tier)
	return id
}

// rows is every custom playbook row, to compare before and after a refused call.
func (e *customEnv) rows(t *testing.T) string {
	t.Helper()
	var rows []struct {
		ID        string    `bun:"id"`
		UserID    string    `bun:"user_id"`
		Name      string    `bun:"name"`
		Spec      string    `bun:"spec"`
		UpdatedAt time.Time `bun:"updated_at"`
	}
	require.NoError(t, e.db.NewSelect().Table("custom_playbooks").Column("id", "user_id", "name", "spec", "updated_at").
		Order("id").Scan(context.Background(), &rows))
	return fmt.Sprint(rows)
}

// triage is a free playbook: a task from an email, its first paragraph, then an
// agenda to discuss it.
func triage() playbook.SaveInput {
	return playbook.SaveInput{
		Name: "Email triage", Description: "A task, then a meeting about it.",
		Steps: []playbook.StepInput{
			{Title: "Draft the task", Kind: catalog.StepLLM, TemplateID: "email_to_task"},
			{Title: "Tidy the task", Kind: catalog.StepData, From: 1, Transform: catalog.TransformTrim},
			{Title: "Plan the meeting", Kind: catalog.StepLLM, TemplateID: "meeting_agenda",
				Values: []catalog.Value{{Name: "duration", Value: "20 minutes"}},
				Inputs: []catalog.StepInput{{Variable: "meeting", FromStep: 2}}},
		},
	}
}

func ids(plans []*catalog.Plan) []string {
	var out []string
	for _, p := range plans {
		out = append(out, p.ID)
	}
	return out
}

func TestCustomPlaybookLifecycle(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e := newCustomEnv(t, db, echo())
		ctx := t.Context()
		owner, admin := e.user(t, models.TierFree), e.user(t, models.TierFree)

		saved, err := e.s.Save(ctx, owner, admin, triage())
		require.NoError(t, err)
		require.True(t, playbook.IsCustom(saved.ID), saved.ID)
		require.True(t, saved.Custom)
		require.Equal(t, models.TierFree, saved.MinTier)
		require.Equal(t, customNow, *saved.UpdatedAt)
		require.Len(t, saved.Steps, 3)
		var vars []string
		for _, v := range saved.Variables {
			vars = append(vars, v.Name)
		}
		require.Equal(t, []string{"email", "today", "related"}, vars, "derived: what no step fixes or fills")
		var createdBy string
		require.NoError(t, db.NewSelect().Table("custom_playbooks").Column("created_by").Where("id = ?", saved.ID).Scan(ctx, &createdBy))
		require.Equal(t, admin, createdBy)

		// Listed after the built-in playbooks, and read back as it was saved.
		list, err := e.s.Playbooks(ctx, owner)
		require.NoError(t, err)
		require.Equal(t, []string{"email_to_task", "meeting_agenda", saved.ID}, ids(list))
		got, err := e.s.Playbook(ctx, owner, saved.ID)
		require.NoError(t, err)
		require.Equal(t, saved, got)
		builtin, err := e.s.Playbook(ctx, owner, "email_to_task")
		require.NoError(t, err)
		require.False(t, builtin.Custom)
		require.Nil(t, builtin.UpdatedAt)

		// It runs: the data step's output fills the agenda's meeting, the fixed
		// duration reaches its prompt, and the run is metered under its ID.
		events, err := e.s.Run(ctx, owner, saved.ID, map[string]string{"email": "Ship the rye loaves by Friday.\n\nThanks, Ana"})
		require.NoError(t, err)
		all := collect(events)
		last := all[len(all)-1]
		require.Equal(t, playbook.EventDone, last.Type, "%+v", last.Error)
		require.Len(t, last.Done.Outputs, 3)
		require.Contains(t, last.Done.Result, "20 minutes")
		require.Contains(t, last.Done.Result, "Ship the rye loaves by Friday")
		rec := e.m.recorded()
		require.Len(t, rec, 1)
		require.Equal(t, "playbook:"+saved.ID, rec[0].source)
		require.Equal(t, owner, rec[0].userID)

		// Replaced: same ID, new name and steps; the next run uses the new plan
		// (no stale resolved plan), with the same variables.
		in := triage()
		in.ID, in.Name = saved.ID, "Task only"
		in.Steps = in.Steps[:1]
		replaced, err := e.s.Save(ctx, owner, owner, in)
		require.NoError(t, err)
		require.Equal(t, saved.ID, replaced.ID)
		require.Len(t, replaced.Steps, 1)
		events, err = e.s.Run(ctx, owner, saved.ID, map[string]string{"email": "Ship the rye loaves by Friday.\n\nThanks, Ana"})
		require.NoError(t, err)
		all = collect(events)
		require.Len(t, all[len(all)-1].Done.Outputs, 1)
		list, err = e.s.Playbooks(ctx, owner)
		require.NoError(t, err)
		require.Equal(t, "Task only", list[len(list)-1].Name)
		n, err := db.NewSelect().Table("custom_playbooks").Count(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)

		// A name another playbook gave up may be taken; declared variables are kept.
		other := triage()
		other.Name = "Email triage"
		other.DeclaresVariables = true
		other.Variables = []catalog.Variable{{Name: "email", Description: "The email to triage", Required: true}}
		second, err := e.s.Save(ctx, owner, owner, other)
		require.NoError(t, err)
		require.Equal(t, []catalog.Variable{{Name: "email", Description: "The email to triage", Required: true}}, second.Variables)

		// Deleted: returned as it was, then gone.
		deleted, err := e.s.Delete(ctx, owner, saved.ID)
		require.NoError(t, err)
		require.Equal(t, "Task only", deleted.Name)
		_, err = e.s.Playbook(ctx, owner, saved.ID)
		testkit.RequireCode(t, err, models.CodeNotFound)
		_, err = e.s.Delete(ctx, owner, saved.ID)
		testkit.RequireCode(t, err, models.CodeNotFound, "id")
		list, err = e.s.Playbooks(ctx, owner)
		require.NoError(t, err)
		require.Equal(t, []string{"email_to_task", "meeting_agenda", second.ID}, ids(list))
	})
}

// TestCustomPlaybookOfAnotherSpace: another space neither lists, reads, runs,
// replaces nor deletes a space's playbook; each is NOT_FOUND, and nothing changes.
func TestCustomPlaybookOfAnotherSpace(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e := newCustomEnv(t, db, echo())
		ctx := t.Context()
		owner, stranger := e.user(t, models.TierPro), e.user(t, models.TierPro)
		saved, err := e.s.Save(ctx, owner, owner, triage())
		require.NoError(t, err)
		before := e.rows(t)

		list, err := e.s.Playbooks(ctx, stranger)
		require.NoError(t, err)
		require.NotContains(t, ids(list), saved.ID)
		_, err = e.s.Playbook(ctx, stranger, saved.ID)
		testkit.RequireCode(t, err, models.CodeNotFound)
		_, err = e.s.Run(ctx, stranger, saved.ID, map[string]string{"email": "x"})
		testkit.RequireCode(t, err, models.CodeNotFound)
		in := triage()
		in.ID = saved.ID
		_, err = e.s.Save(ctx, stranger, stranger, in)
		testkit.RequireCode(t, err, models.CodeNotFound, "input.id")
		_, err = e.s.Delete(ctx, stranger, saved.ID)
		testkit.RequireCode(t, err, models.CodeNotFound, "id")
		require.Equal(t, before, e.rows(t))

		// The same name in another space is no conflict.
		_, err = e.s.Save(ctx, stranger, stranger, triage())
		require.NoError(t, err)
	})
}

// TestCustomPlaybookBadInput refuses each bad save with its code and field, and
// changes nothing.
func TestCustomPlaybookBadInput(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e := newCustomEnv(t, db, echo())
		ctx := t.Context()
		space := e.user(t, models.TierPro)
		kept, err := e.s.Save(ctx, space, space, triage())
		require.NoError(t, err)

		tests := []struct {
			name   string
			change func(in *playbook.SaveInput)
			code   string
			field  string
		}{
			{"no name", func(in *playbook.SaveInput) { in.Name = "  " }, models.CodeBadUserInput, "input.name"},
			{"long name", func(in *playbook.SaveInput) { in.Name = strings.Repeat("é", 101) }, models.CodeBadUserInput, "input.name"},
			{"name taken", func(in *playbook.SaveInput) { in.Name = " Email triage " }, models.CodeConflict, "input.name"},
			{"long description", func(in *playbook.SaveInput) { in.Description = strings.Repeat("x", 1001) }, models.CodeBadUserInput, "input.description"},
			{"no steps", func(in *playbook.SaveInput) { in.Steps = nil }, models.CodeBadUserInput, "input.steps"},
			{"too many steps", func(in *playbook.SaveInput) {
				for len(in.Steps) <= playbook.MaxCustomSteps {
					in.Steps = append(in.Steps, playbook.StepInput{Title: "Trim", Kind: catalog.StepData, From: 1, Transform: catalog.TransformTrim})
				}
			}, models.CodeBadUserInput, "input.steps"},
			{"unknown kind", func(in *playbook.SaveInput) { in.Steps[1].Kind = "SHELL" }, models.CodeBadUserInput, "input.steps[2].kind"},
			{"no title", func(in *playbook.SaveInput) { in.Steps[1].Title = "" }, models.CodeBadUserInput, "input.steps[2].title"},
			{"long title", func(in *playbook.SaveInput) { in.Steps[1].Title = strings.Repeat("t", 201) }, models.CodeBadUserInput, "input.steps[2].title"},
			{"unknown template", func(in *playbook.SaveInput) { in.Steps[2].TemplateID = "nope" }, models.CodeBadUserInput, "input.steps[3].templateId"},
			{"no template", func(in *playbook.SaveInput) { in.Steps[0].TemplateID = "" }, models.CodeBadUserInput, "input.steps[1].templateId"},
			{"template above the tier", func(in *playbook.SaveInput) {
				in.Steps = append(in.Steps, playbook.StepInput{Title: "Analyse", Kind: catalog.StepLLM, TemplateID: "website_analysis"})
			}, models.CodePaymentRequired, "input.steps[4].templateId"},
			{"unknown variable", func(in *playbook.SaveInput) {
				in.Steps[2].Values = []catalog.Value{{Name: "mood", Value: "calm"}}
			}, models.CodeBadUserInput, "input.steps[3].values.mood"},
			{"value given twice", func(in *playbook.SaveInput) {
				in.Steps[2].Values = append(in.Steps[2].Values, catalog.Value{Name: "duration", Value: "1h"})
			}, models.CodeBadUserInput, "input.steps[3].values.duration"},
			{"value too long", func(in *playbook.SaveInput) {
				in.Steps[2].Values[0].Value = strings.Repeat("v", catalog.MaxValueRunes+1)
			}, models.CodeBadUserInput, "input.steps[3].values.duration"},
			{"value and input", func(in *playbook.SaveInput) {
				in.Steps[2].Values = append(in.Steps[2].Values, catalog.Value{Name: "meeting", Value: "x"})
			}, models.CodeBadUserInput, "input.steps[3].inputs.meeting"},
			{"input given twice", func(in *playbook.SaveInput) {
				in.Steps[2].Inputs = append(in.Steps[2].Inputs, catalog.StepInput{Variable: "meeting", FromStep: 1})
			}, models.CodeBadUserInput, "input.steps[3].inputs.meeting"},
			{"input from a later step", func(in *playbook.SaveInput) {
				in.Steps[0].Inputs = []catalog.StepInput{{Variable: "email", FromStep: 2}}
			}, models.CodeBadUserInput, "input.steps[1].inputs.email"},
			{"data from itself", func(in *playbook.SaveInput) { in.Steps[1].From = 2 }, models.CodeBadUserInput, "input.steps[2].from"},
			{"data from nothing", func(in *playbook.SaveInput) { in.Steps[1].From = 0 }, models.CodeBadUserInput, "input.steps[2].from"},
			{"first step is data", func(in *playbook.SaveInput) { in.Steps = in.Steps[1:] }, models.CodeBadUserInput, "input.steps[1].from"},
			{"unknown transform", func(in *playbook.SaveInput) { in.Steps[1].Transform = "shout" }, models.CodeBadUserInput, "input.steps[2].transform"},
			{"data step with a template", func(in *playbook.SaveInput) { in.Steps[1].TemplateID = "email_to_task" }, models.CodeBadUserInput, "input.steps[2].kind"},
			{"llm step with a transform", func(in *playbook.SaveInput) { in.Steps[0].Transform = "trim" }, models.CodeBadUserInput, "input.steps[1].kind"},
			{"declared variable unused", func(in *playbook.SaveInput) {
				in.DeclaresVariables = true
				in.Variables = []catalog.Variable{{Name: "email", Required: true}, {Name: "mood"}}
			}, models.CodeBadUserInput, "input.variables[2].name"},
			{"required variable undeclared", func(in *playbook.SaveInput) {
				in.DeclaresVariables = true
				in.Variables = nil
			}, models.CodeBadUserInput, "input.steps[1].values.email"},
			{"bad variable name", func(in *playbook.SaveInput) {
				in.DeclaresVariables = true
				in.Variables = []catalog.Variable{{Name: "E-mail"}}
			}, models.CodeBadUserInput, "input.variables[1].name"},
			{"empty variable name", func(in *playbook.SaveInput) {
				in.DeclaresVariables = true
				in.Variables = []catalog.Variable{{Name: "email", Required: true}, {Name: ""}}
			}, models.CodeBadUserInput, "input.variables[2].name"},
			{"variable declared twice", func(in *playbook.SaveInput) {
				in.DeclaresVariables = true
				in.Variables = []catalog.Variable{{Name: "email", Required: true}, {Name: "today"}, {Name: "email"}}
			}, models.CodeBadUserInput, "input.variables[3].name"},
			{"required variable with a default", func(in *playbook.SaveInput) {
				in.DeclaresVariables = true
				in.Variables = []catalog.Variable{{Name: "email", Required: true, Default: "x"}}
			}, models.CodeBadUserInput, "input.variables[1].default"},
			{"long variable description", func(in *playbook.SaveInput) {
				in.DeclaresVariables = true
				in.Variables = []catalog.Variable{{Name: "email", Required: true, Description: strings.Repeat("d", 201)}}
			}, models.CodeBadUserInput, "input.variables[1].description"},
			{"NUL in the name", func(in *playbook.SaveInput) { in.Name = "a\x00b" }, models.CodeBadUserInput, "input.name"},
			{"line break in the name", func(in *playbook.SaveInput) { in.Name = "Email\ntriage" }, models.CodeBadUserInput, "input.name"},
			{"NUL in the description", func(in *playbook.SaveInput) { in.Description = "A task\x00" }, models.CodeBadUserInput, "input.description"},
			{"escape in the description", func(in *playbook.SaveInput) { in.Description = "A \x1b[31mtask" }, models.CodeBadUserInput, "input.description"},
			{"C1 control in the description", func(in *playbook.SaveInput) { in.Description = "A \u0085task" }, models.CodeBadUserInput, "input.description"},
			{"invalid UTF-8 in the description", func(in *playbook.SaveInput) { in.Description = "A \xfftask" }, models.CodeBadUserInput, "input.description"},
			{"NUL in a title", func(in *playbook.SaveInput) { in.Steps[1].Title = "Tidy\x00" }, models.CodeBadUserInput, "input.steps[2].title"},
			{"tab in a title", func(in *playbook.SaveInput) { in.Steps[1].Title = "Tidy\tit" }, models.CodeBadUserInput, "input.steps[2].title"},
			{"NUL in a value", func(in *playbook.SaveInput) { in.Steps[2].Values[0].Value = "20\x00minutes" }, models.CodeBadUserInput, "input.steps[3].values.duration"},
			{"bell in a value", func(in *playbook.SaveInput) { in.Steps[2].Values[0].Value = "20\aminutes" }, models.CodeBadUserInput, "input.steps[3].values.duration"},
			{"NUL in a variable's description", func(in *playbook.SaveInput) {
				in.DeclaresVariables = true
				in.Variables = []catalog.Variable{{Name: "email", Required: true, Description: "The\x00email"}}
			}, models.CodeBadUserInput, "input.variables[1].description"},
			{"NUL in a variable's default", func(in *playbook.SaveInput) {
				in.DeclaresVariables = true
				in.Variables = []catalog.Variable{{Name: "email", Required: true}, {Name: "today", Default: "Mon\x00day"}}
			}, models.CodeBadUserInput, "input.variables[2].default"},
			{"too big to store", func(in *playbook.SaveInput) {
				in.Steps[2].Values[0].Value = strings.Repeat("v", catalog.MaxValueRunes)
				for range 3 {
					in.Steps = append(in.Steps, in.Steps[2])
				}
			}, models.CodeBadUserInput, "input"},
			{"replaces a built-in playbook", func(in *playbook.SaveInput) { in.ID = "email_to_task" }, models.CodeNotFound, "input.id"},
			{"replaces an unknown one", func(in *playbook.SaveInput) {
				in.ID = playbook.CustomPrefix + strings.Repeat("0", 32)
			}, models.CodeNotFound, "input.id"},
			{"replaces under a taken name", func(in *playbook.SaveInput) {
				in.ID = kept.ID
				in.Name = "Second"
			}, models.CodeConflict, "input.name"},
		}
		// "replaces under a taken name" needs a second playbook named Second.
		second := triage()
		second.Name = "Second"
		_, err = e.s.Save(ctx, space, space, second)
		require.NoError(t, err)
		e.tiers.Set(space, models.TierPro)
		before := e.rows(t)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := triage()
				tt.change(&in)
				_, err := e.s.Save(ctx, space, space, in)
				testkit.RequireCode(t, err, tt.code, tt.field)
				require.Equal(t, before, e.rows(t), "a refused save changes nothing")
			})
		}
	})
}

// TestCustomPlaybookQuota keeps a space to MaxCustomPlaybooks; replacing one is no
// new playbook.
func TestCustomPlaybookQuota(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e := newCustomEnv(t, db, echo())
		ctx := t.Context()
		space := e.user(t, models.TierFree)
		var last *catalog.Plan
		for i := range playbook.MaxCustomPlaybooks {
			in := triage()
			in.Name = fmt.Sprintf("Triage %d", i)
			var err error
			last, err = e.s.Save(ctx, space, space, in)
			require.NoError(t, err)
		}
		before := e.rows(t)
		in := triage()
		in.Name = "One too many"
		_, err := e.s.Save(ctx, space, space, in)
		qe := testkit.RequireCode(t, err, models.CodeQuotaExceeded, "playbooks")
		require.Equal(t, &models.Quota{Used: playbook.MaxCustomPlaybooks + 1, Limit: playbook.MaxCustomPlaybooks}, qe.Quota)
		require.Equal(t, before, e.rows(t))

		in.ID = last.ID
		_, err = e.s.Save(ctx, space, space, in)
		require.NoError(t, err, "a replacement is within the quota")
	})
}

// TestCustomPlaybookTier: a custom playbook is offered from its templates' highest
// tier, and a space that drops below it no longer lists, reads or runs it.
func TestCustomPlaybookTier(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e := newCustomEnv(t, db, echo())
		ctx := t.Context()
		space := e.user(t, models.TierPower)
		saved, err := e.s.Save(ctx, space, space, playbook.SaveInput{Name: "Site to post", Steps: []playbook.StepInput{
			{Title: "Outline", Kind: catalog.StepLLM, TemplateID: "blog_outline"},
			{Title: "Analyse", Kind: catalog.StepLLM, TemplateID: "website_analysis"},
		}})
		require.NoError(t, err)
		require.Equal(t, models.TierPower, saved.MinTier)

		e.tiers.Set(space, models.TierPro)
		list, err := e.s.Playbooks(ctx, space)
		require.NoError(t, err)
		require.NotContains(t, ids(list), saved.ID)
		_, err = e.s.Playbook(ctx, space, saved.ID)
		require.Equal(t, "the Site to post playbook needs the POWER plan or higher", testkit.RequireCode(t, err, models.CodePaymentRequired).Message)
		_, err = e.s.Run(ctx, space, saved.ID, map[string]string{"topic": "rye", "url": "https://example.com", "page": "x"})
		testkit.RequireCode(t, err, models.CodePaymentRequired)
		require.Empty(t, e.m.recorded())
	})
}

// TestCustomPlaybookNoLongerBuilds: a playbook whose template the server no longer
// offers is listed as saved, so that its admins see it, but reading or running it
// says why it cannot run, and it can be deleted.
func TestCustomPlaybookNoLongerBuilds(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e := newCustomEnv(t, db, echo())
		ctx := t.Context()
		space := e.user(t, models.TierPower)
		saved, err := e.s.Save(ctx, space, space, playbook.SaveInput{Name: "Site post", Steps: []playbook.StepInput{
			{Title: "Analyse", Kind: catalog.StepLLM, TemplateID: "website_analysis"},
			{Title: "Post", Kind: catalog.StepLLM, TemplateID: "linkedin_post", Inputs: []catalog.StepInput{{Variable: "analysis", FromStep: 1}}},
		}})
		require.NoError(t, err)

		// The same database under a server whose catalogue dropped the playbook that
		// offered website_analysis and linkedin_post.
		reg, err := catalog.BuiltinTemplates()
		require.NoError(t, err)
		plans, err := catalog.BuiltinPlaybooks(reg)
		require.NoError(t, err)
		cat, err := catalog.New(reg, plans[:4])
		require.NoError(t, err)
		later := newCustomEnv(t, db, echo(), func(d *playbook.Deps) { d.Catalog = cat })
		later.tiers.Set(space, models.TierPower)

		list, err := later.s.Playbooks(ctx, space)
		require.NoError(t, err)
		require.Equal(t, saved.ID, list[len(list)-1].ID)
		require.Len(t, list[len(list)-1].Steps, 2)
		_, err = later.s.Playbook(ctx, space, saved.ID)
		e2 := testkit.RequireCode(t, err, models.CodeBadUserInput, "id")
		require.Contains(t, e2.Message, "no longer fits")
		_, err = later.s.Run(ctx, space, saved.ID, map[string]string{"url": "https://example.com", "page": "x"})
		testkit.RequireCode(t, err, models.CodeBadUserInput, "id")
		_, err = later.s.Delete(ctx, space, saved.ID)
		require.NoError(t, err)
		require.Equal(t, "[]", later.rows(t))
	})
}

// TestCustomPlaybookTemplateOfferedToNobody refuses a template no built-in playbook
// offers, as executeTemplate does.
func TestCustomPlaybookTemplateOfferedToNobody(t *testing.T) {
	t.Parallel()
	reg, err := catalog.BuiltinTemplates()
	require.NoError(t, err)
	plans, err := catalog.BuiltinPlaybooks(reg)
	require.NoError(t, err)
	cat, err := catalog.New(reg, plans[:1]) // email_to_task only
	require.NoError(t, err)
	e := newCustomEnv(t, testkit.NewDB(t, testkit.SQLite), echo(), func(d *playbook.Deps) { d.Catalog = cat })
	space := e.user(t, models.TierTeam)
	_, err = e.s.Save(t.Context(), space, space, triage())
	testkit.RequireCode(t, err, models.CodeBadUserInput, "input.steps[3].templateId")
	require.Equal(t, "[]", e.rows(t))
}

// TestCustomPlaybookReplaceAndDeleteRace replaces and deletes a playbook at once,
// round after round: either the replace wins and the delete then removes (and
// returns) the new version, or the delete wins and the replace is NOT_FOUND; the
// playbook is gone either way.
func TestCustomPlaybookReplaceAndDeleteRace(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e := newCustomEnv(t, db, echo())
		ctx := t.Context()
		space := e.user(t, models.TierFree)
		won := map[string]int{}
		for round := range 20 {
			saved, err := e.s.Save(ctx, space, space, triage())
			require.NoError(t, err)
			in := triage()
			in.ID, in.Name = saved.ID, fmt.Sprintf("Renamed %d", round)
			start := make(chan struct{})
			var (
				wg              sync.WaitGroup
				replaced        *catalog.Plan
				deleted         *catalog.Plan
				saveErr, delErr error
			)
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-start
				replaced, saveErr = e.s.Save(ctx, space, space, in)
			}()
			go func() {
				defer wg.Done()
				<-start
				deleted, delErr = e.s.Delete(ctx, space, saved.ID)
			}()
			close(start)
			wg.Wait()

			require.NoError(t, delErr, "round %d: the playbook existed when both started", round)
			if saveErr == nil {
				require.Equal(t, in.Name, replaced.Name)
				require.Equal(t, in.Name, deleted.Name, "round %d: the replace answered, so the delete removed its version", round)
				won["replace"]++
			} else {
				testkit.RequireCode(t, saveErr, models.CodeNotFound, "input.id")
				require.Equal(t, "Email triage", deleted.Name, "round %d: the delete came first", round)
				won["delete"]++
			}
			require.Equal(t, "[]", e.rows(t), "round %d: nothing is left", round)
		}
		t.Log(won)
	})
}

// TestCustomPlaybookLongText keeps tabs and line breaks in a playbook's description,
// its fixed values and its variables' defaults, and a playbook just under the size
// limit; the limit's error says the size and the limit.
func TestCustomPlaybookLongText(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e := newCustomEnv(t, db, echo())
		ctx := t.Context()
		space := e.user(t, models.TierFree)
		in := triage()
		in.Description = "A task,\n\tthen a meeting\r\nabout it."
		in.Steps[2].Values[0].Value = "20 minutes:\n\t- the task\r\n\t- questions"
		in.DeclaresVariables = true
		in.Variables = []catalog.Variable{{Name: "email", Required: true}, {Name: "today", Default: "Monday\n7 December"}}
		saved, err := e.s.Save(ctx, space, space, in)
		require.NoError(t, err)
		got, err := e.s.Playbook(ctx, space, saved.ID)
		require.NoError(t, err)
		require.Equal(t, in.Description, got.Description)
		require.Equal(t, in.Steps[2].Values[0].Value, got.Steps[2].Variables["duration"])
		require.Equal(t, "Monday\n7 December", got.Variables[1].Default)

		// Three steps of 20,000 characters fit in the 64 KiB; a fourth does not.
		big := triage()
		big.Name = "Big"
		big.Steps[2].Values[0].Value = strings.Repeat("<", catalog.MaxValueRunes) // no \u003c in the stored JSON
		big.Steps = append(big.Steps, big.Steps[2], big.Steps[2])
		_, err = e.s.Save(ctx, space, space, big)
		require.NoError(t, err)
		before := e.rows(t)
		big.Name = "Bigger"
		big.Steps = append(big.Steps, big.Steps[2])
		_, err = e.s.Save(ctx, space, space, big)
		e2 := testkit.RequireCode(t, err, models.CodeBadUserInput, "input")
		require.Regexp(t, `^the playbook is 8\d{4} bytes as stored, over the limit of 65536 bytes`, e2.Message)
		require.Equal(t, before, e.rows(t))
	})
}
