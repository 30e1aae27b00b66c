package website

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/inkgraph/inkgraph/internal/platform/lazyregexp"
	"github.com/inkgraph/inkgraph/models"
)

const (
	maxBrandColors = 8
	maxBrandFonts  = 5
	// maxFontRunes is the longest font family name kept: real ones are a few words,
	// and a page can make one as long as it likes.
	maxFontRunes = 100
)

// CSS patterns. They are read-only.
var (
	cssComment = lazyregexp.New(`(?s)/\*.*?\*/`)
	// One alternation so colours are found in the order they are written; 4- and
	// 8-digit hex (with alpha) are matched only so their prefix is not taken for a colour.
	cssColor = lazyregexp.New(`(?i)#([0-9a-f]{3,8})\b|rgba?\(\s*([\d.]+%?)[\s,]+([\d.]+%?)[\s,]+([\d.]+%?)`)
)

// genericFonts are CSS keywords and system stacks, not a brand's choice of type.
var genericFonts = wordSet("serif sans-serif monospace cursive fantasy system-ui ui-serif ui-sans-serif ui-monospace ui-rounded emoji math fangsong inherit initial unset revert revert-layer -apple-system blinkmacsystemfont")

// cssDeclarationLists returns the bodies of a style sheet's rules. Selectors are
// dropped so "#fade" in "#fade { … }" is not taken for a colour; nested at-rules
// (@media) need no special case since only text before a "}" is a declaration list.
func cssDeclarationLists(css string) []string {
	css = cssComment.ReplaceAllString(css, " ")
	var lists []string
	start := 0
	for i := 0; i < len(css); i++ {
		switch css[i] {
		case '{':
			start = i + 1
		case '}':
			if body := strings.TrimSpace(css[start:i]); body != "" {
				lists = append(lists, body)
			}
			start = i + 1
		}
	}
	return lists
}

// brandOf reads the brand fields gathered while walking the page.
func (e *extractor) brandOf(page *url.URL) *models.Brand {
	type seen struct{ count, first int }
	colors := map[string]*seen{}
	fonts := []string{}
	fontSeen := map[string]bool{}
	order := 0
	for _, list := range e.css {
		for _, decl := range strings.Split(cssComment.ReplaceAllString(list, " "), ";") {
			prop, value, ok := strings.Cut(decl, ":")
			if !ok {
				continue
			}
			for _, c := range parseColors(value) {
				if colors[c] == nil {
					colors[c] = &seen{first: order}
					order++
				}
				colors[c].count++
			}
			if strings.EqualFold(strings.TrimSpace(prop), "font-family") {
				if f := firstFontFamily(value); f != "" && !fontSeen[strings.ToLower(f)] && len(fonts) < maxBrandFonts {
					fontSeen[strings.ToLower(f)] = true
					fonts = append(fonts, f)
				}
			}
		}
	}
	palette := make([]string, 0, len(colors))
	for c := range colors {
		palette = append(palette, c)
	}
	slices.SortFunc(palette, func(a, b string) int {
		return cmp.Or(cmp.Compare(colors[b].count, colors[a].count), cmp.Compare(colors[a].first, colors[b].first))
	})

	theme := e.themeColor
	if c := parseColors(theme); len(c) == 1 {
		theme = c[0]
	}
	if len(theme) > maxThemeColorLen {
		theme = ""
	}

	base := page
	if page != nil && e.baseHref != "" {
		if b, err := page.Parse(e.baseHref); err == nil {
			base = b
		}
	}
	logo := ""
	for _, href := range []string{e.touchIcon, e.icon, e.ogImage} {
		if logo = resolveHTTP(base, href); logo != "" {
			break
		}
	}
	return &models.Brand{
		Colors:     palette[:min(len(palette), maxBrandColors)],
		Fonts:      fonts,
		ThemeColor: theme,
		SiteName:   truncateRunes(firstNonEmpty(e.siteName, e.appName), maxSiteNameRunes),
		LogoURL:    logo,
	}
}

// parseColors returns the colours in a CSS value as lowercase #rrggbb.
func parseColors(value string) []string {
	var out []string
	for _, m := range cssColor.FindAllStringSubmatch(value, -1) {
		switch hex := strings.ToLower(m[1]); {
		case len(hex) == 3:
			out = append(out, "#"+string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]}))
		case len(hex) == 6:
			out = append(out, "#"+hex)
		case hex == "":
			out = append(out, fmt.Sprintf("#%02x%02x%02x", channel(m[2]), channel(m[3]), channel(m[4])))
		}
	}
	return out
}

// channel reads an rgb() component, a number 0–255 or a percentage.
func channel(s string) int {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0
	}
	if pct {
		v = v * 255 / 100
	}
	return int(round(clamp(v, 0, 255), 0))
}

// firstFontFamily is the family a font-family declaration asks for first, or "" when
// that is a generic family or a variable.
func firstFontFamily(value string) string {
	value = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "!important"))
	first, _, _ := strings.Cut(value, ",")
	first = strings.Trim(strings.TrimSpace(first), `"'`)
	first = strings.TrimSpace(first)
	if first == "" || genericFonts[strings.ToLower(first)] || strings.HasPrefix(strings.ToLower(first), "var(") ||
		utf8.RuneCountInString(first) > maxFontRunes {
		return ""
	}
	return first
}

// resolveHTTP resolves href against base, keeping only http(s) results: a data: or
// javascript: logo is not something to store or show.
func resolveHTTP(base *url.URL, href string) string {
	if href == "" {
		return ""
	}
	var (
		u   *url.URL
		err error
	)
	if base != nil {
		u, err = base.Parse(href)
	} else {
		u, err = url.Parse(href)
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	if s := u.String(); len(s) <= maxLogoURLLen {
		return s
	}
	return ""
}
