package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	inkgraph "github.com/inkgraph/inkgraph/internal/app"
	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/metering"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/runlog"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// streamingLLM is an OpenAI-compatible endpoint for the chat benchmarks: the router
// gets "task"; an agent gets tokens words streamed as fast as the connection takes
// them, flushed one by one, and the time the first one was flushed is recorded.
type streamingLLM struct {
	srv    *httptest.Server
	tokens int

	mu        sync.Mutex
	firstSent []time.Time
}

func newStreamingLLM(b testing.TB, tokens int) *streamingLLM {
	s := &streamingLLM{tokens: tokens}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	b.Cleanup(s.srv.Close)
	return s
}

func (s *streamingLLM) URL() string { return s.srv.URL + "/v1" }

func (s *streamingLLM) serve(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Tools []json.RawMessage `json:"tools"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	w.Header().Set("Content-Type", "text/event-stream")
	flusher := w.(http.Flusher)
	chunk := func(content, finish string) {
		delta, _ := json.Marshal(content)
		fin := "null"
		if finish != "" {
			fin = `"` + finish + `"`
		}
		fmt.Fprintf(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":%s},"finish_reason":%s}]}`+"\n\n", delta, fin)
		flusher.Flush()
	}
	if len(body.Tools) == 0 {
		chunk("task", "stop")
	} else {
		for i := range s.tokens {
			chunk(fmt.Sprintf("word%d ", i), "")
			if i == 0 {
				s.mu.Lock()
				s.firstSent = append(s.firstSent, time.Now())
				s.mu.Unlock()
			}
		}
		chunk("", "stop")
	}
	fmt.Fprint(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":10,"total_tokens":20}}`+"\n\n")
	fmt.Fprint(w, "data: [DONE]\n\n")
	flusher.Flush()
}

func (s *streamingLLM) lastFirstSent() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstSent[len(s.firstSent)-1]
}

const benchChatQuery = `subscription { chat(input: {message: "list my open tasks"}) { type delta } }`

// readRun reads subscription id's messages until it completes; it returns when the
// first TOKEN arrived and how many TOKEN events there were.
func readRun(b testing.TB, ws *wsClient, id string) (first time.Time, tokens int) {
	for {
		m := ws.next(b)
		require.Equal(b, id, m.ID)
		switch m.Type {
		case "complete":
			return first, tokens
		case "next":
			if strings.Contains(string(m.Payload), `"TOKEN"`) {
				if tokens == 0 {
					first = time.Now()
				}
				tokens++
			}
		default:
			b.Fatalf("%s: %s", m.Type, m.Payload)
		}
	}
}

// BenchmarkChatFirstToken measures the time the server adds between the provider's
// first token leaving the (local) provider and the client reading it over
// graphql-transport-ws: the LLM client's SSE parsing, the orchestrator, the
// sanitizer, gqlgen and the socket. One chat at a time.
//
//	go test -run '^$' -bench BenchmarkChatFirstToken -benchtime=500x ./internal/api/
func BenchmarkChatFirstToken(b *testing.B) {
	llmSrv := newStreamingLLM(b, 20)
	a := newApp(b, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits)
	access, _, _ := a.register(b, "bench-first@example.com")
	ts := serve(b, a)
	ws := dialGraphQLWS(b, ts.URL, access)
	lags := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprint(i)
		ws.subscribe(b, id, benchChatQuery)
		first, _ := readRun(b, ws, id)
		lags = append(lags, first.Sub(llmSrv.lastFirstSent()))
	}
	b.StopTimer()
	slices.Sort(lags)
	b.ReportMetric(float64(lags[len(lags)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkChatTokenThroughput streams 100 chats of 500 tokens at once over 10
// sockets and reports the tokens per second the clients received.
//
//	go test -run '^$' -bench BenchmarkChatTokenThroughput -benchtime=3x ./internal/api/
func BenchmarkChatTokenThroughput(b *testing.B) {
	const sockets, perSocket, tokens = 10, 10, 500
	llmSrv := newStreamingLLM(b, tokens)
	type server struct {
		conns    []*wsClient
		received int
		elapsed  time.Duration
	}
	// The server as it runs (every run resumable, its events kept in process) and
	// with resuming off, in alternate rounds.
	servers := make([]*server, 2)
	for i, grace := range []time.Duration{30 * time.Second, 0} { // the default, and off
		a := newApp(b, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits,
			func(c *config.Config) { c.ChatResumeGrace = grace })
		access, _, _ := a.register(b, "bench-tput@example.com")
		ts := serve(b, a)
		srv := &server{conns: make([]*wsClient, sockets)}
		for j := range srv.conns {
			srv.conns[j] = dialGraphQLWS(b, ts.URL, access)
		}
		servers[i] = srv
	}
	b.ResetTimer()
	for n := range b.N {
		for k, srv := range servers {
			start := time.Now()
			var mu sync.Mutex
			var wg sync.WaitGroup
			for s, ws := range srv.conns {
				wg.Go(func() {
					for i := range perSocket {
						ws.subscribe(b, fmt.Sprintf("%d-%d-%d-%d", n, k, s, i), benchChatQuery)
					}
					got := 0
					for done := 0; done < perSocket; {
						m := ws.next(b)
						switch m.Type {
						case "complete":
							done++
						case "next":
							if strings.Contains(string(m.Payload), `"TOKEN"`) {
								// A token event may carry several words the sanitizer held.
								got += strings.Count(string(m.Payload), "word")
							}
						}
					}
					mu.Lock()
					srv.received += got
					mu.Unlock()
				})
			}
			wg.Wait()
			srv.elapsed += time.Since(start)
		}
	}
	b.StopTimer()
	for _, srv := range servers {
		require.Equal(b, b.N*sockets*perSocket*tokens, srv.received, "every token arrived")
	}
	on := float64(servers[0].received) / servers[0].elapsed.Seconds()
	off := float64(servers[1].received) / servers[1].elapsed.Seconds()
	b.ReportMetric(on, "tokens/s")
	b.ReportMetric(off, "tokens/s-resume-off")
	b.ReportMetric(on/off, "x_resume_off")
}

// heldProvider streams one token and then holds the answer open until the run ends,
// like a slow model: the state of an open chat subscription, without an outbound
// HTTP connection.
type heldProvider struct{}

func (p heldProvider) Info() llm.Info { return llm.Info{Provider: "held", Model: "held"} }

func (p heldProvider) Stream(ctx context.Context, req llm.Request) (iter.Seq[llm.Chunk], error) {
	return func(yield func(llm.Chunk) bool) {
		if len(req.Tools) == 0 {
			if ctx.Err() == nil {
				yield(llm.Chunk{Done: &llm.Done{FinishReason: "stop"}})
			}
			return
		}
		if ctx.Err() == nil && yield(llm.Chunk{Text: "Looking into it "}) {
			<-ctx.Done()
		}
	}, nil
}

// BenchmarkChatSubscriptionMemory opens 1,000 chat subscriptions whose answers are
// held open after their first token, over 1,000 sockets, and reports the heap and
// stacks they hold: per subscription (over sockets already open) and per socket with
// its subscription, with runs resumable (as the server's are) and not. The clients' sockets live in the same process and are counted in
// the per-socket figure; the held provider has no outbound HTTP connection (a real
// provider's adds its own connection).
//
//	go test -run '^$' -bench BenchmarkChatSubscriptionMemory -benchtime=1x ./internal/api/
func BenchmarkChatSubscriptionMemory(b *testing.B) {
	for _, resume := range []bool{true, false} {
		b.Run(fmt.Sprintf("resume=%t", resume), func(b *testing.B) { benchSubscriptionMemory(b, resume) })
	}
}

// benchSubscriptionMemory is BenchmarkChatSubscriptionMemory with runs resumable (their
// events kept in process, as the server's are) or not (INKGRAPH_CHAT_RESUME_GRACE=0).
func benchSubscriptionMemory(b *testing.B, resume bool) {
	const open = 1000
	provider := heldProvider{}
	a := startAppWith(b, testkit.DatabaseURL(b, testkit.SQLite), wiring{services: func(svc *inkgraph.Services, db *bun.DB) {
		meter, err := metering.NewService(metering.Deps{DB: db, Server: provider, Tiers: svc.Accounts})
		require.NoError(b, err)
		d := chat.Deps{Meter: meter, Tiers: svc.Accounts}
		if resume {
			d.Journal, d.ResumeGrace = runlog.NewMemory(runlog.Limits{}), chat.DefaultResumeGrace
		}
		c, err := chat.NewService(d)
		require.NoError(b, err)
		svc.Chat = c
	}}, withoutRateLimits, func(c *config.Config) {
		// One client address opens every socket: the per-address limits would refuse it.
		c.WSMaxConns, c.WSMaxConnsPerIP, c.WSUpgradesPerMinute = 0, 0, 0
	})
	access, _, _ := a.register(b, "bench-mem@example.com")
	ts := serve(b, a)
	inUse := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse + m.StackInuse
	}
	for range b.N {
		before := inUse()
		conns := make([]*wsClient, open)
		for i := range conns {
			conns[i] = dialGraphQLWS(b, ts.URL, access)
		}
		connected := inUse()
		for i, ws := range conns {
			ws.subscribe(b, fmt.Sprint(i), benchChatQuery)
		}
		for i, ws := range conns {
			for {
				m := ws.next(b)
				require.Equal(b, fmt.Sprint(i), m.ID)
				require.Equal(b, "next", m.Type, "%s", m.Payload)
				if strings.Contains(string(m.Payload), `"TOKEN"`) {
					break
				}
			}
		}
		subscribed := inUse()
		b.ReportMetric(float64(subscribed-connected)/open/1024, "KiB/subscription")
		b.ReportMetric(float64(subscribed-before)/open/1024, "KiB/socket+subscription")
		b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines")
		for _, ws := range conns {
			_ = ws.conn.Close()
		}
	}
}
