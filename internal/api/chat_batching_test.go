package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
)

// batchingQuery is the chat the batching tests read: a long answer, asked for by name.
const batchingQuery = `subscription { chat(input: {message: "a long answer please"}) { runId seq type agent delta done { response } } }`

// longAnswer is n distinct words, one delta each from the fake LLM.
func longAnswer(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "w%d ", i)
	}
	return b.String()
}

// newLongLLM is the chat tests' fake LLM, answering "a long answer please" with answer.
func newLongLLM(t testing.TB, answer string) *chatLLM {
	t.Helper()
	llmSrv := newChatLLM(t)
	reply := llmSrv.Reply
	llmSrv.Reply = func(req fakellm.Request) fakellm.Response {
		if len(req.Body.Tools) > 0 && strings.Contains(req.Body.Messages[len(req.Body.Messages)-1].Content, "long answer") {
			return fakellm.Response{Content: answer}
		}
		return reply(req)
	}
	return llmSrv
}

// dialSlowReader is dialGraphQLWS over a socket whose receive buffer is small, so
// that a client that does not read backs the server's writes up soon.
func dialSlowReader(t testing.TB, serverURL, token string) *wsClient {
	t.Helper()
	dialer := websocket.Dialer{
		Subprotocols: []string{"graphql-transport-ws"},
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				err = c.(*net.TCPConn).SetReadBuffer(4 << 10)
			}
			return c, err
		},
	}
	conn, resp, err := dialer.Dial("ws"+strings.TrimPrefix(serverURL, "http")+"/graphql", nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	require.NoError(t, err, "%v", resp)
	t.Cleanup(func() { _ = conn.Close() })
	c := &wsClient{conn: conn}
	init, err := json.Marshal(map[string]string{"authorization": "Bearer " + token})
	require.NoError(t, err)
	c.write(t, wsMessage{Type: "connection_init", Payload: init})
	require.Equal(t, "connection_ack", c.next(t).Type)
	return c
}

// serveSmallBuffers is serve with the server's socket send buffers small, as
// dialSlowReader's receive buffer: a client that stops reading backs the server's
// writes up after some kilobytes, not the megabytes loopback sockets would take.
func serveSmallBuffers(t testing.TB, a *app) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(a.handler)
	ts.Listener = smallBuffers{ts.Listener}
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		err = c.(*net.TCPConn).SetWriteBuffer(4 << 10)
	}
	return c, err
}

// batchedRun is what a client read of one chat.
type batchedRun struct {
	frames int    // TOKEN messages
	text   string // their deltas joined
	events []chatEvent
}

// readBatched reads operation id's events to its complete, sleeping pause between
// reads (a throttled reader).
func readBatched(t testing.TB, ws *wsClient, id string, pause time.Duration) batchedRun {
	t.Helper()
	var r batchedRun
	var text strings.Builder
	for {
		m := ws.next(t)
		if m.Type == "complete" {
			break
		}
		require.Equal(t, "next", m.Type, "%s", m.Payload)
		require.Equal(t, id, m.ID)
		var p struct {
			Data struct {
				Chat chatEvent `json:"chat"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(m.Payload, &p))
		e := p.Data.Chat
		if e.Type == "TOKEN" {
			r.frames++
			text.WriteString(e.Delta)
		}
		r.events = append(r.events, e)
		if pause > 0 {
			time.Sleep(pause)
		}
	}
	r.text = text.String()
	return r
}

// TestSlowReaderGetsTheAnswerBatched: a client that stops reading mid-answer over a
// real socket does not hold the run up: the run reads the model's whole answer while
// the client reads nothing, and the client, reading slowly after, is not dropped and
// gets every byte of the answer, in fewer TOKEN messages than the model's deltas,
// numbered without a gap, then DONE and complete.
func TestSlowReaderGetsTheAnswerBatched(t *testing.T) {
	t.Parallel()
	const words = 5_000 // a TOKEN message a word would be 600 KB: far past the sockets' buffers
	answer := longAnswer(words)
	llmSrv := newLongLLM(t, answer)
	a := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits)
	access, _, _ := a.register(t, "batching@example.com")
	ts := serveSmallBuffers(t, a)

	ws := dialSlowReader(t, ts.URL, access)
	ws.subscribe(t, "long", batchingQuery)
	for {
		m := ws.next(t)
		require.Equal(t, "next", m.Type, "%s", m.Payload)
		if strings.Contains(string(m.Payload), `"TOKEN"`) {
			break
		}
	}
	// The client reads nothing more until the model's answer has all been read
	// upstream: the run went on without it.
	require.Eventually(t, func() bool { return len(llmSrv.Requests()) >= 2 }, 10*time.Second, 5*time.Millisecond)
	select {
	case <-llmSrv.Requests()[1].Ended:
	case <-time.After(30 * time.Second):
		t.Fatal("the run was held up by its slow client: the model's answer was not read")
	}
	require.False(t, llmSrv.Requests()[1].Canceled(), "the answer was read to its end")

	r := readBatched(t, ws, "long", time.Millisecond)
	// The first TOKEN, read above, was the model's first word.
	require.Equal(t, answer, "w0 "+r.text, "every byte of the answer, in order")
	require.Less(t, r.frames+1, words, "fewer TOKEN messages than the model's deltas")
	last := r.events[len(r.events)-1]
	require.Equal(t, "DONE", last.Type)
	require.Equal(t, answer, last.Done.Response)
	for i := 1; i < len(r.events); i++ {
		require.Equal(t, r.events[i-1].Seq+1, r.events[i].Seq, "numbered without a gap")
	}
	t.Logf("%d words in %d TOKEN messages", words, r.frames+1)
}

// BenchmarkChatThrottledReaders streams 100 long chats at once, each on a socket of
// its own to a reader that stops until the run has read the whole answer upstream,
// then reads with a pause between messages. It reports the TOKEN messages a stream
// (against the answer's 2,000 deltas) and the heap in use a stream while the answers
// wait for their readers (runtime.MemStats, the server, the fake LLM and the clients
// in one process).
//
//	go test -run '^$' -bench BenchmarkChatThrottledReaders -benchtime=1x ./internal/api/
func BenchmarkChatThrottledReaders(b *testing.B) {
	const streams, words = 100, 2_000
	answer := longAnswer(words)
	llmSrv := newLongLLM(b, answer)
	a := newApp(b, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits,
		func(c *config.Config) { c.WSMaxConnsPerIP, c.WSUpgradesPerMinute = 10*streams, 10*streams })
	access, _, _ := a.register(b, "bench-batching@example.com")
	ts := serveSmallBuffers(b, a)
	var frames, heap float64
	for range b.N {
		conns := make([]*wsClient, streams)
		for i := range conns {
			conns[i] = dialSlowReader(b, ts.URL, access)
		}
		before := len(llmSrv.Requests())
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heapBefore := ms.HeapInuse
		b.ResetTimer()
		for i, ws := range conns {
			ws.subscribe(b, fmt.Sprint(i), batchingQuery)
		}
		// Each run's router and answer: wait for every answer to be read upstream.
		require.Eventually(b, func() bool { return len(llmSrv.Requests()) >= before+2*streams }, 30*time.Second, 10*time.Millisecond)
		for _, req := range llmSrv.Requests()[before:] {
			<-req.Ended
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heap += (float64(ms.HeapInuse) - float64(heapBefore)) / streams / 1024
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i, ws := range conns {
			wg.Go(func() {
				r := readBatched(b, ws, fmt.Sprint(i), 100*time.Microsecond)
				require.Equal(b, answer, r.text)
				require.Equal(b, "DONE", r.events[len(r.events)-1].Type)
				mu.Lock()
				frames += float64(r.frames) / streams
				mu.Unlock()
			})
		}
		wg.Wait()
		b.StopTimer()
		for _, ws := range conns {
			_ = ws.conn.Close()
		}
	}
	b.ReportMetric(frames/float64(b.N), "frames/stream")
	b.ReportMetric(words, "deltas/stream")
	b.ReportMetric(heap/float64(b.N), "heap-KiB/stream")
}

// TestSlowSSEReaderGetsTheAnswerBatched is TestSlowReaderGetsTheAnswerBatched over
// Server-Sent Events: a client whose HTTP response backs up is not dropped and does not
// hold the run up, and gets the whole answer in fewer TOKEN events.
func TestSlowSSEReaderGetsTheAnswerBatched(t *testing.T) {
	t.Parallel()
	const words = 5_000
	answer := longAnswer(words)
	llmSrv := newLongLLM(t, answer)
	a := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits)
	access, _, _ := a.register(t, "batching-sse@example.com")
	ts := serveSmallBuffers(t, a)

	client := &http.Client{Transport: &http.Transport{
		DisableCompression: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				err = c.(*net.TCPConn).SetReadBuffer(4 << 10)
			}
			return c, err
		},
	}}
	body, err := json.Marshal(map[string]string{"query": batchingQuery})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	rd := bufio.NewReaderSize(resp.Body, 1<<10)
	// next reads one SSE event: its name and its chat event (none for complete).
	next := func() (string, chatEvent) {
		t.Helper()
		var name, data string
		for {
			line, err := rd.ReadString('\n')
			require.NoError(t, err)
			line = strings.TrimRight(line, "\n")
			switch {
			case strings.HasPrefix(line, "event:"):
				name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			case line == "" && name != "":
				var p struct {
					Data struct {
						Chat chatEvent `json:"chat"`
					} `json:"data"`
				}
				if name == "next" {
					require.NoError(t, json.Unmarshal([]byte(data), &p), data)
				}
				return name, p.Data.Chat
			}
		}
	}
	var events []chatEvent
	for {
		name, e := next()
		require.Equal(t, "next", name)
		events = append(events, e)
		if e.Type == "TOKEN" {
			break
		}
	}
	require.Eventually(t, func() bool { return len(llmSrv.Requests()) >= 2 }, 10*time.Second, 5*time.Millisecond)
	select {
	case <-llmSrv.Requests()[1].Ended:
	case <-time.After(30 * time.Second):
		t.Fatal("the run was held up by its slow SSE client: the model's answer was not read")
	}
	require.False(t, llmSrv.Requests()[1].Canceled(), "the answer was read to its end")
	for {
		name, e := next()
		if name == "complete" {
			break
		}
		require.Equal(t, "next", name)
		events = append(events, e)
		time.Sleep(time.Millisecond)
	}
	var text strings.Builder
	frames := 0
	for i, e := range events {
		require.Equal(t, i+1, e.Seq, "numbered without a gap")
		if e.Type == "TOKEN" {
			frames++
			text.WriteString(e.Delta)
		}
	}
	require.Equal(t, answer, text.String(), "every byte of the answer, in order")
	require.Less(t, frames, words, "fewer TOKEN events than the model's deltas")
	last := events[len(events)-1]
	require.Equal(t, "DONE", last.Type)
	require.Equal(t, answer, last.Done.Response)
	t.Logf("%d words in %d TOKEN events over SSE", words, frames)
}
