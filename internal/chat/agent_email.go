package chat

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

func emailAgent() *Agent {
	return &Agent{
		Name:        AgentEmail,
		Description: "Sorts emails, pulls out what they ask for and drafts replies.",
		Keywords:    []string{"email", "e-mail", "inbox", "mail", "reply", "respond", "draft", "sender", "newsletter"},
		Prompt: `You are the email agent of Inkgraph, an assistant for writers and small teams.
You sort the emails in the context by what they need, turn the requests in them into tasks, and draft replies in the user's voice.
Never invent facts for a reply; leave a placeholder where the user must decide.
` + commonRules,
		RequireApproval: true,
		Tools: []*Tool{
			{
				Name:        "classify_email",
				Description: "Classify emails as urgent, meeting, finance, newsletter or general; all emails of the context unless one is named.",
				Params:      object(nil, map[string]*Schema{"email_id": str("one email's ID from the context", 100)}),
				Run:         classifyEmail,
				Effects:     true,
			},
			{
				Name:        "extract_action_items",
				Description: "Extract the requests and action items from emails and propose a task for each.",
				Params:      object(nil, map[string]*Schema{"email_id": str("one email's ID from the context", 100)}),
				Run:         extractActionItems,
				Effects:     true,
			},
			{
				Name:        "draft_response",
				Description: "Draft a reply to an email, by default the most recent one.",
				Params: object(nil, map[string]*Schema{
					"email_id": str("the email's ID from the context", 100),
					"tone":     enum("the reply's tone", "friendly", "formal", "brief"),
				}),
				Run:     draftResponse,
				Effects: true,
			},
		},
	}
}

type emailArgs struct {
	EmailID string `json:"email_id"`
	Tone    string `json:"tone"`
}

// targetEmails is the named email, or all of them.
func targetEmails(c *Context, id string) ([]Email, error) {
	if id == "" {
		if len(c.Emails) == 0 {
			return nil, fmt.Errorf("the context has no emails")
		}
		return c.Emails, nil
	}
	for _, e := range c.Emails {
		if e.ID == id {
			return []Email{e}, nil
		}
	}
	return nil, fmt.Errorf("no email with id %q in the context", id)
}

// classify sorts an email by the words in it, the first rule that applies winning.
func classify(e Email) string {
	text := strings.ToLower(e.Subject + " " + e.Body)
	switch {
	case containsAny(text, "urgent", "asap", "immediately", "right away"):
		return "urgent"
	case containsAny(text, "meeting", "invite", "calendar", "call at", "schedule"):
		return "meeting"
	case containsAny(text, "invoice", "payment", "receipt", "billing", "overdue balance"):
		return "finance"
	case containsAny(text, "unsubscribe", "newsletter", "weekly digest"):
		return "newsletter"
	}
	return "general"
}

func classifyEmail(env ToolEnv, raw json.RawMessage) (ToolOutput, error) {
	var a emailArgs
	if err := decodeArgs(raw, &a); err != nil {
		return ToolOutput{}, err
	}
	emails, err := targetEmails(env.Context, a.EmailID)
	if err != nil {
		return ToolOutput{}, err
	}
	out := ToolOutput{}
	data := map[string]string{}
	counts := map[string]int{}
	for _, e := range emails {
		cat := classify(e)
		data[e.ID] = cat
		counts[cat]++
		out.Actions = append(out.Actions, Action{Type: ActionUpdateRecord, Collection: "emails", RecordID: e.ID,
			Payload: map[string]any{"category": cat}, Agent: env.Agent})
	}
	var parts []string
	for _, cat := range []string{"urgent", "meeting", "finance", "newsletter", "general"} {
		if counts[cat] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[cat], cat))
		}
	}
	out.Summary = fmt.Sprintf("Classified %d emails: %s.", len(emails), strings.Join(parts, ", "))
	out.Data = data
	return out, nil
}

// actionItems returns the sentences of text that ask for something.
func actionItems(text string) []string {
	var out []string
	for _, s := range strings.FieldsFunc(text, func(r rune) bool { return r == '.' || r == '!' || r == '?' || r == '\n' }) {
		s = strings.TrimSpace(s)
		l := strings.ToLower(s)
		if s != "" && containsAny(l, "please", "could you", "can you", "need to", "needs to", "make sure", "action item", "don't forget", "let me know") {
			out = append(out, s)
		}
	}
	return out
}

func extractActionItems(env ToolEnv, raw json.RawMessage) (ToolOutput, error) {
	var a emailArgs
	if err := decodeArgs(raw, &a); err != nil {
		return ToolOutput{}, err
	}
	emails, err := targetEmails(env.Context, a.EmailID)
	if err != nil {
		return ToolOutput{}, err
	}
	type item struct {
		EmailID string `json:"emailId"`
		Text    string `json:"text"`
	}
	var items []item
	var texts []string
	out := ToolOutput{}
	for _, e := range emails {
		priority := "medium"
		if classify(e) == "urgent" {
			priority = "high"
		}
		for _, s := range actionItems(e.Body) {
			title := capitalize(s)
			if r := []rune(title); len(r) > 200 {
				title = string(r[:200])
			}
			items = append(items, item{EmailID: e.ID, Text: s})
			texts = append(texts, title)
			out.Actions = append(out.Actions, Action{Type: ActionCreateRecord, Collection: "tasks", Agent: env.Agent,
				Payload: map[string]any{"title": title, "status": TaskTodo, "priority": priority, "sourceEmailId": e.ID}})
		}
	}
	out.Summary = fmt.Sprintf("Found %d action items: %s.", len(items), quoteList(texts, 5))
	out.Data = items
	return out, nil
}

func capitalize(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return s
	}
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func draftResponse(env ToolEnv, raw json.RawMessage) (ToolOutput, error) {
	var a emailArgs
	if err := decodeArgs(raw, &a); err != nil {
		return ToolOutput{}, err
	}
	emails, err := targetEmails(env.Context, a.EmailID)
	if err != nil {
		return ToolOutput{}, err
	}
	e := emails[0]
	for _, x := range emails[1:] {
		if x.Received.After(e.Received) {
			e = x
		}
	}
	name := firstName(e.From)
	me := "[your name]"
	if p := env.Context.Profile; p != nil && p.Name != "" {
		me = p.Name
	}
	items := actionItems(e.Body)
	var body string
	switch a.Tone {
	case "formal":
		body = fmt.Sprintf("Dear %s,\n\nThank you for your message regarding %q.", name, e.Subject)
	case "brief":
		body = fmt.Sprintf("Hi %s,\n\nThanks, noted.", name)
	default:
		body = fmt.Sprintf("Hi %s,\n\nThanks for your email about %q.", name, e.Subject)
	}
	if len(items) > 0 && a.Tone != "brief" {
		body += " I'll take care of the following:\n"
		for _, it := range items {
			body += "- " + it + "\n"
		}
		body += "\n[add any details or dates here]"
	} else if a.Tone != "brief" {
		body += " [add your reply here]"
	}
	closing := "Best,"
	if a.Tone == "formal" {
		closing = "Kind regards,"
	}
	body += "\n\n" + closing + "\n" + me
	subject := e.Subject
	if !strings.HasPrefix(strings.ToLower(subject), "re:") {
		subject = "Re: " + subject
	}
	payload := map[string]any{"emailId": e.ID, "to": e.From, "subject": subject, "body": body}
	return ToolOutput{
		Summary: fmt.Sprintf("Drafted a reply to %s about %q.", e.From, e.Subject),
		Data:    payload,
		Actions: []Action{{Type: ActionCreateRecord, Collection: "drafts", Payload: payload, Agent: env.Agent}},
	}, nil
}

// firstName takes "Ada Lovelace <ada@example.com>" or "ada@example.com" to "Ada".
func firstName(from string) string {
	s := strings.TrimSpace(from)
	if i := strings.IndexByte(s, '<'); i > 0 {
		s = strings.TrimSpace(s[:i])
	} else if i := strings.IndexByte(s, '@'); i > 0 {
		s = s[:i]
	}
	if f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '.' || r == '_' }); len(f) > 0 {
		return capitalize(f[0])
	}
	return "there"
}
