package llm

import (
	"context"
	"fmt"
	"iter"
	"sort"
	"strings"
	"unicode"

	"github.com/inkgraph/inkgraph/internal/platform/lazyregexp"
	"github.com/inkgraph/inkgraph/models"
)

// OfflineDraftLabel opens every offline draft, so no reader takes it for a model's work.
const OfflineDraftLabel = "[Offline draft: no language model is configured, so this is a rule-based draft built from the template and your inputs. Edit it, or configure a model for a written answer.]"

// DraftInput is what an offline draft is built from: a template's ID (its kind), its
// name, the values of its variables and the user's personalisation (nil for none).
type DraftInput struct {
	TemplateID string
	Name       string
	Vars       map[string]string
	Context    *models.PersonalizationContext
}

// OfflineDraft is the offline provider answering with a draft prepared from a
// template and its variables instead of its rule-based echo: what playbooks run when
// no model answers. It streams word by word and reports itself offline, as Offline.
type OfflineDraft struct {
	Input DraftInput
}

var _ Provider = OfflineDraft{}

// Info says the provider is offline.
func (OfflineDraft) Info() Info { return Offline{}.Info() }

// Stream answers with the draft.
func (d OfflineDraft) Stream(ctx context.Context, req Request) (iter.Seq[Chunk], error) {
	if len(req.Messages) == 0 {
		return nil, fmt.Errorf("llm: a request needs at least one message")
	}
	return offlineStream(ctx, req, Draft(d.Input), nil), nil
}

// Draft is a deterministic, structured draft for the template kind in, filled with
// its variables and the user's audience, tone and topics, opened by
// OfflineDraftLabel. A template it has no rule for gets a general draft: its name,
// then each variable's value under its name.
func Draft(in DraftInput) string {
	d := drafter{in: in, vars: in.Vars}
	if in.Context != nil {
		d.audience = in.Context.TargetAudience
		d.tone = string(in.Context.WritingTone)
		d.topics = in.Context.KeyTopics
		d.business = in.Context.BusinessName
	}
	var body string
	switch in.TemplateID {
	case "blog_outline":
		body = d.blogOutline()
	case "blog_post":
		body = d.blogPost()
	case "linkedin_post":
		body = d.linkedInPost()
	case "email_to_task":
		body = d.emailToTask()
	case "meeting_agenda":
		body = d.meetingAgenda()
	case "weekly_highlights":
		body = d.weeklyHighlights()
	case "weekly_report":
		body = d.weeklyReport()
	case "website_analysis":
		body = d.websiteAnalysis()
	default:
		body = d.general()
	}
	return OfflineDraftLabel + "\n\n" + strings.TrimSpace(body) + "\n"
}

type drafter struct {
	in                       DraftInput
	vars                     map[string]string
	audience, tone, business string
	topics                   []string
}

// v is a variable's value on one line, cut to maxWords words; fallback when empty.
func (d drafter) v(name, fallback string, maxWords int) string {
	// An earlier step's offline draft carries the label: it is said once, up top.
	s := strings.Join(strings.Fields(strings.ReplaceAll(d.vars[name], OfflineDraftLabel, "")), " ")
	if s == "" {
		return fallback
	}
	return quote(s, maxWords)
}

func (d drafter) forAudience() string {
	if d.audience == "" {
		return "your readers"
	}
	return d.audience
}

func (d drafter) toneLine() string {
	if d.tone == "" {
		return ""
	}
	return "Tone: " + strings.ToLower(strings.ReplaceAll(d.tone, "_", " ")) + ".\n"
}

// numbered is a numbered line: "3. Proof" or "3) Proof".
var numbered = lazyregexp.New(`^\s*\d+[.)]\s`)

// lines are the lines of a variable, list markers dropped, at most n: its numbered
// lines when it has some (the sections of an outline, an earlier step's output),
// otherwise every line but an offline draft's label.
func (d drafter) lines(name string, n int) []string {
	all := strings.Split(d.vars[name], "\n")
	var pick []string
	for _, l := range all {
		if numbered.MatchString(l) {
			pick = append(pick, l)
		}
	}
	if pick == nil {
		pick = all
	}
	var out []string
	for _, l := range pick {
		if strings.HasPrefix(strings.TrimSpace(l), "[Offline draft") {
			continue
		}
		l = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), "-*•0123456789.)#"))
		if l != "" && len(out) < n {
			out = append(out, quote(l, 20))
		}
	}
	return out
}

func (d drafter) keywordList() []string {
	var out []string
	for _, k := range strings.Split(d.vars["keywords"], ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

func (d drafter) blogOutline() string {
	topic := d.v("topic", "your topic", 20)
	var b strings.Builder
	fmt.Fprintf(&b, "Working title: %s: what %s need to know\n", topic, d.forAudience())
	fmt.Fprintf(&b, "Promise: by the end, %s will understand %s and know the next step to take.\n", d.forAudience(), topic)
	b.WriteString(d.toneLine())
	sections := []string{
		"Why it matters now",
		"The common mistakes",
		"How it works, step by step",
		"An example from practice",
		"What to do next",
	}
	bullets := [][]string{
		{"the problem the reader has today", "what changes once it is solved"},
		{"the mistake most people make first", "why it happens and how to spot it"},
		{"the steps in order", "what each step needs"},
		{"a short real case", "the result it led to"},
		{"one action to take this week", "where to learn more"},
	}
	for i, k := range d.keywordList() {
		if i < len(bullets) {
			bullets[i] = append(bullets[i], "use the keyword \""+k+"\"")
		}
	}
	if len(d.topics) > 0 {
		bullets[3] = append(bullets[3], "connect it to "+strings.Join(d.topics, ", "))
	}
	for i, s := range sections {
		fmt.Fprintf(&b, "\n%d. %s\n", i+1, s)
		for _, bl := range bullets[i] {
			fmt.Fprintf(&b, "   - %s\n", bl)
		}
	}
	return b.String()
}

func (d drafter) blogPost() string {
	topic := d.v("topic", "your topic", 20)
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", topic)
	fmt.Fprintf(&b, "If you are one of %s, %s is worth a few minutes of your attention. This post walks through it in order.\n", d.forAudience(), topic)
	headings := d.lines("outline", 7)
	if len(headings) == 0 {
		headings = []string{"Why it matters", "How it works", "What to do next"}
	}
	for _, h := range headings {
		fmt.Fprintf(&b, "\n## %s\n\n[Write two or three paragraphs on %s: a claim, an example, and what it means for %s.]\n", h, strings.ToLower(h), d.forAudience())
	}
	if l := d.v("length", "", 10); l != "" {
		fmt.Fprintf(&b, "\nTarget length: %s.\n", l)
	}
	fmt.Fprintf(&b, "\n## In short\n\n[Sum up %s in two sentences and end with one step the reader can take today.]\n", topic)
	return b.String()
}

func (d drafter) linkedInPost() string {
	goal := d.v("goal", "start a conversation", 20)
	source := d.v("analysis", "", 40)
	var b strings.Builder
	who := d.business
	if who == "" {
		who = "We"
	}
	fmt.Fprintf(&b, "Hook: %s have been looking at what matters most to %s.\n\n", who, d.forAudience())
	if source != "" {
		fmt.Fprintf(&b, "What we found: %s\n\n", source)
	}
	fmt.Fprintf(&b, "Three points:\n1. [the most surprising finding]\n2. [what it means for %s]\n3. [what we are doing about it]\n\n", d.forAudience())
	fmt.Fprintf(&b, "Call to action: %s.\n", goal)
	var tags []string
	for _, t := range d.topics {
		tags = append(tags, "#"+hashtag(t))
	}
	if len(tags) > 0 {
		fmt.Fprintf(&b, "\n%s\n", strings.Join(tags, " "))
	}
	b.WriteString(d.toneLine())
	return b.String()
}

var (
	isoDate = lazyregexp.New(`\b\d{4}-\d{2}-\d{2}\b`)
	urgent  = lazyregexp.New(`(?i)\b(urgent|asap|immediately|today)\b`)
	soon    = lazyregexp.New(`(?i)\b(soon|tomorrow|deadline|by (monday|tuesday|wednesday|thursday|friday))\b`)
)

func (d drafter) emailToTask() string {
	email := d.vars["email"]
	title := ""
	for _, l := range strings.Split(email, "\n") {
		l = strings.TrimSpace(l)
		if s, ok := strings.CutPrefix(l, "Subject:"); ok {
			title = strings.TrimSpace(s)
			break
		}
		if title == "" && l != "" && !strings.Contains(l, ":") {
			title = l
		}
	}
	if title == "" {
		title = "Reply to the email"
	}
	due := "none"
	if m := isoDate.FindString(email); m != "" {
		due = m
	}
	priority := "medium"
	switch {
	case urgent.MatchString(email):
		priority = "urgent"
	case soon.MatchString(email):
		priority = "high"
	}
	return fmt.Sprintf("Title: %s\nDue: %s\nPriority: %s\nNotes: %s\n",
		quote(title, 12), due, priority, quote(strings.Join(strings.Fields(email), " "), 30))
}

func (d drafter) meetingAgenda() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Agenda: %s\n", d.v("meeting", "the meeting", 20))
	if dur := d.v("duration", "", 5); dur != "" {
		fmt.Fprintf(&b, "Length: %s\n", dur)
	}
	b.WriteString("\n1. Welcome and goal of the meeting (5 min)\n2. Where things stand (10 min)\n")
	for i, l := range d.lines("related", 3) {
		fmt.Fprintf(&b, "%d. Discuss: %s\n", i+3, l)
	}
	b.WriteString("- Decisions and owners\n- Next steps and date of the next meeting\n")
	return b.String()
}

func (d drafter) weeklyHighlights() string {
	var b strings.Builder
	b.WriteString("Highlights of the week\n")
	items := append(d.lines("metrics", 5), d.lines("notes", 3)...)
	if len(items) == 0 {
		items = []string{"[your first highlight]"}
	}
	for _, l := range items {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	return b.String()
}

func (d drafter) weeklyReport() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Weekly report: %s\n\nSummary: [one sentence on the week]\n\nHighlights:\n", d.v("period", "this week", 8))
	items := d.lines("highlights", 7)
	if len(items) == 0 {
		items = []string{"[your first highlight]"}
	}
	for _, l := range items {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	b.WriteString("\nNext week:\n- [the most important goal]\n")
	return b.String()
}

func (d drafter) websiteAnalysis() string {
	return fmt.Sprintf("Website: %s\nWhat it offers: %s\nAudience: %s\nTone: [describe the voice of the page]\nTopics: %s\n",
		d.v("url", "unknown", 3), d.v("page", "[summarise the page]", 40), d.forAudience(), strings.Join(d.topics, ", "))
}

func (d drafter) general() string {
	var b strings.Builder
	name := d.in.Name
	if name == "" {
		name = d.in.TemplateID
	}
	fmt.Fprintf(&b, "%s\n", name)
	keys := make([]string, 0, len(d.vars))
	for k := range d.vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "\n%s:\n%s\n", k, d.v(k, "", 60))
	}
	return b.String()
}

// hashtag joins a topic's words, each capitalised: "home baking" → "HomeBaking".
func hashtag(topic string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(topic, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		r := []rune(w)
		b.WriteString(string(unicode.ToUpper(r[0])) + string(r[1:]))
	}
	return b.String()
}
