// Package extract owns turning an uploaded document's bytes into plain text with
// its heading structure: plain text, Markdown, HTML and PDF (pure Go), and the
// chunking of that text into overlapping pieces for search. It knows no storage,
// no area and no network; every limit on hostile input (decompressed size, text
// size, nesting) is enforced here, so callers only bound the input's size.
package extract

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Document is a document's extracted text.
type Document struct {
	// Title is the document's own title (HTML <title>, a PDF's Info title, the
	// first heading or line), or empty.
	Title string
	// Text is the document's text, UTF-8, blocks separated by blank lines.
	Text string
	// Sections are the document's headings in order; each spans Text[Start:End],
	// from its heading to the next heading of any level.
	Sections []Section
}

// Section is one heading of a document and the text under it.
type Section struct {
	Heading string
	Level   int // 1 for a top-level heading, up to 6
	// Start and End are byte offsets in Document.Text.
	Start, End int
}

var (
	// ErrUnsupported means the media type (or the sniffed content) is not one
	// Extract reads, or the file uses a feature it does not (an encrypted PDF).
	ErrUnsupported = errors.New("unsupported document type")
	// ErrEmpty means the document has no text.
	ErrEmpty = errors.New("document has no text")
	// ErrTooLarge means the document's text, or a PDF's decompressed content,
	// is larger than this package reads.
	ErrTooLarge = errors.New("document content too large")
	// ErrMalformed means the file is not a well-formed document of its type.
	ErrMalformed = errors.New("malformed document")
)

// Limits on what one document may produce, whatever its input size.
const (
	// MaxTextBytes bounds a document's extracted text.
	MaxTextBytes = 16 << 20
	// maxInflated bounds a PDF's decompressed streams, all of them together.
	maxInflated = 64 << 20
	// maxTitle bounds a title, in bytes.
	maxTitle = 300
	// MaxHeadingBytes bounds a section's heading (which each chunk of the
	// section carries), in bytes; the text keeps the whole heading.
	MaxHeadingBytes = 200
)

// Media types Extract reads.
const (
	TypePlain    = "text/plain"
	TypeMarkdown = "text/markdown"
	TypeHTML     = "text/html"
	TypePDF      = "application/pdf"
)

// Supported reports whether Extract reads mediaType (parameters such as a
// charset are ignored; an empty type or application/octet-stream is sniffed).
func Supported(mediaType string) bool {
	_, ok := canonical(mediaType)
	return ok
}

// Extract reads data as mediaType and returns its text. The errors wrap
// ErrUnsupported, ErrEmpty, ErrTooLarge or ErrMalformed.
func Extract(data []byte, mediaType string) (*Document, error) {
	kind, ok := canonical(mediaType)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnsupported, mediaType)
	}
	if kind == "" {
		var err error
		if kind, err = Sniff(data); err != nil {
			return nil, err
		}
	}
	var (
		doc *Document
		err error
	)
	switch kind {
	case TypePlain:
		doc, err = plain(data)
	case TypeMarkdown:
		doc, err = markdown(data)
	case TypeHTML:
		doc, err = htmlDoc(data)
	case TypePDF:
		doc, err = pdfDoc(data)
	}
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(doc.Text) == "" {
		return nil, ErrEmpty
	}
	if len(doc.Text) > MaxTextBytes {
		return nil, fmt.Errorf("%w: %d bytes of text, at most %d", ErrTooLarge, len(doc.Text), MaxTextBytes)
	}
	if doc.Title == "" {
		doc.Title = firstLine(doc.Text)
	}
	doc.Title = clip(strings.Join(strings.Fields(cleanText(doc.Title)), " "), maxTitle)
	return doc, nil
}

// canonical maps a media type to the one Extract reads it as; "" with ok means
// sniff.
func canonical(mediaType string) (string, bool) {
	mt := strings.ToLower(strings.TrimSpace(mediaType))
	if mt == "" {
		return "", true
	}
	if parsed, _, err := mime.ParseMediaType(mt); err == nil {
		mt = parsed
	}
	switch mt {
	case "application/octet-stream", "binary/octet-stream":
		return "", true
	case TypePlain:
		return TypePlain, true
	case TypeMarkdown, "text/x-markdown", "text/x-web-markdown":
		return TypeMarkdown, true
	case TypeHTML, "application/xhtml+xml":
		return TypeHTML, true
	case TypePDF, "application/x-pdf":
		return TypePDF, true
	}
	return "", false
}

// Sniff names the media type data looks like: PDF by its header, HTML as
// net/http sniffs it, Markdown by its headings, fences or links, any other
// UTF-8 text as plain text; binary data is ErrUnsupported.
func Sniff(data []byte) (string, error) {
	head := data[:min(len(data), 1024)]
	if bytes.Contains(head, []byte("%PDF-")) {
		return TypePDF, nil
	}
	ct := http.DetectContentType(data)
	if strings.HasPrefix(ct, "text/html") {
		return TypeHTML, nil
	}
	sample := data[:min(len(data), 8192)]
	// A cut multi-byte rune at the sample's end is not binary.
	for i := 0; i < 3 && len(sample) > 0 && !utf8.Valid(sample); i++ {
		sample = sample[:len(sample)-1]
	}
	if !strings.HasPrefix(ct, "text/") || bytes.IndexByte(sample, 0) >= 0 || !utf8.Valid(sample) {
		return "", fmt.Errorf("%w: content looks like %s", ErrUnsupported, ct)
	}
	if looksMarkdown(sample) {
		return TypeMarkdown, nil
	}
	return TypePlain, nil
}

func looksMarkdown(b []byte) bool {
	score := 0
	for line := range strings.Lines(string(b)) {
		l := strings.TrimRight(line, "\r\n")
		switch {
		case atxHeading.MatchString(l), strings.HasPrefix(l, "```"), strings.HasPrefix(l, "~~~"):
			score += 2
		case mdLink.MatchString(l), setextUnder.MatchString(l) && strings.TrimSpace(l) != "":
			score++
		}
	}
	return score >= 2
}

// plain reads UTF-8 text: line endings normalised, invalid bytes replaced.
func plain(data []byte) (*Document, error) {
	return &Document{Text: strings.TrimSpace(normalize(data))}, nil
}

// normalize makes data valid UTF-8 with \n line endings, no byte-order mark
// and no control characters but \n and \t.
func normalize(data []byte) string {
	return cleanText(string(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
}

// cleanText makes s valid UTF-8 with \n line endings and no control
// characters (NUL, which PostgreSQL refuses in text, among them) but \n and
// \t: \r\n and \r become \n, a form feed or vertical tab a space, the others
// are dropped.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\f' || r == '\v':
			return ' '
		case r == '\n' || r == '\t' || !unicode.IsControl(r):
			return r
		}
		return -1
	}, s)
}

func firstLine(text string) string {
	for line := range strings.Lines(text) {
		if l := strings.TrimSpace(line); l != "" {
			return l
		}
	}
	return ""
}

// clip cuts s to at most n bytes at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// builder assembles a document's text block by block and records its sections.
type builder struct {
	b        strings.Builder
	sections []Section
	tooLarge bool
}

// block appends a paragraph-like block, separated from the previous by a blank
// line.
func (d *builder) block(text string) {
	text = strings.TrimSpace(cleanText(text))
	if text == "" {
		return
	}
	if d.b.Len()+len(text)+2 > MaxTextBytes {
		d.tooLarge = true
		return
	}
	if d.b.Len() > 0 {
		d.b.WriteString("\n\n")
	}
	d.b.WriteString(text)
}

// heading appends a heading block and opens its section, whose heading is
// the text cut to MaxHeadingBytes.
func (d *builder) heading(level int, text string) {
	text = strings.Join(strings.Fields(cleanText(text)), " ")
	if text == "" {
		return
	}
	level = max(1, min(level, 6))
	before := d.b.Len()
	d.block(text)
	if d.b.Len() == before {
		return
	}
	start := d.b.Len() - len(text)
	heading := strings.TrimSpace(clip(text, MaxHeadingBytes))
	d.sections = append(d.sections, Section{Heading: heading, Level: level, Start: start})
}

func (d *builder) document(title string) (*Document, error) {
	if d.tooLarge {
		return nil, fmt.Errorf("%w: more than %d bytes of text", ErrTooLarge, MaxTextBytes)
	}
	text := d.b.String()
	for i := range d.sections {
		if i+1 < len(d.sections) {
			d.sections[i].End = d.sections[i+1].Start
		} else {
			d.sections[i].End = len(text)
		}
		// A section ends before the blank line that separates it from the next.
		for d.sections[i].End > d.sections[i].Start && text[d.sections[i].End-1] == '\n' {
			d.sections[i].End--
		}
	}
	if title == "" && len(d.sections) > 0 {
		title = d.sections[0].Heading
	}
	return &Document{Title: strings.Join(strings.Fields(title), " "), Text: text, Sections: d.sections}, nil
}
