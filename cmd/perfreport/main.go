// Command perfreport runs the performance benchmarks (the BenchmarkPerf* of issue 13:
// each measures Inkgraph and its baseline side by side, interleaved, in one run) and
// prints every figure beside its baseline, the ratio and the target:
//
//	go run ./cmd/perfreport            # the whole table, about ten minutes
//	go run ./cmd/perfreport -only chat # the rows whose benchmark name contains "chat"
//
// It runs `go test -run '^$' -bench …` in the module, one benchmark at a time with the
// -benchtime each needs, and reads the metrics they report. Nothing is measured here:
// the benchmarks are the measurement, and `go test -bench` runs them the same way.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
)

// bench is one benchmark run: its package, name pattern and -benchtime.
type bench struct {
	pkg, name, benchtime string
}

// benches are run in this order.
var benches = []bench{
	{"./cmd/inkgraph", "BenchmarkPerfStart", "20x"},
	{"./internal/platform/database", "BenchmarkPerfBunPK", "20000x"},
	{"./internal/api", "BenchmarkPerfRequestPath", "1x"},
	{"./internal/api", "BenchmarkPerfSummary", "1000x"},
	{"./internal/api", "BenchmarkPerfChatLag", "3x"},
	{"./internal/api", "BenchmarkPerfChatMemory", "1x"},
}

// row is one line of the table: a figure of a (sub-)benchmark, its baseline and the
// ratio as metric units, and the target the ratio (or, with no ratio, the figure) is
// held to; a target of zero marks a row that explains another and is held to none.
type row struct {
	figure, bench, ours, baseline, ratio string
	target                               float64
	atMost                               bool // the target is a maximum (else a minimum)
}

var rows = []row{
	{"start to /readyz, in-process p50 (ms)", "BenchmarkPerfStart/in-process", "ms_to_ready_p50", "target_ms", "x_target", 1, true},
	{"start to /readyz, exec p50 (ms)", "BenchmarkPerfStart/exec", "ms_to_ready_p50", "target_ms", "x_target", 1, true},
	{"Bun primary-key select vs pgxpool (ns)", "BenchmarkPerfBunPK", "bun-ns", "pgx-ns", "x_pgx", 1.5, true},
	{"Bun primary-key select, value bound, vs pgxpool (ns)", "BenchmarkPerfBunPK", "bun-bound-ns", "pgx-ns", "x_pgx_bound", 1.5, true},
	// Bun's own share of the first row's gap: pgx in the protocol Bun runs in.
	{"Bun primary-key select vs pgxpool, both simple protocol (ns)", "BenchmarkPerfBunPK", "bun-ns", "pgx-simple-ns", "x_pgx_simple", 0, true},
	{"request path, 32 connections (req/s) vs bare gqlgen", "BenchmarkPerfRequestPath", "req/s", "bare_req/s", "x_bare_rps", 0.9, false},
	{"summary statements, 1 persona", "BenchmarkPerfSummary/personas=1", "statements/req", "pgx-statements/req", "", 5, true},
	{"summary statements, 50 personas", "BenchmarkPerfSummary/personas=50", "statements/req", "pgx-statements/req", "", 5, true},
	{"summary c=1 p50 (µs), 1 persona", "BenchmarkPerfSummary/personas=1", "p50-µs", "pgx-p50-µs", "x_pgx_p50", 1.3, true},
	{"summary c=1 p50 (µs), 50 personas", "BenchmarkPerfSummary/personas=50", "p50-µs", "pgx-p50-µs", "x_pgx_p50", 1.3, true},
	{"summary p99 / p50 (pgx's own beside it), 1 persona", "BenchmarkPerfSummary/personas=1", "p99_per_p50", "pgx-p99_per_p50", "", 3, true},
	{"summary p99 / p50 (pgx's own beside it), 50 personas", "BenchmarkPerfSummary/personas=50", "p99_per_p50", "pgx-p99_per_p50", "", 3, true},
	{"summary 8 clients (req/s), 1 persona", "BenchmarkPerfSummary/personas=1", "c8-req/s", "pgx-c8-req/s", "x_pgx_c8", 0.6, false},
	{"summary 8 clients (req/s), 50 personas", "BenchmarkPerfSummary/personas=50", "c8-req/s", "pgx-c8-req/s", "x_pgx_c8", 0.6, false},
	{"summary allocations per request, 1 persona", "BenchmarkPerfSummary/personas=1", "allocs/req", "pgx-allocs/req", "x_pgx_allocs", 2, true},
	{"summary allocations per request, 50 personas", "BenchmarkPerfSummary/personas=50", "allocs/req", "pgx-allocs/req", "x_pgx_allocs", 2, true},
	{"chat token lag p99 (ms), 1,000 streams × 50/s, vs bare gqlgen", "BenchmarkPerfChatLag", "p99-ms", "bare-p99-ms", "x_bare_p99", 1, true},
	{"chat memory per subscription (KiB) vs bare gqlgen", "BenchmarkPerfChatMemory", "KiB/sub-only", "bare-KiB/sub-only", "", 24, true},
	{"server RSS at 10,000 chat subscriptions (MB)", "BenchmarkPerfChatMemory", "MB-rss-10k", "", "", 400, true},
}

func main() {
	only := flag.String("only", "", "run only the benchmarks whose name contains this (case-insensitive)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *only, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "perfreport:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, only string, stdout, progress io.Writer) error {
	metrics := map[string]map[string]float64{}
	for _, b := range benches {
		if only != "" && !strings.Contains(strings.ToLower(b.name), strings.ToLower(only)) {
			continue
		}
		fmt.Fprintf(progress, "running %s (%s, -benchtime %s)\n", b.name, b.pkg, b.benchtime)
		cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^"+b.name+"$", "-benchtime", b.benchtime, b.pkg)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w\n%s", b.name, err, out.String())
		}
		for name, m := range parse(&out) {
			metrics[name] = m
		}
	}
	fmt.Fprintf(stdout, "machine: %d CPUs, %s/%s, %s\n\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	return writeTable(stdout, metrics)
}

// writeTable writes the rows whose benchmark ran, from its metrics.
func writeTable(w io.Writer, metrics map[string]map[string]float64) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tinkgraph\tbaseline\tratio\ttarget (of the ratio, else the figure)\tmet")
	for _, r := range rows {
		m, ok := metrics[r.bench]
		if !ok {
			continue
		}
		held := m[r.ratio]
		if r.ratio == "" {
			held = m[r.ours]
		}
		target, met := "≥ "+num(r.target), yesNo(held >= r.target)
		switch {
		case r.target == 0:
			target, met = "—", "—"
		case r.atMost:
			target, met = "≤ "+num(r.target), yesNo(held <= r.target)
		}
		ratio := "—"
		if r.ratio != "" {
			ratio = num(m[r.ratio]) + "x"
		}
		baseline := "—"
		if r.baseline != "" {
			baseline = num(m[r.baseline])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.figure, num(m[r.ours]), baseline, ratio, target, met)
	}
	return tw.Flush()
}

// parse reads `go test -bench` output: each result line's name (without the -CPUS
// suffix) and its metrics by unit.
func parse(r io.Reader) map[string]map[string]float64 {
	results := map[string]map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		m := map[string]float64{}
		// f[1] is the iteration count; then value, unit pairs.
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			m[f[i+1]] = v
		}
		results[name] = m
	}
	return results
}

func num(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
