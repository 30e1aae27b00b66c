// Package mail sends plain-text email over SMTP: one connection per message, with a
// deadline on the whole exchange, STARTTLS whenever the server offers it (smtp://) or
// TLS from the first byte (smtps://), and authentication only over TLS or to a
// loopback server (net/smtp's PlainAuth refuses anything else). Addresses are parsed
// and re-written, the subject is RFC 2047 encoded, and a carriage return or line feed
// in any header value is refused: nothing a caller passes can add a header. It knows no
// area.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/netip"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// Config is where and as whom mail is sent.
type Config struct {
	// URL is smtp://[user:password@]host[:port] (port 587 by default; STARTTLS when
	// the server offers it) or smtps://… (port 465; TLS from the start).
	URL string
	// From is the sender, `Name <address>` or an address.
	From string
	// Timeout bounds one message's whole exchange (dial to QUIT); 30 s when 0.
	Timeout time.Duration
	// TLS is the TLS client configuration (its ServerName is set to the URL's host
	// when empty); nil uses the system's roots.
	TLS *tls.Config
}

// Message is one plain-text email to one recipient.
type Message struct {
	To      string
	Subject string
	Text    string
}

// Mailer sends messages with one Config.
type Mailer struct {
	host, addr string
	implicit   bool // smtps: TLS from the first byte
	// plainOK lets an smtp:// exchange go on without STARTTLS: only to a server on
	// this machine (a loopback address or localhost), where nobody on the way could
	// strip STARTTLS and read the invitation links.
	plainOK bool
	auth    *url.Userinfo
	from    *mail.Address
	timeout time.Duration
	tls     *tls.Config
}

// ErrBadAddress is what Send returns (errors.Is) for a recipient that is not one
// plain address.
var ErrBadAddress = errors.New("mail: not an email address")

// New checks cfg and returns its Mailer.
func New(cfg Config) (*Mailer, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		// url.Error quotes the URL, password and all (escaped, so no caller can strip
		// it): say only why.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("mail: the SMTP URL does not parse: %w", err)
	}
	m := &Mailer{host: u.Hostname(), auth: u.User, timeout: cfg.Timeout}
	port := u.Port()
	switch u.Scheme {
	case "smtp":
		if port == "" {
			port = "587"
		}
	case "smtps":
		m.implicit = true
		if port == "" {
			port = "465"
		}
	default:
		return nil, fmt.Errorf("mail: the SMTP URL must be smtp:// or smtps://, got %q", u.Scheme)
	}
	if m.host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, errors.New("mail: the SMTP URL must be smtp[s]://[user:password@]host[:port], nothing more")
	}
	m.addr = net.JoinHostPort(m.host, port)
	if ip, err := netip.ParseAddr(m.host); err == nil {
		m.plainOK = ip.IsLoopback()
	} else {
		m.plainOK = strings.EqualFold(m.host, "localhost")
	}
	if m.from, err = parseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("mail: the sender %q: %w", cfg.From, err)
	}
	if m.timeout <= 0 {
		m.timeout = 30 * time.Second
	}
	m.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLS != nil {
		m.tls = cfg.TLS.Clone()
	}
	if m.tls.ServerName == "" {
		m.tls.ServerName = m.host
	}
	return m, nil
}

// parseAddress reads one address, refusing anything that could end a header line.
func parseAddress(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, ErrBadAddress
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadAddress, err)
	}
	return a, nil
}

// Send delivers msg: it returns once the server accepted it, or with why not. The
// exchange ends at ctx's deadline or the configured timeout, whichever is first.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	to, err := parseAddress(msg.To)
	if err != nil {
		return err
	}
	if strings.ContainsAny(msg.Subject, "\r\n") {
		return errors.New("mail: a subject is one line")
	}
	body, err := m.compose(to, msg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	conn, err := m.dial(ctx)
	if err != nil {
		return fmt.Errorf("mail: connect to %s: %w", m.addr, err)
	}
	// The deadline covers every read and write; cancelling ctx ends them too.
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("mail: %s: %w", m.addr, err)
	}
	defer c.Close()
	if err := m.exchange(c, to.Address, body); err != nil {
		return fmt.Errorf("mail: %s: %w", m.addr, err)
	}
	return nil
}

func (m *Mailer) dial(ctx context.Context) (net.Conn, error) {
	if m.implicit {
		d := &tls.Dialer{Config: m.tls}
		return d.DialContext(ctx, "tcp", m.addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", m.addr)
}

func (m *Mailer) exchange(c *smtp.Client, to string, body []byte) error {
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	if !m.implicit {
		ok, _ := c.Extension("STARTTLS")
		if !ok && !m.plainOK {
			return errors.New("the server does not offer STARTTLS, and a message to a server on another machine is not sent in clear: use smtps:// or a server with STARTTLS")
		}
		if ok {
			if err := c.StartTLS(m.tls); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
		}
	}
	if m.auth != nil {
		pass, _ := m.auth.Password()
		if err := c.Auth(smtp.PlainAuth("", m.auth.Username(), pass, m.host)); err != nil {
			return fmt.Errorf("authenticate: %w", err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	// The server accepted the message when it answered the DATA's end: a QUIT that
	// fails after that (a dropped connection, a 421) does not undo the delivery, and
	// reporting it would have the caller treat a sent message as unsent.
	_ = c.Quit()
	return nil
}

// compose writes the message: headers from parsed addresses and an encoded subject,
// a quoted-printable UTF-8 body.
func (m *Mailer) compose(to *mail.Address, msg Message) ([]byte, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	domain := m.from.Address[strings.LastIndexByte(m.from.Address, '@')+1:]
	var b bytes.Buffer
	for _, h := range [][2]string{
		{"From", m.from.String()},
		{"To", to.String()},
		{"Subject", mime.QEncoding.Encode("utf-8", msg.Subject)},
		{"Date", time.Now().UTC().Format(time.RFC1123Z)},
		{"Message-ID", "<" + hex.EncodeToString(id) + "@" + domain + ">"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", "quoted-printable"},
	} {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(msg.Text, "\r\n", "\n"), "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
