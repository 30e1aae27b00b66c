package knowledge

import (
	"errors"

	"github.com/inkgraph/inkgraph/internal/knowledge/extract"
	"github.com/inkgraph/inkgraph/models"
)

// supported reports whether the extractor reads documents of media type mt.
func supported(mt string) bool { return mt != "" && extract.Supported(mt) }

// extractText reads a document's text; its errors are BAD_USER_INPUT messages a
// user can act on (extractionError adds the field).
func extractText(data []byte, mt string) (*extract.Document, error) {
	doc, err := extract.Extract(data, mt)
	if err == nil {
		return doc, nil
	}
	msg := "the file could not be read as " + mt
	switch {
	case errors.Is(err, extract.ErrEmpty):
		msg = "the file has no text"
	case errors.Is(err, extract.ErrUnsupported):
		msg = "the file is not a document this server reads (text, Markdown, HTML or PDF without encryption)"
	case errors.Is(err, extract.ErrTooLarge):
		msg = "the file's text is larger than this server reads"
	case errors.Is(err, extract.ErrMalformed):
		msg = "the file is not a well-formed " + mt + " document"
	}
	return nil, &models.Error{Code: models.CodeBadUserInput, Message: msg, Err: err}
}

// chunkText splits a document's text into overlapping pieces along its headings
// and paragraphs.
func chunkText(doc *extract.Document, maxBytes, overlapBytes int) []extract.Piece {
	return extract.Chunk(doc, maxBytes, overlapBytes)
}
