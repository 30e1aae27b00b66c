package extract

import (
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxHTMLDepth bounds the element nesting htmlDoc walks; deeper content is
// skipped (the parser itself already caps its stack).
const maxHTMLDepth = 256

// skipped elements hold no reading text: code, styling, navigation, forms'
// machinery and embedded documents.
var skipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Nav: true, atom.Noscript: true,
	atom.Template: true, atom.Iframe: true, atom.Svg: true, atom.Math: true,
	atom.Head: true, atom.Select: true, atom.Button: true, atom.Object: true,
	atom.Canvas: true, atom.Audio: true, atom.Video: true,
}

// blocks start and end a block of text.
var blocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Main: true,
	atom.Header: true, atom.Footer: true, atom.Aside: true, atom.Blockquote: true,
	atom.Ul: true, atom.Ol: true, atom.Li: true, atom.Dl: true, atom.Dt: true, atom.Dd: true,
	atom.Table: true, atom.Tr: true, atom.Thead: true, atom.Tbody: true, atom.Tfoot: true,
	atom.Caption: true, atom.Figure: true, atom.Figcaption: true, atom.Form: true,
	atom.Fieldset: true, atom.Address: true, atom.Details: true, atom.Summary: true,
	atom.Hr: true, atom.Body: true, atom.Html: true,
}

var headingLevel = map[atom.Atom]int{
	atom.H1: 1, atom.H2: 2, atom.H3: 3, atom.H4: 4, atom.H5: 5, atom.H6: 6,
}

// htmlDoc reads HTML: script, style, nav and the like are dropped, h1-h6 become
// sections, block elements separate paragraphs, pre keeps its lines.
func htmlDoc(data []byte) (*Document, error) {
	root, err := html.Parse(bytes.NewReader([]byte(normalize(data))))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	w := htmlWalker{}
	w.title = findTitle(root)
	w.walk(root, 0)
	w.flush()
	return w.d.document(w.title)
}

type htmlWalker struct {
	d     builder
	title string
	cur   strings.Builder // the open block's inline text
}

func (w *htmlWalker) flush() {
	w.d.block(strings.Join(strings.Fields(w.cur.String()), " "))
	w.cur.Reset()
}

func (w *htmlWalker) walk(n *html.Node, depth int) {
	if depth > maxHTMLDepth {
		return
	}
	switch n.Type {
	case html.TextNode:
		w.cur.WriteString(n.Data)
		return
	case html.ElementNode:
		if skipped[n.DataAtom] {
			return
		}
		if level, ok := headingLevel[n.DataAtom]; ok {
			w.flush()
			w.d.heading(level, textOf(n))
			return
		}
		switch n.DataAtom {
		case atom.Br:
			w.cur.WriteString("\n")
			w.flush()
			return
		case atom.Pre:
			w.flush()
			w.d.block(textOf(n))
			return
		case atom.Img:
			for _, a := range n.Attr {
				if a.Key == "alt" && strings.TrimSpace(a.Val) != "" {
					w.cur.WriteString(" " + a.Val + " ")
				}
			}
			return
		case atom.Td, atom.Th:
			w.cur.WriteString(" ")
		}
	}
	block := n.Type == html.ElementNode && blocks[n.DataAtom]
	if block {
		w.flush()
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c, depth+1)
	}
	if block {
		w.flush()
	}
}

// textOf is the text under n, scripts and styles left out.
func textOf(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node, int)
	rec = func(n *html.Node, depth int) {
		if depth > maxHTMLDepth || n.Type == html.ElementNode && skipped[n.DataAtom] {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c, depth+1)
		}
	}
	rec(n, 0)
	return b.String()
}

func findTitle(n *html.Node) string {
	var found string
	var rec func(*html.Node, int)
	rec = func(n *html.Node, depth int) {
		if found != "" || depth > maxHTMLDepth {
			return
		}
		if n.Type == html.ElementNode && n.DataAtom == atom.Title {
			found = strings.Join(strings.Fields(textOf(n)), " ")
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c, depth+1)
		}
	}
	rec(n, 0)
	return found
}
