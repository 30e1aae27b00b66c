package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"github.com/vektah/gqlparser/v2/ast"

	inkgraph "github.com/inkgraph/inkgraph/internal/app"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/gcfloor"
	"github.com/inkgraph/inkgraph/internal/platform/logging"
	"github.com/inkgraph/inkgraph/internal/platform/ratelimit"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
	"github.com/inkgraph/inkgraph/resolvers"
)

// BenchmarkPlansQuery compares one small query through the whole server in process,
// without a network (request ID, metrics, spans with tracing off, the access line
// through the production logger to /dev/null, CORS, body limit, auth, our transport,
// limits, rate limit, loaders) with bare gqlgen and with a plain net/http handler
// writing the same bytes: the CPU and allocations each request costs.
// BenchmarkPerfRequestPath is the figure over real HTTP. Compare the ratios within one
// run: the machines are shared.
func BenchmarkPlansQuery(b *testing.B) {
	const body = `{"query":"{ plans { tier requestsPerMinute } }"}`
	logFile, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(b, err)
	b.Cleanup(func() { _ = logFile.Close() })
	a := startAppWith(b, testkit.DatabaseURL(b, testkit.SQLite),
		wiring{services: alwaysRefilled, logger: logging.New(logFile, slog.LevelInfo)}, productionConfig(b))
	bare := handler.New(resolvers.NewSchema(&resolvers.Resolver{Accounts: a.accounts, Logger: slog.New(slog.DiscardHandler)}))
	bare.AddTransport(transport.POST{})
	bare.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	answer := []byte(`{"data":{"plans":[{"tier":"FREE","requestsPerMinute":20},{"tier":"PRO","requestsPerMinute":60},{"tier":"POWER","requestsPerMinute":120},{"tier":"TEAM","requestsPerMinute":200}]}}`)
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	})
	for _, tc := range []struct {
		name string
		h    http.Handler
		path string
	}{
		{"net-http", plain, "/"},
		{"inkgraph", a.handler, "/graphql"},
		{"bare-gqlgen", bare, "/"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				tc.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkMeQuery is an authenticated query that reads the database: JWT
// verification, the per-operation loader and one primary-key select on SQLite.
func BenchmarkMeQuery(b *testing.B) {
	t := &testing.T{}
	a := startAppWith(t, testkit.DatabaseURL(t, testkit.SQLite), wiring{services: alwaysRefilled})
	access, _, _ := a.register(t, "bench@example.com")
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ me { id email tier } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+access)
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "errors") {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// alwaysRefilled gives the server an in-process limiter whose clock moves on at every
// reading by the tightest tier's emission interval (the free tier's and anonymous
// callers', 3 s at 20 a minute), so every tier's budget is full again at each
// operation of cost one: a benchmark keeps the rate limit's cost in what it measures
// and is never refused. (Operations of a higher cost, mutations of several root
// fields, and a schema budget below 20 a minute would be refused in the end; no
// benchmark runs either.) The limiter sweeps its keys once a minute of its clock,
// every 20 readings here: a step of a whole minute made it sweep at every operation,
// which a server does once a minute.
func alwaysRefilled(svc *inkgraph.Services, _ *bun.DB) {
	var ticks atomic.Int64
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var step time.Duration // the longest interval: the fewest operations a minute
	for _, t := range models.Tiers() {
		step = max(step, time.Minute/time.Duration(models.FeaturesOf(t).RequestsPerMinute))
	}
	svc.Limiter = ratelimit.NewMemory(func() time.Time {
		return start.Add(time.Duration(ticks.Add(1)) * step)
	})
}

// productionGC sets the collector as the server's process does until the benchmark
// ends (cmd/inkgraph: the heap floor of INKGRAPH_GC_HEAP_FLOOR_MIB, its default unless
// the environment sets it; nothing when GOGC is set). The process is the whole
// benchmark's: the baseline it compares with runs under the same collector.
func productionGC(b testing.TB) {
	if os.Getenv("GOGC") != "" {
		return
	}
	const name = "INKGRAPH_GC_HEAP_FLOOR_MIB"
	cfg, err := config.Load(nil, func(k string) string {
		if k == name {
			return os.Getenv(k)
		}
		return ""
	})
	require.NoError(b, err)
	b.Cleanup(gcfloor.Set(cfg.GCHeapFloor))
}
