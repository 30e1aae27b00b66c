package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startTarget is issue 13's start target: ready within 50 ms on an existing data
// directory.
const startTarget = 50 * time.Millisecond

// BenchmarkPerfStart measures the time from start to the first 200 of /readyz on an
// existing data directory (embedded SQLite, default bcrypt cost, the production
// logger, metrics on, tracing off), beside the 50 ms target:
//   - in-process: run(ctx, args, getenv, stdout) called in this process, logs to
//     /dev/null: the command's own work;
//   - exec: the binary, built as the Dockerfile builds it, started as a process, logs
//     to a pipe read line by line: what an operator or orchestrator sees, the
//     runtime's and packages' init included.
//
// A request sent the moment the listener is bound waits in the listen queue until the
// server answers: that moment is ready.
func BenchmarkPerfStart(b *testing.B) {
	dir := b.TempDir()
	vars := map[string]string{"INKGRAPH_DATA_DIR": dir}
	// The first run makes the data directory: database, migrations, secrets.
	first := startServe(b, nil, vars, discardFile(b))
	ready(b, first.addr)
	if err := first.shutdown(b); err != nil {
		b.Fatal(err)
	}

	b.Run("in-process", func(b *testing.B) {
		devnull := discardFile(b)
		var ms []float64
		for b.Loop() {
			start := time.Now()
			s := startServe(b, nil, vars, devnull)
			ready(b, s.addr)
			ms = append(ms, since(start))
			b.StopTimer()
			if err := s.shutdown(b); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		reportStart(b, ms)
	})

	b.Run("exec", func(b *testing.B) {
		// Built as the Dockerfile builds the image's binary: static, stripped.
		bin := filepath.Join(b.TempDir(), "inkgraph")
		build := exec.CommandContext(context.Background(), "go", "build", "-trimpath", "-tags", "timetzdata",
			"-ldflags=-s -w", "-o", bin, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
		var ms []float64
		for b.Loop() {
			start := time.Now()
			cmd, addr := startBinary(b, bin, dir)
			ready(b, addr)
			ms = append(ms, since(start))
			b.StopTimer()
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				b.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				b.Fatalf("inkgraph after SIGTERM: %v", err)
			}
			b.StartTimer()
		}
		reportStart(b, ms)
	})
}

// startBinary starts bin serving dir on free loopback ports and returns once it has
// logged the address it listens on.
func startBinary(b *testing.B, bin, dir string) (*exec.Cmd, string) {
	b.Helper()
	cmd := exec.CommandContext(context.Background(), bin, "--data-dir", dir, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "INKGRAPH_LOG_LEVEL=info")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if !strings.Contains(lines.Text(), `"msg":"listening"`) {
			continue
		}
		var line struct {
			Addr string `json:"addr"`
		}
		if err := json.Unmarshal(lines.Bytes(), &line); err != nil {
			b.Fatal(err)
		}
		// The rest of the log is read (and dropped) so the process never blocks on it.
		go func() {
			for lines.Scan() {
			}
		}()
		return cmd, line.Addr
	}
	_ = cmd.Wait()
	b.Fatalf("inkgraph ended without listening: %v", lines.Err())
	return nil, ""
}

// ready asks addr's /readyz once, on a fresh connection as a probe would: sent the
// moment the listener is bound, it waits in the listen queue until the server serves,
// which is after migrations, so it must answer 200.
func ready(b *testing.B, addr string) {
	b.Helper()
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if status, body := get(b, c, "http://"+addr+"/readyz"); status != http.StatusOK {
		b.Fatalf("/readyz answered %d: %s", status, body)
	}
}

// reportStart reports the median and 90th percentile time to ready beside the target.
func reportStart(b *testing.B, ms []float64) {
	slices.Sort(ms)
	p50, p90 := ms[len(ms)/2], ms[len(ms)*9/10]
	target := float64(startTarget) / float64(time.Millisecond)
	b.ReportMetric(p50, "ms_to_ready_p50")
	b.ReportMetric(p90, "ms_to_ready_p90")
	b.ReportMetric(target, "target_ms")
	b.ReportMetric(p50/target, "x_target")
}

func since(t time.Time) float64 { return float64(time.Since(t)) / float64(time.Millisecond) }

// discardFile is /dev/null opened for writing: the logger's real JSON handler writes
// to a real file.
func discardFile(b *testing.B) *os.File {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	return f
}
