package chat

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Working hours bound the slots suggest_reschedule proposes, in the event's
// own time zone.
const (
	dayStartHour = 8
	dayEndHour   = 20
	searchDays   = 7
)

func calendarAgent() *Agent {
	return &Agent{
		Name:        AgentCalendar,
		Description: "Reads the calendar, finds conflicting events and suggests new times.",
		Keywords:    []string{"calendar", "meeting", "schedule", "event", "reschedule", "appointment", "conflict", "availability", "busy", "overlap"},
		Prompt: `You are the calendar agent of Inkgraph, an assistant for writers and small teams.
You read the user's calendar from the context, find events that overlap, and suggest new times within working hours.
Name events by their titles and give times in the user's time zone when the profile has one.
` + commonRules,
		RequireApproval: true,
		Tools: []*Tool{
			{
				Name:        "list_events",
				Description: "List calendar events from the context, optionally within a time range.",
				Params: object(nil, map[string]*Schema{
					"from": dateTime("only events ending after this time"),
					"to":   dateTime("only events starting before this time"),
				}),
				Run: listEvents,
			},
			{
				Name:        "detect_conflicts",
				Description: "Find pairs of calendar events that overlap.",
				Params:      object(nil, map[string]*Schema{}),
				Run:         detectConflicts,
			},
			{
				Name:        "suggest_reschedule",
				Description: "Suggest a new time for a calendar event, by default the later event of the first conflict, in the first free slot of working hours.",
				Params:      object(nil, map[string]*Schema{"event_id": str("the event's ID from the context", 100)}),
				Run:         suggestReschedule,
				Effects:     true,
			},
		},
	}
}

type eventView struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Start string `json:"start"`
	End   string `json:"end"`
}

func viewEvent(e CalendarEvent) eventView {
	return eventView{ID: e.ID, Title: e.Title, Start: e.Start.Format(time.RFC3339), End: e.End.Format(time.RFC3339)}
}

func sortedEvents(c *Context) []CalendarEvent {
	evs := append([]CalendarEvent(nil), c.Events...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Start.Before(evs[j].Start) })
	return evs
}

func listEvents(env ToolEnv, raw json.RawMessage) (ToolOutput, error) {
	var a struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return ToolOutput{}, err
	}
	from, err := parseTime(a.From)
	if err != nil {
		return ToolOutput{}, err
	}
	to, err := parseTime(a.To)
	if err != nil {
		return ToolOutput{}, err
	}
	var views []eventView
	var titles []string
	for _, e := range sortedEvents(env.Context) {
		if (from.IsZero() || e.End.After(from)) && (to.IsZero() || e.Start.Before(to)) {
			views = append(views, viewEvent(e))
			titles = append(titles, e.Title)
		}
	}
	return ToolOutput{Summary: fmt.Sprintf("%d events: %s.", len(views), quoteList(titles, 5)), Data: views}, nil
}

// Conflict is a pair of overlapping events, the earlier first.
type Conflict struct {
	First  eventView `json:"first"`
	Second eventView `json:"second"`
}

func conflicts(c *Context) [][2]CalendarEvent {
	evs := sortedEvents(c)
	var out [][2]CalendarEvent
	for i := range evs {
		for j := i + 1; j < len(evs) && evs[j].Start.Before(evs[i].End); j++ {
			out = append(out, [2]CalendarEvent{evs[i], evs[j]})
		}
	}
	return out
}

func detectConflicts(env ToolEnv, raw json.RawMessage) (ToolOutput, error) {
	pairs := conflicts(env.Context)
	views := make([]Conflict, 0, len(pairs))
	var names []string
	for _, p := range pairs {
		views = append(views, Conflict{First: viewEvent(p[0]), Second: viewEvent(p[1])})
		names = append(names, p[0].Title+" / "+p[1].Title)
	}
	return ToolOutput{Summary: fmt.Sprintf("%d conflicts: %s.", len(pairs), quoteList(names, 5)), Data: views}, nil
}

func suggestReschedule(env ToolEnv, raw json.RawMessage) (ToolOutput, error) {
	var a struct {
		EventID string `json:"event_id"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return ToolOutput{}, err
	}
	var target *CalendarEvent
	if a.EventID == "" {
		pairs := conflicts(env.Context)
		if len(pairs) == 0 {
			return ToolOutput{}, fmt.Errorf("no conflicting events; give an event_id to move a particular event")
		}
		target = &pairs[0][1]
	} else {
		for i, e := range env.Context.Events {
			if e.ID == a.EventID {
				target = &env.Context.Events[i]
			}
		}
		if target == nil {
			return ToolOutput{}, fmt.Errorf("no event with id %q in the context; list_events shows the IDs", a.EventID)
		}
	}
	start, ok := freeSlot(env.Context, *target)
	if !ok {
		return ToolOutput{}, fmt.Errorf("no free slot of %s in working hours within %d days", target.End.Sub(target.Start), searchDays)
	}
	end := start.Add(target.End.Sub(target.Start))
	payload := map[string]any{"start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339)}
	return ToolOutput{
		Summary: fmt.Sprintf("Proposed moving %q to %s.", target.Title, start.Format("Mon 2 Jan 15:04")),
		Data:    payload,
		Actions: []Action{{Type: ActionUpdateRecord, Collection: "events", RecordID: target.ID, Payload: payload, Agent: env.Agent}},
	}, nil
}

// freeSlot finds the first start at or after the event's own, on a quarter
// hour within working hours, where the event overlaps no other.
func freeSlot(c *Context, ev CalendarEvent) (time.Time, bool) {
	d := ev.End.Sub(ev.Start)
	loc := ev.Start.Location()
	others := make([]CalendarEvent, 0, len(c.Events))
	for _, e := range c.Events {
		if e.ID != ev.ID {
			others = append(others, e)
		}
	}
	t := ev.Start.Truncate(15 * time.Minute)
	limit := ev.Start.AddDate(0, 0, searchDays)
	for ; t.Before(limit); t = t.Add(15 * time.Minute) {
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		if t.Before(day.Add(dayStartHour*time.Hour)) || t.Add(d).After(day.Add(dayEndHour*time.Hour)) {
			continue
		}
		free := true
		for _, o := range others {
			if t.Before(o.End) && o.Start.Before(t.Add(d)) {
				free = false
				break
			}
		}
		if free {
			return t, true
		}
	}
	return time.Time{}, false
}
