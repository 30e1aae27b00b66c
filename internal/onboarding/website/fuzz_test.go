package website

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/inkgraph/inkgraph/models"
)

// FuzzExtract runs the extraction over arbitrary HTML (with and without brand
// analysis) and checks that it never panics and that its output is bounded
// whatever the page holds: truncated texts, capped lists, valid UTF-8, values
// that encode as JSON (no NaN or infinite scores), and a main text of at most
// styleTextMaxWords words.
func FuzzExtract(f *testing.F) {
	f.Add([]byte(`<!DOCTYPE html><html lang="en_us"><head><meta charset="utf-8"><title> Acme Notes </title>
<meta name="description" content="Acme Notes helps teams write clear docs.">
<meta property="og:site_name" content="Acme"><meta name="theme-color" content="#336699">
<link rel="apple-touch-icon" href="/icon.png"><base href="https://cdn.example.com/">
<style>body{font-family:"Inter",sans-serif;color:#333} a{color:#f60}</style></head>
<body><nav><a href="/">Home</a><a>Book a demo</a></nav><h1>Write better, together</h1>
<p>We help you write. Don't you love it? Start your free trial!</p><h2>Pricing</h2>
<button>Sign up</button><p style="font-family: 'Georgia'; background: #abc">Our team's e-mail.</p></body></html>`), true)
	f.Add([]byte(`<title>`+strings.Repeat("t", 400)+`</title><h1>`+strings.Repeat("Héading ", 60)+`</h1>`), false)
	f.Add([]byte(`<html lang="zh-hant-tw"><p>這是一個測試。這是另一個句子！</p></html>`), true)
	f.Add([]byte(`<p style="font-family: Averyveryverylongfontfamilyname, serif">x</p><p>supercalifragilistic supercalifragilistic</p>`), true)
	f.Add([]byte("<p>\xff\xfe broken \xe2\x82 utf-8</p><script>alert(1)</script><div hidden>secret</div>"), false)
	f.Add([]byte(`<svg><style>p{color:red}</style></svg><template><h1>x</h1></template><noscript><p>no</p></noscript>`), true)
	f.Add([]byte(`<table><tr><td><h2>a<h3>b<h1>c</table><select><option>Get started</option></select>`), false)
	f.Add([]byte{}, true)
	// Found by reading the bounds rather than by the fuzzer, kept as regressions: a
	// font family name and a language tag as long as the page likes.
	f.Add([]byte(`<p style="font-family: '`+strings.Repeat("Font", 40)+`', serif">x</p>`), true)
	f.Add([]byte(`<html lang="en-`+strings.Repeat("abcdefgh-", 8)+`x"><p>Hello</p></html>`), false)
	page, err := url.Parse("https://acme.example/notes/")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc []byte, brand bool) {
		a, text := extract(doc, page, brand)
		if _, err := json.Marshal(a); err != nil {
			t.Fatalf("the analysis does not encode as JSON: %v", err)
		}
		bounded(t, "title", a.Title, maxTitleRunes+1) // truncation adds "…"
		bounded(t, "description", a.Description, maxDescRunes+1)
		if len(a.Headings) > maxHeadings {
			t.Fatalf("%d headings", len(a.Headings))
		}
		for _, h := range a.Headings {
			bounded(t, "heading", h.Text, maxHeadingRunes+1)
			if h.Level < 1 || h.Level > 6 {
				t.Fatalf("heading level %d", h.Level)
			}
		}
		if len(a.Language) > maxLanguageTagLen {
			t.Fatalf("language tag of %d bytes: %q", len(a.Language), a.Language)
		}
		if len(a.TopTerms) > 15 {
			t.Fatalf("%d top terms", len(a.TopTerms))
		}
		for _, term := range a.TopTerms {
			bounded(t, "top term", term.Term, maxTermRunes)
		}
		checkTone(t, a.Tone)
		if n := len(strings.Fields(text)); n > styleTextMaxWords {
			t.Fatalf("main text of %d words", n)
		}
		if !utf8.ValidString(text) {
			t.Fatal("main text is not UTF-8")
		}
		if brand != (a.Brand != nil) {
			t.Fatalf("brand asked %v, got %v", brand, a.Brand)
		}
		if a.Brand != nil {
			checkBrand(t, a.Brand)
		}
	})
}

func checkTone(t *testing.T, tone models.ToneSignals) {
	t.Helper()
	if len(tone.CallToActionPhrases) > 10 {
		t.Fatalf("%d calls to action", len(tone.CallToActionPhrases))
	}
	for _, list := range [][]string{tone.CallToActionPhrases, tone.Labels} {
		for _, s := range list {
			bounded(t, "tone phrase", s, 64)
		}
	}
}

func checkBrand(t *testing.T, b *models.Brand) {
	t.Helper()
	if len(b.Colors) > maxBrandColors || len(b.Fonts) > maxBrandFonts {
		t.Fatalf("%d colors, %d fonts", len(b.Colors), len(b.Fonts))
	}
	for _, c := range b.Colors {
		if len(c) != 7 || c[0] != '#' {
			t.Fatalf("color %q", c)
		}
	}
	for _, font := range b.Fonts {
		bounded(t, "font", font, maxFontRunes)
	}
	if len(b.ThemeColor) > maxThemeColorLen || len(b.LogoURL) > maxLogoURLLen {
		t.Fatalf("theme color of %d bytes, logo URL of %d", len(b.ThemeColor), len(b.LogoURL))
	}
	bounded(t, "theme color", b.ThemeColor, maxThemeColorLen)
	bounded(t, "logo URL", b.LogoURL, maxLogoURLLen)
	bounded(t, "site name", b.SiteName, maxSiteNameRunes+1)
}

// bounded fails unless s is valid UTF-8 of at most n runes.
func bounded(t *testing.T, what, s string, n int) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s %q is not UTF-8", what, s)
	}
	if c := utf8.RuneCountInString(s); c > n {
		t.Fatalf("%s of %d runes (at most %d): %.80q…", what, c, n, s)
	}
}
