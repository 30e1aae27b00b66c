package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/logging"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// shapeCase is a document whose shape passes one of the default limits: the kinds
// whose validation costs more than their size (a few thousand fields in one set took
// seconds), sized for tests; the benchmark builds the largest the parser admits.
type shapeCase struct {
	name, measure, query string
}

// joined repeats format (with %d for the index) n times.
func joined(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

// doubling is n fragments each spreading the next twice, the last a field: 2^n
// fields in n lines.
func doubling(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on Query { __typename }", n)
	return b.String()
}

func shapeCases() []shapeCase {
	return []shapeCase{
		{"fields in one set", "fieldsPerSelectionSet", "{" + strings.Repeat(" __typename", 500) + "}"},
		{"same-named fields merge their selections", "fieldsPerSelectionSet",
			"{" + strings.Repeat(" p: plans {"+strings.Repeat(" tier", 28)+"}", 50) + "}"},
		{"fragments merge into the set", "fieldsPerSelectionSet",
			"{" + strings.Repeat(" ...F", 20) + "} fragment F on Query {" + joined(20, " t%d: __typename") + "}"},
		{"fragments doubling each other", "fieldsPerSelectionSet",
			"{ ...F0 }" + doubling(12)},
		{"selections", "selections", "{" + joined(16, " p%d: plans {"+strings.Repeat(" tier", 99)+"}") + "}"},
		{"aliases", "aliases", "{" + joined(51, " a%d: __typename") + "}"},
		{"fragment spreads", "fragmentSpreads",
			"{ a: plans {" + strings.Repeat(" ...F", 51) + "} b: plans {" + strings.Repeat(" ...F", 50) + "} } fragment F on Plan { tier }"},
		{"directives", "directives", "{" + strings.Repeat(" __typename @include(if: true)", 51) + "}"},
		{"variables", "variables", "query(" + joined(51, " $v%d: Int") + ") { __typename }"},
		{"aliased __schema", "introspectionFields", "{" + joined(3, " s%d: __schema { types { name } }") + "}"},
		{"the issue's 200 aliased __schema", "fieldsPerSelectionSet", "{" + joined(200, " s%d: __schema { types { name fields { name } } }") + "}"},
	}
}

func TestQueryShapeLimits(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)

	for _, tc := range shapeCases() {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := a.do(t, "", tc.query, nil)
			require.Len(t, errs, 1)
			require.Equal(t, models.CodeQueryTooLarge, errs[0].Extensions["code"], errs[0].Message)
			require.Equal(t, tc.measure, errs[0].Extensions["measure"])
			require.Greater(t, errs[0].Extensions["count"], errs[0].Extensions["limit"])
			require.Contains(t, errs[0].Message, fmt.Sprintf("%v", errs[0].Extensions["limit"]))
		})
	}

	t.Run("a refused mutation stores nothing", func(t *testing.T) {
		users := countRows(t, a.db, "users")
		_, errs := a.do(t, "", "mutation {"+joined(51, ` r%[1]d: register(input: {email: "r%[1]d@example.com", password: "password1"}) { accessToken }`)+"}", nil)
		require.Len(t, errs, 1)
		require.Equal(t, models.CodeQueryTooLarge, errs[0].Extensions["code"])
		require.Equal(t, users, countRows(t, a.db, "users"))
	})

	t.Run("answered as a validation error is", func(t *testing.T) {
		for _, accept := range []string{"application/graphql-response+json", "application/json"} {
			invalid := post(t, a, accept, `{ nope }`)
			tooLarge := post(t, a, accept, shapeCases()[0].query)
			require.Equal(t, invalid.status, tooLarge.status, accept)
			require.Equal(t, "GRAPHQL_VALIDATION_FAILED", invalid.errors[0].Extensions["code"])
			require.Equal(t, models.CodeQueryTooLarge, tooLarge.errors[0].Extensions["code"])
			require.False(t, tooLarge.hasData)
		}
		require.Equal(t, http.StatusBadRequest, post(t, a, "application/graphql-response+json", shapeCases()[0].query).status)
	})

	t.Run("parse errors are still gqlgen's", func(t *testing.T) {
		_, errs := a.do(t, "", `{ plans { tier }`, nil)
		require.Len(t, errs, 1)
		require.Equal(t, "GRAPHQL_PARSE_FAILED", errs[0].Extensions["code"])
	})
}

// TestQueryShapeLimitsAdmitRealOperations: GraphiQL's introspection query (gqlgen's
// copy), cached and not, and each limit's largest document pass (the complexity limit,
// which counts fields too, raised out of the way).
func TestQueryShapeLimitsAdmitRealOperations(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits, func(c *config.Config) { c.MaxQueryComplexity = 1_000_000 })
	for range 2 { // the second is answered from the query cache
		data, errs := a.do(t, "", introspection.Query, nil)
		require.Empty(t, errs)
		require.NotEmpty(t, data["__schema"])
	}
	for _, q := range []string{
		"{" + strings.Repeat(" __typename", 100) + "}",
		"{" + joined(15, " p%d: plans {"+strings.Repeat(" tier", 98)+"}") + "}",
		"{" + joined(50, " a%d: __typename") + "}",
		"{ a: plans {" + strings.Repeat(" ...F", 50) + "} b: plans {" + strings.Repeat(" ...F", 50) + "} } fragment F on Plan { tier }",
		"{" + strings.Repeat(" __typename @include(if: true)", 50) + "}",
		"query(" + joined(50, " $v%d: Boolean!") + ") {" + joined(50, " __typename @include(if: $v%d)") + "}",
		"{" + joined(2, " s%d: __schema { queryType { name } }") + "}",
	} {
		vars := map[string]any{}
		for i := range 50 {
			vars[fmt.Sprintf("v%d", i)] = true
		}
		if !strings.HasPrefix(q, "query(") {
			vars = nil
		}
		_, errs := a.do(t, "", q, vars)
		require.Empty(t, errs, q[:min(len(q), 80)])
	}
}

// BenchmarkQueryShapeRefusals sends the worst document of each shape the body and
// token limits admit through the whole server, logging as production does (JSON at
// the default level, to io.Discard), and reports what each refusal costs. Before the
// limits, 12,000 fields in one set cost about 21 s of validation.
func BenchmarkQueryShapeRefusals(b *testing.B) {
	t := &testing.T{}
	a := startAppWith(t, testkit.DatabaseURL(t, testkit.SQLite),
		wiring{services: alwaysRefilled, logger: logging.New(io.Discard, slog.LevelInfo)})
	const tokens = 15000 // the default parser limit
	for _, tc := range []struct{ name, query string }{
		{"fields", "{" + strings.Repeat(" __typename", tokens-3) + "}"},
		{"aliases", "{" + joined((tokens-3)/3, " a%d: __typename") + "}"},
		{"same-named-merge", "{" + strings.Repeat(" p: plans {"+strings.Repeat(" tier", 100)+"}", (tokens-3)/105) + "}"},
		{"doubling-fragments", "{ ...F0 }" + doubling((tokens-20)/11)},
		{"spreads", "{ plans {" + strings.Repeat(" ...F", (tokens-20)/2) + "} } fragment F on Plan { tier }"},
		{"directives", "{ __typename" + strings.Repeat(" @include(if: true)", (tokens-4)/7) + "}"},
		{"variables", "query(" + joined((tokens-10)/4, " $v%d: Int") + ") { __typename }"},
		{"aliased-__schema", "{" + joined((tokens-3)/17, " s%d: __schema { types { name fields { name type { name } } } }") + "}"},
		{"the-issue's-200-__schema", "{" + joined(200, " s%d: __schema { types { name fields { name type { name } } } }") + "}"},
	} {
		body, err := json.Marshal(map[string]string{"query": tc.query})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			start := processCPU(b)
			for b.Loop() {
				r := postBody(t, a, "application/graphql-response+json", string(body))
				if r.status != http.StatusBadRequest || len(r.errors) == 0 || r.errors[0].Extensions["code"] != models.CodeQueryTooLarge {
					b.Fatalf("not refused: %d %+v", r.status, r.errors)
				}
			}
			// CPU, garbage collection included: what a refusal costs whatever else
			// shares the machine, which ns/op (wall time) does not say.
			b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// post sends query in-process with the Accept header given.
func post(t *testing.T, a *app, accept, query string) answer {
	t.Helper()
	b, err := json.Marshal(map[string]string{"query": query})
	require.NoError(t, err)
	return postBody(t, a, accept, string(b))
}

// postBody sends a GraphQL request body in-process with the Accept header given.
func postBody(t *testing.T, a *app, accept, body string) answer {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	return readAnswer(t, rec.Code, rec.Header(), rec.Body.Bytes())
}

// processCPU is the CPU time the process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
