package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"github.com/vektah/gqlparser/v2/ast"

	inkgraph "github.com/inkgraph/inkgraph/internal/app"
	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/metering"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/logging"
	"github.com/inkgraph/inkgraph/internal/platform/runlog"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
	"github.com/inkgraph/inkgraph/resolvers"
)

// The chat figures of issue 13, each ours beside a bare gqlgen subscription in the
// same run: gqlgen's own WebSocket transport serving the same schema's chat field
// from a channel, with no middleware, no orchestrator, no logs. Ours is the whole
// server (production JSON logger at info to a file, every middleware, metrics on,
// tracing off, the collector's heap floor as the binary sets it, for the whole
// process) with the chat service and orchestrator over an in-process provider: the
// provider's own connection is not what is compared.

// perfChatQuery is the subscription both servers answer.
const perfChatQuery = `subscription { chat(input: {message: "list my open tasks"}) { type delta } }`

// tokenEvery is 50 tokens a second.
const tokenEvery = 20 * time.Millisecond

// stampedTokens streams tokens that say when they were sent ("t<unix nanoseconds> "),
// every tokenEvery from the stream's start, until count have gone (forever when count
// is zero, after the first) or ctx ends; held streams send one token and wait.
type stampedTokens struct {
	count int  // tokens per stream; 0 with held
	held  bool // one token, then nothing until the stream ends
}

func (s stampedTokens) run(ctx context.Context, send func(string) bool) {
	if !send(stamp()) {
		return
	}
	if s.held {
		<-ctx.Done()
		return
	}
	ticker := time.NewTicker(tokenEvery)
	defer ticker.Stop()
	for range s.count - 1 {
		select {
		case <-ticker.C:
		case <-ctx.Done():
			return
		}
		if !send(stamp()) {
			return
		}
	}
}

func stamp() string { return "t" + strconv.FormatInt(time.Now().UnixNano(), 10) + " " }

// stampedProvider is an llm.Provider for our server: the routing call gets "stop"
// (the router falls back to keywords); an agent's call streams s's tokens, then stop.
type stampedProvider struct{ s stampedTokens }

func (p stampedProvider) Info() llm.Info { return llm.Info{Provider: "bench", Model: "bench"} }

func (p stampedProvider) Stream(ctx context.Context, req llm.Request) (iter.Seq[llm.Chunk], error) {
	return func(yield func(llm.Chunk) bool) {
		ok := true
		send := func(c llm.Chunk) bool {
			ok = ok && ctx.Err() == nil && yield(c)
			return ok
		}
		if len(req.Tools) > 0 {
			p.s.run(ctx, func(text string) bool { return send(llm.Chunk{Text: text}) })
		}
		send(llm.Chunk{Done: &llm.Done{FinishReason: llm.FinishStop, Provider: "bench", Model: "bench"}})
	}, nil
}

// bareChat is the bare server's chat: s's tokens as TOKEN events, then DONE.
type bareChat struct{ s stampedTokens }

var _ resolvers.Chat = bareChat{}

func (bareChat) Send(context.Context, models.Actor, chat.Input) (*chat.Reply, error) {
	return nil, models.Errorf(models.CodeBadUserInput, "the bare server only streams")
}

func (bareChat) Agents(context.Context, string) ([]*chat.AgentAccess, error) { return nil, nil }

func (bareChat) Usage(context.Context, string, int) (*models.UsageReport, error) {
	return &models.UsageReport{}, nil
}

func (bareChat) Resume(context.Context, models.Actor, string, int) (<-chan *chat.Event, error) {
	return nil, errors.New("bare chat: not resumable")
}

func (bareChat) Quote(context.Context, models.Actor, chat.Input) (*chat.Quote, error) {
	return &chat.Quote{}, nil
}

func (bareChat) ApproveToolCall(context.Context, string, string, string, bool, json.RawMessage) (*chat.ToolCallApproval, error) {
	return nil, models.Errorf(models.CodeNotFound, "no call waits")
}

func (c bareChat) Chat(ctx context.Context, _ models.Actor, _ chat.Input) (<-chan *chat.Event, error) {
	out := make(chan *chat.Event)
	go func() {
		defer close(out)
		seq := 0
		send := func(e *chat.Event) bool {
			seq++
			e.RunID, e.Seq = "run", seq
			select {
			case out <- e:
				return true
			case <-ctx.Done():
				return false
			}
		}
		c.s.run(ctx, func(text string) bool { return send(&chat.Event{Type: chat.EventToken, Agent: "task", Delta: text}) })
		send(&chat.Event{Type: chat.EventDone, Agent: "task", Done: &chat.Done{FinishReason: llm.FinishStop}})
	}()
	return out, nil
}

// perfServer is one server under test: its URL and the token its clients send.
type perfServer struct {
	name, url, token string
}

// startBareChat serves the bare gqlgen subscription.
func startBareChat(b testing.TB, s stampedTokens) perfServer {
	h := handler.New(resolvers.NewSchema(&resolvers.Resolver{Chat: bareChat{s: s}, Logger: slog.New(slog.DiscardHandler)}))
	h.AddTransport(&transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		InitFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			return models.WithCaller(ctx, models.Caller{UserID: "bench"}), nil, nil
		},
	})
	h.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	ts := httptest.NewServer(h)
	b.Cleanup(ts.Close)
	return perfServer{name: "bare-gqlgen", url: ts.URL, token: "unused"}
}

// startOurChat serves the whole Inkgraph server, its chat answered by s, logging at
// info as JSON to a file.
func startOurChat(b testing.TB, s stampedTokens) perfServer {
	t := &testing.T{} // the helpers' cleanups are the process's
	logFile, err := os.Create(filepath.Join(b.TempDir(), "inkgraph.log"))
	require.NoError(b, err)
	b.Cleanup(func() { _ = logFile.Close() })
	provider := stampedProvider{s: s}
	// The team plan's tokens are unlimited: rounds of 1,000 runs never meet the quota.
	tiers := testkit.NewTiers()
	a := startAppWith(t, testkit.DatabaseURL(t, testkit.SQLite), wiring{
		logger: logging.New(logFile, slog.LevelInfo),
		services: func(svc *inkgraph.Services, db *bun.DB) {
			alwaysRefilled(svc, db) // the rate limit runs and never refuses
			meter, err := metering.NewService(metering.Deps{DB: db, Server: provider, Tiers: tiers})
			require.NoError(b, err)
			// Resumable, as the server's runs are (app.go): every event kept in process.
			c, err := chat.NewService(chat.Deps{Meter: meter, Tiers: tiers,
				Journal: runlog.NewMemory(runlog.Limits{}), ResumeGrace: chat.DefaultResumeGrace})
			require.NoError(b, err)
			svc.Chat = c
		},
	}, func(c *config.Config) {
		c.WSMaxConns, c.WSMaxConnsPerIP, c.WSUpgradesPerMinute = 0, 0, 0
	})
	token, _, userID := a.register(t, "bench-chat-"+testkit.RandomHex(4)+"@example.com")
	tiers.Set(userID, models.TierTeam)
	ts := httptest.NewServer(a.handler)
	b.Cleanup(ts.Close)
	return perfServer{name: "inkgraph", url: ts.URL, token: token}
}

// serverMemory is what the process holds: live heap spans and goroutine stacks
// after a collection, and the resident set.
type serverMemory struct{ inUse, stacks, rss uint64 }

func readServerMemory() serverMemory {
	// A collection shrinks each goroutine stack using under a quarter of it by half:
	// a few show what the sockets hold once they wait, as a server's periodic
	// collections (at least one every two minutes) make it.
	for range 4 {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return serverMemory{inUse: ms.HeapInuse + ms.StackInuse, stacks: ms.StackInuse, rss: measureProcess().rss}
}

// Environment of BenchmarkPerfChatMemory's client process.
const (
	chatClientsURL   = "INKGRAPH_BENCH_CHAT_URL"
	chatClientsToken = "INKGRAPH_BENCH_CHAT_TOKEN"
	chatClientsCount = "INKGRAPH_BENCH_CHAT_COUNT"
)

// chatClients is a client process holding sockets to one server.
type chatClients struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Scanner
}

// startChatClients starts the client process for srv with count sockets and waits
// until they are open and acknowledged.
func startChatClients(b *testing.B, srv perfServer, count int) *chatClients {
	cmd := exec.Command(os.Args[0], "-test.run=^TestChatPerfClients$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), chatClientsURL+"="+srv.url, chatClientsToken+"="+srv.token,
		chatClientsCount+"="+strconv.Itoa(count))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(b, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(b, err)
	require.NoError(b, cmd.Start())
	c := &chatClients{cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout)}
	c.await(b, "connected")
	return c
}

// await reads the process's lines until want.
func (c *chatClients) await(b *testing.B, want string) {
	for c.lines.Scan() {
		switch line := c.lines.Text(); {
		case line == want:
			return
		case strings.HasPrefix(line, "error"):
			b.Fatal(line)
		}
	}
	b.Fatalf("the client process ended before %q", want)
}

// subscribe has every socket start one chat and waits until each has its first token.
func (c *chatClients) subscribe(b *testing.B) {
	_, err := io.WriteString(c.stdin, "subscribe\n")
	require.NoError(b, err)
	c.await(b, "subscribed")
}

// stop closes the sockets and waits for the process.
func (c *chatClients) stop() {
	_ = c.stdin.Close()
	_ = c.cmd.Wait()
}

// TestChatPerfClients is BenchmarkPerfChatMemory's client process, not a test: it
// opens the sockets asked for and says "connected"; on "subscribe" it starts one chat
// on each and says "subscribed" once each has had its first token; it holds them
// until its stdin closes. Without the benchmark's environment it does nothing.
func TestChatPerfClients(t *testing.T) {
	url := os.Getenv(chatClientsURL)
	if url == "" {
		t.Skip("the client process of BenchmarkPerfChatMemory")
	}
	raiseFileLimit(t)
	count, err := strconv.Atoi(os.Getenv(chatClientsCount))
	require.NoError(t, err)
	init, err := json.Marshal(map[string]any{"type": "connection_init",
		"payload": map[string]string{"authorization": "Bearer " + os.Getenv(chatClientsToken)}})
	require.NoError(t, err)
	sub, err := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]string{"query": perfChatQuery}})
	require.NoError(t, err)

	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: time.Minute,
		ReadBufferSize: 512, WriteBufferSize: 512}
	conns := make([]*websocket.Conn, count)
	if err := parallel(count, func(i int) error {
		conn, err := openIdleSocket(&dialer, "ws"+strings.TrimPrefix(url, "http")+"/graphql", init)
		conns[i] = conn
		return err
	}); err != nil {
		fmt.Println("error", err)
		return
	}
	fmt.Println("connected")
	stdin := bufio.NewReader(os.Stdin)
	if line, _ := stdin.ReadString('\n'); line != "subscribe\n" {
		return
	}
	if err := parallel(count, func(i int) error {
		c := conns[i]
		if err := c.WriteMessage(websocket.TextMessage, sub); err != nil {
			return err
		}
		for {
			_ = c.SetReadDeadline(time.Now().Add(time.Minute))
			_, m, err := c.ReadMessage()
			if err != nil {
				return err
			}
			if strings.Contains(string(m), `"TOKEN"`) {
				return nil
			}
			if strings.Contains(string(m), `"error"`) || strings.Contains(string(m), `"complete"`) {
				return fmt.Errorf("socket %d: %s", i, m)
			}
		}
	}); err != nil {
		fmt.Println("error", err)
		return
	}
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Time{})
		go func() { // answer keep-alives; the chats are held, nothing else comes
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	fmt.Println("subscribed")
	_, _ = stdin.ReadString('\n')
	for _, c := range conns {
		_ = c.Close()
	}
}

// parallel runs f for 0..n-1 on 32 goroutines and returns the first error.
func parallel(n int, f func(i int) error) error {
	next := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					errs <- fmt.Errorf("socket %d: %w", i, err)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

// chatSubscriptions is how many chats BenchmarkPerfChatMemory holds open on each
// server, one per socket.
const chatSubscriptions = 10_000

// BenchmarkPerfChatMemory holds 10,000 chat subscriptions open, each after its first
// token (an answer under way), one per socket, on our server and on a bare gqlgen
// subscription, and reports what each costs the server process: heap and stacks per
// socket with its subscription (KiB/sub), per subscription over sockets already open
// (KiB/sub-only), and our server's resident set with all of them open (MB-rss, the
// whole process: the target is 400 MB). The clients run in a separate process,
// neither their memory nor their descriptors counted.
//
//	go test ./internal/api -run '^$' -bench PerfChatMemory -benchtime 1x
func BenchmarkPerfChatMemory(b *testing.B) {
	nofile := raiseFileLimit(b)
	if nofile < chatSubscriptions+500 {
		b.Skipf("RLIMIT_NOFILE hard limit %d: the server needs one descriptor per socket and a few hundred more", nofile)
	}
	productionGC(b)
	held := stampedTokens{held: true}
	servers := []perfServer{startOurChat(b, held), startBareChat(b, held)}
	type figures struct{ perSub, perSubOnly, rss float64 }
	got := map[string][]figures{}
	baseGoroutines := runtime.NumGoroutine()
	for range b.N {
		for _, srv := range servers {
			debug.FreeOSMemory()
			before := readServerMemory()
			clients := startChatClients(b, srv, chatSubscriptions)
			connected := readServerMemory()
			clients.subscribe(b)
			subscribed := readServerMemory()
			goroutines := runtime.NumGoroutine()
			if dir := os.Getenv("INKGRAPH_BENCH_CHAT_PROFILE"); dir != "" {
				// Where the memory goes: go tool pprof -sample_index=inuse_space <name>.heap;
				// and every goroutine's stack (<name>.goroutines), whose depth decides
				// whether the runtime can shrink a waiting goroutine's stack.
				f, err := os.Create(filepath.Join(dir, srv.name+".heap"))
				require.NoError(b, err)
				require.NoError(b, pprof.Lookup("heap").WriteTo(f, 0))
				require.NoError(b, f.Close())
				g, err := os.Create(filepath.Join(dir, srv.name+".goroutines"))
				require.NoError(b, err)
				require.NoError(b, pprof.Lookup("goroutine").WriteTo(g, 2))
				require.NoError(b, g.Close())
			}
			n := float64(chatSubscriptions)
			got[srv.name] = append(got[srv.name], figures{
				perSub:     float64(subscribed.inUse-before.inUse) / n / 1024,
				perSubOnly: float64(subscribed.inUse-connected.inUse) / n / 1024,
				rss:        float64(subscribed.rss) / 1e6,
			})
			b.Logf("%s: in use %d -> %d -> %d B (stacks %d -> %d -> %d), RSS %d -> %d B, %d goroutines", srv.name,
				before.inUse, connected.inUse, subscribed.inUse, before.stacks, connected.stacks, subscribed.stacks,
				before.rss, subscribed.rss, goroutines)
			clients.stop()
			// The next server starts from what this one holds once its sockets are gone.
			for deadline := time.Now().Add(time.Minute); runtime.NumGoroutine() > baseGoroutines+50 && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	median := func(name string, f func(figures) float64) float64 {
		var v []float64
		for _, g := range got[name] {
			v = append(v, f(g))
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	ours := median("inkgraph", func(f figures) float64 { return f.perSub })
	bare := median("bare-gqlgen", func(f figures) float64 { return f.perSub })
	b.ReportMetric(ours, "KiB/sub")
	b.ReportMetric(bare, "bare-KiB/sub")
	b.ReportMetric(ours/bare, "x_bare_KiB")
	b.ReportMetric(median("inkgraph", func(f figures) float64 { return f.perSubOnly }), "KiB/sub-only")
	b.ReportMetric(median("bare-gqlgen", func(f figures) float64 { return f.perSubOnly }), "bare-KiB/sub-only")
	b.ReportMetric(median("inkgraph", func(f figures) float64 { return f.rss }), "MB-rss-10k")
}

// lagStreams and lagTokens: 1,000 chats at once, 100 tokens each (2 s at 50 a second).
const (
	lagStreams = 1000
	lagTokens  = 100
)

// BenchmarkPerfChatLag streams 1,000 chats at once, each on its own socket, at 50
// tokens a second, from our server and from a bare gqlgen subscription in alternate
// rounds, and reports the lag of each token from the moment the provider sent it
// (its stamp, the server's clock) to the moment the client read it: p50 and p99,
// ours, the bare one's and the ratio of the p99s. The clients are in this process
// (the clock is one).
//
//	go test ./internal/api -run '^$' -bench PerfChatLag -benchtime 3x
func BenchmarkPerfChatLag(b *testing.B) {
	raiseFileLimit(b)
	productionGC(b)
	s := stampedTokens{count: lagTokens}
	servers := []perfServer{startOurChat(b, s), startBareChat(b, s)}
	p50, p99 := map[string][]float64{}, map[string][]float64{}
	for range b.N {
		for _, srv := range servers {
			lags := streamLags(b, srv)
			slices.Sort(lags)
			p50[srv.name] = append(p50[srv.name], float64(lags[len(lags)/2].Microseconds())/1000)
			p99[srv.name] = append(p99[srv.name], float64(lags[len(lags)*99/100].Microseconds())/1000)
		}
	}
	median := func(v []float64) float64 {
		v = slices.Clone(v)
		slices.Sort(v)
		return v[len(v)/2]
	}
	var ratios []float64
	for i := range p99["inkgraph"] {
		ratios = append(ratios, p99["inkgraph"][i]/p99["bare-gqlgen"][i])
	}
	b.ReportMetric(median(p50["inkgraph"]), "p50-ms")
	b.ReportMetric(median(p99["inkgraph"]), "p99-ms")
	b.ReportMetric(median(p50["bare-gqlgen"]), "bare-p50-ms")
	b.ReportMetric(median(p99["bare-gqlgen"]), "bare-p99-ms")
	b.ReportMetric(median(ratios), "x_bare_p99")
}

// streamLags opens lagStreams sockets to srv, starts one chat on each and returns
// the lag of every token received.
func streamLags(b *testing.B, srv perfServer) []time.Duration {
	conns := make([]*wsClient, lagStreams)
	require.NoError(b, parallel(lagStreams, func(i int) error {
		conns[i] = dialGraphQLWS(b, srv.url, srv.token)
		return nil
	}))
	var mu sync.Mutex
	var all []time.Duration
	require.NoError(b, parallel(lagStreams, func(i int) error {
		conns[i].subscribe(b, "1", perfChatQuery)
		return nil
	}))
	var wg sync.WaitGroup
	errs := make(chan error, lagStreams)
	for i, ws := range conns {
		wg.Go(func() {
			defer ws.conn.Close()
			lags := make([]time.Duration, 0, lagTokens)
			var seen []string
			for {
				_ = ws.conn.SetReadDeadline(time.Now().Add(time.Minute))
				_, m, err := ws.conn.ReadMessage()
				now := time.Now()
				if err != nil {
					errs <- fmt.Errorf("socket %d: %w", i, err)
					return
				}
				msg := string(m)
				if len(seen) < 5 {
					seen = append(seen, msg)
				}
				if strings.Contains(msg, `"complete"`) {
					break
				}
				if strings.Contains(msg, `"ping"`) {
					continue
				}
				if strings.Contains(msg, `"error"`) {
					errs <- fmt.Errorf("socket %d: %s", i, msg)
					return
				}
				// The delta is read where it stands: the client's decoding is not what is
				// measured, and both servers send the same message.
				_, delta, ok := strings.Cut(msg, `"delta":"`)
				if !ok {
					continue
				}
				delta, _, _ = strings.Cut(delta, `"`)
				// A delta may hold several tokens the sanitizer held back together.
				for _, word := range strings.Fields(delta) {
					if ns, err := strconv.ParseInt(strings.TrimPrefix(word, "t"), 10, 64); err == nil {
						lags = append(lags, now.Sub(time.Unix(0, ns)))
					}
				}
			}
			if len(lags) != lagTokens {
				errs <- fmt.Errorf("socket %d: %d tokens, want %d: %s", i, len(lags), lagTokens, seen)
				return
			}
			mu.Lock()
			all = append(all, lags...)
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	require.NoError(b, <-errs)
	return all
}
