package sanitize

import (
	"strings"

	"github.com/inkgraph/inkgraph/internal/llm"
)

// Relayed is what Relay read of a model's stream.
type Relayed struct {
	// Text is everything passed to send, sanitized.
	Text string
	// Done or Err is the stream's last chunk; both are nil when the stream closed
	// without one (its context ended) or Stopped is set.
	Done *llm.Done
	Err  error
	// Stopped reports that send refused a piece: the caller stopped reading, and
	// must end the stream's context so the upstream request ends too.
	Stopped bool
}

// Relay reads a model's stream to its end, through a fresh Stream of s, and hands
// each non-empty sanitized piece to send.
func (s *Set) Relay(ch <-chan llm.Chunk, send func(string) bool) Relayed {
	clean := s.NewStream()
	var b strings.Builder
	var r Relayed
	pass := func(piece string) bool {
		if piece == "" {
			return true
		}
		b.WriteString(piece)
		return send(piece)
	}
	for c := range ch {
		switch {
		case c.Err != nil:
			r.Err = c.Err
		case c.Done != nil:
			r.Done = c.Done
		default:
			if !pass(clean.Write(c.Text)) {
				return Relayed{Text: b.String(), Stopped: true}
			}
		}
	}
	if !pass(clean.Flush()) {
		return Relayed{Text: b.String(), Stopped: true}
	}
	r.Text = b.String()
	return r
}
