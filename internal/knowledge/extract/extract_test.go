package extract_test

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"strings"
	"testing"

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
		for _, s := range doc.Sections {
			require.True(t, 0 <= s.Start && s.Start <= s.End && s.End <= len(doc.Text))
		}
		for _, p := range extract.Chunk(doc, 64, 16) {
			require.Equal(t, doc.Text[p.Start:p.End], p.Text)
		}
	})
}
