package playbook_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/catalog"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/playbook"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
	"github.com/inkgraph/inkgraph/models"
)

// requireShape checks a complete run: seq from 1, run ID on every event,
// per step STEP_STARTED, TOKEN… (LLM steps only), STEP_FINISHED carrying
// the tokens, then one DONE.
func requireShape(t *testing.T, plan *catalog.Plan, events []playbook.Event) *playbook.RunDone {
	t.Helper()
	require.NotEmpty(t, events)
	for i, e := range events {
		require.Equal(t, i+1, e.Seq, "seq of event %d", i)
		require.Equal(t, events[0].RunID, e.RunID)
	}
	require.NotEmpty(t, events[0].RunID)
	i := 0
	for _, st := range plan.Steps {
		require.Equal(t, playbook.EventStepStarted, events[i].Type, "event %d", i)
		require.Equal(t, st.Index, events[i].Step)
		require.Equal(t, st.Title, events[i].StepTitle)
		i++
		var text strings.Builder
		for events[i].Type == playbook.EventToken {
			require.Equal(t, st.Index, events[i].Step)
			text.WriteString(events[i].Delta)
			i++
		}
		if st.Kind == catalog.StepLLM {
			require.NotEmpty(t, text.String(), "step %d streamed no token", st.Index)
		} else {
			require.Empty(t, text.String(), "data step %d streamed tokens", st.Index)
		}
		require.Equal(t, playbook.EventStepFinished, events[i].Type, "event %d", i)
		require.Equal(t, st.Index, events[i].Step)
		if st.Kind == catalog.StepLLM {
			require.Equal(t, text.String(), events[i].Output)
		}
		i++
	}
	require.Len(t, events, i+1)
	last := events[i]
	require.Equal(t, playbook.EventDone, last.Type)
	require.NotNil(t, last.Done)
	require.Len(t, last.Done.Outputs, len(plan.Steps))
	require.Equal(t, last.Done.Outputs[len(plan.Steps)-1].Output, last.Done.Result)
	return last.Done
}

func TestRunOffline(t *testing.T) {
	t.Parallel()
	s, m := newService(t, llm.NewOffline())
	tests := []struct {
		id   string
		vars map[string]string
		// want are pieces of the structured draft the run ends with.
		want []string
	}{
		{"email_to_task", map[string]string{"email": "Could you send me the March invoice by Friday? Thanks, Ana"},
			[]string{"Title: Could you send me the March invoice", "Due: none", "Priority: high", "Notes: "}},
		{"weekly_report", map[string]string{"metrics": "visitors 1200 (last week 1000)\nsignups 40 (last week 55)"},
			[]string{"Weekly report: ", "Highlights:\n- visitors 1200 (last week 1000)\n- signups 40 (last week 55)", "Next week:"}},
		{"blog_post", map[string]string{"topic": "Why rye needs patience"},
			[]string{"# Why rye needs patience\n", "## The common mistakes", "## In short", "home bakers"}},
		{"linkedin_from_website", map[string]string{"url": "https://example.com", "page": "We bake rye bread every morning."},
			[]string{"Hook: ", "https://example.com", "Call to action: "}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			plan, err := s.Playbook(t.Context(), powerUser, tt.id)
			require.NoError(t, err)
			ch, err := s.Run(t.Context(), powerUser, tt.id, tt.vars)
			require.NoError(t, err)
			done := requireShape(t, plan, collect(ch))
			require.True(t, done.Offline)
			llmSteps := 0
			for _, st := range plan.Steps {
				if st.Kind == catalog.StepLLM {
					llmSteps++
				}
			}
			require.Equal(t, llmSteps, done.Calls())
			require.Positive(t, done.Usage.TotalTokens)
			// A draft of the template's kind from the variables, labelled once, up top.
			require.True(t, strings.HasPrefix(done.Result, llm.OfflineDraftLabel+"\n\n"), done.Result)
			require.Equal(t, 1, strings.Count(done.Result, llm.OfflineDraftLabel), done.Result)
			for _, w := range tt.want {
				require.Contains(t, done.Result, w)
			}
			for i, st := range plan.Steps {
				if st.Kind == catalog.StepLLM {
					require.Contains(t, done.Outputs[i].Output, "Offline draft", "step %d", st.Index)
				}
			}
		})
	}
	t.Cleanup(func() {
		for _, r := range m.recorded() {
			require.Equal(t, powerUser, r.userID)
			require.True(t, strings.HasPrefix(r.source, "playbook:"), r.source)
		}
		require.Len(t, m.recorded(), len(tests), "one record per run")
	})
}

func TestRunFeedsEarlierStepsForward(t *testing.T) {
	t.Parallel()
	calls := 0
	p := answering(func(req llm.Request) string {
		calls++ // the run's steps call one after another
		switch {
		case strings.Contains(userPrompt(req), "list the week's highlights"):
			return "Here are the highlights:\n- visitors up 20%\n- signups down 27%\nHope this helps!"
		default:
			return "REPORT-" + string(rune('0'+calls))
		}
	})
	s, m := newService(t, p)
	vars := map[string]string{"metrics": "visitors 1200 (last week 1000)", "period": "3-9 March"}
	ch, err := s.Run(t.Context(), proUser, "weekly_report", vars)
	require.NoError(t, err)
	plan, err := s.Playbook(t.Context(), proUser, "weekly_report")
	require.NoError(t, err)
	done := requireShape(t, plan, collect(ch))

	require.Equal(t, []playbook.StepOutput{
		{Step: 1, Output: "Here are the highlights:\n- visitors up 20%\n- signups down 27%\nHope this helps!"},
		{Step: 2, Output: "- visitors up 20%\n- signups down 27%"},
		{Step: 3, Output: "REPORT-2"},
	}, done.Outputs)
	require.Equal(t, "REPORT-2", done.Result)
	require.Equal(t, 2, done.Calls())
	require.False(t, done.Offline)

	reqs := p.requests()
	require.Len(t, reqs, 2)
	first, second := userPrompt(reqs[0]), userPrompt(reqs[1])
	require.Contains(t, first, "visitors 1200 (last week 1000)")
	require.Contains(t, second, "Highlights:\n\"\"\"\n- visitors up 20%\n- signups down 27%\n\"\"\"", "step 3 gets step 2's output")
	require.NotContains(t, second, "Hope this helps", "the data step dropped the prose")
	require.Contains(t, second, "Write the weekly report for 3-9 March at Northwind Bakery")
	require.Contains(t, second, "warm, plain-spoken", "the persona's voice reaches the prompt")
	require.Equal(t, llm.RoleSystem, reqs[1].Messages[0].Role)
	require.Contains(t, reqs[1].Messages[0].Content, "You write clear weekly reports")

	recs := m.recorded()
	require.Len(t, recs, 1)
	require.Equal(t, usageRecord{userID: proUser, source: "playbook:weekly_report", usage: done.Usage, calls: 2, paidBy: models.UsageBYOK}, recs[0],
		"the run is booked to whoever pays for the provider chosen once for it")
}

func TestRunOverFakeLLM(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	srv.Reply = func(req fakellm.Request) fakellm.Response {
		last := req.Body.Messages[len(req.Body.Messages)-1].Content
		if strings.Contains(last, "Outline a blog post") {
			return fakellm.Response{Content: "Title: Patience. Sections: starter, proof, bake."}
		}
		return fakellm.Response{Content: "Rye rewards the patient baker."}
	}
	client, err := llm.New(llm.Config{BaseURL: srv.URL(), Model: "fake-model"})
	require.NoError(t, err)
	s, _ := newService(t, client)

	ch, err := s.Run(t.Context(), proUser, "blog_post", map[string]string{"topic": "Why rye needs patience"})
	require.NoError(t, err)
	plan, err := s.Playbook(t.Context(), proUser, "blog_post")
	require.NoError(t, err)
	done := requireShape(t, plan, collect(ch))
	require.Equal(t, "Rye rewards the patient baker.", done.Result)
	require.False(t, done.Offline)
	require.Equal(t, 2, done.Calls())
	require.Positive(t, done.Usage.TotalTokens)

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	require.True(t, reqs[1].Body.Stream)
	second := reqs[1].Body.Messages[1].Content
	require.Contains(t, second, "Title: Patience. Sections: starter, proof, bake.")
	require.Contains(t, second, "about 800 words", "the plan's default applies")
}

func TestRunNeverShowsTemplateText(t *testing.T) {
	t.Parallel()
	reg, err := catalog.BuiltinTemplates()
	require.NoError(t, err)
	frags := reg.Fragments()
	p := echo()
	s, _ := newService(t, p)
	plans, err := s.Playbooks(t.Context(), teamUser)
	require.NoError(t, err)
	t.Cleanup(func() {
		// The prompts held template text, so the echo would have shown it.
		leaks := 0
		for _, req := range p.requests() {
			for _, m := range req.Messages {
				for _, f := range frags {
					if strings.Contains(m.Content, f) {
						leaks++
					}
				}
			}
		}
		require.Greater(t, leaks, 20)
	})
	for _, plan := range plans {
		t.Run(plan.ID, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{}
			for _, v := range plan.Variables {
				vars[v.Name] = "value of " + v.Name
			}
			ch, err := s.Run(t.Context(), teamUser, plan.ID, vars)
			require.NoError(t, err)
			events := collect(ch)
			done := requireShape(t, plan, events)

			var shown []string
			var tokens strings.Builder
			for _, e := range events {
				tokens.WriteString(e.Delta)
				shown = append(shown, e.Output)
			}
			shown = append(shown, tokens.String(), done.Result)
			for _, o := range done.Outputs {
				shown = append(shown, o.Output)
			}
			require.Contains(t, tokens.String(), "value of "+plan.Variables[0].Name, "the echo came back")
			for _, text := range shown {
				for _, f := range frags {
					require.NotContains(t, text, f)
				}
			}
		})
	}
}

func TestRunCancel(t *testing.T) {
	t.Parallel()
	upstreamDone := make(chan struct{})
	p := &provider{StreamFn: func(ctx context.Context, _ llm.Request) (<-chan llm.Chunk, error) {
		ch := make(chan llm.Chunk)
		go func() {
			defer close(ch)
			select {
			case ch <- llm.Chunk{Text: "Working on it "}:
			case <-ctx.Done():
			}
			<-ctx.Done() // an answer that never ends
			close(upstreamDone)
		}()
		return ch, nil
	}}
	s, m := newService(t, p)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch, err := s.Run(ctx, freeUser, "email_to_task", map[string]string{"email": "hi"})
	require.NoError(t, err)
	require.Equal(t, playbook.EventStepStarted, (<-ch).Type)
	tok := <-ch
	require.Equal(t, playbook.EventToken, tok.Type)
	require.Equal(t, "Working on it ", tok.Delta)

	cancel()
	for e := range ch { // the run closes the channel
		require.NotEqual(t, playbook.EventDone, e.Type)
		require.NotEqual(t, playbook.EventError, e.Type, "a client that left gets no error")
	}
	select {
	case <-upstreamDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the provider's context was not cancelled")
	}
	recs := m.recorded()
	require.Len(t, recs, 1, "the spent call is metered")
	require.Equal(t, 1, recs[0].calls)
}

// TestRunStoppedByShutdown stops a run held mid-answer through the server's
// llm.Drain: the provider's context ends, and the client, still there, gets a
// retryable ERROR after the tokens streamed so far; the spent call is metered.
func TestRunStoppedByShutdown(t *testing.T) {
	t.Parallel()
	upstreamDone := make(chan struct{})
	p := &provider{StreamFn: func(ctx context.Context, _ llm.Request) (<-chan llm.Chunk, error) {
		ch := make(chan llm.Chunk)
		go func() {
			defer close(ch)
			select {
			case ch <- llm.Chunk{Text: "Working on it "}:
			case <-ctx.Done():
			}
			<-ctx.Done() // an answer that never ends
			close(upstreamDone)
		}()
		return ch, nil
	}}
	s, m := newService(t, p)
	drain := llm.NewDrain()
	ch, err := s.Run(llm.WithDrain(t.Context(), drain), freeUser, "email_to_task", map[string]string{"email": "hi"})
	require.NoError(t, err)
	require.Equal(t, playbook.EventStepStarted, (<-ch).Type)
	require.Equal(t, playbook.EventToken, (<-ch).Type)

	drain.Stop()
	events := collect(ch)
	require.Len(t, events, 1)
	last := events[0]
	require.Equal(t, playbook.EventError, last.Type)
	require.Equal(t, 3, last.Seq)
	require.Equal(t, models.CodeUpstreamUnavailable, last.Error.Code)
	require.True(t, last.Error.Retryable)
	require.Contains(t, last.Error.Message, "shutting down")
	select {
	case <-upstreamDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the provider's context was not cancelled")
	}
	recs := m.recorded()
	require.Len(t, recs, 1, "the spent call is metered")
	require.Equal(t, 1, recs[0].calls)
}

func TestRunUpstreamFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		stream func(ctx context.Context, req llm.Request) (<-chan llm.Chunk, error)
		code   string
		tokens int
	}{
		{"fails mid-stream", failingAfter(models.Errorf(models.CodeUpstreamUnavailable, "the LLM endpoint broke off")),
			models.CodeUpstreamUnavailable, 1},
		{"fails mid-stream with a plain error", failingAfter(errors.New("connection reset")),
			models.CodeUpstreamUnavailable, 1},
		{"refuses at once", func(context.Context, llm.Request) (<-chan llm.Chunk, error) {
			return nil, &models.Error{Code: models.CodeRateLimited, Message: "slow down"}
		}, models.CodeRateLimited, 0},
		{"closes without a last chunk", func(context.Context, llm.Request) (<-chan llm.Chunk, error) {
			ch := make(chan llm.Chunk, 1)
			ch <- llm.Chunk{Text: "half "}
			close(ch)
			return ch, nil
		}, models.CodeUpstreamUnavailable, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, m := newService(t, &provider{StreamFn: tt.stream})
			ch, err := s.Run(t.Context(), freeUser, "email_to_task", map[string]string{"email": "hi"})
			require.NoError(t, err)
			events := collect(ch)
			require.Len(t, events, 2+tt.tokens)
			require.Equal(t, playbook.EventStepStarted, events[0].Type)
			for _, e := range events[1 : 1+tt.tokens] {
				require.Equal(t, playbook.EventToken, e.Type)
			}
			last := events[len(events)-1]
			require.Equal(t, playbook.EventError, last.Type)
			require.Equal(t, len(events), last.Seq)
			require.Equal(t, 1, last.Step)
			require.Equal(t, &playbook.RunError{Code: tt.code, Message: last.Error.Message, Step: 1, Retryable: true}, last.Error)
			require.NotEmpty(t, last.Error.Message)
			recs := m.recorded()
			require.Len(t, recs, 1)
			require.Equal(t, 1, recs[0].calls)
			require.Equal(t, "playbook:email_to_task", recs[0].source)
		})
	}
}

// failingAfter streams one delta, then fails with err.
func failingAfter(err error) func(context.Context, llm.Request) (<-chan llm.Chunk, error) {
	return func(ctx context.Context, _ llm.Request) (<-chan llm.Chunk, error) {
		ch := make(chan llm.Chunk)
		go func() {
			defer close(ch)
			for _, c := range []llm.Chunk{{Text: "Title: "}, {Err: err}} {
				select {
				case ch <- c:
				case <-ctx.Done():
					return
				}
			}
		}()
		return ch, nil
	}
}

func TestRunRefusesBeforeAnyEvent(t *testing.T) {
	t.Parallel()
	p := echo()
	s, m := newService(t, p)
	over, overMeter := newService(t, p)
	overMeter.AllowFn = func(_ context.Context, userID string) error {
		return models.Errorf(models.CodeQuotaExceeded, "%s has spent this month's tokens", userID)
	}
	tests := []struct {
		name        string
		s           *playbook.Service
		user, id    string
		vars        map[string]string
		code, field string
	}{
		{"quota spent", over, freeUser, "email_to_task", map[string]string{"email": "hi"}, models.CodeQuotaExceeded, ""},
		{"unknown playbook", s, freeUser, "nope", nil, models.CodeNotFound, ""},
		{"above the user's tier", s, freeUser, "blog_post", map[string]string{"topic": "x"}, models.CodePaymentRequired, ""},
		{"missing variable", s, freeUser, "email_to_task", map[string]string{"today": "Monday"}, models.CodeBadUserInput, "variables.email"},
		{"undeclared variable", s, freeUser, "email_to_task", map[string]string{"email": "hi", "mood": "x"}, models.CodeBadUserInput, "variables.mood"},
		{"value too long", s, freeUser, "email_to_task", map[string]string{"email": strings.Repeat("a", catalog.MaxValueRunes+1)},
			models.CodeBadUserInput, "variables.email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ch, err := tt.s.Run(t.Context(), tt.user, tt.id, tt.vars)
			require.Nil(t, ch)
			testkit.RequireCode(t, err, tt.code, tt.field)
		})
	}
	t.Cleanup(func() {
		require.Empty(t, p.requests())
		require.Empty(t, m.recorded())
		require.Empty(t, overMeter.recorded())
	})
}
