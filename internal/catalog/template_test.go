package catalog_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/catalog"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

func TestBuiltinTemplatesLoad(t *testing.T) {
	t.Parallel()
	reg, err := catalog.BuiltinTemplates()
	require.NoError(t, err)

	var ids []string
	for _, tm := range reg.Templates() {
		ids = append(ids, tm.ID)
		require.NotEmpty(t, tm.Name, tm.ID)
		require.NotEmpty(t, tm.Description, tm.ID)
		require.NotEmpty(t, tm.Variables, tm.ID)
		got, ok := reg.Template(tm.ID)
		require.True(t, ok)
		require.Equal(t, tm, got)
	}
	require.ElementsMatch(t, []string{"blog_outline", "blog_post", "email_to_task", "linkedin_post",
		"meeting_agenda", "website_analysis", "weekly_highlights", "weekly_report"}, ids)

	email, ok := reg.Template("email_to_task")
	require.True(t, ok)
	require.Equal(t, "task", email.Agent)
	require.Equal(t, []catalog.Variable{
		{Name: "email", Description: "The email's text, with its sender and subject if known", Required: true},
		{Name: "today", Description: "Today's date, so a relative deadline becomes a date"},
	}, email.Variables)

	_, ok = reg.Template("nope")
	require.False(t, ok)
	require.NotEmpty(t, reg.Fragments())
}

// validTemplate is a template file that loads; the table breaks it.
const validTemplate = `---
id: good
name: Good
description: A template that loads.
agent: email
variables:
  - name: text
    description: Some text
    required: true
---
Summarise this text for {{.context.TargetAudience}} in the voice {{.persona.Voice}}:
{{.text}}
`

func TestLoadTemplatesRefusesBrokenFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files fstest.MapFS
		file  string // the file the error must name
		want  string
	}{
		{
			name:  "duplicate id",
			files: fstest.MapFS{"a.tmpl": {Data: []byte(validTemplate)}, "b.tmpl": {Data: []byte(validTemplate)}},
			file:  "b.tmpl", want: `id "good" is already used by a.tmpl`,
		},
		{
			name:  "bad id",
			files: files("bad.tmpl", strings.Replace(validTemplate, "id: good", "id: Good-One", 1)),
			file:  "bad.tmpl", want: `id "Good-One" must match`,
		},
		{
			name:  "unknown agent",
			files: files("agent.tmpl", strings.Replace(validTemplate, "agent: email", "agent: marketing", 1)),
			file:  "agent.tmpl", want: `unknown agent "marketing"`,
		},
		{
			name:  "undeclared variable used",
			files: files("undeclared.tmpl", validTemplate+"{{.tone}}\n"),
			file:  "undeclared.tmpl", want: `line 13:2: the body uses the undeclared variable "tone"`,
		},
		{
			name:  "undeclared variable used through $",
			files: files("dollar.tmpl", validTemplate+"{{with .text}}{{$.tone}}{{end}}\n"),
			file:  "dollar.tmpl", want: `undeclared variable "tone"`,
		},
		{
			name:  "declared variable unused",
			files: files("unused.tmpl", strings.Replace(validTemplate, "{{.text}}", "", 1)),
			file:  "unused.tmpl", want: `variable "text" is declared but the body never uses it`,
		},
		{
			name:  "bad template syntax",
			files: files("syntax.tmpl", validTemplate+"{{if .text}}\n"),
			file:  "syntax.tmpl", want: "bad template syntax",
		},
		{
			name:  "missing header",
			files: files("header.tmpl", "Summarise {{.text}}\n"),
			file:  "header.tmpl", want: "missing header",
		},
		{
			name:  "unclosed header",
			files: files("open.tmpl", "---\nid: good\nname: Good\n"),
			file:  "open.tmpl", want: `no closing "---" line`,
		},
		{
			name:  "unknown persona field",
			files: files("persona.tmpl", validTemplate+"{{.persona.Age}}\n"),
			file:  "persona.tmpl", want: "unknown field .persona.Age",
		},
		{
			name:  "field of a text variable",
			files: files("field.tmpl", validTemplate+"{{.text.Length}}\n"),
			file:  "field.tmpl", want: `variable "text" is text and has no field "Length"`,
		},
		{
			name:  "reserved variable name",
			files: files("reserved.tmpl", strings.Replace(validTemplate, "name: text", "name: persona", 1)),
			file:  "reserved.tmpl", want: `variable name "persona" is reserved`,
		},
		{
			name:  "unknown header key",
			files: files("key.tmpl", strings.Replace(validTemplate, "agent: email", "agent: email\nauthor: me", 1)),
			file:  "key.tmpl", want: `line 6: unknown header key "author"`,
		},
		{
			name:  "required with a default",
			files: files("default.tmpl", strings.Replace(validTemplate, "required: true", "required: true\n    default: x", 1)),
			file:  "default.tmpl", want: `variable "text" is required and has a default`,
		},
		{
			name:  "sub-template",
			files: files("define.tmpl", validTemplate+`{{define "x"}}hi{{end}}`),
			file:  "define.tmpl", want: "sub-templates",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := catalog.LoadTemplates(tt.files)
			require.Error(t, err)
			require.ErrorContains(t, err, "template "+tt.file+":")
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestLoadTemplatesNeedsFiles(t *testing.T) {
	t.Parallel()
	_, err := catalog.LoadTemplates(fstest.MapFS{"readme.md": {Data: []byte("hi")}})
	require.ErrorContains(t, err, "no *.tmpl file")
}

func files(name, text string) fstest.MapFS {
	return fstest.MapFS{name: {Data: []byte(text)}}
}

func TestRender(t *testing.T) {
	t.Parallel()
	reg, err := catalog.LoadTemplates(fstest.MapFS{"good.tmpl": {Data: []byte(`---
id: good
name: Good
description: A template that loads.
variables:
  - name: text
    required: true
  - name: tone
    default: neutral
---
Tone {{.tone}}. Audience {{.context.TargetAudience}}. Voice {{.persona.Voice}}.
{{- with index .steps 1}} Earlier: {{.}}{{end}}
Text: {{.text}}
`)}})
	require.NoError(t, err)

	got, err := reg.Render("good", map[string]string{"text": "hello"}, testPersona, map[int]string{1: "step one"})
	require.NoError(t, err)
	require.Equal(t, "Tone neutral. Audience home bakers. Voice warm, plain-spoken, with the odd kitchen joke. Earlier: step one\nText: hello", got)

	got, err = reg.Render("good", map[string]string{"text": "hello", "tone": "dry"}, nil, nil)
	require.NoError(t, err)
	require.Equal(t, "Tone dry. Audience . Voice .\nText: hello", got)

	tests := []struct {
		name, id    string
		vars        map[string]string
		code, field string
	}{
		{"unknown template", "nope", map[string]string{"text": "x"}, models.CodeNotFound, "templateId"},
		{"missing required variable", "good", map[string]string{"tone": "dry"}, models.CodeBadUserInput, "variables.text"},
		{"blank required variable", "good", map[string]string{"text": "  "}, models.CodeBadUserInput, "variables.text"},
		{"undeclared variable", "good", map[string]string{"text": "x", "mood": "happy"}, models.CodeBadUserInput, "variables.mood"},
		{"value too long", "good", map[string]string{"text": strings.Repeat("é", catalog.MaxValueRunes+1)}, models.CodeBadUserInput, "variables.text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := reg.Render(tt.id, tt.vars, nil, nil)
			testkit.RequireCode(t, err, tt.code, tt.field)
			testkit.RequireCode(t, reg.Check(tt.id, tt.vars), tt.code, tt.field)
		})
	}
}

func TestFragmentsHoldTheLiteralText(t *testing.T) {
	t.Parallel()
	reg, err := catalog.BuiltinTemplates()
	require.NoError(t, err)
	frags := reg.Fragments()
	require.Contains(t, frags, "Read the email below and write the one task it asks of the reader.")
	for _, f := range frags {
		require.NotContains(t, f, "{{", "a fragment must be literal text the model could repeat")
	}
}

var testPersona = &models.PersonalizationContext{
	BusinessName: "Northwind Bakery", Industry: "food", TargetAudience: "home bakers",
	WritingTone: "FRIENDLY", Language: "English", KeyTopics: []string{"sourdough", "rye"},
	PersonaSummary: "Mara, a baker of twenty years who teaches weekend classes",
	Voice:          "warm, plain-spoken, with the odd kitchen joke",
}
