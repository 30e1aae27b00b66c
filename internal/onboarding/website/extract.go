package website

import (
	"bytes"
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/inkgraph/inkgraph/models"
)

// Limits on what a page can make us store: a page is the site owner's text, and a
// hostile one could put megabytes in a title.
const (
	maxHeadings       = 50
	maxTitleRunes     = 300
	maxDescRunes      = 1000
	maxHeadingRunes   = 300
	maxThemeColorLen  = 64
	maxSiteNameRunes  = 200
	maxLogoURLLen     = 2048
	styleTextMaxWords = 1500
)

// Extract reads the writing signals of an HTML document fetched from page. doc must be
// UTF-8, which is what Analyze hands it after decoding the declared charset; page
// resolves relative logo addresses and may be nil. Brand is nil unless brand is true.
// Fetch details (URL, FinalURL, ContentType, sizes, times) are left for the caller.
func Extract(doc []byte, page *url.URL, brand bool) *models.WebsiteAnalysis {
	analysis, _ := extract(doc, page, brand)
	return analysis
}

// extract is Extract that also returns the page's main text, for the style analysis.
func extract(doc []byte, page *url.URL, brand bool) (*models.WebsiteAnalysis, string) {
	e := &extractor{brand: brand, headings: []models.Heading{}}
	root, err := html.Parse(bytes.NewReader(bytes.ToValidUTF8(doc, []byte("\uFFFD"))))
	if err == nil { // html.Parse fails only when its reader does, which a bytes.Reader cannot
		e.walk(root, false)
	}
	e.flush()

	s := analyzeText(e.blocks)
	language := normalizeLang(e.lang)
	if language == "" {
		language = guessLanguage(s.lowerWords)
	}
	analysis := &models.WebsiteAnalysis{
		Title:        truncateRunes(firstNonEmpty(e.title, e.ogTitle), maxTitleRunes),
		Description:  truncateRunes(firstNonEmpty(e.description, e.ogDescription), maxDescRunes),
		Headings:     e.headings,
		WordCount:    len(s.words),
		ReadingLevel: s.readingLevel(),
		Language:     language,
		TopTerms:     topTerms(s.lowerWords, 15),
		Tone:         s.tone(callsToAction(e.blocks)),
	}
	if brand {
		analysis.Brand = e.brandOf(page)
	}
	return analysis, mainText(e.blocks, styleTextMaxWords)
}

// block is a run of text between block-level boundaries: a paragraph, a heading, a
// list item, a button.
type block struct {
	text string
	nav  bool // inside <nav>: read only for calls to action, since menus are not prose
}

type extractor struct {
	brand bool

	title, ogTitle             string
	description, ogDescription string
	lang                       string
	headings                   []models.Heading

	blocks []block
	cur    strings.Builder
	curNav bool

	// Brand sources.
	css                      []string // declaration lists, from style attributes and <style> rule bodies
	themeColor               string
	siteName, appName        string
	touchIcon, icon, ogImage string
	baseHref                 string
}

func (e *extractor) walk(n *html.Node, nav bool) {
	switch n.Type {
	case html.TextNode:
		e.cur.WriteString(n.Data)
		if strings.TrimSpace(n.Data) != "" {
			e.curNav = nav
		}
		return
	case html.DocumentNode:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			e.walk(c, nav)
		}
		return
	case html.ElementNode:
	default:
		return
	}

	if e.brand {
		if style, ok := attr(n, "style"); ok {
			e.css = append(e.css, style)
		}
	}
	switch n.DataAtom {
	case atom.Title:
		if e.title == "" {
			e.title = collapse(textContent(n))
		}
		return
	case atom.Meta:
		e.meta(n)
		return
	case atom.Link:
		e.link(n)
		return
	case atom.Base:
		if href, ok := attr(n, "href"); ok && e.baseHref == "" {
			e.baseHref = strings.TrimSpace(href)
		}
		return
	case atom.Style:
		if e.brand {
			e.css = append(e.css, cssDeclarationLists(textContent(n))...)
		}
		return
	case atom.Html:
		if lang, ok := attr(n, "lang"); ok {
			e.lang = lang
		} else if lang, ok := attr(n, "xml:lang"); ok {
			e.lang = lang
		}
	case atom.Br:
		e.cur.WriteByte(' ')
		return
	}
	if invisible(n) {
		return
	}
	if n.DataAtom == atom.Nav {
		nav = true
	}
	if level := headingLevel(n); level > 0 && !nav && len(e.headings) < maxHeadings {
		if text := truncateRunes(collapse(visibleText(n)), maxHeadingRunes); text != "" {
			e.headings = append(e.headings, models.Heading{Level: level, Text: text})
		}
	}
	isBlock := !inlineElements[n.DataAtom]
	if isBlock {
		e.flush()
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		e.walk(c, nav)
	}
	if isBlock {
		e.flush()
	}
}

// flush ends the current block.
func (e *extractor) flush() {
	if text := collapse(e.cur.String()); text != "" {
		e.blocks = append(e.blocks, block{text: text, nav: e.curNav})
	}
	e.cur.Reset()
	e.curNav = false
}

func (e *extractor) meta(n *html.Node) {
	content, _ := attr(n, "content")
	content = collapse(content)
	if content == "" {
		return
	}
	name, _ := attr(n, "name")
	property, _ := attr(n, "property")
	for _, key := range []string{name, property} {
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "description":
			setOnce(&e.description, content)
		case "og:title":
			setOnce(&e.ogTitle, content)
		case "og:description":
			setOnce(&e.ogDescription, content)
		case "og:site_name":
			setOnce(&e.siteName, content)
		case "application-name":
			setOnce(&e.appName, content)
		case "og:image", "og:image:url":
			setOnce(&e.ogImage, content)
		case "theme-color":
			setOnce(&e.themeColor, content)
		}
	}
}

func (e *extractor) link(n *html.Node) {
	href, _ := attr(n, "href")
	href = strings.TrimSpace(href)
	rel, _ := attr(n, "rel")
	if href == "" {
		return
	}
	for _, r := range strings.Fields(strings.ToLower(rel)) {
		switch r {
		case "apple-touch-icon", "apple-touch-icon-precomposed":
			setOnce(&e.touchIcon, href)
		case "icon":
			setOnce(&e.icon, href)
		}
	}
}

func setOnce(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// headingLevel is 1 to 3 for h1–h3 and 0 for anything else, h4–h6 included.
func headingLevel(n *html.Node) int {
	switch n.DataAtom {
	case atom.H1:
		return 1
	case atom.H2:
		return 2
	case atom.H3:
		return 3
	}
	return 0
}

// skippedElements hold no text a visitor reads as the page's prose.
var skippedElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Svg: true, atom.Math: true, atom.Iframe: true, atom.Object: true, atom.Embed: true,
	atom.Canvas: true, atom.Audio: true, atom.Video: true, atom.Select: true, atom.Datalist: true,
	atom.Textarea: true,
}

// inlineElements do not end a block of text: "<b>Get</b> started" is one phrase.
var inlineElements = map[atom.Atom]bool{
	atom.A: true, atom.Abbr: true, atom.B: true, atom.Bdi: true, atom.Bdo: true, atom.Big: true,
	atom.Cite: true, atom.Code: true, atom.Data: true, atom.Del: true, atom.Dfn: true, atom.Em: true,
	atom.Font: true, atom.I: true, atom.Ins: true, atom.Kbd: true, atom.Label: true, atom.Mark: true,
	atom.Nobr: true, atom.Q: true, atom.S: true, atom.Samp: true, atom.Small: true, atom.Span: true,
	atom.Strike: true, atom.Strong: true, atom.Sub: true, atom.Sup: true, atom.Time: true, atom.Tt: true,
	atom.U: true, atom.Var: true, atom.Wbr: true, atom.Img: true,
}

// invisible reports whether n's subtree is not shown to a visitor.
func invisible(n *html.Node) bool {
	if skippedElements[n.DataAtom] || n.Namespace != "" {
		return true
	}
	if _, ok := attr(n, "hidden"); ok {
		return true
	}
	if v, _ := attr(n, "aria-hidden"); strings.EqualFold(strings.TrimSpace(v), "true") {
		return true
	}
	if style, ok := attr(n, "style"); ok {
		s := strings.ToLower(strings.Join(strings.Fields(style), ""))
		if strings.Contains(s, "display:none") || strings.Contains(s, "visibility:hidden") {
			return true
		}
	}
	return false
}

// visibleText is the text of n's subtree a visitor sees, with blocks and line breaks
// turned into spaces so their words do not run together.
func visibleText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			return
		case html.ElementNode:
			if invisible(n) {
				return
			}
			if n.DataAtom == atom.Br || !inlineElements[n.DataAtom] {
				b.WriteByte(' ')
				defer b.WriteByte(' ')
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c)
	}
	return b.String()
}

// textContent is all the text under n, for elements whose content is raw text.
func textContent(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// collapse trims s and turns each run of white space into one space.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n])) + "…"
}

// mainText is the page's prose, menus left out, cut after maxWords words.
func mainText(blocks []block, maxWords int) string {
	var b strings.Builder
	words := 0
	for _, bl := range blocks {
		if bl.nav {
			continue
		}
		fields := strings.Fields(bl.text)
		if words+len(fields) > maxWords {
			fields = fields[:maxWords-words]
		}
		if len(fields) > 0 {
			b.WriteString(strings.Join(fields, " "))
			b.WriteByte('\n')
		}
		words += len(fields)
		if words >= maxWords {
			break
		}
	}
	return strings.TrimSpace(b.String())
}
