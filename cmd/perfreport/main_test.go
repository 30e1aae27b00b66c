package main

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	out := `goos: linux
BenchmarkPerfSummary/personas=1-2         	    1000	   1500000 ns/op	         5.000 statements/req	         2.50 x_pgx_p50
BenchmarkPerfBunPK-2   	   20000	     51000 ns/op	     51000 bun-ns	     27000 pgx-ns	         1.89 x_pgx
PASS
`
	got := parse(strings.NewReader(out))
	if v := got["BenchmarkPerfSummary/personas=1"]["x_pgx_p50"]; v != 2.5 {
		t.Fatalf("x_pgx_p50 = %v, want 2.5 (%v)", v, got)
	}
	if v := got["BenchmarkPerfBunPK"]["pgx-ns"]; v != 27000 {
		t.Fatalf("pgx-ns = %v, want 27000 (%v)", v, got)
	}
	if len(got) != 2 {
		t.Fatalf("want 2 results, got %v", got)
	}
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	err := writeTable(&out, map[string]map[string]float64{
		"BenchmarkPerfBunPK": {"bun-ns": 150, "bun-bound-ns": 120, "pgx-ns": 100, "pgx-simple-ns": 140,
			"x_pgx": 1.5, "x_pgx_bound": 1.2, "x_pgx_simple": 1.07},
		"BenchmarkPerfRequestPath": {"req/s": 85, "bare_req/s": 100, "x_bare_rps": 0.85},
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(out.String()), "\n") {
		figure, _, _ := strings.Cut(line, "  ")
		lines[figure] = strings.Join(strings.Fields(line), " ")
	}
	if len(lines) != 5 { // the header and the four rows of the two benchmarks
		t.Fatalf("want 5 lines:\n%s", out.String())
	}
	for figure, want := range map[string]string{
		"Bun primary-key select vs pgxpool (ns)":                       "150 100 1.50x ≤ 1.50 yes",
		"Bun primary-key select, value bound, vs pgxpool (ns)":         "120 100 1.20x ≤ 1.50 yes",
		"Bun primary-key select vs pgxpool, both simple protocol (ns)": "150 140 1.07x — —",
		"request path, 32 connections (req/s) vs bare gqlgen":          "85.0 100 0.85x ≥ 0.90 no",
	} {
		if !strings.HasSuffix(lines[figure], want) {
			t.Errorf("%s: got %q, want it to end %q", figure, lines[figure], want)
		}
	}
}
