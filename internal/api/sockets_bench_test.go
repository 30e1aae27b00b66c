package api_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// idleSockets is how many authenticated graphql-transport-ws sockets the benchmark holds.
const idleSockets = 10_000

// Environment of the client subprocess of BenchmarkIdleSockets.
const (
	socketClientsURL   = "INKGRAPH_BENCH_SOCKETS_URL"
	socketClientsToken = "INKGRAPH_BENCH_SOCKETS_TOKEN"
	socketClientsCount = "INKGRAPH_BENCH_SOCKETS_COUNT"
)

// BenchmarkIdleSockets holds 10,000 idle authenticated graphql-transport-ws sockets on
// one server over loopback and reports what they cost the server process: heap and RSS
// per socket, goroutines per socket and the file descriptors open (the file limit the
// server needs). The clients run in a subprocess (TestIdleSocketClients), so that
// neither their memory nor their descriptors are counted, and so that each process
// needs only one descriptor per socket. Past INKGRAPH_WS_MAX_CONNS (set to exactly
// 10,000 here) the next handshake is refused with 503. Run it once:
//
//	go test ./internal/api -run '^$' -bench IdleSockets -benchtime 1x
func BenchmarkIdleSockets(b *testing.B) {
	nofile := raiseFileLimit(b)
	if nofile < idleSockets+500 {
		b.Skipf("RLIMIT_NOFILE hard limit %d: the server needs one descriptor per socket and a few hundred more", nofile)
	}
	a := newApp(b, testkit.SQLite, withoutRateLimits, func(c *config.Config) {
		c.WSMaxConns = idleSockets
		c.WSMaxConnsPerIP, c.WSUpgradesPerMinute = 0, 0
		c.KeepAlive = time.Minute // the keep-alive's cost is not what is measured
	})
	token, _, _ := a.register(b, "sockets@example.com")
	ts := serve(b, a)

	before := measureProcess()
	clients := exec.Command(os.Args[0], "-test.run=^TestIdleSocketClients$", "-test.bench=^$")
	clients.Env = append(os.Environ(),
		socketClientsURL+"="+ts.URL, socketClientsToken+"="+token, socketClientsCount+"="+strconv.Itoa(idleSockets))
	clients.Stderr = os.Stderr
	stdin, err := clients.StdinPipe()
	require.NoError(b, err)
	stdout, err := clients.StdoutPipe()
	require.NoError(b, err)
	start := time.Now()
	require.NoError(b, clients.Start())
	defer func() {
		_ = stdin.Close() // the clients exit when their stdin closes
		_ = clients.Wait()
	}()
	ready := false
	for scanner := bufio.NewScanner(stdout); scanner.Scan(); {
		if line := scanner.Text(); line == "ready" {
			ready = true
			break
		} else if strings.HasPrefix(line, "error") {
			b.Fatal(line)
		}
	}
	require.True(b, ready, "the clients opened their sockets")
	opened := time.Since(start)
	after := measureProcess()

	// One more is past the maximum: a clear refusal before the upgrade.
	status, header, body := handshakeTB(b, ts.URL)
	require.Equal(b, http.StatusServiceUnavailable, status, body)
	require.NotEmpty(b, header.Get("Retry-After"))

	n := float64(idleSockets)
	b.ReportMetric(float64(after.heap-before.heap)/n, "heap-B/socket")
	b.ReportMetric(float64(after.rss-before.rss)/n, "rss-B/socket")
	b.ReportMetric(float64(after.goroutines-before.goroutines)/n, "goroutines/socket")
	b.ReportMetric(float64(after.fds), "fds")
	b.ReportMetric(float64(nofile), "nofile-limit")
	b.ReportMetric(opened.Seconds(), "s-to-open")
	b.Logf("%d sockets: heap %d -> %d B, RSS %d -> %d B, goroutines %d -> %d, fds %d -> %d (limit %d), opened in %s",
		idleSockets, before.heap, after.heap, before.rss, after.rss, before.goroutines, after.goroutines,
		before.fds, after.fds, nofile, opened.Round(time.Millisecond))
}

// handshakeTB is handshake for a benchmark: one anonymous graphql-transport-ws handshake.
func handshakeTB(tb testing.TB, serverURL string) (int, http.Header, string) {
	tb.Helper()
	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	conn, resp, err := dialer.Dial("ws"+strings.TrimPrefix(serverURL, "http")+"/graphql", nil)
	if err == nil {
		_ = conn.Close()
		return resp.StatusCode, resp.Header, ""
	}
	require.NotNil(tb, resp, "refused with an HTTP response: %v", err)
	defer resp.Body.Close()
	var sb strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&sb)
	return resp.StatusCode, resp.Header, sb.String()
}

// TestIdleSocketClients is BenchmarkIdleSockets' client process, not a test: it opens
// the sockets the benchmark asks for, authenticates each, says "ready" and holds them
// until its stdin closes. Without the benchmark's environment it does nothing.
func TestIdleSocketClients(t *testing.T) {
	url := os.Getenv(socketClientsURL)
	if url == "" {
		t.Skip("the client process of BenchmarkIdleSockets")
	}
	raiseFileLimit(t)
	count, err := strconv.Atoi(os.Getenv(socketClientsCount))
	require.NoError(t, err)
	init, err := json.Marshal(map[string]any{"type": "connection_init",
		"payload": map[string]string{"authorization": "Bearer " + os.Getenv(socketClientsToken)}})
	require.NoError(t, err)

	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: time.Minute}
	conns := make([]*websocket.Conn, count)
	errs := make(chan error, count)
	next := make(chan int)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := range next {
				conn, err := openIdleSocket(&dialer, "ws"+strings.TrimPrefix(url, "http")+"/graphql", init)
				if err != nil {
					errs <- fmt.Errorf("socket %d: %w", i, err)
					continue
				}
				conns[i] = conn
			}
		})
	}
	for i := range count {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		fmt.Println("error", err)
		return
	}
	// Answer the server's keep-alive pings while idle: a socket that stops answering
	// would be dropped, and the benchmark is about live ones.
	for _, c := range conns {
		go func() {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	for _, c := range conns {
		_ = c.Close()
	}
}

// openIdleSocket dials and authenticates one socket.
func openIdleSocket(dialer *websocket.Dialer, url string, init []byte) (*websocket.Conn, error) {
	conn, _, err := dialer.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	if err := conn.WriteMessage(websocket.TextMessage, init); err != nil {
		conn.Close()
		return nil, err
	}
	var ack struct {
		Type string `json:"type"`
	}
	if err := conn.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		conn.Close()
		return nil, fmt.Errorf("no connection_ack (%q): %w", ack.Type, err)
	}
	return conn, nil
}

// raiseFileLimit raises the soft RLIMIT_NOFILE to the hard one and returns it.
func raiseFileLimit(tb testing.TB) uint64 {
	tb.Helper()
	var lim syscall.Rlimit
	require.NoError(tb, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	lim.Cur = lim.Max
	require.NoError(tb, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
	return lim.Max
}

// processFigures are what the process holds at one moment.
type processFigures struct {
	heap, rss       uint64
	goroutines, fds int
}

// measureProcess collects garbage and reads the live heap, the resident set (from
// /proc), goroutines and open file descriptors.
func measureProcess() processFigures {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	f := processFigures{heap: ms.HeapAlloc, goroutines: runtime.NumGoroutine()}
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.SplitSeq(string(status), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				f.rss = kb * 1024
			}
		}
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		f.fds = len(fds)
	}
	return f
}
