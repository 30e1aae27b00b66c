package extract

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/ascii85"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/inkgraph/inkgraph/internal/platform/lazyregexp"
)

// A pure-Go PDF text extractor for what common writers produce. It does not
// follow the cross-reference table: it scans the file for "n g obj" (the last
// definition wins, as incremental updates intend) and reads object streams,
// so a damaged xref costs nothing. Streams are decoded with FlateDecode,
// ASCIIHex and ASCII85 within a budget shared by the whole file, which also
// pays for unfiltered streams, for each further use of a content stream, and
// for the entries of glyph width tables and CMaps; decoded streams and fonts
// are kept per object, so each is read once. Every object is parsed only up
// to its endobj or the next object header, and the lexers of one file read at
// most a budget of bytes proportional to its size and decoded content. Page content
// is interpreted for Tf, Tj, TJ, ' and " and the text positioning operators;
// strings are decoded through the font's ToUnicode CMap, or its simple
// encoding (WinAnsi, MacRoman, Standard, with Differences) otherwise.

const (
	maxObjects      = 1 << 20 // objects scanned in one file
	maxPages        = 1 << 16
	maxContentOps   = 1 << 24 // tokens interpreted over all pages
	maxCMapEntries  = 1 << 16 // per ToUnicode CMap, counting range members
	maxStreamLength = 64 << 20
	// entryCost is what a glyph width or a CMap entry costs the budget, in
	// bytes: about what it takes in memory.
	entryCost = 32
)

var objHeader = lazyregexp.New(`(\d{1,10})\s+(\d{1,5})\s+obj\b`)

type pdfObject struct {
	value  any
	stream []byte // raw (still encoded) stream data, when the object is a stream
	// decoded is the stream's data once decoded (nil when it cannot be), and
	// read whether it was; used whether a page's content used it already.
	decoded    []byte
	read, used bool
}

type pdfFile struct {
	objs     map[int]*pdfObject
	trailers []pdfDict
	budget   int // decompressed bytes left
	ops      int // content tokens left
	lex      lexWork
	fonts    map[int]*fontDecoder // by the font dictionary's object number
	cmaps    map[int]*cmap        // by the ToUnicode stream's object number
	err      error
}

func pdfDoc(data []byte) (*Document, error) { return readPDF(data, maxInflated) }

// readPDF reads data with budget bytes to inflate, all streams together.
func readPDF(data []byte, budget int) (*Document, error) {
	if !bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")) {
		return nil, fmt.Errorf("%w: no PDF header", ErrMalformed)
	}
	return newPDFFile(data, budget).document(data)
}

func newPDFFile(data []byte, budget int) *pdfFile {
	return &pdfFile{
		objs: map[int]*pdfObject{}, budget: budget, ops: maxContentOps,
		// Each byte of the file is read about twice at most (its object, a
		// trailer), each decoded byte about once (content, CMap, object stream).
		lex:   lexWork{left: 4*len(data) + 2*budget + 1<<16},
		fonts: map[int]*fontDecoder{}, cmaps: map[int]*cmap{},
	}
}

// lexer reads b (from offset pos) within the file's budget of bytes to lex.
func (f *pdfFile) lexer(b []byte, pos int) *lexer {
	return &lexer{b: b, pos: pos, work: &f.lex}
}

// charge takes n bytes from the budget; past it, it sets f.err.
func (f *pdfFile) charge(n int) bool {
	if f.err != nil {
		return false
	}
	if n > f.budget {
		f.err = fmt.Errorf("%w: decompressed PDF content exceeds the limit", ErrTooLarge)
		return false
	}
	f.budget -= n
	return true
}

// lexSpent sets f.err once the file's lexers have read all they may.
func (f *pdfFile) lexSpent() bool {
	if f.lex.left <= 0 && f.err == nil {
		f.err = fmt.Errorf("%w: PDF too complex to read", ErrTooLarge)
	}
	return f.err != nil
}

func (f *pdfFile) document(data []byte) (*Document, error) {
	f.scan(data)
	if f.err != nil || f.lexSpent() {
		return nil, f.err
	}
	for _, t := range f.trailers {
		if _, ok := t["Encrypt"]; ok {
			return nil, fmt.Errorf("%w: encrypted PDF", ErrUnsupported)
		}
	}
	var b textSink
	for _, page := range f.pages() {
		f.pageText(page, &b)
		if f.err != nil || f.lexSpent() {
			return nil, f.err
		}
		b.paragraph()
		if b.b.Len() > MaxTextBytes {
			return nil, fmt.Errorf("%w: more than %d bytes of text", ErrTooLarge, MaxTextBytes)
		}
	}
	text := strings.TrimSpace(cleanText(b.b.String()))
	return &Document{Title: f.title(), Text: cleanLines(text)}, nil
}

// cleanLines collapses each line's runs of white space and runs of blank lines.
func cleanLines(s string) string {
	var out strings.Builder
	blank := 0
	for line := range strings.SplitSeq(s, "\n") {
		// Justified text shows its gaps as several spaces.
		line = strings.Join(strings.Fields(line), " ")
		if strings.TrimSpace(line) == "" {
			blank++
			continue
		}
		if out.Len() > 0 {
			if blank > 0 {
				out.WriteString("\n\n")
			} else {
				out.WriteString("\n")
			}
		}
		blank = 0
		out.WriteString(line)
	}
	return out.String()
}

// scan finds every "n g obj" in data, and the trailers. Each object is read
// up to its endobj or the next object header, each trailer up to the next
// trailer or object header: an unclosed string or array ends there, not at
// the end of the file.
func (f *pdfFile) scan(data []byte) {
	ends := allIndexes(data, []byte("endstream"))
	endobjs := allIndexes(data, []byte("endobj"))
	locs := objHeader.FindAllSubmatchIndex(data, maxObjects)
	starts := make([]int, len(locs))
	for k, m := range locs {
		starts[k] = m[0]
	}
	for k, m := range locs {
		n, err1 := strconv.Atoi(string(data[m[2]:m[3]]))
		if err1 != nil {
			continue
		}
		limit := len(data)
		if k+1 < len(locs) {
			limit = locs[k+1][0]
		}
		if i := sort.SearchInts(endobjs, m[1]); i < len(endobjs) {
			limit = min(limit, endobjs[i])
		}
		l := f.lexer(data[:limit], m[1])
		v := l.object(0)
		obj := &pdfObject{value: v}
		if d, ok := v.(pdfDict); ok {
			if kw := l.token(); kw == pdfKeyword("stream") {
				obj.stream = streamData(data, l.pos, d, ends)
			}
			if d["Type"] == pdfName("XRef") {
				f.trailers = append(f.trailers, d)
			}
		}
		f.objs[n] = obj
	}
	trailers := allIndexes(data, []byte("trailer"))
	for k, i := range trailers {
		limit := len(data)
		if k+1 < len(trailers) {
			limit = trailers[k+1]
		}
		if j := sort.SearchInts(starts, i); j < len(starts) {
			limit = min(limit, starts[j])
		}
		l := f.lexer(data[:limit], i+len("trailer"))
		if d, ok := l.object(0).(pdfDict); ok {
			f.trailers = append(f.trailers, d)
		}
	}
	// Objects kept in object streams (PDF 1.5), unless defined plainly.
	for _, n := range sortedKeys(f.objs) {
		obj := f.objs[n]
		d, ok := obj.value.(pdfDict)
		if !ok || d["Type"] != pdfName("ObjStm") || obj.stream == nil {
			continue
		}
		f.readObjStm(d, obj.stream)
		if f.err != nil {
			return
		}
	}
}

func sortedKeys(m map[int]*pdfObject) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func allIndexes(data, sep []byte) []int {
	var out []int
	for i := 0; ; {
		j := bytes.Index(data[i:], sep)
		if j < 0 {
			return out
		}
		out = append(out, i+j)
		i += j + len(sep)
	}
}

// streamData is the raw data of a stream whose keyword ended at pos: /Length
// when it is direct and ends at "endstream", else up to the next "endstream".
func streamData(data []byte, pos int, d pdfDict, ends []int) []byte {
	if pos < len(data) && data[pos] == '\r' {
		pos++
	}
	if pos < len(data) && data[pos] == '\n' {
		pos++
	}
	if length, ok := d["Length"].(int64); ok && length >= 0 && length <= maxStreamLength && int64(pos)+length <= int64(len(data)) {
		end := pos + int(length)
		rest := bytes.TrimLeft(data[end:min(len(data), end+32)], " \r\n\t")
		if bytes.HasPrefix(rest, []byte("endstream")) {
			return data[pos:end]
		}
	}
	i := sort.SearchInts(ends, pos)
	if i == len(ends) {
		return nil
	}
	end := ends[i]
	if end-pos > maxStreamLength {
		return nil
	}
	return bytes.TrimRight(data[pos:end], "\r\n")
}

func (f *pdfFile) readObjStm(d pdfDict, raw []byte) {
	data := f.decode(d, raw)
	if data == nil {
		return
	}
	n, _ := f.resolve(d["N"]).(int64)
	first, _ := f.resolve(d["First"]).(int64)
	if n <= 0 || first <= 0 || first > int64(len(data)) || n > int64(len(data)) {
		return
	}
	head := f.lexer(data[:first], 0)
	type entry struct{ id, off int }
	var entries []entry
	for range n {
		id, ok1 := head.token().(int64)
		off, ok2 := head.token().(int64)
		if !ok1 || !ok2 || off < 0 || first+off >= int64(len(data)) || id < 0 || id > math.MaxInt32 {
			break
		}
		entries = append(entries, entry{int(id), int(first + off)})
	}
	for k, e := range entries {
		if len(f.objs) >= maxObjects {
			return
		}
		if _, defined := f.objs[e.id]; defined {
			continue
		}
		// An object ends where the next begins (offsets increase).
		limit := len(data)
		if k+1 < len(entries) && entries[k+1].off > e.off {
			limit = entries[k+1].off
		}
		l := f.lexer(data[:limit], e.off)
		f.objs[e.id] = &pdfObject{value: l.object(0)}
	}
}

// resolve follows references (a bounded number of hops).
func (f *pdfFile) resolve(v any) any {
	for range 16 {
		r, ok := v.(pdfRef)
		if !ok {
			return v
		}
		obj := f.objs[r.num]
		if obj == nil {
			return nil
		}
		v = obj.value
	}
	return nil
}

func (f *pdfFile) dict(v any) pdfDict {
	d, _ := f.resolve(v).(pdfDict)
	return d
}

// streamObject is the stream object v refers to, or nil.
func (f *pdfFile) streamObject(v any) *pdfObject {
	r, ok := v.(pdfRef)
	if !ok {
		return nil
	}
	obj := f.objs[r.num]
	if obj == nil || obj.stream == nil {
		return nil
	}
	return obj
}

// streamOf returns the decoded data of the stream v refers to, or nil; it
// decodes each stream once.
func (f *pdfFile) streamOf(v any) []byte {
	obj := f.streamObject(v)
	if obj == nil {
		return nil
	}
	if !obj.read {
		d, _ := obj.value.(pdfDict)
		obj.decoded, obj.read = f.decode(d, obj.stream), true
	}
	return obj.decoded
}

// contentOf is streamOf for page content: a stream's first use is paid for by
// its decoding, each further use (by another page, or twice in one page's
// Contents) costs its length again.
func (f *pdfFile) contentOf(v any) []byte {
	data := f.streamOf(v)
	obj := f.streamObject(v)
	if obj == nil || data == nil {
		return nil
	}
	if obj.used && !f.charge(len(data)) {
		return nil
	}
	obj.used = true
	return data
}

// decode applies a stream's filters within the file's budget; nil when a
// filter is unknown or the data is broken. Exceeding the budget sets f.err.
// An unfiltered stream costs its length.
func (f *pdfFile) decode(d pdfDict, raw []byte) []byte {
	var filters []any
	switch fl := f.resolve(d["Filter"]).(type) {
	case pdfName:
		filters = []any{fl}
	case pdfArray:
		filters = fl
	}
	if len(filters) == 0 {
		if !f.charge(len(raw)) {
			return nil
		}
		return raw
	}
	parms := f.resolve(d["DecodeParms"])
	data := raw
	for i, fl := range filters {
		name, _ := f.resolve(fl).(pdfName)
		var p pdfDict
		switch ps := parms.(type) {
		case pdfDict:
			p = ps
		case pdfArray:
			if i < len(ps) {
				p = f.dict(ps[i])
			}
		}
		var r io.Reader
		switch name {
		case "FlateDecode", "Fl":
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				r = flate.NewReader(bytes.NewReader(data))
			} else {
				r = zr
			}
		case "ASCIIHexDecode", "AHx":
			if !f.charge(len(data)) {
				return nil
			}
			l := &lexer{b: append(append([]byte{'<'}, bytes.TrimSuffix(bytes.TrimSpace(data), []byte(">"))...), '>')}
			s, _ := l.hexString().(pdfString)
			r = strings.NewReader(string(s))
		case "ASCII85Decode", "A85":
			body := bytes.TrimSpace(data)
			body = bytes.TrimPrefix(body, []byte("<~"))
			if i := bytes.Index(body, []byte("~>")); i >= 0 {
				body = body[:i]
			}
			r = ascii85.NewDecoder(bytes.NewReader(body))
		default:
			return nil
		}
		out, err := io.ReadAll(io.LimitReader(r, int64(f.budget)+1))
		if !f.charge(len(out)) {
			return nil
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && len(out) == 0 {
			return nil
		}
		if pred, _ := f.resolve(p["Predictor"]).(int64); pred >= 10 {
			cols, _ := f.resolve(p["Columns"]).(int64)
			out = unpredictPNG(out, int(max(1, min(cols, 1<<16))))
		}
		data = out
	}
	return data
}

// unpredictPNG undoes the PNG "Up" family of predictors that xref and object
// streams use (rows of cols bytes, each prefixed by its filter type).
func unpredictPNG(data []byte, cols int) []byte {
	row := cols + 1
	out := make([]byte, 0, len(data)/row*cols)
	prev := make([]byte, cols)
	for i := 0; i+row <= len(data); i += row {
		cur := slices.Clone(data[i+1 : i+row])
		switch data[i] {
		case 2:
			for j := range cur {
				cur[j] += prev[j]
			}
		case 1:
			for j := 1; j < len(cur); j++ {
				cur[j] += cur[j-1]
			}
		}
		out = append(out, cur...)
		prev = cur
	}
	return out
}

// pages lists the page dictionaries in document order: from the catalog's page
// tree when it can be walked, else every /Type /Page in object order.
func (f *pdfFile) pages() []pdfDict {
	var out []pdfDict
	seen := map[int]bool{}
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 64 || len(out) >= maxPages {
			return
		}
		if r, ok := v.(pdfRef); ok {
			if seen[r.num] {
				return
			}
			seen[r.num] = true
		}
		d := f.dict(v)
		if d == nil {
			return
		}
		switch d["Type"] {
		case pdfName("Pages"):
			kids, _ := f.resolve(d["Kids"]).(pdfArray)
			for _, k := range kids {
				walk(k, depth+1)
			}
		case pdfName("Page"):
			out = append(out, d)
		}
	}
	for _, t := range f.trailers {
		if root := f.dict(t["Root"]); root != nil {
			walk(root["Pages"], 0)
			if len(out) > 0 {
				return out
			}
		}
	}
	for _, n := range sortedKeys(f.objs) {
		if d, ok := f.objs[n].value.(pdfDict); ok && d["Type"] == pdfName("Page") && len(out) < maxPages {
			out = append(out, d)
		}
	}
	return out
}

func (f *pdfFile) title() string {
	for _, t := range slices.Backward(f.trailers) {
		if info := f.dict(t["Info"]); info != nil {
			if s, ok := f.resolve(info["Title"]).(pdfString); ok {
				if title := strings.TrimSpace(cleanText(textString(s))); title != "" {
					return title
				}
			}
		}
	}
	return ""
}

// textString decodes a PDF text string: UTF-16BE with a byte-order mark, UTF-8
// with one, or PDFDocEncoding (read as Latin-1, which it mostly is).
func textString(s pdfString) string {
	b := []byte(s)
	switch {
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		return utf16BE(b[2:])
	case bytes.HasPrefix(b, []byte{0xef, 0xbb, 0xbf}):
		return strings.ToValidUTF8(string(b[3:]), "\uFFFD")
	}
	return latin1(b)
}

func utf16BE(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, binary.BigEndian.Uint16(b[i:]))
	}
	return string(utf16.Decode(u))
}

func latin1(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		s.WriteRune(rune(c))
	}
	return s.String()
}

// inherited looks a page attribute up the page tree.
func (f *pdfFile) inherited(page pdfDict, key string) any {
	d := page
	for range 32 {
		if v, ok := d[key]; ok {
			return v
		}
		if d = f.dict(d["Parent"]); d == nil {
			return nil
		}
	}
	return nil
}

// pageText interprets a page's content streams into b.
func (f *pdfFile) pageText(page pdfDict, b *textSink) {
	var content []byte
	switch c := f.resolve(page["Contents"]).(type) {
	case pdfArray:
		// All paid for before any is copied.
		parts := make([][]byte, 0, len(c))
		size := 0
		for _, s := range c {
			part := f.contentOf(s)
			if f.err != nil {
				return
			}
			parts = append(parts, part)
			size += len(part) + 1
		}
		content = make([]byte, 0, size)
		for _, part := range parts {
			content = append(append(content, part...), '\n')
		}
	default:
		content = f.contentOf(page["Contents"])
	}
	if len(content) == 0 || f.err != nil {
		return
	}
	resources := f.dict(f.inherited(page, "Resources"))
	fonts := f.dict(resources["Font"])
	decoders := map[string]*fontDecoder{}
	font := func(name string) *fontDecoder {
		if fd, ok := decoders[name]; ok {
			return fd
		}
		// A font object is read once for the whole file.
		r, isRef := fonts[name].(pdfRef)
		fd := f.fonts[r.num]
		if !isRef || fd == nil {
			fd = f.fontDecoder(f.dict(fonts[name]))
			if isRef {
				f.fonts[r.num] = fd
			}
		}
		decoders[name] = fd
		return fd
	}
	f.interpret(content, font, b)
}

// textSink accumulates a page's text with line and paragraph breaks guessed
// from the text positions.
type textSink struct {
	b        strings.Builder
	lastY    float64
	endX     float64 // estimated end of the last text shown
	haveLast bool
}

func (t *textSink) paragraph() {
	t.b.WriteString("\n\n")
	t.haveLast = false
}

// show writes s as shown at (x, y) with the font size; it starts a line when
// y changed, a paragraph when it moved by more than two lines, a space when x
// jumped past the previous text's estimated end.
func (t *textSink) show(s string, x, y, size, advance float64) {
	if s == "" {
		return
	}
	size = math.Abs(size)
	if size == 0 {
		size = 10
	}
	if t.haveLast {
		dy := math.Abs(y - t.lastY)
		switch {
		case dy > 2.2*size:
			t.b.WriteString("\n\n")
		case dy > size/3:
			t.b.WriteString("\n")
		case x > t.endX+size*0.2:
			t.space()
		}
	}
	t.b.WriteString(s)
	t.lastY, t.haveLast = y, true
	t.endX = x + advance
}

func (t *textSink) space() {
	if s := t.b.String(); s != "" && !strings.HasSuffix(s, " ") && !strings.HasSuffix(s, "\n") {
		t.b.WriteByte(' ')
	}
}

// interpret runs the text operators of a content stream.
func (f *pdfFile) interpret(content []byte, font func(string) *fontDecoder, b *textSink) {
	l := f.lexer(content, 0)
	var (
		stack     []any
		fd        = &fontDecoder{}
		size      = 10.0
		leading   = 0.0
		lineX     float64 // text line matrix origin
		lineY     float64
		x         float64 // current text position (approximate)
		y         float64
		hscale    = 1.0
		charSpace float64 // Tc
		wordSpace float64 // Tw
		tmScale   = 1.0
	)
	show := func(s pdfString) {
		text, width, spaces := fd.decode(string(s))
		advance := (width/1000*size + charSpace*float64(len(s)) + wordSpace*float64(spaces)) * tmScale * hscale
		b.show(text, x, y, size*tmScale, advance)
		x += advance
	}
	newline := func() {
		lineY -= leading * tmScale
		x, y = lineX, lineY
	}
	for {
		if f.ops--; f.ops < 0 {
			f.err = fmt.Errorf("%w: PDF content too long to read", ErrTooLarge)
			return
		}
		if f.err != nil {
			return
		}
		tok := l.object(0)
		if tok == nil {
			return
		}
		op, ok := tok.(pdfKeyword)
		if !ok {
			if len(stack) < 64 {
				stack = append(stack, tok)
			}
			continue
		}
		args := stack
		stack = stack[:0]
		nums := func(n int) ([]float64, bool) {
			if len(args) < n {
				return nil, false
			}
			out := make([]float64, n)
			for i, a := range args[len(args)-n:] {
				v, ok := num(a)
				if !ok {
					return nil, false
				}
				out[i] = v
			}
			return out, true
		}
		switch op {
		case "BI":
			// An inline image: skip its data up to EI.
			if i := bytes.Index(content[l.pos:], []byte("EI")); i >= 0 {
				l.pos += i + 2
			} else {
				return
			}
		case "BT":
			lineX, lineY, x, y, tmScale = 0, 0, 0, 0, 1
		case "Tf":
			if len(args) >= 2 {
				if name, ok := args[len(args)-2].(pdfName); ok {
					fd = font(string(name))
				}
				if v, ok := num(args[len(args)-1]); ok {
					size = v
				}
			}
		case "TL":
			if v, ok := nums(1); ok {
				leading = v[0]
			}
		case "Tc":
			if v, ok := nums(1); ok {
				charSpace = v[0]
			}
		case "Tw":
			if v, ok := nums(1); ok {
				wordSpace = v[0]
			}
		case "Tz":
			if v, ok := nums(1); ok {
				hscale = v[0] / 100
			}
		case "Td", "TD":
			if v, ok := nums(2); ok {
				lineX += v[0] * tmScale
				lineY += v[1] * tmScale
				x, y = lineX, lineY
				if op == "TD" {
					leading = -v[1]
				}
			}
		case "Tm":
			if v, ok := nums(6); ok {
				lineX, lineY = v[4], v[5]
				x, y = lineX, lineY
				if s := math.Hypot(v[0], v[1]); s > 0 {
					tmScale = s
				}
			}
		case "T*":
			newline()
		case "Tj":
			if s, ok := last[pdfString](args); ok {
				show(s)
			}
		case "'":
			newline()
			if s, ok := last[pdfString](args); ok {
				show(s)
			}
		case "\"":
			if len(args) >= 3 {
				if aw, ok := num(args[len(args)-3]); ok {
					wordSpace = aw
				}
				if ac, ok := num(args[len(args)-2]); ok {
					charSpace = ac
				}
			}
			newline()
			if s, ok := last[pdfString](args); ok {
				show(s)
			}
		case "TJ":
			arr, _ := last[pdfArray](args)
			for _, el := range arr {
				switch el := el.(type) {
				case pdfString:
					show(el)
				default:
					// A large negative adjustment is a word space.
					if v, ok := num(el); ok {
						x -= v / 1000 * size * tmScale * hscale
						if v < -200 {
							b.space()
						}
					}
				}
			}
		}
	}
}

func last[T any](args []any) (T, bool) {
	var zero T
	if len(args) == 0 {
		return zero, false
	}
	v, ok := args[len(args)-1].(T)
	return v, ok
}

// fontDecoder turns a shown string's codes into text.
type fontDecoder struct {
	cmap     map[string]string // code bytes → text, from ToUnicode
	codeLens []int             // the code lengths the cmap uses, longest first
	simple   *[256]rune        // a simple font's encoding
	twoByte  bool              // a Type0 font without a usable ToUnicode
	// widths are the glyph widths by code (thousandths of the font size);
	// defaultWidth stands for the codes it lacks (0: guess).
	widths       map[int]float64
	defaultWidth float64
}

// decode returns the text of a shown string, its width in thousandths of the
// font size, and how many of its codes are single-byte spaces (for Tw).
func (fd *fontDecoder) decode(s string) (string, float64, int) {
	var out strings.Builder
	width, spaces := 0.0, 0
	switch {
	case fd.cmap != nil:
		for i := 0; i < len(s); {
			n := fd.codeLens[len(fd.codeLens)-1]
			for _, l := range fd.codeLens {
				if i+l <= len(s) {
					if t, ok := fd.cmap[s[i:i+l]]; ok {
						out.WriteString(t)
						n = l
						break
					}
				}
			}
			code := s[i:min(i+n, len(s))]
			width += fd.width(int(codeInt(pdfString(code))))
			if code == " " {
				spaces++
			}
			i += n
		}
	case fd.twoByte:
		// Identity-H without ToUnicode: glyph IDs, not text. Nothing to say.
		for i := 0; i+1 < len(s); i += 2 {
			width += fd.width(int(s[i])<<8 | int(s[i+1]))
		}
	default:
		enc := fd.simple
		if enc == nil {
			enc = &winAnsi
		}
		for i := 0; i < len(s); i++ {
			if r := enc[s[i]]; r != 0 {
				out.WriteRune(r)
			}
			width += fd.width(int(s[i]))
			if s[i] == ' ' {
				spaces++
			}
		}
	}
	return out.String(), width, spaces
}

// width is a code's glyph width in thousandths of the font size: the font's
// own, or an average guess when it gives none (the standard 14 fonts).
func (fd *fontDecoder) width(code int) float64 {
	if w, ok := fd.widths[code]; ok {
		return w
	}
	if fd.defaultWidth > 0 {
		return fd.defaultWidth
	}
	return 500
}

// readWidths reads a simple font's FirstChar and Widths, or a Type0 font's
// descendant's DW and W; each width costs the budget entryCost.
func (f *pdfFile) readWidths(font pdfDict, fd *fontDecoder) {
	fd.widths = map[int]float64{}
	set := func(code int, w float64) bool {
		if _, ok := fd.widths[code]; !ok && !f.charge(entryCost) {
			return false
		}
		fd.widths[code] = w
		return true
	}
	if font["Subtype"] == pdfName("Type0") {
		desc, _ := f.resolve(font["DescendantFonts"]).(pdfArray)
		if len(desc) == 0 {
			return
		}
		cid := f.dict(desc[0])
		fd.defaultWidth = 1000
		if dw, ok := num(f.resolve(cid["DW"])); ok && dw > 0 {
			fd.defaultWidth = dw
		}
		w, _ := f.resolve(cid["W"]).(pdfArray)
		for i := 0; i < len(w) && len(fd.widths) < maxCMapEntries; {
			first, ok := num(f.resolve(w[i]))
			if !ok || i+1 >= len(w) {
				return
			}
			if list, ok := f.resolve(w[i+1]).(pdfArray); ok {
				for j, v := range list {
					if x, ok := num(f.resolve(v)); ok && !set(int(first)+j, x) {
						return
					}
				}
				i += 2
				continue
			}
			last, ok1 := num(f.resolve(w[i+1]))
			if i+2 >= len(w) || !ok1 || last < first || last-first > maxCMapEntries {
				return
			}
			x, _ := num(f.resolve(w[i+2]))
			for c := int(first); c <= int(last); c++ {
				if !set(c, x) {
					return
				}
			}
			i += 3
		}
		return
	}
	first, _ := num(f.resolve(font["FirstChar"]))
	widths, _ := f.resolve(font["Widths"]).(pdfArray)
	for i, v := range widths {
		if x, ok := num(f.resolve(v)); ok && i < 256 && !set(int(first)+i, x) {
			return
		}
	}
}

func (f *pdfFile) fontDecoder(font pdfDict) *fontDecoder {
	fd := &fontDecoder{}
	if font == nil {
		return fd
	}
	f.readWidths(font, fd)
	if cm := f.toUnicode(font["ToUnicode"]); cm != nil && len(cm.m) > 0 {
		fd.cmap, fd.codeLens = cm.m, cm.lens
		return fd
	}
	if font["Subtype"] == pdfName("Type0") {
		fd.twoByte = true
		return fd
	}
	base := &winAnsi
	var diffs pdfArray
	switch enc := f.resolve(font["Encoding"]).(type) {
	case pdfName:
		base = namedEncoding(string(enc))
	case pdfDict:
		if n, ok := f.resolve(enc["BaseEncoding"]).(pdfName); ok {
			base = namedEncoding(string(n))
		}
		diffs, _ = f.resolve(enc["Differences"]).(pdfArray)
	}
	if len(diffs) == 0 {
		fd.simple = base
		return fd
	}
	table := *base
	code := 0
	for _, d := range diffs {
		switch d := d.(type) {
		case int64:
			code = int(d)
		case pdfName:
			if code >= 0 && code < 256 {
				if r, ok := glyphRune(string(d)); ok {
					table[code] = r
				}
			}
			code++
		}
	}
	fd.simple = &table
	return fd
}

func namedEncoding(name string) *[256]rune {
	switch name {
	case "MacRomanEncoding":
		return &macRoman
	case "StandardEncoding":
		return &standard
	}
	return &winAnsi
}

// cmap is a ToUnicode CMap: code bytes → text, and the code lengths it uses,
// longest first.
type cmap struct {
	m    map[string]string
	lens []int
}

// toUnicode reads the ToUnicode CMap v refers to, once per stream.
func (f *pdfFile) toUnicode(v any) *cmap {
	r, ok := v.(pdfRef)
	if !ok {
		return nil
	}
	if cm, ok := f.cmaps[r.num]; ok {
		return cm
	}
	var cm *cmap
	if data := f.streamOf(v); data != nil {
		m, lens := f.parseCMap(data)
		cm = &cmap{m, lens}
	}
	f.cmaps[r.num] = cm
	return cm
}

// parseCMap reads a ToUnicode CMap's bfchar and bfrange entries; each entry
// costs the budget entryCost.
func (f *pdfFile) parseCMap(data []byte) (map[string]string, []int) {
	m := map[string]string{}
	lens := map[int]bool{}
	l := f.lexer(data, 0)
	entries := 0
	add := func(code string, text string) {
		if entries++; entries <= maxCMapEntries && code != "" && f.charge(entryCost) {
			m[code] = text
			lens[len(code)] = true
		}
	}
	for entries <= maxCMapEntries && f.err == nil {
		tok := l.object(0)
		if tok == nil {
			break
		}
		switch tok {
		case pdfKeyword("beginbfchar"):
			for {
				src := l.object(0)
				if src == nil || src == pdfKeyword("endbfchar") {
					break
				}
				dst := l.object(0)
				s, ok1 := src.(pdfString)
				d, ok2 := dst.(pdfString)
				if ok1 && ok2 {
					add(string(s), utf16BE([]byte(d)))
				}
			}
		case pdfKeyword("beginbfrange"):
			for entries <= maxCMapEntries && f.err == nil {
				lo := l.object(0)
				if lo == nil || lo == pdfKeyword("endbfrange") {
					break
				}
				hi := l.object(0)
				dst := l.object(0)
				los, ok1 := lo.(pdfString)
				his, ok2 := hi.(pdfString)
				if !ok1 || !ok2 || len(los) != len(his) || len(los) == 0 || len(los) > 4 {
					continue
				}
				a, z := codeInt(los), codeInt(his)
				if z < a || z-a > maxCMapEntries {
					continue
				}
				for c := a; c <= z; c++ {
					code := codeBytes(c, len(los))
					switch d := dst.(type) {
					case pdfString:
						u := []byte(d)
						if len(u) >= 2 {
							u = slices.Clone(u)
							// The last byte(s) count up with the code.
							v := binary.BigEndian.Uint16(u[len(u)-2:]) + uint16(c-a)
							binary.BigEndian.PutUint16(u[len(u)-2:], v)
						}
						add(code, utf16BE(u))
					case pdfArray:
						if int(c-a) < len(d) {
							if s, ok := d[c-a].(pdfString); ok {
								add(code, utf16BE([]byte(s)))
							}
						}
					}
				}
			}
		}
	}
	var out []int
	for n := range lens {
		out = append(out, n)
	}
	slices.Sort(out)
	slices.Reverse(out)
	return m, out
}

func codeInt(s pdfString) uint32 {
	var v uint32
	for i := 0; i < len(s); i++ {
		v = v<<8 | uint32(s[i])
	}
	return v
}

func codeBytes(v uint32, n int) string {
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return string(b)
}
