package extract_test

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/knowledge/extract"
)

func TestPlainText(t *testing.T) {
	t.Parallel()
	doc, err := extract.Extract([]byte("\xef\xbb\xbfFirst line\r\n\r\nSecond \xff paragraph\r\n"), "text/plain; charset=utf-8")
	require.NoError(t, err)
	require.Equal(t, "First line", doc.Title)
	require.Equal(t, "First line\n\nSecond \uFFFD paragraph", doc.Text)
	require.Empty(t, doc.Sections)
}

func TestMarkdown(t *testing.T) {
	t.Parallel()
	src := "# Guide to *tea*\n\nIntro with a [link](https://example.com) and **bold** and `code`.\n\n" +
		"Setext heading\n--------------\n\nBody_with_underscores and _emphasis_.\n\n" +
		"```go\nfunc main() { x := *p }\n```\n\n## Brewing ##\n\n> Quoted ![alt text](i.png) line.\n\n[ref]: https://example.com\n"
	doc, err := extract.Extract([]byte(src), "text/markdown")
	require.NoError(t, err)
	require.Equal(t, "Guide to tea", doc.Title)
	require.Equal(t, "Guide to tea\n\nIntro with a link and bold and code.\n\nSetext heading\n\n"+
		"Body_with_underscores and emphasis.\n\nfunc main() { x := *p }\n\nBrewing\n\nQuoted alt text line.", doc.Text)
	require.Equal(t, []extract.Section{
		{Heading: "Guide to tea", Level: 1, Start: 0, End: strings.Index(doc.Text, "code.") + 5},
		{Heading: "Setext heading", Level: 2, Start: strings.Index(doc.Text, "Setext"), End: strings.Index(doc.Text, "*p }") + 4},
		{Heading: "Brewing", Level: 2, Start: strings.Index(doc.Text, "Brewing"), End: len(doc.Text)},
	}, doc.Sections)
	for _, s := range doc.Sections {
		require.True(t, strings.HasPrefix(doc.Text[s.Start:s.End], s.Heading))
	}
}

func TestHTML(t *testing.T) {
	t.Parallel()
	src := `<!doctype html><html><head><title>The  Page</title><style>p{color:red}</style>
<script>var secret = "no";</script></head><body><nav><a href="/">Home</a> Menu</nav>
<h1>Main <em>title</em></h1><p>First   paragraph
with <b>bold</b> text.</p><div>Block<br>after break</div><ul><li>one</li><li>two</li></ul>
<h2>Second</h2><pre>  keep
    lines</pre><img alt="a picture"><table><tr><td>a</td><td>b</td></tr></table></body></html>`
	doc, err := extract.Extract([]byte(src), "text/html")
	require.NoError(t, err)
	require.Equal(t, "The Page", doc.Title)
	require.Equal(t, "Main title\n\nFirst paragraph with bold text.\n\nBlock\n\nafter break\n\none\n\ntwo\n\n"+
		"Second\n\nkeep\n    lines\n\na picture\n\na b", doc.Text)
	require.NotContains(t, doc.Text, "secret")
	require.NotContains(t, doc.Text, "Menu")
	require.Len(t, doc.Sections, 2)
	require.Equal(t, extract.Section{Heading: "Main title", Level: 1, Start: 0, End: strings.Index(doc.Text, "\n\nSecond")}, doc.Sections[0])
	require.Equal(t, "Second", doc.Sections[1].Heading)
	require.Equal(t, 2, doc.Sections[1].Level)
}

func TestSniff(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		data string
		want string
	}{
		{"pdf", "%PDF-1.4\n...", extract.TypePDF},
		{"html", "<!DOCTYPE html><html><body>x</body></html>", extract.TypeHTML},
		{"markdown", "# Title\n\nSome [link](x).\n", extract.TypeMarkdown},
		{"plain", "Just some words.\nAnd more.", extract.TypePlain},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := extract.Sniff([]byte(c.data))
			require.NoError(t, err)
			require.Equal(t, c.want, got)
			_, err = extract.Extract([]byte(c.data), "application/octet-stream")
			if c.name != "pdf" {
				require.NoError(t, err)
			}
		})
	}
	_, err := extract.Sniff([]byte{0x89, 'P', 'N', 'G', 0, 0, 1, 2})
	require.ErrorIs(t, err, extract.ErrUnsupported)
}

func TestErrors(t *testing.T) {
	t.Parallel()
	_, err := extract.Extract([]byte("hello"), "image/png")
	require.ErrorIs(t, err, extract.ErrUnsupported)
	_, err = extract.Extract([]byte(" \n\t\n"), "text/plain")
	require.ErrorIs(t, err, extract.ErrEmpty)
	_, err = extract.Extract([]byte("<html><script>x()</script></html>"), "text/html")
	require.ErrorIs(t, err, extract.ErrEmpty)
	_, err = extract.Extract([]byte("not a pdf"), "application/pdf")
	require.ErrorIs(t, err, extract.ErrMalformed)
	require.False(t, extract.Supported("image/png"))
	require.True(t, extract.Supported("text/markdown; charset=utf-8"))
}

// fpdfDoc writes a PDF with fpdf, as common writers do: compressed content,
// standard fonts in WinAnsi, an xref table and an Info title.
func fpdfDoc(t testing.TB, compress bool, build func(pdf *fpdf.Fpdf)) []byte {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(compress)
	pdf.SetTitle("Tea handbook", true)
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 12)
	build(pdf)
	var buf bytes.Buffer
	require.NoError(t, pdf.Output(&buf))
	return buf.Bytes()
}

func TestPDF(t *testing.T) {
	t.Parallel()
	for _, compress := range []bool{true, false} {
		t.Run(fmt.Sprint("compress=", compress), func(t *testing.T) {
			t.Parallel()
			data := fpdfDoc(t, compress, func(pdf *fpdf.Fpdf) {
				pdf.SetFont("Helvetica", "B", 16)
				pdf.Cell(0, 10, "Green tea")
				pdf.Ln(14)
				pdf.SetFont("Helvetica", "", 12)
				tr := pdf.UnicodeTranslatorFromDescriptor("")
				pdf.MultiCell(0, 6, tr("Steep green tea at 80 degrees for two minutes. Café (l'eau) costs 5€."), "", "L", false)
				pdf.Ln(10)
				pdf.Cell(40, 6, "Left")
				pdf.Cell(40, 6, "Right")
				pdf.AddPage()
				pdf.Cell(0, 10, "Second page text")
			})
			doc, err := extract.Extract(data, "")
			require.NoError(t, err)
			require.Equal(t, "Tea handbook", doc.Title)
			require.Contains(t, doc.Text, "Green tea")
			require.Contains(t, doc.Text, "Steep green tea at 80 degrees for two minutes. Café (l'eau) costs 5€.")
			require.Contains(t, doc.Text, "Left Right")
			require.Contains(t, doc.Text, "Second page text")
			require.Less(t, strings.Index(doc.Text, "Green tea"), strings.Index(doc.Text, "Second page"))
		})
	}
}

// A hand-written PDF with what fpdf does not produce: a ToUnicode CMap over
// two-byte codes (as a subset TrueType or CID font has), TJ with kerning and
// word gaps, T* and ' line operators, an object stream and no xref at all.
func TestPDFToUnicodeAndObjectStream(t *testing.T) {
	t.Parallel()
	cmap := "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n1 begincodespacerange <0000> <FFFF> endcodespacerange\n" +
		"2 beginbfchar <0001> <0048> <0002> <0069> endbfchar\n1 beginbfrange <0010> <0012> <0061> endbfrange\nendcmap end end"
	content := "BT /F1 12 Tf 14 TL 72 700 Td [<00010002>-300<001000110012>] TJ T* <00010002> Tj ET"
	deflate := func(s string) string {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		_, _ = w.Write([]byte(s))
		_ = w.Close()
		return b.String()
	}
	body3 := "<< /Type /Page /Parent 2 0 R /Contents 5 0 R /Resources << /Font << /F1 6 0 R >> >> >>"
	body6 := "<< /Type /Font /Subtype /Type0 /ToUnicode 7 0 R >>"
	header := fmt.Sprintf("3 0 6 %d ", len(body3)+1)
	first := len(header)
	objstm := header + body3 + " " + body6
	z := deflate(objstm)
	pdf := "%PDF-1.5\n" +
		"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
		"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n" +
		fmt.Sprintf("8 0 obj << /Type /ObjStm /N 2 /First %d /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream endobj\n", first, len(z), z) +
		fmt.Sprintf("5 0 obj << /Length %d >>\nstream\n%s\nendstream endobj\n", len(content), content) +
		fmt.Sprintf("7 0 obj << /Length 99999 >>\nstream\n%s\nendstream endobj\n", cmap) +
		"trailer << /Root 1 0 R >>\n%%EOF\n"
	doc, err := extract.Extract([]byte(pdf), extract.TypePDF)
	require.NoError(t, err)
	require.Equal(t, "Hi abc\nHi", doc.Text)
}

// Word gaps come from the font's glyph widths: 800/1000 of 10 points per
// character here, so "CD" starts right where "AB" ends (no space) and "EF"
// six points after "CD" ends (a space). A guess of half an em would see a gap
// between AB and CD.
func TestPDFWordGapsFromWidths(t *testing.T) {
	t.Parallel()
	content := "BT /F2 10 Tf 0 0 Td (AB) Tj 16 0 Td (CD) Tj 22 0 Td (EF) Tj ET"
	pdf := "%PDF-1.4\n" +
		"1 0 obj << /Type /Page /Contents 2 0 R /Resources << /Font << /F2 3 0 R >> >> >> endobj\n" +
		fmt.Sprintf("2 0 obj << /Length %d >>\nstream\n%s\nendstream endobj\n", len(content), content) +
		"3 0 obj << /Type /Font /Subtype /TrueType /FirstChar 65 /LastChar 70 /Widths [800 800 800 800 800 800] /Encoding /WinAnsiEncoding >> endobj\n"
	doc, err := extract.Extract([]byte(pdf), extract.TypePDF)
	require.NoError(t, err)
	require.Equal(t, "ABCD EF", doc.Text)
}

func TestPDFEncrypted(t *testing.T) {
	t.Parallel()
	data := "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R /Encrypt 2 0 R >>\n"
	_, err := extract.Extract([]byte(data), extract.TypePDF)
	require.ErrorIs(t, err, extract.ErrUnsupported)
}

func FuzzExtract(f *testing.F) {
	f.Add([]byte("%PDF-1.4\n1 0 obj << /Type /Page /Contents 2 0 R >> endobj 2 0 obj << /Length 20 >> stream\nBT (hi) Tj ET\nendstream endobj"), "application/pdf")
	f.Add(fpdfDoc(f, true, func(pdf *fpdf.Fpdf) { pdf.Cell(0, 10, "Hello fuzz") }), "")
	f.Add([]byte("# a\n\ntext [x](y)"), "text/markdown")
	f.Add([]byte("<h1>a</h1><p>b"), "text/html")
	f.Add([]byte("%PDF-1.4 [[[[[[[[[[<<<<<<<< 1 0 R"), "")
	f.Fuzz(func(t *testing.T, data []byte, mediaType string) {
		doc, err := extract.Extract(data, mediaType)
		if err != nil {
			require.True(t, errors.Is(err, extract.ErrUnsupported) || errors.Is(err, extract.ErrEmpty) ||
				errors.Is(err, extract.ErrTooLarge) || errors.Is(err, extract.ErrMalformed), "%v", err)
			return
		}
		require.NotEmpty(t, strings.TrimSpace(doc.Text))
		for _, s := range []string{doc.Title, doc.Text} {
			require.True(t, utf8.ValidString(s))
			require.False(t, strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }), "%q", s)
		}
		for _, s := range doc.Sections {
			require.True(t, 0 <= s.Start && s.Start <= s.End && s.End <= len(doc.Text))
			require.LessOrEqual(t, len(s.Heading), extract.MaxHeadingBytes)
		}
		for _, p := range extract.Chunk(doc, 64, 16) {
			require.Equal(t, doc.Text[p.Start:p.End], p.Text)
		}
	})
}

// A heading is cut to MaxHeadingBytes at a rune boundary, for its section and
// for every chunk under it; the text keeps it whole.
func TestLongHeadingsAreCut(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("thé leaves ", 20_000) // 240 KB, "é" across many a cut
	for name, c := range map[string]struct{ src, mediaType string }{
		"html":     {"<h1>" + long + "</h1><p>Body.</p>", extract.TypeHTML},
		"markdown": {"# " + long + "\n\nBody.\n", extract.TypeMarkdown},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			doc, err := extract.Extract([]byte(c.src), c.mediaType)
			require.NoError(t, err)
			require.Contains(t, doc.Text, strings.TrimSpace(long), "the text keeps the heading")
			require.Len(t, doc.Sections, 1)
			h := doc.Sections[0].Heading
			require.LessOrEqual(t, len(h), extract.MaxHeadingBytes)
			require.Greater(t, len(h), extract.MaxHeadingBytes-12)
			require.True(t, utf8.ValidString(h))
			require.True(t, strings.HasPrefix(long, h))
			pieces := extract.Chunk(doc, 1200, 200)
			require.Greater(t, len(pieces), 100)
			for _, p := range pieces {
				require.Equal(t, h, p.Heading)
			}
		})
	}
	// A Document built elsewhere is held to the same bound by Chunk.
	doc := &extract.Document{Text: "Head\n\nBody.", Sections: []extract.Section{{Heading: long, Level: 1, Start: 0, End: 11}}}
	for _, p := range extract.Chunk(doc, 64, 16) {
		require.LessOrEqual(t, len(p.Heading), extract.MaxHeadingBytes)
	}
}

// No extracted text or title holds NUL or another control character but \n
// and \t (PostgreSQL refuses NUL in text); \r ends a line.
func TestControlCharactersDropped(t *testing.T) {
	t.Parallel()
	cmap := "begincmap 2 beginbfchar <01> <0000> <02> <0041> endbfchar endcmap"
	content := "BT /F1 10 Tf 0 0 Td <0101010202> Tj /F2 10 Tf 0 -30 Td (a\\000b\\007c\\rd\\fe) Tj ET"
	pdf := "%PDF-1.4\n" +
		"1 0 obj << /Type /Page /Contents 2 0 R /Resources << /Font << /F1 3 0 R /F2 5 0 R >> >> >> endobj\n" +
		fmt.Sprintf("2 0 obj << /Length %d >>\nstream\n%s\nendstream endobj\n", len(content), content) +
		"3 0 obj << /Type /Font /Subtype /TrueType /ToUnicode 4 0 R >> endobj\n" +
		fmt.Sprintf("4 0 obj << /Length %d >>\nstream\n%s\nendstream endobj\n", len(cmap), cmap) +
		"5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Courier >> endobj\n" +
		"6 0 obj << /Title (T\\000i\\001t\\rle) >> endobj\ntrailer << /Info 6 0 R >>\n"
	cases := []struct {
		name, src, mediaType string
		title, text          string
	}{
		{"pdf", pdf, extract.TypePDF, "Tit le", "AA\n\nabc de"},
		{"html", "<title>T&#0;i&#1;tle</title><h1>He&#2;ad\x00</h1><p>a&#0;b&#27;c&#13;d&#12;e\x00</p>", extract.TypeHTML, "T\uFFFDitle", "Head\n\na\uFFFDbc d e"},
		{"markdown", "# He\x00ad\x01\n\na\x00b\x1bc\rd\fe\n", extract.TypeMarkdown, "Head", "Head\n\nabc\nd e"},
		{"plain", "T\x00itle\r\na\x00b\x1bc\rd\fe", extract.TypePlain, "Title", "Title\nabc\nd e"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			doc, err := extract.Extract([]byte(c.src), c.mediaType)
			require.NoError(t, err)
			require.Equal(t, c.title, doc.Title)
			require.Equal(t, c.text, doc.Text)
			for _, s := range doc.Sections {
				require.True(t, strings.HasPrefix(doc.Text[s.Start:s.End], s.Heading))
			}
		})
	}
}
