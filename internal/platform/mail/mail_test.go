package mail_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/inkgraph/inkgraph/internal/platform/mail"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// TestSendToMailpit: a message reaches a real SMTP server with its subject (encoded
// and decoded back), sender, recipient and text intact, lines that start with a dot
// and long lines included.
func TestSendToMailpit(t *testing.T) {
	t.Parallel()
	srv := testkit.Mailpit(t)
	m, err := mail.New(mail.Config{URL: "smtp://" + srv.SMTPAddr, From: "Inkgraph <noreply@inkgraph.test>"})
	require.NoError(t, err)
	text := "Hello Zoë,\n.\n.a line that starts with a dot\n" + strings.Repeat("long ", 40) + "\nhttps://app.test/invitations/accept?token=inv_abc=="
	require.NoError(t, m.Send(context.Background(), mail.Message{To: "Zoë <zoe@example.com>", Subject: "Join “Acme” on Inkgraph", Text: text}))
	got := srv.Only(t, "zoe@example.com")
	require.Equal(t, "Join “Acme” on Inkgraph", got.Subject)
	require.Equal(t, "noreply@inkgraph.test", got.From.Address)
	require.Equal(t, "Inkgraph", got.From.Name)
	require.Equal(t, "zoe@example.com", got.To[0].Address)
	require.Equal(t, strings.ReplaceAll(text, "\n", "\r\n"), strings.TrimRight(got.Text, "\r\n"))
}

// TestSendOverSTARTTLSWithAuth: a server that requires STARTTLS and a password gets
// both; a wrong password is refused and nothing is delivered.
func TestSendOverSTARTTLSWithAuth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pool := selfSigned(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "passwords"), []byte("mailer:"+string(hash)+"\n"), 0o600))
	srv := testkit.Mailpit(t, "--smtp-tls-cert", filepath.Join(dir, "cert.pem"), "--smtp-tls-key", filepath.Join(dir, "key.pem"),
		"--smtp-require-starttls", "--smtp-auth-file", filepath.Join(dir, "passwords"))
	tlsCfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}

	wrong, err := mail.New(mail.Config{URL: "smtp://mailer:nope@" + srv.SMTPAddr, From: "noreply@inkgraph.test", TLS: tlsCfg})
	require.NoError(t, err)
	require.ErrorContains(t, wrong.Send(context.Background(), mail.Message{To: "a@example.com", Subject: "x", Text: "x"}), "authenticate")
	untrusted, err := mail.New(mail.Config{URL: "smtp://mailer:s3cret@" + srv.SMTPAddr, From: "noreply@inkgraph.test"})
	require.NoError(t, err)
	require.ErrorContains(t, untrusted.Send(context.Background(), mail.Message{To: "a@example.com", Subject: "x", Text: "x"}), "STARTTLS",
		"a certificate the system does not trust is refused")
	require.Empty(t, srv.Messages(t, "a@example.com"))

	m, err := mail.New(mail.Config{URL: "smtp://mailer:s3cret@" + srv.SMTPAddr, From: "noreply@inkgraph.test", TLS: tlsCfg})
	require.NoError(t, err)
	require.NoError(t, m.Send(context.Background(), mail.Message{To: "a@example.com", Subject: "over TLS", Text: "hello"}))
	require.Equal(t, "over TLS", srv.Only(t, "a@example.com").Subject)
}

// TestNoHeaderInjection: a recipient or subject that would end a header line is
// refused before anything is sent; a display name is quoted, never a header.
func TestNoHeaderInjection(t *testing.T) {
	t.Parallel()
	srv := testkit.Mailpit(t)
	m, err := mail.New(mail.Config{URL: "smtp://" + srv.SMTPAddr, From: "noreply@inkgraph.test"})
	require.NoError(t, err)
	ctx := context.Background()
	for _, to := range []string{"victim@example.com\r\nBcc: spy@example.com", "victim@example.com\nBcc: spy@example.com",
		"victim@example.com, spy@example.com", "not an address", ""} {
		err := m.Send(ctx, mail.Message{To: to, Subject: "x", Text: "x"})
		require.True(t, errors.Is(err, mail.ErrBadAddress), "%q: %v", to, err)
	}
	require.Error(t, m.Send(ctx, mail.Message{To: "victim@example.com", Subject: "x\r\nBcc: spy@example.com", Text: "x"}))
	require.Empty(t, srv.Messages(t, "victim@example.com"))
	require.Empty(t, srv.Messages(t, "spy@example.com"))

	require.NoError(t, m.Send(ctx, mail.Message{To: `"Eve\" Bcc: spy@example.com" <victim@example.com>`, Subject: "Bcc: spy@example.com", Text: "Bcc: spy@example.com"}))
	got := srv.Only(t, "victim@example.com")
	h := srv.Headers(t, got.ID)
	require.NotContains(t, h, "Bcc")
	require.Len(t, h["To"], 1)
	require.Len(t, got.To, 1, "the display name stays a name")
	require.Equal(t, "victim@example.com", got.To[0].Address)
	require.Equal(t, `Eve" Bcc: spy@example.com`, got.To[0].Name)

	for _, from := range []string{"a@b.test\r\nBcc: spy@example.com", "nobody"} {
		_, err := mail.New(mail.Config{URL: "smtp://" + srv.SMTPAddr, From: from})
		require.Error(t, err, from)
	}
}

// TestSendTimesOut: a server that never greets ends the send at the timeout, with an
// error.
func TestSendTimesOut(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() }) // accepted, never answered
		}
	}()
	m, err := mail.New(mail.Config{URL: "smtp://" + ln.Addr().String(), From: "noreply@inkgraph.test", Timeout: 200 * time.Millisecond})
	require.NoError(t, err)
	require.Error(t, m.Send(context.Background(), mail.Message{To: "a@example.com", Subject: "x", Text: "x"}))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m, err = mail.New(mail.Config{URL: "smtp://" + ln.Addr().String(), From: "noreply@inkgraph.test"})
	require.NoError(t, err)
	require.Error(t, m.Send(ctx, mail.Message{To: "a@example.com", Subject: "x", Text: "x"}), "a cancelled context ends it")
}

// TestConfig: URLs that are not one SMTP server, and senders that are not one address,
// are refused; a URL that does not parse is refused without repeating it, since its
// password would show (escaped, past any caller's redaction).
func TestConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []mail.Config{
		{URL: "http://mail.test", From: "a@b.test"},
		{URL: "smtp://", From: "a@b.test"},
		{URL: "smtp://mail.test/path", From: "a@b.test"},
		{URL: "smtp://mail.test", From: ""},
	} {
		_, err := mail.New(c)
		require.Error(t, err, "%+v", c)
	}
	for _, password := range []string{"p\u00e4\"ss", "back\\slash", "tab\there"} {
		_, err := mail.New(mail.Config{URL: "smtp://user:" + password + "@mail.test:bad", From: "a@b.test"})
		require.Error(t, err)
		for _, part := range []string{password, "user:", "mail.test"} {
			require.NotContains(t, err.Error(), part)
		}
	}
	_, err := mail.New(mail.Config{URL: "smtps://user:pass@mail.test", From: "Inkgraph <a@b.test>"})
	require.NoError(t, err)
}

// selfSigned writes a certificate for 127.0.0.1 and its key into dir and returns a
// pool that trusts it.
func selfSigned(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}
