// Package chat owns chat with LLM agents, apart from GraphQL and storage: the
// input a client sends (its message and the context the agents work on), the
// intent classifier that routes it, the agent registry with the task,
// calendar, email and analytics agents and their tools, the shared
// tool-calling loop, execution plans over playbook templates, and the stream
// of events a run produces, and the approval of tool calls with effects, which
// wait for the user's decision (approval.go, stored in chat_approvals by store.go),
// and grounded answers (knowledge.go): passages of the user's documents, from the
// Knowledge it is given, shown to the model numbered and cited in DONE.
// Agents never write anything: they return actions for the client to apply. Chat
// text is stored only for a user who keeps history, through the History it is
// given; otherwise only usage is reported.
package chat

import (
	"encoding/json"
	"time"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/models"
)

// Mode says whether a run answers or plans.
type Mode string

const (
	// ModeDirect runs the agents' tools and answers.
	ModeDirect Mode = "DIRECT"
	// ModePlan answers with an execution plan of template steps, running nothing.
	ModePlan Mode = "PLAN"
)

// Limits on what a client may send.
const (
	MaxMessageRunes = 8000
	MaxHistory      = 50
	MaxItems        = 500 // of each kind of context item
)

// Input is what a client sends to start a run (GraphQL's ChatInput): nothing of
// it comes from the server.
type Input struct {
	Message string
	Mode    Mode // ModeDirect when empty
	Context Context
	// ConversationID names a stored conversation to continue (for a user who keeps
	// history): its turns become the run's history, instead of Context.History.
	ConversationID string
	// Ground retrieves passages of the user's documents for the message before the
	// agents answer, shows them to the model numbered, and has DONE cite them.
	// DocumentIDs and Tag narrow the search (and the search tool's) to those
	// documents, or those tagged so.
	Ground      bool
	DocumentIDs []string
	Tag         string
}

// Request is one run as the service asks the orchestrator for it: the client's input
// and what the server decided about the caller.
type Request struct {
	Input
	// UserID is the caller: their settings, history, approvals, journal and logs.
	UserID string
	// Space is whose brand, tier, usage and documents the run uses: the team's shared
	// space when the caller acts in a team, else UserID (empty means UserID).
	Space string
	// Choice is who answers (a nil Provider is the orchestrator's own) and who pays,
	// and the caller's tier, which picks the templates a plan may use.
	llm.Choice
	// AllowedAgents are the agents the caller's tier may use, in preference
	// order; see AllowedAgents. Routing never leaves this set.
	AllowedAgents []string
	// Personalization is what onboarding knows of the writer, if anything.
	Personalization *models.PersonalizationContext
	// ApprovalAgents are the agents whose tools with effects (Tool.Effects) wait for
	// the user's approval before they run: every allowed agent when the user's
	// RequireToolApproval is on, else those with Agent.RequireApproval.
	ApprovalAgents []string
	// Unattended says that nobody can answer an approval (sendChat, which streams
	// nothing): a call that needs one is declined at once.
	Unattended bool
	// QuotaLeft is what was left of the user's monthly tokens when the run started,
	// when its tokens count against them; nil otherwise. DONE tells what is left of
	// it after the run.
	QuotaLeft *int64
	// keep, when the user keeps history, is where the run's exchange is kept at DONE.
	keep *keeping
}

// Context is the data the agents work on, sent by the client with each run.
type Context struct {
	Profile   *Profile
	Documents []Document
	Tasks     []Task
	History   []Turn
	Events    []CalendarEvent
	Emails    []Email
	Metrics   []Metric
}

// Profile is what the agents know of the user.
type Profile struct {
	Name     string
	Timezone string
	Role     string
}

// Document is a relevant document, such as a search hit.
type Document struct {
	ID    string
	Title string
	Text  string
}

// Task statuses and priorities.
const (
	TaskTodo       = "todo"
	TaskInProgress = "in_progress"
	TaskDone       = "done"
)

// Task is one of the user's recent tasks.
type Task struct {
	ID       string
	Title    string
	Status   string // todo, in_progress or done
	Priority string // low, medium or high
	Due      *time.Time
}

// Turn is one earlier message of the conversation.
type Turn struct {
	Role    string // user or assistant
	Content string
}

// CalendarEvent is one event of the user's calendar.
type CalendarEvent struct {
	ID    string
	Title string
	Start time.Time
	End   time.Time
}

// Email is one email of the user's inbox.
type Email struct {
	ID       string
	From     string
	Subject  string
	Body     string
	Received time.Time
}

// Metric is one observation of a named metric.
type Metric struct {
	Name  string
	Value float64
	At    time.Time
}

// ActionType is what an action asks the client to do.
type ActionType string

// The actions agents return.
const (
	ActionCreateRecord     ActionType = "create_record"
	ActionUpdateRecord     ActionType = "update_record"
	ActionDeleteRecord     ActionType = "delete_record"
	ActionIndexDocument    ActionType = "index_document"
	ActionSendNotification ActionType = "send_notification"
)

// Action is a change an agent proposes; the client applies it.
type Action struct {
	Type ActionType
	// Collection is the kind of record: tasks, events, emails, drafts,
	// documents or notifications.
	Collection string
	// RecordID is the record to update or delete; empty for new ones.
	RecordID string
	// Payload holds the fields to set, the document to index or the
	// notification to send.
	Payload map[string]any
	// Agent is the agent that proposed it.
	Agent string
}

// EventType names an event of a run.
type EventType string

// The events of a run, in the order they can occur.
//
// TOKEN carries the answer and nothing else: in every mode the concatenation of a
// run's TOKEN deltas is its DONE's Response. AGENT_TOKEN carries the text of a
// pipeline's agents before the synthesis, which is not the answer but what the
// synthesis works from; a single agent's text is the answer, so it streams as TOKEN.
const (
	EventAgentRouted     EventType = "AGENT_ROUTED"
	EventAgentToken      EventType = "AGENT_TOKEN"
	EventToken           EventType = "TOKEN"
	EventToolCallStarted EventType = "TOOL_CALL_STARTED"
	// EventToolApprovalRequired: the call waits for approveToolCall, or until
	// Approval.ExpiresAt, when it is declined. Its TOOL_RESULT says the decision.
	EventToolApprovalRequired EventType = "TOOL_APPROVAL_REQUIRED"
	EventToolResult           EventType = "TOOL_RESULT"
	EventAction               EventType = "ACTION"
	EventUsage                EventType = "USAGE"
	EventDone                 EventType = "DONE"
	EventError                EventType = "ERROR"
)

// Event is one event of a run. Seq counts from 1 within the run; the fields
// besides RunID, Seq, Type and Agent belong to one type each.
//
// A run ends with DONE or with one ERROR, each preceded by at most one USAGE,
// and then its channel closes.
type Event struct {
	// The JSON form is the run journal's (resume.go): short, without what every
	// entry of a run shares or numbers itself.
	RunID string    `json:"-"`
	Seq   int       `json:"-"`
	Type  EventType `json:"t"`
	// Agent is the agent the event concerns; "synthesis" for a pipeline's
	// final answer.
	Agent string `json:"a,omitempty"`

	Route      *Route           `json:"route,omitempty"`    // AGENT_ROUTED
	Delta      string           `json:"d,omitempty"`        // TOKEN, AGENT_TOKEN
	ToolCall   *ToolCall        `json:"call,omitempty"`     // TOOL_CALL_STARTED
	Approval   *ApprovalRequest `json:"approval,omitempty"` // TOOL_APPROVAL_REQUIRED
	ToolResult *ToolResult      `json:"result,omitempty"`   // TOOL_RESULT
	Action     *Action          `json:"action,omitempty"`   // ACTION
	Usage      *Usage           `json:"usage,omitempty"`    // USAGE
	Done       *Done            `json:"done,omitempty"`     // DONE
	Error      *RunError        `json:"error,omitempty"`    // ERROR

	cause error // ERROR: the error itself, for a caller in the server (Service.Send)
}

// ToolCall is a tool call an agent's model made.
type ToolCall struct {
	ID        string
	Name      string
	Arguments json.RawMessage
}

// ToolResult is the outcome of a tool call: its result as JSON, or the
// error fed back to the model.
type ToolResult struct {
	CallID string
	Name   string
	Result json.RawMessage `json:",omitempty"` // nil when the tool failed, so in the journal too
	Error  string
	// Approval is the user's decision on a call that waited for it; nil when the
	// call needed none.
	Approval *ApprovalDecision
}

// ApprovalRequest is a tool call waiting for the user's decision.
type ApprovalRequest struct {
	// ToolCall is the call as TOOL_CALL_STARTED showed it (sanitized).
	ToolCall ToolCall
	// ExpiresAt is when the call is declined without a decision.
	ExpiresAt time.Time
}

// ApprovalDecision is what became of a call that waited for approval.
type ApprovalDecision string

// The decisions.
const (
	ApprovalApproved ApprovalDecision = "APPROVED"
	ApprovalDeclined ApprovalDecision = "DECLINED"
	ApprovalExpired  ApprovalDecision = "EXPIRED"
)

// Usage is the run's whole use of the LLM, reported once: its tokens and calls,
// who answered, and its share by agent (RouterAgent for intent classification,
// "synthesis" for a pipeline's final answer), by name.
type Usage struct {
	models.Usage
	Provider string
	Model    string
	Offline  bool
	Agents   []models.SourceUsage
}

// RouterAgent names the intent classifier's LLM calls in usage.
const RouterAgent = "router"

// Finish reasons of a run, besides the model's own (stop, length).
const (
	FinishMaxIterations = "max_iterations"
	FinishPlan          = "plan"
)

// Done ends a successful run.
type Done struct {
	// Response is the answer: exactly the run's TOKEN deltas joined (a pipeline's
	// synthesis, not its agents' AGENT_TOKEN text).
	Response     string
	Actions      []Action
	FinishReason string
	Plan         *Plan // PLAN mode only
	Offline      bool
	// Usage is the run's whole use of the LLM, as USAGE reported it; nil when the
	// run made no LLM call.
	Usage *Usage
	// QuotaRemaining is what is left of the month's tokens after the run: what was
	// left when it started less its tokens, never below 0; nil when the run does not
	// count against a limit.
	QuotaRemaining *int64
	// ConversationID is the stored conversation the run's message and answer were
	// added to; nil when the user keeps no history (or keeping it failed).
	ConversationID *string
	// Citations are the passages the answer cites with [n] markers, among those
	// the run showed the model (retrieved for Input.Ground, or found by the
	// search tool), in the order cited; empty when it cites none.
	Citations []Citation
}

// RunError ends a failed run.
type RunError struct {
	Code      string
	Message   string
	Retryable bool
}

// space is the run's space: Space, or the caller's own when empty.
func (r *Request) space() string {
	if r.Space != "" {
		return r.Space
	}
	return r.UserID
}
