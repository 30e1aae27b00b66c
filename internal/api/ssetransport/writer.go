package ssetransport

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/inkgraph/inkgraph/internal/api/wire"
)

// eventWriter writes one response's event stream: events and keep-alive comments, each
// flushed at once. Writes are serialised; after one fails, every later one fails too.
type eventWriter struct {
	mu     sync.Mutex
	out    io.Writer
	flush  func() error
	failed error
}

// startStream answers 200 with the event stream's headers and a first comment, which
// some browsers need before they report the stream open.
func startStream(w http.ResponseWriter) *eventWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	// nginx (in front of the image) would buffer the stream otherwise.
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ew := &eventWriter{out: w, flush: http.NewResponseController(w).Flush}
	_ = ew.write([]byte(":\n\n"))
	return ew
}

// write writes b and flushes it.
func (e *eventWriter) write(b []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failed != nil {
		return e.failed
	}
	if _, err := e.out.Write(b); err != nil {
		e.failed = err
		return err
	}
	if err := e.flush(); err != nil {
		e.failed = err
		return err
	}
	return nil
}

// keepAlive writes a comment every interval until stop is closed; negative interval:
// never.
func (e *eventWriter) keepAlive(interval time.Duration, stop <-chan struct{}) {
	if interval < 0 {
		return
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
			if e.write([]byte(":\n\n")) != nil {
				return
			}
		}
	}
}

// nextEvent encodes a next event: the result (a *graphql.Response or an incremental
// payload) alone (distinct connections), or under its operation's ID (single
// connection, id not empty).
func nextEvent(id string, result any) ([]byte, error) {
	var data []byte
	var err error
	resp, isResponse := result.(*graphql.Response)
	switch {
	case id == "" && isResponse:
		data, err = wire.Marshal(resp)
	case id == "":
		data, err = json.Marshal(result)
	case isResponse:
		// The envelope is written around the response, as json.Marshal would write
		// it, without encoding the response a second time.
		quoted, _ := json.Marshal(id) // a string always encodes
		data = append(append(append(make([]byte, 0, len(resp.Data)+len(quoted)+64), `{"id":`...), quoted...), `,"payload":`...)
		if data, err = wire.Append(data, resp); err == nil {
			data = append(data, '}')
		}
	default:
		data, err = json.Marshal(struct {
			ID      string `json:"id"`
			Payload any    `json:"payload"`
		}{id, result})
	}
	if err != nil {
		return nil, err
	}
	return frame("next", data), nil
}

// completeEvent encodes a complete event; the empty data field lets EventSource
// listeners see it.
func completeEvent(id string) []byte {
	if id == "" {
		return []byte("event: complete\ndata:\n\n")
	}
	data, _ := json.Marshal(struct {
		ID string `json:"id"`
	}{id}) // a string always encodes
	return frame("complete", data)
}

// frame is one event: JSON never holds a raw newline, so data is one line.
func frame(event string, data []byte) []byte {
	b := make([]byte, 0, len("event: \ndata: \n\n")+len(event)+len(data))
	b = append(append(append(b, "event: "...), event...), "\ndata: "...)
	return append(append(b, data...), "\n\n"...)
}
