// Package wire writes gqlgen's responses as JSON for the transports (HTTP, SSE,
// WebSocket), as json.Marshal would write a *graphql.Response, but without its two
// costs on every response: the data gqlgen already encoded is written as it is, not
// scanned and compacted again as a json.RawMessage, and extensions whose values
// append their own JSON (Appender: the cost and rate limit every first response
// carries) are written without reflection.
//
// The JSON is json.Marshal's but for HTML-sensitive characters (<, >, &, U+2028,
// U+2029) in the data, which stay as gqlgen wrote them: escaping them is for JSON
// embedded in HTML, which these responses are not. It is always one line: data with a
// tab or a line break, which a JSON string cannot hold raw, is compacted (and so
// checked) as json.Marshal does; data without is written unchecked, as the
// executor's marshalers (gqlgen's, graph/scalar's, models.MarshalRawJSON of what
// encoding/json wrote) produce valid JSON.
package wire

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/99designs/gqlgen/graphql"
)

// Appender is an extension value that appends its own JSON to dst, the same JSON
// json.Marshal gives it.
type Appender interface {
	AppendJSON(dst []byte) []byte
}

// maxFastExtensions is how many extensions the fast path sorts on the stack; a
// response with more is encoded by json.Marshal.
const maxFastExtensions = 8

// Append appends resp's JSON to dst.
func Append(dst []byte, resp *graphql.Response) ([]byte, error) {
	start := len(dst)
	dst, data, err := appendHead(dst, resp)
	if err != nil || data == nil {
		return dst, err
	}
	if dst, err = appendTail(append(dst, data...), resp); err != nil {
		return dst[:start], err
	}
	return dst, nil
}

// Parts returns resp's JSON in three parts, as Append writes it when the three are
// joined: data is resp.Data itself when it can be sent as it is, so that an answer
// written by parts is not copied again. Data to compact is written into head (data
// is then empty); a response json.Marshal encodes (@defer's payloads, more than
// maxFastExtensions extensions) is all in head, data and tail nil.
func Parts(resp *graphql.Response) (head, data, tail []byte, err error) {
	// head and tail share one buffer, tail after head.
	room := 64
	if len(resp.Extensions) > 0 {
		room += extensionRoom
	}
	head, data, err = appendHead(make([]byte, 0, room), resp)
	if err != nil || data == nil {
		return head, nil, nil, err
	}
	all, err := appendTail(head, resp)
	if err != nil {
		return nil, nil, nil, err
	}
	return all[:len(head)], data, all[len(head):], nil
}

// appendHead appends resp's JSON up to its data and returns the data to write as it
// is next: empty, not nil, when dst already holds the data (compacted); nil when dst
// holds the whole response (json.Marshal's), tail included.
func appendHead(dst []byte, resp *graphql.Response) ([]byte, []byte, error) {
	if resp.Label != "" || resp.Path != nil || resp.HasNext != nil || len(resp.Extensions) > maxFastExtensions {
		dst, err := appendMarshalled(dst, resp) // @defer's payloads and the unusual: not hot
		return dst, nil, err
	}
	start := len(dst)
	dst = append(dst, '{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			return dst[:start], nil, err
		}
		dst = append(append(append(dst, `"errors":`...), errs...), ',')
	}
	dst = append(dst, `"data":`...)
	switch d := resp.Data; {
	case len(d) == 0:
		return dst, []byte("null"), nil
	case bytes.IndexByte(d, '\n') >= 0 || bytes.IndexByte(d, '\r') >= 0 || bytes.IndexByte(d, '\t') >= 0:
		// Whitespace a marshaler left between tokens (json.Encoder's newline): an SSE
		// event's data must be one line.
		buf := bytes.NewBuffer(dst)
		if err := json.Compact(buf, d); err != nil {
			return dst[:start], nil, err
		}
		return buf.Bytes(), []byte{}, nil
	default:
		return dst, d, nil
	}
}

// appendTail appends what follows resp's data in its JSON: its extensions, and the
// end of the object.
func appendTail(dst []byte, resp *graphql.Response) ([]byte, error) {
	start := len(dst)
	if len(resp.Extensions) > 0 {
		var keys [maxFastExtensions]string
		n := 0
		for k := range resp.Extensions {
			keys[n], n = k, n+1
		}
		slices.Sort(keys[:n]) // json.Marshal writes a map's keys in order
		dst = append(dst, `,"extensions":{`...)
		for i, k := range keys[:n] {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendKey(dst, k); err != nil {
				return dst[:start], err
			}
			if dst, err = appendValue(dst, resp.Extensions[k]); err != nil {
				return dst[:start], err
			}
		}
		dst = append(dst, '}')
	}
	return append(dst, '}'), nil
}

// Marshal returns resp's JSON.
func Marshal(resp *graphql.Response) ([]byte, error) {
	// Room for the envelope and, when there are extensions (the server's limits are
	// in every response), for them: a buffer too short for them grew, copying the
	// whole answer again (14 KB of garbage for the onboarding summary).
	room := 64
	if len(resp.Extensions) > 0 {
		room += extensionRoom
	}
	return Append(make([]byte, 0, len(resp.Data)+room), resp)
}

// extensionRoom is what Marshal leaves for a response's extensions: the server's
// limits and cost take about 200 bytes.
const extensionRoom = 512

// appendMarshalled appends json.Marshal's encoding of v.
func appendMarshalled(dst []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// appendKey appends an object key and its colon: as it is when json.Marshal would
// write it so (printable ASCII with nothing to escape), json.Marshal's encoding
// otherwise.
func appendKey(dst []byte, k string) ([]byte, error) {
	for i := range len(k) {
		if c := k[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			dst, err := appendMarshalled(dst, k)
			return append(dst, ':'), err
		}
	}
	dst = append(append(append(dst, '"'), k...), '"', ':')
	return dst, nil
}

// appendValue appends an extension's value: its own JSON when it is an Appender,
// json.Marshal's otherwise.
func appendValue(dst []byte, v any) ([]byte, error) {
	if a, ok := v.(Appender); ok {
		return a.AppendJSON(dst), nil
	}
	return appendMarshalled(dst, v)
}
