package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"sort"
	"strings"
	"unicode"

	"github.com/inkgraph/inkgraph/models"
)

// OfflineModel is the model name the offline provider reports.
const OfflineModel = "inkgraph-offline-1"

// Offline is the built-in provider used when no LLM endpoint is configured.
// It is deterministic (the same request always gets the same answer), needs
// no network and answers at once, streaming its text word by word. Every
// answer's Done says Provider "offline" and Offline true.
//
// Offered tools, it acts as a rule-based tool chooser: for the last user
// message it calls the one tool whose name and description share the most
// words with it, provided it can fill every required argument (string
// arguments get the message itself, enums their first value, numbers their
// minimum or 1; an argument named like an ID it cannot guess rules the tool
// out). Once tool results follow the user's message, it answers in text,
// quoting each result's "summary" field when the result is a JSON object
// that has one. Given passages to ground its answer on (Request.Grounding), and
// no tool results yet, it quotes the sentence of the passages that shares the
// most words with the message, with the passage's [n] marker.
type Offline struct{}

var _ Provider = Offline{}

// NewOffline returns the offline provider.
func NewOffline() Offline { return Offline{} }

// Info says the provider is offline.
func (Offline) Info() Info {
	return Info{Provider: ProviderOffline, Model: OfflineModel, Offline: true}
}

// Stream answers req deterministically.
func (Offline) Stream(ctx context.Context, req Request) (iter.Seq[Chunk], error) {
	if len(req.Messages) == 0 {
		return nil, fmt.Errorf("llm: a request needs at least one message")
	}
	text, calls := offlineAnswer(req)
	return offlineStream(ctx, req, text, calls), nil
}

// offlineStream streams text word by word, then the offline Done with the calls.
func offlineStream(ctx context.Context, req Request, text string, calls []ToolCall) iter.Seq[Chunk] {
	prompt := 0
	for _, m := range req.Messages {
		prompt += len(strings.Fields(m.Content))
	}
	words := splitWords(text)
	if req.MaxTokens > 0 && len(words) > req.MaxTokens {
		words = words[:req.MaxTokens]
	}
	completion := len(words)
	for _, c := range calls {
		completion += 1 + len(strings.Fields(c.Arguments))
	}
	done := &Done{
		ToolCalls:    calls,
		FinishReason: FinishStop,
		Usage:        &models.Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion},
		Provider:     ProviderOffline,
		Model:        OfflineModel,
		Offline:      true,
	}
	switch {
	case len(calls) > 0:
		done.FinishReason = FinishToolCalls
	case req.MaxTokens > 0 && len(splitWords(text)) > req.MaxTokens:
		done.FinishReason = FinishLength
	}

	return func(yield func(Chunk) bool) {
		for _, w := range words {
			if ctx.Err() != nil || !yield(Chunk{Text: w}) {
				return
			}
		}
		if ctx.Err() == nil {
			yield(Chunk{Done: done})
		}
	}
}

func offlineAnswer(req Request) (string, []ToolCall) {
	lastUser := -1
	for i, m := range req.Messages {
		if m.Role == RoleUser {
			lastUser = i
		}
	}
	question := ""
	if lastUser >= 0 {
		question = req.Messages[lastUser].Content
	}
	var results []Message
	assistantTurns := 0
	for i, m := range req.Messages {
		if i > lastUser && m.Role == RoleTool {
			results = append(results, m)
		}
		if m.Role == RoleAssistant {
			assistantTurns++
		}
	}
	if len(results) > 0 {
		names := map[string]string{}
		for _, m := range req.Messages {
			for _, tc := range m.ToolCalls {
				names[tc.ID] = tc.Name
			}
		}
		parts := make([]string, 0, len(results))
		for _, r := range results {
			parts = append(parts, names[r.ToolCallID]+": "+resultSummary(r.Content))
		}
		return "Offline answer. " + strings.Join(parts, " "), nil
	}
	if len(req.Grounding) > 0 {
		return groundedAnswer(req.Grounding, question), nil
	}
	if len(req.Tools) > 0 && req.ToolChoice.Mode != ToolChoiceNone {
		if call, ok := chooseTool(req, question); ok {
			call.ID = fmt.Sprintf("call_offline_%d", assistantTurns+1)
			return "", []ToolCall{call}
		}
	}
	return "Offline answer: no language model is configured, so this reply is rule-based. You asked: " +
		quote(question, 40), nil
}

// resultSummary is a tool result's summary field, or its text cut short.
func resultSummary(content string) string {
	var obj map[string]any
	if json.Unmarshal([]byte(content), &obj) == nil {
		if s, ok := obj["summary"].(string); ok && s != "" {
			return s
		}
		if e, ok := obj["error"].(string); ok && e != "" {
			return "failed: " + e
		}
	}
	return quote(content, 40)
}

func quote(s string, maxWords int) string {
	w := strings.Fields(s)
	if len(w) > maxWords {
		return strings.Join(w[:maxWords], " ") + " …"
	}
	return strings.Join(w, " ")
}

// chooseTool picks the offered tool that best matches the question.
func chooseTool(req Request, question string) (ToolCall, bool) {
	asked := keywords(question)
	best, bestScore := -1, 0
	var bestArgs map[string]any
	for i, t := range req.Tools {
		if req.ToolChoice.Mode == ToolChoiceFunction && t.Name != req.ToolChoice.Function {
			continue
		}
		args, ok := fillArguments(t.Parameters, question)
		if !ok {
			continue
		}
		score := 0
		offered := keywords(strings.ReplaceAll(t.Name, "_", " ") + " " + t.Description)
		for w := range asked {
			if offered[w] {
				score++
			}
		}
		forced := req.ToolChoice.Mode == ToolChoiceFunction || req.ToolChoice.Mode == ToolChoiceRequired
		if score > bestScore || (forced && best < 0) {
			best, bestScore, bestArgs = i, score, args
		}
	}
	if best < 0 {
		return ToolCall{}, false
	}
	b, err := json.Marshal(bestArgs)
	if err != nil {
		return ToolCall{}, false
	}
	return ToolCall{Name: req.Tools[best].Name, Arguments: string(b)}, true
}

// fillArguments makes arguments for every required parameter, or reports
// that one cannot be guessed.
func fillArguments(schema map[string]any, question string) (map[string]any, bool) {
	args := map[string]any{}
	props, _ := schema["properties"].(map[string]any)
	var required []string
	switch r := schema["required"].(type) {
	case []string:
		required = r
	case []any:
		for _, v := range r {
			if s, ok := v.(string); ok {
				required = append(required, s)
			}
		}
	}
	sort.Strings(required)
	for _, name := range required {
		p, _ := props[name].(map[string]any)
		if enum := enumValues(p["enum"]); len(enum) > 0 {
			args[name] = enum[0]
			continue
		}
		switch p["type"] {
		case "string":
			lower := strings.ToLower(name)
			if lower == "id" || strings.HasSuffix(lower, "_id") || strings.HasSuffix(name, "ID") || strings.HasSuffix(name, "Id") {
				return nil, false
			}
			v := strings.TrimSpace(question)
			if n, ok := number(p["maxLength"]); ok && n > 0 && len([]rune(v)) > int(n) {
				v = string([]rune(v)[:int(n)])
			}
			if v == "" {
				return nil, false
			}
			args[name] = v
		case "integer", "number":
			v := 1.0
			if n, ok := number(p["minimum"]); ok {
				v = n
			}
			args[name] = v
		case "boolean":
			args[name] = false
		default:
			return nil, false
		}
	}
	return args, true
}

func enumValues(v any) []string {
	var out []string
	switch e := v.(type) {
	case []string:
		out = e
	case []any:
		for _, x := range e {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// keywords are the lowercase words of s of three letters or more, with a
// plural s dropped, so "tasks" matches "task".
func keywords(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len(w) > 3 {
			w = strings.TrimSuffix(w, "s")
		}
		if len(w) >= 3 && !stopWord(w) {
			out[w] = true
		}
	}
	return out
}

func stopWord(w string) bool {
	switch w {
	case "the", "and", "for", "with", "that", "this", "from", "you", "your", "are", "can", "please",
		"what", "have", "its", "one", "all", "any", "into", "about", "give", "show", "me", "my":
		return true
	}
	return false
}

// splitWords splits s after each space, so the pieces concatenate back to s.
func splitWords(s string) []string {
	if s == "" {
		return nil
	}
	return strings.SplitAfter(s, " ")
}

// groundedAnswer quotes the sentence of the passages that shares the most words
// with the question (on a tie, the earlier passage's: passages come best first),
// citing its passage.
func groundedAnswer(passages []Passage, question string) string {
	asked := keywords(question)
	best, bestN, bestScore := "", 0, -1
	for _, p := range passages {
		for _, s := range splitSentences(p.Text) {
			score := 0
			for w := range keywords(s) {
				if asked[w] {
					score++
				}
			}
			if score > bestScore {
				best, bestN, bestScore = s, p.N, score
			}
		}
	}
	if bestScore <= 0 {
		return fmt.Sprintf("Offline answer: no language model is configured, and no passage of your documents "+
			"shares a word with the question. The closest passage says: \"%s\" [%d]", quote(best, 60), bestN)
	}
	return fmt.Sprintf("Offline answer from your documents: \"%s\" [%d]", quote(best, 60), bestN)
}

// splitSentences cuts text after . ! ? followed by white space, and at line breaks.
func splitSentences(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\n' || (c == '.' || c == '!' || c == '?') && (i+1 == len(text) || text[i+1] == ' ' || text[i+1] == '\n') {
			if s := strings.TrimSpace(text[start : i+1]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(text[start:]); s != "" {
		out = append(out, s)
	}
	return out
}
