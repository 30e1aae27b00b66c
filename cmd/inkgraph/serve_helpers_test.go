package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

// listenWatch passes the command's log on to w and reports the addresses its
// listeners bound (the "listening" and "admin listener" lines), so tests can serve
// on port 0.
type listenWatch struct {
	w             io.Writer
	public, admin chan string
}

func newListenWatch(w io.Writer) *listenWatch {
	return &listenWatch{w: w, public: make(chan string, 1), admin: make(chan string, 1)}
}

func (l *listenWatch) Write(p []byte) (int, error) {
	// One write may hold several lines (access lines are written in batches).
	for text := range bytes.Lines(p) {
		if !bytes.Contains(text, []byte(`"msg":"listening"`)) && !bytes.Contains(text, []byte(`"msg":"admin listener"`)) {
			continue
		}
		var line struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(text, &line) == nil {
			to := l.public
			if line.Msg == "admin listener" {
				to = l.admin
			}
			select {
			case to <- line.Addr:
			default:
			}
		}
	}
	return l.w.Write(p)
}

// served is a command started by startServe.
type served struct {
	addr, admin string // admin is "" without an admin listener
	done        chan error
	stop        context.CancelFunc
}

// startServe runs the command with args and vars (INKGRAPH_ADDR and
// INKGRAPH_ADMIN_ADDR default to 127.0.0.1:0) until its public listener is bound; the
// server answers once it is ready. logs gets the command's output.
func startServe(t testing.TB, args []string, vars map[string]string, logs io.Writer) *served {
	t.Helper()
	env := map[string]string{"INKGRAPH_ADDR": "127.0.0.1:0", "INKGRAPH_ADMIN_ADDR": "127.0.0.1:0"}
	for k, v := range vars {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	watch := newListenWatch(logs)
	s := &served{done: make(chan error, 1), stop: cancel}
	go func() { s.done <- run(ctx, args, func(k string) string { return env[k] }, watch) }()
	select {
	case s.addr = <-watch.public:
	case err := <-s.done:
		cancel()
		t.Fatalf("serve ended before listening: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("serve did not listen within 20 s")
	}
	if env["INKGRAPH_ADMIN_ADDR"] != "off" {
		s.admin = <-watch.admin // logged before "listening"
	}
	return s
}

// shutdown cancels the command's context and returns what run returned.
func (s *served) shutdown(t testing.TB) error {
	t.Helper()
	s.stop()
	select {
	case err := <-s.done:
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return after cancel")
		return nil
	}
}

// get GETs url with c and returns the status and body.
func get(t testing.TB, c *http.Client, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}
