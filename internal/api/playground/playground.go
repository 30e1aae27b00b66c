// Package playground serves GraphiQL at / from files embedded in the binary, so that it
// works offline and loads nothing from another origin: GraphiQL's and React's browser
// builds at the versions npm/package-lock.json pins (copied into assets/ by
// `go generate`, which records each file's SHA-384 in assets/manifest.json), a start
// script and style sheet of its own (static/), and example operations as tabs
// (examples/). The page's Content-Security-Policy allows scripts, styles and
// connections to the page's own origin only; assets are served under content-hashed
// URLs, cached for good, with Subresource Integrity on the page. The packages'
// licences are served at /playground/licenses.
package playground

//go:generate go run ./gen

import (
	"bytes"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/inkgraph/inkgraph/internal/api/playground/manifest"
)

// Prefix is the path the assets are served under.
const Prefix = "/playground/"

// LicensesPath lists the bundled packages and their licences.
const LicensesPath = Prefix + "licenses"

//go:embed assets static examples
var files embed.FS

// Manifest is assets/manifest.json (package manifest).
type Manifest = manifest.Manifest

// Package is an npm package the assets come from.
type Package = manifest.Package

// File is one served file under assets/.
type File = manifest.File

// ReadManifest reads the embedded manifest.
func ReadManifest() (Manifest, error) {
	var m Manifest
	b, err := files.ReadFile("assets/manifest.json")
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("playground manifest: %w", err)
	}
	return m, nil
}

// Tab is an example operation GraphiQL opens as a tab.
type Tab struct {
	Query     string `json:"query"`
	Variables string `json:"variables,omitempty"`
	Headers   string `json:"headers,omitempty"`
}

// authHeaders is the headers editor's text in the tabs that need a signed-in caller.
const authHeaders = "{\n  \"Authorization\": \"Bearer <accessToken from Register or Login>\"\n}"

// Tabs are the example operations, in the order GraphiQL shows them: sign-up, sign-in,
// the onboarding summary, and a chat subscription.
func Tabs() ([]Tab, error) {
	var tabs []Tab
	for _, e := range []struct {
		name      string
		variables bool
		headers   string
	}{
		// The first tab takes no variables: GraphiQL 3 opens it with the query of
		// defaultTabs[0] but without its variables and headers.
		{"register", false, ""},
		{"login", true, ""},
		{"summary", false, authHeaders},
		{"chat", false, authHeaders},
	} {
		q, err := files.ReadFile("examples/" + e.name + ".graphql")
		if err != nil {
			return nil, err
		}
		t := Tab{Query: string(q), Headers: e.headers}
		if e.variables {
			v, err := files.ReadFile("examples/" + e.name + ".json")
			if err != nil {
				return nil, err
			}
			t.Variables = string(v)
		}
		tabs = append(tabs, t)
	}
	return tabs, nil
}

// Handler serves the page and its assets.
type Handler struct {
	page []byte
	// assets are by URL path.
	assets map[string]asset
	// Assets are the URL paths of the assets the page loads, in its order.
	Assets []string
}

type asset struct {
	file        string // in files, served from the binary's data as it is; or
	body        []byte // made at start
	contentType string
	etag        string
}

// content is what a serves.
func (a asset) content() (io.ReadSeeker, error) {
	if a.file == "" {
		return bytes.NewReader(a.body), nil
	}
	f, err := files.Open(a.file)
	if err != nil {
		return nil, err
	}
	rs, ok := f.(io.ReadSeeker) // embed's files seek; closing one does nothing
	if !ok {
		return nil, fmt.Errorf("playground: %s does not seek", a.file)
	}
	return rs, nil
}

// New builds the page for a GraphQL endpoint served on the same origin (such as
// "/graphql"), for HTTP and WebSocket alike.
func New(endpoint string) (*Handler, error) {
	m, err := ReadManifest()
	if err != nil {
		return nil, err
	}
	h := &Handler{assets: map[string]asset{}}
	type ref struct{ URL, Integrity string }
	var styles, scripts []ref
	add := func(name, dir, sha384 string) error {
		file := dir + "/" + name
		// A file the manifest has a digest for is served from the binary's data, not
		// read at start: GraphiQL's 4 MB, copied, took a third of the start's CPU with
		// the collections it set off.
		if sha384 != "" {
			fi, err := fs.Stat(files, file)
			if err != nil {
				return err
			}
			if !fi.Mode().IsRegular() {
				return fmt.Errorf("playground manifest: %s is not a file", name)
			}
		} else {
			body, err := files.ReadFile(file)
			if err != nil {
				return err
			}
			sum := sha512.Sum384(body)
			sha384 = base64.StdEncoding.EncodeToString(sum[:])
		}
		digest, err := base64.StdEncoding.DecodeString(sha384)
		if err != nil || len(digest) != sha512.Size384 {
			return fmt.Errorf("playground manifest: %s: bad sha384 %q", name, sha384)
		}
		// The URL names the content: a new build is a new URL, so a cached copy is never stale.
		url := Prefix + hex.EncodeToString(digest[:8]) + "/" + name
		a := asset{file: file, etag: `"` + hex.EncodeToString(digest[:16]) + `"`}
		r := ref{URL: url, Integrity: "sha384-" + sha384}
		switch path.Ext(name) {
		case ".js":
			a.contentType = "text/javascript; charset=utf-8"
			scripts = append(scripts, r)
		case ".css":
			a.contentType = "text/css; charset=utf-8"
			styles = append(styles, r)
		default:
			return fmt.Errorf("playground: no content type for %s", name)
		}
		h.assets[url] = a
		h.Assets = append(h.Assets, url)
		return nil
	}
	for _, f := range m.Files {
		if err := add(f.Path, "assets", f.SHA384); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"playground.css", "init.js"} {
		if err := add(name, "static", ""); err != nil {
			return nil, err
		}
	}

	licenses := &strings.Builder{}
	fmt.Fprintf(licenses, "GraphiQL at / is built from these npm packages, embedded in the server.\n\n")
	for _, p := range m.Packages {
		body, err := files.ReadFile("assets/" + p.LicenseFile)
		if err != nil {
			return nil, err
		}
		url := LicensesPath + "/" + p.Name + ".txt"
		sum := sha512.Sum384(body)
		h.assets[url] = asset{body: body, contentType: "text/plain; charset=utf-8", etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		fmt.Fprintf(licenses, "%s %s (%s, npm integrity %s): %s\n", p.Name, p.Version, p.License, p.Integrity, url)
	}
	sum := sha512.Sum384([]byte(licenses.String()))
	h.assets[LicensesPath] = asset{body: []byte(licenses.String()), contentType: "text/plain; charset=utf-8", etag: `"` + hex.EncodeToString(sum[:16]) + `"`}

	tabs, err := Tabs()
	if err != nil {
		return nil, err
	}
	tabsJSON, err := json.Marshal(tabs)
	if err != nil {
		return nil, err
	}
	tmpl, err := template.ParseFS(files, "static/index.html")
	if err != nil {
		return nil, err
	}
	var page bytes.Buffer
	err = tmpl.Execute(&page, struct {
		Endpoint, Tabs  string
		Styles, Scripts []ref
	}{endpoint, string(tabsJSON), styles, scripts})
	if err != nil {
		return nil, err
	}
	h.page = page.Bytes()
	return h, nil
}

// Register serves the page at / and the assets under Prefix on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", h.servePage)
	mux.HandleFunc("GET "+Prefix, h.serveAsset)
}

func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", PageCSP(r.Host))
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Frame-Options", "DENY")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.page))
}

func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := h.assets[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	content, err := a.content()
	if err != nil { // New found every file
		http.Error(w, "playground asset unreadable", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "default-src 'none'")
	hdr.Set("ETag", a.etag)
	if strings.HasPrefix(r.URL.Path, LicensesPath) {
		hdr.Set("Cache-Control", "no-cache")
	} else {
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	http.ServeContent(w, r, "", time.Time{}, content)
}

// PageCSP is the page's Content-Security-Policy for a request to host: scripts, style
// sheets and connections to the page's own origin only (WebSockets to the same host),
// no inline script, no other origin anywhere. GraphiQL's style sheet carries its fonts
// and some icons as data: URLs, and the page's icon is an empty data: URL. GraphiQL sets
// its inline styles through the DOM (element.style), which CSP does not govern, so
// style attributes stay refused (style-src-attr falls back to style-src 'self'); but
// its dialogs (settings, shortcuts) lock scrolling with a <style> element that
// react-remove-scroll writes with computed sizes and whose nonce the bundle gives no
// way to set, so <style> elements are allowed ('unsafe-inline' in style-src-elem only).
func PageCSP(host string) string {
	connect := "'self'"
	if validHost(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; style-src-elem 'self' 'unsafe-inline'; " +
		"font-src 'self' data:; img-src 'self' data:; connect-src " + connect + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// validHost admits a Host header that can go into a CSP source expression: a name,
// IPv4 or bracketed IPv6 address, with an optional port.
func validHost(host string) bool {
	if host == "" || len(host) > 255 {
		return false
	}
	for _, c := range host {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune(".-:[]", c):
		default:
			return false
		}
	}
	return true
}
