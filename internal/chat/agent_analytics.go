package chat

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// notifyChange is the relative change of a metric worth a notification.
const notifyChange = 0.20

func analyticsAgent() *Agent {
	return &Agent{
		Name:        AgentAnalytics,
		Description: "Reads metrics, writes reports and spots trends.",
		Keywords:    []string{"metric", "analytics", "report", "trend", "kpi", "stats", "statistic", "growth", "dashboard", "traffic", "revenue", "conversion", "numbers"},
		Prompt: `You are the analytics agent of Inkgraph, an assistant for writers and small teams.
You read the metrics in the context, report on them and point out trends, with numbers rounded sensibly.
Say when there are too few observations to call something a trend.
` + commonRules,
		Tools: []*Tool{
			{
				Name:        "get_metrics",
				Description: "Get the latest value of each metric, or of one metric.",
				Params:      object(nil, map[string]*Schema{"name": str("one metric's name", 100)}),
				Run:         getMetrics,
			},
			{
				Name:        "generate_report",
				Description: "Write a report of all metrics (latest, lowest, highest, mean) and index it as a document.",
				Params:      object(nil, map[string]*Schema{"title": str("the report's title", 120)}),
				Run:         generateReport,
				Effects:     true,
			},
			{
				Name:        "analyze_trends",
				Description: "Analyze the trend of each metric over time, and notify the user of big changes.",
				Params:      object(nil, map[string]*Schema{"name": str("one metric's name", 100)}),
				Run:         analyzeTrends,
				Effects:     true,
			},
		},
	}
}

// series groups the context's metrics by name, each in time order, names sorted.
func series(c *Context, only string) ([]string, map[string][]Metric, error) {
	by := map[string][]Metric{}
	for _, m := range c.Metrics {
		if only == "" || m.Name == only {
			by[m.Name] = append(by[m.Name], m)
		}
	}
	if len(by) == 0 {
		if only != "" {
			return nil, nil, fmt.Errorf("no metric named %q in the context", only)
		}
		return nil, nil, fmt.Errorf("the context has no metrics")
	}
	names := make([]string, 0, len(by))
	for n, s := range by {
		sort.SliceStable(s, func(i, j int) bool { return s[i].At.Before(s[j].At) })
		names = append(names, n)
	}
	sort.Strings(names)
	return names, by, nil
}

func round(v float64) float64 { return math.Round(v*100) / 100 }

func getMetrics(env ToolEnv, raw json.RawMessage) (ToolOutput, error) {
	var a struct {
		Name string `json:"name"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return ToolOutput{}, err
	}
	names, by, err := series(env.Context, a.Name)
	if err != nil {
		return ToolOutput{}, err
	}
	latest := make(map[string]float64, len(names))
	parts := make([]string, 0, len(names))
	for _, n := range names {
		v := by[n][len(by[n])-1].Value
		latest[n] = v
		parts = append(parts, fmt.Sprintf("%s %g", n, v))
	}
	return ToolOutput{Summary: "Latest: " + strings.Join(parts, ", ") + ".", Data: latest}, nil
}

// MetricStats summarises one metric.
type MetricStats struct {
	Name   string  `json:"name"`
	Latest float64 `json:"latest"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
	Count  int     `json:"count"`
}

func stats(name string, s []Metric) MetricStats {
	st := MetricStats{Name: name, Latest: s[len(s)-1].Value, Min: s[0].Value, Max: s[0].Value, Count: len(s)}
	sum := 0.0
	for _, m := range s {
		st.Min = math.Min(st.Min, m.Value)
		st.Max = math.Max(st.Max, m.Value)
		sum += m.Value
	}
	st.Mean = round(sum / float64(len(s)))
	return st
}

func generateReport(env ToolEnv, raw json.RawMessage) (ToolOutput, error) {
	var a struct {
		Title string `json:"title"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return ToolOutput{}, err
	}
	names, by, err := series(env.Context, "")
	if err != nil {
		return ToolOutput{}, err
	}
	title := strings.TrimSpace(a.Title)
	if title == "" {
		title = "Metrics report " + env.Now.Format("2 Jan 2006")
	}
	var b strings.Builder
	b.WriteString(title + "\n\n")
	all := make([]MetricStats, 0, len(names))
	for _, n := range names {
		st := stats(n, by[n])
		all = append(all, st)
		fmt.Fprintf(&b, "%s: latest %g, lowest %g, highest %g, mean %g over %d observations\n",
			n, st.Latest, st.Min, st.Max, st.Mean, st.Count)
	}
	doc := map[string]any{
		"id":    "report-" + env.Now.UTC().Format("20060102T150405Z"),
		"title": title,
		"text":  b.String(),
	}
	return ToolOutput{
		Summary: fmt.Sprintf("Wrote %q covering %d metrics.", title, len(names)),
		Data:    all,
		Actions: []Action{{Type: ActionIndexDocument, Collection: "documents", Payload: doc, Agent: env.Agent}},
	}, nil
}

// Trend is the change of one metric from its first to its last observation.
type Trend struct {
	Name      string  `json:"name"`
	Direction string  `json:"direction"` // up, down, flat or unknown
	From      float64 `json:"from"`
	To        float64 `json:"to"`
	Change    float64 `json:"changePercent"`
	Since     string  `json:"since"`
}

func analyzeTrends(env ToolEnv, raw json.RawMessage) (ToolOutput, error) {
	var a struct {
		Name string `json:"name"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return ToolOutput{}, err
	}
	names, by, err := series(env.Context, a.Name)
	if err != nil {
		return ToolOutput{}, err
	}
	out := ToolOutput{}
	trends := make([]Trend, 0, len(names))
	var parts []string
	for _, n := range names {
		s := by[n]
		first, last := s[0], s[len(s)-1]
		tr := Trend{Name: n, From: first.Value, To: last.Value, Since: first.At.Format(time.RFC3339), Direction: "unknown"}
		if len(s) >= 2 && first.Value != 0 {
			rel := (last.Value - first.Value) / math.Abs(first.Value)
			tr.Change = round(rel * 100)
			switch {
			case rel > 0.05:
				tr.Direction = "up"
			case rel < -0.05:
				tr.Direction = "down"
			default:
				tr.Direction = "flat"
			}
			if math.Abs(rel) >= notifyChange {
				out.Actions = append(out.Actions, Action{Type: ActionSendNotification, Collection: "notifications", Agent: env.Agent,
					Payload: map[string]any{
						"title": fmt.Sprintf("%s went %s %g%%", n, tr.Direction, math.Abs(tr.Change)),
						"body":  fmt.Sprintf("%s moved from %g to %g since %s.", n, first.Value, last.Value, first.At.Format("2 Jan 2006")),
					}})
			}
		}
		trends = append(trends, tr)
		parts = append(parts, fmt.Sprintf("%s %s %g%%", n, tr.Direction, tr.Change))
	}
	out.Summary = "Trends: " + strings.Join(parts, ", ") + "."
	out.Data = trends
	return out, nil
}
