package api_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/logging"
	"github.com/inkgraph/inkgraph/internal/platform/tracing"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/resolvers"
)

// Request-path benchmark shape: 32 keep-alive connections a side, 40 interleaved
// rounds of 250 ms a side (short rounds: on a shared machine the neighbours' load
// comes and goes within seconds, and a ratio taken over adjacent short windows sees
// the same load on both sides).
const (
	requestPathConns  = 32
	requestPathRounds = 40
	requestPathRound  = 250 * time.Millisecond
)

// BenchmarkPerfRequestPath measures what the whole request path costs against bare
// gqlgen, over real HTTP on loopback, with 32 concurrent keep-alive connections
// sending the same cheap query (`{ plans { tier } }`, no database): requests per
// second of each side and their ratio (x_bare_rps, the median of the rounds' ratios;
// the target is at least 0.9).
//
// Bare is gqlgen's handler.New over the same schema with only the POST transport and
// an LRU query cache (as gqlgen's NewDefaultServer has), no middleware. Inkgraph is
// api.New as production runs it: configuration from config.Load with
// INKGRAPH_ENV=production and its secrets, the production logger (logging.New, JSON,
// info) writing to a real file (/dev/null opened as one: every access line is
// formatted and written), rate limits on (an in-process limiter that never refuses,
// so its cost stays in), metrics on, tracing set up without OTEL variables (off),
// and the collector's heap floor as the binary sets it (for the process: both sides).
//
// The rounds run each side in turn for 250 ms, 40 times, so drift on a shared machine
// touches both, and the figures are medians over the rounds; the clients are raw
// HTTP/1.1 writers and readers on connections opened once, so that as little as
// possible of the machine goes to them. b.N is not used: one run is the whole
// measurement, whatever -benchtime says; ns/op reports Inkgraph's side.
func BenchmarkPerfRequestPath(b *testing.B) {
	const body = `{"query":"{ plans { tier } }"}`
	const answer = `{"data":{"plans":[{"tier":"FREE"},{"tier":"PRO"},{"tier":"POWER"},{"tier":"TEAM"}]}}`
	productionGC(b)

	shutdown, err := tracing.Setup(context.Background(), func(string) string { return "" }, "bench")
	require.NoError(b, err)
	b.Cleanup(func() { _ = shutdown(context.Background()) })

	logFile, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(b, err)
	b.Cleanup(func() { _ = logFile.Close() })
	url := testkit.DatabaseURL(b, testkit.SQLite)
	a := startAppWith(b, url, wiring{services: alwaysRefilled, logger: logging.New(logFile, slog.LevelInfo)},
		productionConfig(b))
	require.True(b, a.cfg.Production)
	require.True(b, a.cfg.RateLimits)

	bare := handler.New(resolvers.NewSchema(&resolvers.Resolver{Accounts: a.accounts, Logger: slog.New(slog.DiscardHandler)}))
	bare.AddTransport(transport.POST{})
	bare.SetQueryCache(lru.New[*ast.QueryDocument](1000))

	sides := []struct {
		name  string
		addr  string
		conns []*benchConn
	}{
		{name: "bare-gqlgen", addr: serveLoopback(b, bare)},
		{name: "inkgraph", addr: serveLoopback(b, a.handler)},
	}
	for i := range sides {
		s := &sides[i]
		// The answer is the same on both sides, and right (ours adds its limits in
		// extensions).
		got, status := postOnce(b, s.addr, body)
		require.Equal(b, http.StatusOK, status, got)
		require.JSONEq(b, answer, withoutExtensions(b, []byte(got)), s.name)
		s.conns = dialConns(b, s.addr)
		// Warm up: connections, caches, pools.
		hammer(b, s.conns, postRequest(s.addr, body), time.Second)
	}

	var bareRPS, oursRPS, ratios []float64
	for range requestPathRounds {
		nb := hammer(b, sides[0].conns, postRequest(sides[0].addr, body), requestPathRound)
		no := hammer(b, sides[1].conns, postRequest(sides[1].addr, body), requestPathRound)
		rb, ro := float64(nb)/requestPathRound.Seconds(), float64(no)/requestPathRound.Seconds()
		bareRPS, oursRPS, ratios = append(bareRPS, rb), append(oursRPS, ro), append(ratios, ro/rb)
	}
	b.ReportMetric(median(bareRPS), "bare_req/s")
	b.ReportMetric(median(oursRPS), "req/s")
	b.ReportMetric(median(ratios), "x_bare_rps")
	b.ReportMetric(1e9/median(oursRPS), "ns/op")
	b.Logf("rounds: bare %v req/s; inkgraph %v req/s", rounded(bareRPS), rounded(oursRPS))
}

// productionConfig replaces the test configuration with config.Load's production one
// (the same database and directories).
func productionConfig(b testing.TB) func(*config.Config) {
	return func(c *config.Config) {
		env := map[string]string{
			"INKGRAPH_ENV":                "production",
			"DATABASE_URL":                c.Database.URL,
			"INKGRAPH_DATA_DIR":           b.TempDir(),
			"INKGRAPH_JWT_SECRET":         string(testSecret),
			"INKGRAPH_KEYRING":            testKeyring,
			"INKGRAPH_BACKUP_DIR":         c.BackupDir,
			"INKGRAPH_BACKUP_SIGNING_KEY": string(c.BackupSigningKey),
		}
		prod, err := config.Load(nil, func(k string) string { return env[k] })
		require.NoError(b, err)
		*c = prod
	}
}

// serveLoopback serves h on 127.0.0.1 until the benchmark ends and returns the address.
func serveLoopback(b testing.TB, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = hs.Serve(ln) }()
	b.Cleanup(func() { _ = hs.Close() })
	return ln.Addr().String()
}

// postRequest is one HTTP/1.1 POST of body to /graphql, on a kept-alive connection.
func postRequest(addr, body string) []byte {
	return fmt.Appendf(nil, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: %d\r\n\r\n%s",
		addr, len(body), body)
}

// postOnce sends body once and returns the answer and its status.
func postOnce(b testing.TB, addr, body string) (string, int) {
	conn, err := net.Dial("tcp", addr)
	require.NoError(b, err)
	defer func() { _ = conn.Close() }()
	_, err = conn.Write(postRequest(addr, body))
	require.NoError(b, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(b, err)
	got, err := io.ReadAll(resp.Body)
	require.NoError(b, err)
	return string(got), resp.StatusCode
}

// benchConn is one keep-alive client connection.
type benchConn struct {
	conn net.Conn
	br   *bufio.Reader
}

// dialConns opens requestPathConns connections to addr, closed when the benchmark ends.
func dialConns(b testing.TB, addr string) []*benchConn {
	conns := make([]*benchConn, requestPathConns)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		require.NoError(b, err)
		b.Cleanup(func() { _ = c.Close() })
		conns[i] = &benchConn{conn: c, br: bufio.NewReaderSize(c, 4096)}
	}
	return conns
}

// hammer sends req on every connection, each waiting for its answer before the next
// request, for d, and returns how many answers came back (each a 200).
func hammer(b testing.TB, conns []*benchConn, req []byte, d time.Duration) int64 {
	var done atomic.Int64
	var failed atomic.Pointer[error]
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			if err := c.run(req, stop, &done); err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	return done.Load()
}

// run sends req until stop.
func (c *benchConn) run(req []byte, stop time.Time, done *atomic.Int64) error {
	for time.Now().Before(stop) {
		if _, err := c.conn.Write(req); err != nil {
			return err
		}
		resp, err := http.ReadResponse(c.br, nil)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return errors.New("status " + resp.Status)
		}
		done.Add(1)
	}
	return nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func rounded(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.0f", x)
	}
	return strings.Join(parts, " ")
}

// BenchmarkRequestPathInProcess is BenchmarkPerfRequestPath's comparison without the
// network: blocks of 100 requests to each side in turn (so a shared machine's noise
// falls on both), timed by the wall clock and by the process's CPU time (which
// neighbours' load does not inflate; it includes the collector's work the requests
// cause). It reports each side's time per request and Inkgraph's over bare gqlgen's
// (x_bare_time, x_bare_cpu), and each side's heap allocations per request. b.N
// counts requests to each side.
func BenchmarkRequestPathInProcess(b *testing.B) {
	const body = `{"query":"{ plans { tier } }"}`
	const block = 100
	productionGC(b)
	logFile, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(b, err)
	b.Cleanup(func() { _ = logFile.Close() })
	a := startAppWith(b, testkit.DatabaseURL(b, testkit.SQLite),
		wiring{services: alwaysRefilled, logger: logging.New(logFile, slog.LevelInfo)}, productionConfig(b))
	bare := handler.New(resolvers.NewSchema(&resolvers.Resolver{Accounts: a.accounts, Logger: slog.New(slog.DiscardHandler)}))
	bare.AddTransport(transport.POST{})
	bare.SetQueryCache(lru.New[*ast.QueryDocument](1000))

	var mem runtime.MemStats
	mallocs := func() uint64 {
		runtime.ReadMemStats(&mem)
		return mem.Mallocs
	}
	var bareAllocs, oursAllocs uint64
	run := func(h http.Handler, n int) (wall, cpu time.Duration) {
		startCPU, start := processCPU(b), time.Now()
		for range n {
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
		return time.Since(start), processCPU(b) - startCPU
	}
	run(bare, block)
	run(a.handler, block)
	b.ResetTimer()
	var bareWall, bareCPU, oursWall, oursCPU time.Duration
	for done := 0; done < b.N; done += block {
		n := min(block, b.N-done)
		m := mallocs()
		w, c := run(bare, n)
		bareWall, bareCPU = bareWall+w, bareCPU+c
		m2 := mallocs()
		w, c = run(a.handler, n)
		oursWall, oursCPU = oursWall+w, oursCPU+c
		bareAllocs, oursAllocs = bareAllocs+m2-m, oursAllocs+mallocs()-m2
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
	b.ReportMetric(per(bareWall), "bare-ns/req")
	b.ReportMetric(per(oursWall), "ns/req")
	b.ReportMetric(per(bareCPU), "bare-cpu-ns/req")
	b.ReportMetric(per(oursCPU), "cpu-ns/req")
	b.ReportMetric(float64(oursWall)/float64(bareWall), "x_bare_time")
	b.ReportMetric(float64(oursCPU)/float64(bareCPU), "x_bare_cpu")
	// Heap allocations per request on each side, the client's request and recorder
	// included (the same on both).
	b.ReportMetric(float64(bareAllocs)/float64(b.N), "bare-allocs/req")
	b.ReportMetric(float64(oursAllocs)/float64(b.N), "allocs/req")
}
