package logging

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// Log writes a record of ctx at level with attrs, as logger would write it with
// LogAttrs (the same bytes), at a fraction of the cost when logger is New's and every
// attribute is a string or an integer with nothing to escape: the line is appended
// to a pooled buffer, with no slog.Record (which grows a slice past five attributes)
// and no walk of slog's handler state, and written at once from Warn up; below Warn it
// waits to be written with others (see pendingMax). The access line of every request
// is written so. Otherwise it is logger.LogAttrs.
func Log(ctx context.Context, logger *slog.Logger, level slog.Level, msg string, attrs ...slog.Attr) {
	h, ok := logger.Handler().(contextHandler)
	if !ok || h.direct == nil {
		logger.LogAttrs(ctx, level, msg, attrs...)
		return
	}
	if level < h.direct.level {
		return
	}
	var ids [3]slog.Attr
	if !h.direct.write(time.Now(), level, msg, attrs, contextIDs(ctx, &ids)) {
		logger.LogAttrs(ctx, level, msg, attrs...)
	}
}

// direct writes New's records without slog, in the JSON handler's format.
type direct struct {
	out   *lockedWriter
	level slog.Level
}

// maxPooledLine is the largest buffer lines keeps (slog's own pool keeps up to 16 KiB).
const maxPooledLine = 16 << 10

// lines are the buffers direct appends its lines to.
var lines = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// write writes the record and reports true, or reports false, having written
// nothing, when one of its values needs what only slog's handler does: an attribute
// of another kind or with no key, a string with characters to escape, a time past
// RFC 3339's years.
func (d *direct) write(t time.Time, level slog.Level, msg string, attrs, ids []slog.Attr) bool {
	if y := t.Year(); y < 0 || y >= 10000 || !plain(msg) {
		return false
	}
	bp := lines.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledLine { // a rare long line's buffer is not kept
			lines.Put(bp)
		}
	}()
	b := append((*bp)[:0], `{"time":"`...)
	b = append(t.AppendFormat(b, time.RFC3339Nano), `","level":"`...)
	b = append(append(b, level.String()...), `","msg":"`...)
	b = append(append(b, msg...), '"')
	for _, group := range [2][]slog.Attr{attrs, ids} {
		for _, a := range group {
			if a.Key == "" || !plain(a.Key) {
				return false
			}
			b = append(append(append(b, ',', '"'), a.Key...), '"', ':')
			switch a.Value.Kind() {
			case slog.KindString:
				v := a.Value.String()
				if !plain(v) {
					return false
				}
				b = append(append(append(b, '"'), v...), '"')
			case slog.KindInt64:
				b = strconv.AppendInt(b, a.Value.Int64(), 10)
			default:
				return false
			}
		}
	}
	b = append(b, '}', '\n')
	*bp = b
	// As slog's handlers, a failed write is not the caller's.
	if level < slog.LevelWarn {
		d.out.writeLater(b)
	} else {
		_, _ = d.out.Write(b)
	}
	return true
}

// plain reports whether s is written in JSON as it is: printable ASCII other than
// the quote and the backslash (what slog's JSON handler leaves unescaped, <, > and &
// included).
func plain(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// Log's lines below Warn (the access lines, one a request) wait to be written
// together, which saves a system call a request (7% of a cheap request's CPU): until
// pendingMax bytes wait, another line is written (lines keep their order), Flush is
// called, or flushDelay has passed since the first of them.
const (
	pendingMax = 16 << 10
	flushDelay = 100 * time.Millisecond
)

// lockedWriter serialises the writes of slog's handler and of Log, which share it,
// and holds Log's lines that wait.
type lockedWriter struct {
	mu      sync.Mutex
	w       io.Writer
	pending []byte
	delay   time.Duration // flushDelay
	timer   *time.Timer   // flushes pending; armed while it holds a line
}

// Write writes p after the lines that wait.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) == 0 {
		return l.w.Write(p)
	}
	l.pending = append(l.pending, p...)
	if err := l.flushLocked(); err != nil {
		return 0, err
	}
	return len(p), nil
}

// writeLater has p wait for the next write.
func (l *lockedWriter) writeLater(p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	first := len(l.pending) == 0
	l.pending = append(l.pending, p...)
	switch {
	case len(l.pending) >= pendingMax:
		_ = l.flushLocked()
	case first && l.timer == nil:
		l.timer = time.AfterFunc(l.delay, l.flush)
	case first:
		l.timer.Reset(l.delay)
	}
}

// flush writes the lines that wait.
func (l *lockedWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.flushLocked()
}

func (l *lockedWriter) flushLocked() error {
	if len(l.pending) == 0 {
		return nil
	}
	if l.timer != nil {
		l.timer.Stop()
	}
	_, err := l.w.Write(l.pending)
	l.pending = l.pending[:0]
	if cap(l.pending) > 2*pendingMax { // a rare burst of long lines is not kept
		l.pending = nil
	}
	return err
}
