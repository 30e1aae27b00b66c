package chat_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/models"
)

func TestParseRoute(t *testing.T) {
	t.Parallel()
	tests := []struct {
		answer  string
		allowed []string
		want    []string // nil when refused
	}{
		{"task", allAgents, []string{"task"}},
		{"  Calendar.\n", allAgents, []string{"calendar"}},
		{"`email`", allAgents, []string{"email"}},
		{`"analytics"`, allAgents, []string{"analytics"}},
		{"pipeline:[email,task]", allAgents, []string{"email", "task"}},
		{"Pipeline: [calendar, email, calendar]", allAgents, []string{"calendar", "email"}},
		{"pipeline:[task]", allAgents, []string{"task"}},
		{"analytics", []string{"task", "calendar", "email"}, nil},
		{"pipeline:[task,analytics]", []string{"task", "calendar", "email"}, nil},
		{"pipeline:[]", allAgents, nil},
		{"pipeline[task,email]", allAgents, nil},
		{"I think the task agent fits best", allAgents, nil},
		{"", allAgents, nil},
	}
	for _, tt := range tests {
		t.Run(tt.answer, func(t *testing.T) {
			t.Parallel()
			got, ok := chat.ParseRoute(tt.answer, tt.allowed)
			if tt.want == nil {
				require.False(t, ok, "%+v", got)
				return
			}
			require.True(t, ok)
			require.Equal(t, tt.want, got.Agents)
			require.Equal(t, len(tt.want) > 1, got.Pipeline)
		})
	}
}

func TestKeywordRoute(t *testing.T) {
	t.Parallel()
	reg := chat.DefaultRegistry()
	free := chat.AllowedAgents(reg, models.FeaturesOf(models.TierFree))
	tests := []struct {
		message    string
		allowed    []string
		want       []string
		wantSource string
	}{
		{"Add a task to call the bank", allAgents, []string{"task"}, "keyword"},
		{"Do I have overlapping meetings tomorrow?", allAgents, []string{"calendar"}, "keyword"},
		{"Triage my inbox", allAgents, []string{"email"}, "keyword"},
		{"How is revenue trending?", allAgents, []string{"analytics"}, "keyword"},
		{"Reply to Ada's email and add a reminder to the task list", allAgents, []string{"email", "task"}, "keyword"},
		{"Reschedule the call, then draft an email", allAgents, []string{"calendar", "email"}, "keyword"},
		{"Hello there", allAgents, []string{"task"}, "default"},
		{"Write a report on traffic", free, []string{"task"}, "default"},
		{"Hello there", []string{"email", "calendar"}, []string{"email"}, "default"},
		{"Is it due?", allAgents, []string{"task"}, "keyword"},
		{"Is it dueling?", allAgents, []string{"task"}, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.message, func(t *testing.T) {
			t.Parallel()
			got := chat.KeywordRoute(reg, tt.allowed, tt.message)
			require.Equal(t, tt.want, got.Agents)
			require.Equal(t, tt.wantSource, got.Source)
			require.Equal(t, len(tt.want) > 1, got.Pipeline)
		})
	}
}

func TestAllowedAgentsByTier(t *testing.T) {
	t.Parallel()
	reg := chat.DefaultRegistry()
	require.Equal(t, []string{"task", "calendar", "email"}, chat.AllowedAgents(reg, models.FeaturesOf(models.TierFree)))
	for _, tier := range []models.Tier{models.TierPro, models.TierPower, models.TierTeam} {
		require.Equal(t, allAgents, chat.AllowedAgents(reg, models.FeaturesOf(tier)))
	}
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	reg := chat.DefaultRegistry()
	var names []string
	for _, a := range reg.Agents() {
		names = append(names, a.Name)
		require.NotEmpty(t, a.Info().Tools)
		_, err := chat.NewRegistry(a)
		require.NoError(t, err)
	}
	require.Equal(t, allAgents, names)
	task, ok := reg.Agent("task")
	require.True(t, ok)
	require.Equal(t, []string{"create_task", "update_task", "delete_task", "list_tasks", "suggest_tasks"}, task.Info().Tools)

	_, err := chat.NewRegistry(task, task)
	require.Error(t, err)
	_, err = chat.NewRegistry(&chat.Agent{Name: "x", Tools: []*chat.Tool{{Name: "t", Params: chat.Schema{Type: "object"}}}})
	require.Error(t, err, "a tool without Run")
}

func TestSchemaValidate(t *testing.T) {
	t.Parallel()
	task, _ := chat.DefaultRegistry().Agent("task")
	create, _ := task.Tool("create_task")
	suggest, _ := task.Tool("suggest_tasks")
	tests := []struct {
		name    string
		tool    *chat.Tool
		args    string
		wantErr string // "" when valid
	}{
		{"minimal", create, `{"title":"Call the bank"}`, ""},
		{"full", create, `{"title":"Call","priority":"high","due":"2026-03-11T10:00:00Z"}`, ""},
		{"null optional", create, `{"title":"Call","due":null}`, ""},
		{"missing required", create, `{"priority":"high"}`, `argument "title" is required`},
		{"null required", create, `{"title":null}`, `argument "title" is required`},
		{"wrong type", create, `{"title":42}`, `argument "title" must be a string`},
		{"not in enum", create, `{"title":"x","priority":"asap"}`, `argument "priority" must be one of low, medium, high`},
		{"too long", create, `{"title":"` + long(201) + `"}`, `argument "title" must be at most 200 characters`},
		{"bad date", create, `{"title":"x","due":"tomorrow"}`, `argument "due" must be an RFC 3339 date-time`},
		{"unknown", create, `{"title":"x","owner":"me"}`, `unknown argument "owner" (known: due, priority, title)`},
		{"not an object", create, `["x"]`, "arguments must be a JSON object"},
		{"not JSON", create, `{"title":`, "arguments must be a JSON object"},
		{"empty is no arguments", suggest, ``, ""},
		{"below minimum", suggest, `{"limit":0}`, `argument "limit" must be at least 1`},
		{"above maximum", suggest, `{"limit":11}`, `argument "limit" must be at most 10`},
		{"fraction", suggest, `{"limit":2.5}`, `argument "limit" must be a whole number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.tool.Params.Validate(json.RawMessage(tt.args))
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func long(n int) string {
	b := make([]rune, n)
	for i := range b {
		b[i] = 'é'
	}
	return string(b)
}
