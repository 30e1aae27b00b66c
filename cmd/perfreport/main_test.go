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
