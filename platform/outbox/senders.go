package outbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds one send when the sender sets no timeout of its own.
const DefaultTimeout = 30 * time.Second

// SMTPSender sends e-mail through an SMTP server (net/smtp: STARTTLS when the server offers it).
type SMTPSender struct {
	// Addr is the server's host:port.
	Addr string
	// From is the envelope and header sender address.
	From string
	// Auth is optional, such as smtp.PlainAuth (which net/smtp refuses without TLS, except to localhost).
	Auth smtp.Auth
	// Timeout bounds one send; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Channel is ChannelEmail.
func (s *SMTPSender) Channel() string { return ChannelEmail }

// Send sends m to m.Recipient as a UTF-8 plain-text e-mail whose Message-ID derives from its idempotency
// key, so receiving mail systems can recognise a duplicate.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("smtp address %q: %w", s.Addr, err)
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp dial: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return fmt.Errorf("smtp starttls: %w", err)
		}
	}
	if s.Auth != nil {
		if err := c.Auth(s.Auth); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := c.Mail(s.From); err != nil { // net/smtp rejects CR and LF in addresses
		return fmt.Errorf("smtp MAIL FROM: %w", err)
	}
	if err := c.Rcpt(m.Recipient); err != nil {
		return fmt.Errorf("smtp RCPT TO %q: %w", m.Recipient, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if _, err := w.Write(s.message(m)); err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	return c.Quit()
}

// message renders m as an RFC 5322 message with CRLF line ends (the DATA writer dot-stuffs it).
func (s *SMTPSender) message(m Message) []byte {
	oneLine := strings.NewReplacer("\r", " ", "\n", " ").Replace
	sum := sha256.Sum256([]byte(m.IdempotencyKey))
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", oneLine(s.From))
	fmt.Fprintf(&b, "To: %s\r\n", oneLine(m.Recipient))
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@crmgen>\r\n", hex.EncodeToString(sum[:16]))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\r", "\n")
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	b.WriteString("\r\n")
	return b.Bytes()
}

// WebhookSender posts each message as JSON to a URL. The request carries the header Idempotency-Key
// and, when Secret is set, X-Crmgen-Timestamp (Unix seconds) and X-Crmgen-Signature,
// "sha256=" + hex HMAC-SHA256 of "<timestamp>.<body>" keyed with Secret. A 2xx response is success.
type WebhookSender struct {
	URL    string
	Secret string
	// Client is the HTTP client; nil means one with DefaultTimeout.
	Client *http.Client
}

// WebhookBody is the JSON a WebhookSender posts.
type WebhookBody struct {
	ID             int64           `json:"id"`
	IdempotencyKey string          `json:"idempotencyKey"`
	Recipient      string          `json:"recipient"`
	Subject        string          `json:"subject"`
	Body           string          `json:"body"`
	Payload        json.RawMessage `json:"payload,omitempty"`
}

// Channel is ChannelWebhook.
func (s *WebhookSender) Channel() string { return ChannelWebhook }

// Send posts m.
func (s *WebhookSender) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(WebhookBody{ID: m.ID, IdempotencyKey: m.IdempotencyKey, Recipient: m.Recipient,
		Subject: m.Subject, Body: m.Body, Payload: m.Payload})
	if err != nil {
		return fmt.Errorf("webhook: encode message: %w", err)
	}
	return post(ctx, s.Client, s.URL, body, m.IdempotencyKey, func(h http.Header) {
		if s.Secret != "" {
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			h.Set("X-Crmgen-Timestamp", ts)
			h.Set("X-Crmgen-Signature", Sign(s.Secret, ts, body))
		}
	})
}

// Sign returns the X-Crmgen-Signature of a webhook body sent at timestamp ts, for receivers to check.
func Sign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// SMSSender sends SMS through an HTTP gateway: it posts {"to", "text", "idempotencyKey"} as JSON to URL
// with the header Idempotency-Key and, when Token is set, "Authorization: Bearer <Token>". A 2xx
// response is success. Gateways with another API sit behind a small adapter that accepts this one.
type SMSSender struct {
	URL   string
	Token string
	// Client is the HTTP client; nil means one with DefaultTimeout.
	Client *http.Client
}

// Channel is ChannelSMS.
func (s *SMSSender) Channel() string { return ChannelSMS }

// Send posts m's body to m.Recipient.
func (s *SMSSender) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(map[string]string{"to": m.Recipient, "text": m.Body, "idempotencyKey": m.IdempotencyKey})
	if err != nil {
		return fmt.Errorf("sms: encode message: %w", err)
	}
	return post(ctx, s.Client, s.URL, body, m.IdempotencyKey, func(h http.Header) {
		if s.Token != "" {
			h.Set("Authorization", "Bearer "+s.Token)
		}
	})
}

var defaultClient = &http.Client{Timeout: DefaultTimeout}

// post sends a JSON body and succeeds on a 2xx response.
func post(ctx context.Context, client *http.Client, url string, body []byte, key string, header func(http.Header)) error {
	if client == nil {
		client = defaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	header(req.Header)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("post %s: %s: %s", req.URL.Redacted(), resp.Status, strings.TrimSpace(string(snippet)))
	}
	return nil
}
