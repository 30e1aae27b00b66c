package knowledge

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// TEMPORARY until internal/knowledge/extract lands: plain text only.

type textDoc struct {
	Title string
	Text  string
}

type piece struct {
	Start, End int
	Heading    string
	Text       string
}

func supported(mt string) bool {
	return mt == "text/plain" || mt == "text/markdown"
}

func extractText(data []byte, mt string) (*textDoc, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not text")
	}
	t := string(data)
	if strings.TrimSpace(t) == "" {
		return nil, errors.New("the file has no text")
	}
	return &textDoc{Text: t}, nil
}

func chunkText(d *textDoc, maxBytes, overlap int) []piece {
	var out []piece
	for s := 0; s < len(d.Text); s += maxBytes - overlap {
		e := min(s+maxBytes, len(d.Text))
		out = append(out, piece{Start: s, End: e, Text: d.Text[s:e]})
		if e == len(d.Text) {
			break
		}
	}
	return out
}
