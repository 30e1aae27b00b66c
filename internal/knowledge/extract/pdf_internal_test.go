package extract

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A decompression bomb stops at the budget, whatever it would inflate to: here
// 8 MiB of zeros (8 KiB compressed) against a budget of 1 MiB, so that the test is
// cheap; Extract's budget is maxInflated.
func TestPDFDecompressionBomb(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	_, _ = w.Write(make([]byte, 8<<20))
	_ = w.Close()
	pdf := fmt.Sprintf("%%PDF-1.4\n1 0 obj << /Type /Page /Contents 2 0 R >> endobj\n2 0 obj << /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream endobj\n", b.Len(), b.String())
	_, err := readPDF([]byte(pdf), 1<<20)
	require.ErrorIs(t, err, ErrTooLarge)
	// Within the budget the same file reads (as no text).
	_, err = readPDF([]byte(pdf), 16<<20)
	require.NoError(t, err)
}

// Hostile object syntax costs work linear in the file's size: an object or a
// trailer is read up to its endobj or the next header, a container stops at
// the nesting limit, and the lexers of one file read within a budget. Each
// input here is 2 MiB; parsing every object to the end of the file, as an
// unclosed string or array once did, reads about a million times that.
func TestPDFHostileSyntaxIsLinear(t *testing.T) {
	t.Parallel()
	const size = 2 << 20
	fill := func(unit string) []byte {
		return []byte("%PDF-1.4\n" + strings.Repeat(unit, size/len(unit)))
	}
	// An object stream of 100,000 objects, each an unclosed string up to the
	// end of the stream unless cut at the next object's offset.
	var head strings.Builder
	const n = 100_000
	for i := range n {
		fmt.Fprintf(&head, "%d %d ", i+10, i*20)
	}
	objs := strings.Repeat("(unclosed string....", n)
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	_, _ = w.Write([]byte(head.String() + objs))
	_ = w.Close()
	objStm := []byte(fmt.Sprintf("%%PDF-1.5\n1 0 obj << /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream endobj\n",
		n, head.Len(), z.Len(), z.String()))

	for name, data := range map[string][]byte{
		"unclosed strings":       fill("1 0 obj ("),
		"unclosed arrays":        fill("1 0 obj ["),
		"unclosed dictionaries":  fill("1 0 obj << /K "),
		"unclosed hex strings":   fill("1 0 obj <"),
		"unclosed trailers":      fill("trailer << /Root ["),
		"deep arrays":            fill("1 0 obj " + strings.Repeat("[", 100)),
		"deep arrays, no header": fill(strings.Repeat("[", 100) + "trailer"),
		"object stream":          objStm,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newPDFFile(data, maxInflated)
			_, err := f.document(data)
			require.NoError(t, err)
			require.LessOrEqual(t, f.lex.done, 2*(len(data)+maxInflated-f.budget), "bytes lexed for %d bytes of file", len(data))
		})
	}
}

// Unfiltered streams cost the budget their length, and a content stream used
// again (here 1000 times by one page, 10 MB of content from a 10 KB stream)
// costs it again each time.
func TestPDFStreamUsesCostBudget(t *testing.T) {
	t.Parallel()
	content := strings.Repeat("BT (x) Tj ET\n", 10<<10/13)
	file := func(refs int) []byte {
		return []byte(fmt.Sprintf("%%PDF-1.4\n1 0 obj << /Type /Page /Contents [%s] >> endobj\n2 0 obj << /Length %d >>\nstream\n%s\nendstream endobj\n",
			strings.Repeat("2 0 R ", refs), len(content), content))
	}
	doc, err := readPDF(file(1), 1<<20)
	require.NoError(t, err)
	require.Equal(t, "x", doc.Text[:1])
	_, err = readPDF(file(1000), 1<<20)
	require.ErrorIs(t, err, ErrTooLarge)
	// One unfiltered stream larger than the budget.
	_, err = readPDF(file(1), len(content)-1)
	require.ErrorIs(t, err, ErrTooLarge)
}

// A font is read once for the whole file, however many pages use it: here a
// Type0 font with 65,536 widths and a ToUnicode CMap of 65,536 entries, used by
// 200 pages under two names each. Read again for each page and name, its
// entries alone would cost 25 times the budget.
func TestPDFFontsReadOnce(t *testing.T) {
	t.Parallel()
	cmap := "begincmap 1 beginbfrange <0000> <FFFF> <0000> endbfrange endcmap"
	content := "BT /F1 10 Tf 0 0 Td <00480069> Tj /F2 10 Tf 0 -30 Td <0021> Tj ET"
	var b strings.Builder
	b.WriteString("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n")
	var kids strings.Builder
	const pages = 200
	for i := range pages {
		fmt.Fprintf(&kids, "%d 0 R ", 100+i)
		fmt.Fprintf(&b, "%d 0 obj << /Type /Page /Parent 2 0 R /Contents 3 0 R /Resources << /Font << /F1 4 0 R /F2 4 0 R >> >> >> endobj\n", 100+i)
	}
	fmt.Fprintf(&b, "2 0 obj << /Type /Pages /Kids [%s] /Count %d >> endobj\n", kids.String(), pages)
	fmt.Fprintf(&b, "3 0 obj << /Length %d >>\nstream\n%s\nendstream endobj\n", len(content), content)
	b.WriteString("4 0 obj << /Type /Font /Subtype /Type0 /ToUnicode 5 0 R /DescendantFonts [6 0 R] >> endobj\n")
	fmt.Fprintf(&b, "5 0 obj << /Length %d >>\nstream\n%s\nendstream endobj\n", len(cmap), cmap)
	b.WriteString("6 0 obj << /Type /Font /Subtype /CIDFontType2 /W [0 65535 600] >> endobj\ntrailer << /Root 1 0 R >>\n")
	data := []byte(b.String())
	f := newPDFFile(data, maxInflated)
	doc, err := f.document(data)
	require.NoError(t, err)
	require.Equal(t, strings.Repeat("Hi\n\n!\n\n", pages-1)+"Hi\n\n!", doc.Text)
	require.Len(t, f.fonts, 1)
	// The font's 131,072 entries cost more than 1 MiB.
	_, err = readPDF(data, 1<<20)
	require.ErrorIs(t, err, ErrTooLarge)
	spent := maxInflated - f.budget
	require.Less(t, spent, 3*65536*entryCost+pages*len(content), "budget spent")
}

// Past the nesting limit an object ends, every open container with it, rather
// than reading on to the end of its input.
func TestLexerStopsAtNestingLimit(t *testing.T) {
	t.Parallel()
	data := []byte(strings.Repeat("[", 2*maxNesting) + strings.Repeat(" 1 (a) [2] ", 1000))
	l := &lexer{b: data}
	v, ok := l.object(0).(pdfArray)
	require.True(t, ok)
	require.Len(t, v, 1)
	require.LessOrEqual(t, l.pos, maxNesting+1)
	require.Nil(t, l.object(0), "the lexer reads as if at the end")
}
