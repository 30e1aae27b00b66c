package website

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html/charset"

	"github.com/inkgraph/inkgraph/models"
)

// page is a fetched HTML document.
type page struct {
	url         *url.URL // after redirects
	html        []byte   // decoded to UTF-8 by fetch; as served by get
	header      string   // the Content-Type header
	contentType string   // media type, without parameters
	size        int64    // bytes received, after any transfer decompression
}

// fetch GETs u within the configured time and size, and accepts only an HTML answer.
func (a *Analyzer) fetch(parent context.Context, u *url.URL) (*page, error) {
	p, err := a.get(parent, u, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1", htmlMediaType)
	if err != nil {
		return nil, err
	}
	p.html = decode(p.html, p.header)
	return p, nil
}

// Fetched is what Fetch read: the address after redirects, the media type (without
// parameters) and the body as served.
type Fetched struct {
	URL       string
	MediaType string
	Body      []byte
}

// Fetch GETs rawURL (normalised as Analyze does: "example.com/a" is
// https://example.com/a) under the same guard as an analysis: public addresses and
// web ports only, checked where they are dialled and on every redirect, within the
// configured time and size. It accepts any media type and returns the body
// undecoded. Errors are *models.Error on field "url", as Analyze's.
func (a *Analyzer) Fetch(ctx context.Context, rawURL string) (*Fetched, error) {
	u, err := normalizeURL(rawURL)
	if err != nil {
		return nil, err
	}
	if err := a.checkURL(u); err != nil {
		return nil, err
	}
	p, err := a.get(ctx, u, "*/*", anyMediaType)
	if err != nil {
		return nil, err
	}
	return &Fetched{URL: p.url.String(), MediaType: p.contentType, Body: p.html}, nil
}

// anyMediaType returns the media type of a Content-Type value.
func anyMediaType(contentType string) (string, error) {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", models.InvalidInput("url", "the site sent content of an unknown type")
	}
	return mediaType, nil
}

// get GETs u within the configured time and size; mediaType reads the answer's
// Content-Type (or, without one, the type sniffed from the body) and refuses what
// the caller cannot use.
func (a *Analyzer) get(parent context.Context, u *url.URL, accept string, mediaTypeOf func(string) (string, error)) (*page, error) {
	ctx, cancel := context.WithTimeout(parent, a.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, models.InvalidInput("url", "this is not a valid web address: enter something like example.com")
	}
	req.Header.Set("User-Agent", a.cfg.UserAgent)
	req.Header.Set("Accept", accept)

	resp, err := a.client.Do(req)
	if err != nil {
		return nil, a.fetchError(parent, ctx, u.Hostname(), err)
	}
	defer resp.Body.Close()
	final := resp.Request.URL

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The reason phrase is the server's text; the standard one is ours.
		status := strings.TrimSpace(fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode)))
		if resp.StatusCode >= 500 {
			// The site is down or failing, not the URL wrong: trying later may work.
			return nil, &models.Error{Code: models.CodeUpstreamUnavailable, Field: "url",
				Message: "the site answered " + status}
		}
		return nil, models.InvalidInput("url", "the site answered %s", status)
	}
	header := resp.Header.Get("Content-Type")
	mediaType := ""
	if header != "" {
		if mediaType, err = mediaTypeOf(header); err != nil {
			return nil, err
		}
	}
	if resp.ContentLength > a.cfg.MaxBytes {
		return nil, a.tooLarge()
	}
	// One byte more than allowed tells a page of exactly MaxBytes from a larger one.
	body, err := io.ReadAll(io.LimitReader(resp.Body, a.cfg.MaxBytes+1))
	if err != nil {
		return nil, a.fetchError(parent, ctx, final.Hostname(), err)
	}
	if int64(len(body)) > a.cfg.MaxBytes {
		return nil, a.tooLarge()
	}
	if mediaType == "" {
		if mediaType, err = mediaTypeOf(http.DetectContentType(body)); err != nil {
			return nil, err
		}
	}
	return &page{url: final, html: body, header: header, contentType: mediaType, size: int64(len(body))}, nil
}

// htmlMediaType returns the media type of a Content-Type value, or the error telling
// the user it is not a web page.
func htmlMediaType(contentType string) (string, error) {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", models.InvalidInput("url", "the site sent content of an unknown type, not a web page")
	}
	if mediaType != "text/html" && mediaType != "application/xhtml+xml" {
		return "", models.InvalidInput("url", "the address leads to %s content, not a web page", mediaType)
	}
	return mediaType, nil
}

// decode converts body to UTF-8 from the charset the header, a byte order mark or a
// <meta> declares, guessing windows-1252 for undeclared text that is not UTF-8.
func decode(body []byte, contentType string) []byte {
	r, err := charset.NewReader(bytes.NewReader(body), contentType)
	if err != nil {
		return body
	}
	decoded, err := io.ReadAll(r)
	if err != nil {
		return body
	}
	return decoded
}

func (a *Analyzer) tooLarge() error {
	return models.InvalidInput("url", "the page is larger than %s", formatSize(a.cfg.MaxBytes))
}

func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// fetchError turns a failed request or body read into what the user can act on. parent
// is the caller's context and ctx the fetch's, whose deadline is the configured timeout.
func (a *Analyzer) fetchError(parent, ctx context.Context, host string, err error) error {
	var (
		redirect *redirectError
		private  *privateAddressError
		port     *portError
		dns      *net.DNSError
		netErr   net.Error
	)
	switch {
	case errors.As(err, &redirect):
		return redirect.err
	case errors.As(err, &private):
		return &models.Error{Code: models.CodeBadUserInput, Field: "url", Message: private.message(), Err: err}
	case errors.As(err, &port):
		return &models.Error{Code: models.CodeBadUserInput, Field: "url", Message: port.message(), Err: err}
	case parent.Err() != nil:
		return &models.Error{Code: models.CodeUpstreamUnavailable, Field: "url", Message: "the analysis was stopped before the site answered", Err: err}
	case ctx.Err() != nil, errors.As(err, &netErr) && netErr.Timeout():
		return &models.Error{Code: models.CodeUpstreamUnavailable, Field: "url", Message: fmt.Sprintf("%s did not answer within %s: try again later", host, a.cfg.Timeout), Err: err}
	case errors.As(err, &dns) && dns.IsNotFound:
		return &models.Error{Code: models.CodeBadUserInput, Field: "url", Message: fmt.Sprintf("the site %s could not be found: check the address", host), Err: err}
	case errors.As(err, &dns):
		return &models.Error{Code: models.CodeUpstreamUnavailable, Field: "url", Message: fmt.Sprintf("the address of %s could not be looked up: try again later", host), Err: err}
	case badCertificate(err):
		return &models.Error{Code: models.CodeBadUserInput, Field: "url", Message: fmt.Sprintf("the HTTPS certificate of %s is not valid", host), Err: err}
	}
	return &models.Error{Code: models.CodeUpstreamUnavailable, Field: "url", Message: fmt.Sprintf("%s could not be reached: try again later", host), Err: err}
}

func badCertificate(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}
