package extract

import (
	"bytes"
	"compress/zlib"
	"fmt"
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
