package website_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/onboarding/website"
	"github.com/inkgraph/inkgraph/models"
)

// completer is a website.Completer whose answer the test decides.
type completer struct {
	completeJSON func(ctx context.Context, system, prompt string) (text, model string, err error)
}

func (c completer) CompleteJSON(ctx context.Context, system, prompt string) (string, string, error) {
	return c.completeJSON(ctx, system, prompt)
}

var _ website.Completer = completer{}

// logBuffer collects log output; the analyzer may log from any goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestAnalyzeStyle(t *testing.T) {
	t.Parallel()
	twelve := make([]string, 12)
	for i := range twelve {
		twelve[i] = fmt.Sprintf(`" message %d "`, i+1)
	}
	valid := `{"tone": "warm and plain", "voice": "speaks to the reader as you", "audience": "busy people",
		"complexity": "simple", "keyMessages": [` + strings.Join(twelve, ",") + `, ""], "observations": ["short sentences"]}`

	tests := []struct {
		name   string
		answer string
		err    error
		want   *models.StyleAnalysis
	}{
		{
			name:   "valid JSON",
			answer: valid,
			want: &models.StyleAnalysis{
				Tone:       "warm and plain",
				Voice:      "speaks to the reader as you",
				Audience:   "busy people",
				Complexity: "simple",
				KeyMessages: []string{
					"message 1", "message 2", "message 3", "message 4", "message 5",
					"message 6", "message 7", "message 8", "message 9", "message 10",
				},
				Observations: []string{"short sentences"},
				Model:        "test-model",
				GeneratedBy:  "llm",
			},
		},
		{
			name:   "JSON in a Markdown fence",
			answer: "```json\n{\"tone\": \"dry\", \"voice\": \"impersonal\"}\n```",
			want: &models.StyleAnalysis{
				Tone: "dry", Voice: "impersonal", KeyMessages: []string{}, Observations: []string{},
				Model: "test-model", GeneratedBy: "llm",
			},
		},
		{name: "invalid JSON", answer: `{"tone": "warm", "voice": `},
		{name: "not JSON at all", answer: "I cannot help with that."},
		{name: "no voice", answer: `{"tone": "warm", "voice": "  "}`},
		{name: "wrong types", answer: `{"tone": "warm", "voice": "you", "keyMessages": "one"}`},
		{name: "LLM failure", err: errors.New("provider returned 500")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := serve(t, html(simplePage))
			var system, prompt string
			llm := completer{completeJSON: func(_ context.Context, s, p string) (string, string, error) {
				system, prompt = s, p
				return tt.answer, "test-model", tt.err
			}}
			var logs logBuffer
			a := website.New(website.Config{Allow: loopback}, llm, slog.New(slog.NewTextHandler(&logs, nil)))

			got, err := a.Analyze(t.Context(), srv.URL)
			require.NoError(t, err, "a failed style analysis does not fail the analysis")
			require.Equal(t, "Hello", got.Title)
			require.Equal(t, tt.want, got.Style)

			require.Contains(t, system, "keyMessages")
			require.Contains(t, prompt, "Title: Hello")
			require.Contains(t, prompt, "# Welcome")
			require.Contains(t, prompt, "We write plain words for busy people.")
			if tt.want == nil {
				require.Contains(t, logs.String(), "level=WARN")
				require.Contains(t, logs.String(), "website style analysis failed")
			} else {
				require.Empty(t, logs.String())
			}
		})
	}
}

func TestAnalyzeStyleSkipsEmptyPages(t *testing.T) {
	t.Parallel()
	srv := serve(t, html(`<html><head><title>Coming soon</title></head><body></body></html>`))
	llm := completer{completeJSON: func(context.Context, string, string) (string, string, error) {
		t.Error("the LLM was asked about a page without text")
		return "", "", errors.New("unexpected call")
	}}
	got, err := website.New(website.Config{Allow: loopback}, llm, nil).Analyze(t.Context(), srv.URL)
	require.NoError(t, err)
	require.Nil(t, got.Style)
}
