package httptransport

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/inkgraph/inkgraph/internal/api/incremental"
)

// The media types a GraphQL response can be sent as.
const (
	mediaTypeJSON            = "application/json"
	mediaTypeGraphQLResponse = "application/graphql-response+json"
	// mediaTypeMultipartMixed carries an operation with @defer as a sequence of
	// incremental payloads, one a part, when the client offers it.
	mediaTypeMultipartMixed = "multipart/mixed"
)

// negotiate picks the response media type from the Accept header values.
// application/graphql-response+json wins whenever the client accepts it, because it lets
// the status code tell request errors apart; application/json, application/* and */*
// (or no Accept at all) give application/json. ok is false when the client accepts
// neither, which the caller answers with 406.
func negotiate(accept []string) (mediaType string, ok bool) {
	jsonOK := false
	seen := false
	for _, value := range accept {
		for part := range strings.SplitSeq(value, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			seen = true
			name, params, err := mime.ParseMediaType(part)
			if err != nil || !acceptable(params) {
				continue
			}
			switch name {
			case mediaTypeGraphQLResponse:
				return mediaTypeGraphQLResponse, true
			case mediaTypeJSON, "application/*", "*/*", "*":
				jsonOK = true
			}
		}
	}
	if jsonOK || !seen {
		return mediaTypeJSON, true
	}
	return "", false
}

// acceptsMultipartMixed reports whether the client offers to read an operation with
// @defer as a multipart/mixed stream of incremental payloads in the format Apollo
// Client reads: an Accept entry multipart/mixed whose deferSpec, if it names one, is
// 20220824 (Apollo Client sends multipart/mixed;deferSpec=20220824). An entry asking
// for another incremental format (incrementalSpec=...) is one we cannot write.
func acceptsMultipartMixed(accept []string) bool {
	for _, value := range accept {
		if !strings.Contains(value, "multipart/") {
			continue
		}
		for part := range strings.SplitSeq(value, ",") {
			name, params, err := mime.ParseMediaType(part)
			if err != nil || name != mediaTypeMultipartMixed || !acceptable(params) {
				continue
			}
			spec, named := params["deferspec"]
			if _, other := params["incrementalspec"]; other && !named {
				continue
			}
			if !named || spec == incremental.Spec {
				return true
			}
		}
	}
	return false
}

// acceptable reports whether an Accept entry's parameters still allow it: q=0 means
// "not this one", and we only ever write UTF-8.
func acceptable(params map[string]string) bool {
	if q, ok := params["q"]; ok {
		if weight, err := strconv.ParseFloat(q, 64); err != nil || weight <= 0 {
			return false
		}
	}
	if charset, ok := params["charset"]; ok && !isUTF8(charset) {
		return false
	}
	return true
}

func isUTF8(charset string) bool {
	return strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "utf8")
}

// checkContentType accepts only JSON in UTF-8 (the charset may be left out: the spec
// says to assume UTF-8). Anything else is a 415; the body is never looked at.
func checkContentType(r *http.Request) *failure {
	header := r.Header.Get("Content-Type")
	if header == "" {
		return unsupportedMediaType("missing Content-Type header: send application/json")
	}
	name, params, err := mime.ParseMediaType(header)
	if err != nil || name != mediaTypeJSON {
		return unsupportedMediaType("unsupported Content-Type: send application/json")
	}
	if charset, ok := params["charset"]; ok && !isUTF8(charset) {
		return unsupportedMediaType("unsupported charset: send application/json in utf-8")
	}
	return nil
}

// isWebSocketUpgrade spots websocket handshakes, which belong to the websocket transport.
func isWebSocketUpgrade(r *http.Request) bool {
	for _, value := range r.Header.Values("Upgrade") {
		for token := range strings.SplitSeq(value, ",") {
			if strings.EqualFold(strings.TrimSpace(token), "websocket") {
				return true
			}
		}
	}
	return false
}

// acceptsEventStream spots requests for server-sent events, which belong to the SSE transport.
func acceptsEventStream(r *http.Request) bool {
	for _, value := range r.Header.Values("Accept") {
		if strings.Contains(strings.ToLower(value), "text/event-stream") {
			return true
		}
	}
	return false
}
