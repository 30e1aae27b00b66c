package chat

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

func taskAgent() *Agent {
	return &Agent{
		Name:        AgentTask,
		Description: "Creates, updates and lists tasks, and suggests what to do next.",
		Keywords:    []string{"task", "todo", "to-do", "remind", "reminder", "deadline", "due", "priority", "backlog", "checklist", "plate"},
		Prompt: `You are the task agent of Inkgraph, an assistant for writers and small teams.
You keep the user's task list: you create, update, complete and delete tasks, list them, and suggest what to do next from the tasks, emails and documents in the context.
Prefer one clear task over several vague ones, give every new task a concrete title, and keep answers short.
` + commonRules,
		Tools: []*Tool{
			{
				Name:        "create_task",
				Description: "Create a new task for the user.",
				Params: object([]string{"title"}, map[string]*Schema{
					"title":    str("what to do, as a short imperative", 200),
					"priority": enum("how urgent the task is", "low", "medium", "high"),
					"due":      dateTime("when the task is due"),
				}),
				Run:     createTask,
				Effects: true,
			},
			{
				Name:        "update_task",
				Description: "Change a task of the context: its title, status, priority or due date.",
				Params: object([]string{"id"}, map[string]*Schema{
					"id":       str("the task's ID from the context", 100),
					"title":    str("the new title", 200),
					"status":   enum("the new status", TaskTodo, TaskInProgress, TaskDone),
					"priority": enum("the new priority", "low", "medium", "high"),
					"due":      dateTime("the new due date"),
				}),
				Run:     updateTask,
				Effects: true,
			},
			{
				Name:        "delete_task",
				Description: "Delete a task of the context.",
				Params:      object([]string{"id"}, map[string]*Schema{"id": str("the task's ID from the context", 100)}),
				Run:         deleteTask,
				Effects:     true,
			},
			{
				Name:        "list_tasks",
				Description: "List the user's tasks from the context, optionally by status or priority.",
				Params: object(nil, map[string]*Schema{
					"status":   enum("only tasks with this status", TaskTodo, TaskInProgress, TaskDone),
					"priority": enum("only tasks with this priority", "low", "medium", "high"),
				}),
				Run: listTasks,
			},
			{
				Name:        "suggest_tasks",
				Description: "Suggest what to do next: overdue and urgent tasks, and requests found in emails.",
				Params:      object(nil, map[string]*Schema{"limit": integer("how many suggestions at most", 1, 10)}),
				Run:         suggestTasks,
			},
		},
	}
}

type taskArgs struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Status   string `json:"status"`
	Priority string `json:"priority"`
	Due      string `json:"due"`
}

func createTask(env ToolEnv, raw json.RawMessage) (ToolOutput, error) {
	var a taskArgs
	if err := decodeArgs(raw, &a); err != nil {
		return ToolOutput{}, err
	}
	title := strings.TrimSpace(a.Title)
	if title == "" {
		return ToolOutput{}, fmt.Errorf("argument \"title\" cannot be blank")
	}
	if a.Priority == "" {
		a.Priority = "medium"
	}
	payload := map[string]any{"title": title, "status": TaskTodo, "priority": a.Priority}
	if a.Due != "" {
		payload["due"] = a.Due
	}
	return ToolOutput{
		Summary: fmt.Sprintf("Proposed a new %s-priority task %q.", a.Priority, title),
		Data:    payload,
		Actions: []Action{{Type: ActionCreateRecord, Collection: "tasks", Payload: payload, Agent: env.Agent}},
	}, nil
}

func findTask(c *Context, id string) (Task, error) {
	for _, t := range c.Tasks {
		if t.ID == id {
			return t, nil
		}
	}
	return Task{}, fmt.Errorf("no task with id %q in the context; list_tasks shows the IDs", id)
}

func updateTask(env ToolEnv, raw json.RawMessage) (ToolOutput, error) {
	var a taskArgs
	if err := decodeArgs(raw, &a); err != nil {
		return ToolOutput{}, err
	}
	t, err := findTask(env.Context, a.ID)
	if err != nil {
		return ToolOutput{}, err
	}
	payload := map[string]any{}
	for k, v := range map[string]string{"title": strings.TrimSpace(a.Title), "status": a.Status, "priority": a.Priority, "due": a.Due} {
		if v != "" {
			payload[k] = v
		}
	}
	if len(payload) == 0 {
		return ToolOutput{}, fmt.Errorf("nothing to change: give a title, status, priority or due date")
	}
	return ToolOutput{
		Summary: fmt.Sprintf("Proposed changes to task %q.", t.Title),
		Data:    payload,
		Actions: []Action{{Type: ActionUpdateRecord, Collection: "tasks", RecordID: t.ID, Payload: payload, Agent: env.Agent}},
	}, nil
}

func deleteTask(env ToolEnv, raw json.RawMessage) (ToolOutput, error) {
	var a taskArgs
	if err := decodeArgs(raw, &a); err != nil {
		return ToolOutput{}, err
	}
	t, err := findTask(env.Context, a.ID)
	if err != nil {
		return ToolOutput{}, err
	}
	return ToolOutput{
		Summary: fmt.Sprintf("Proposed deleting task %q.", t.Title),
		Actions: []Action{{Type: ActionDeleteRecord, Collection: "tasks", RecordID: t.ID, Agent: env.Agent}},
	}, nil
}

type taskView struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Status   string `json:"status"`
	Priority string `json:"priority,omitempty"`
	Due      string `json:"due,omitempty"`
}

func viewTask(t Task) taskView {
	v := taskView{ID: t.ID, Title: t.Title, Status: t.Status, Priority: t.Priority}
	if t.Due != nil {
		v.Due = t.Due.Format("2006-01-02T15:04:05Z07:00")
	}
	return v
}

func listTasks(env ToolEnv, raw json.RawMessage) (ToolOutput, error) {
	var a taskArgs
	if err := decodeArgs(raw, &a); err != nil {
		return ToolOutput{}, err
	}
	var views []taskView
	var titles []string
	for _, t := range env.Context.Tasks {
		if (a.Status == "" || t.Status == a.Status) && (a.Priority == "" || t.Priority == a.Priority) {
			views = append(views, viewTask(t))
			titles = append(titles, t.Title)
		}
	}
	return ToolOutput{
		Summary: fmt.Sprintf("%d tasks: %s.", len(views), quoteList(titles, 5)),
		Data:    views,
	}, nil
}

// Suggestion is one thing the task agent suggests doing.
type Suggestion struct {
	Title  string `json:"title"`
	Reason string `json:"reason"`
	TaskID string `json:"taskId,omitempty"`
}

func suggestTasks(env ToolEnv, raw json.RawMessage) (ToolOutput, error) {
	var a struct {
		Limit int `json:"limit"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return ToolOutput{}, err
	}
	if a.Limit == 0 {
		a.Limit = 5
	}
	var overdue, urgent []Suggestion
	open := make([]Task, 0, len(env.Context.Tasks))
	for _, t := range env.Context.Tasks {
		if t.Status != TaskDone {
			open = append(open, t)
		}
	}
	sort.SliceStable(open, func(i, j int) bool {
		if open[i].Due == nil || open[j].Due == nil {
			return open[j].Due == nil && open[i].Due != nil
		}
		return open[i].Due.Before(*open[j].Due)
	})
	for _, t := range open {
		switch {
		case t.Due != nil && t.Due.Before(env.Now):
			overdue = append(overdue, Suggestion{Title: "Finish or reschedule " + t.Title, Reason: "overdue", TaskID: t.ID})
		case t.Priority == "high":
			urgent = append(urgent, Suggestion{Title: "Start " + t.Title, Reason: "high priority", TaskID: t.ID})
		}
	}
	var fromEmail []Suggestion
	for _, e := range env.Context.Emails {
		if items := actionItems(e.Body); len(items) > 0 {
			fromEmail = append(fromEmail, Suggestion{Title: "Reply to " + e.From + ": " + e.Subject, Reason: "the email asks for something"})
		}
	}
	all := append(append(overdue, urgent...), fromEmail...)
	if len(all) > a.Limit {
		all = all[:a.Limit]
	}
	titles := make([]string, len(all))
	for i, s := range all {
		titles[i] = s.Title
	}
	return ToolOutput{Summary: fmt.Sprintf("%d suggestions: %s.", len(all), quoteList(titles, 5)), Data: all}, nil
}
