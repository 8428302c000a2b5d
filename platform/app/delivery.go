package app

import (
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/crmgen/crmgen/platform/outbox"
)

// delivery configures the outbox's channels besides the in-app inbox. Each is off until configured, by
// flag or environment variable (the environment keeps secrets out of process listings).
type delivery struct {
	smtpAddr, smtpFrom, smtpUser, smtpPassword string
	smsURL, smsToken                           string
	webhookURL, webhookSecret                  string
	interval, backoff                          time.Duration
	maxAttempts                                int
}

func (d *delivery) flags(fs *flag.FlagSet) {
	fs.StringVar(&d.smtpAddr, "smtp-addr", env("CRM_SMTP_ADDR", ""), "SMTP server host:port for e-mail notifications (env CRM_SMTP_ADDR)")
	fs.StringVar(&d.smtpFrom, "smtp-from", env("CRM_SMTP_FROM", ""), "sender address of e-mail notifications (env CRM_SMTP_FROM)")
	fs.StringVar(&d.smtpUser, "smtp-user", env("CRM_SMTP_USER", ""), "SMTP user name, if the server needs one (env CRM_SMTP_USER)")
	fs.StringVar(&d.smtpPassword, "smtp-password", env("CRM_SMTP_PASSWORD", ""), "SMTP password (env CRM_SMTP_PASSWORD)")
	fs.StringVar(&d.smsURL, "sms-url", env("CRM_SMS_URL", ""), "SMS gateway URL: receives {to, text, idempotencyKey} as JSON (env CRM_SMS_URL)")
	fs.StringVar(&d.smsToken, "sms-token", env("CRM_SMS_TOKEN", ""), "bearer token for the SMS gateway (env CRM_SMS_TOKEN)")
	fs.StringVar(&d.webhookURL, "webhook-url", env("CRM_WEBHOOK_URL", ""), "URL that receives every notification as JSON (env CRM_WEBHOOK_URL)")
	fs.StringVar(&d.webhookSecret, "webhook-secret", env("CRM_WEBHOOK_SECRET", ""), "HMAC secret signing webhook requests (env CRM_WEBHOOK_SECRET)")
	fs.DurationVar(&d.interval, "outbox-interval", envDuration("CRM_OUTBOX_INTERVAL", 5*time.Second), "how often the outbox is checked for due messages (env CRM_OUTBOX_INTERVAL)")
	fs.DurationVar(&d.backoff, "outbox-backoff", envDuration("CRM_OUTBOX_BACKOFF", 30*time.Second), "wait after a message's first failed delivery, doubling with each further failure up to an hour (env CRM_OUTBOX_BACKOFF)")
	fs.IntVar(&d.maxAttempts, "outbox-max-attempts", outbox.DefaultMaxAttempts, "failed attempts after which a message is a dead letter")
}

// senders returns the configured channels' senders.
func (d *delivery) senders() map[string]outbox.Sender {
	out := map[string]outbox.Sender{}
	if d.smtpAddr != "" {
		s := &outbox.SMTPSender{Addr: d.smtpAddr, From: d.smtpFrom}
		if d.smtpUser != "" {
			host, _, _ := strings.Cut(d.smtpAddr, ":")
			s.Auth = smtp.PlainAuth("", d.smtpUser, d.smtpPassword, host)
		}
		out[outbox.ChannelEmail] = s
	}
	if d.smsURL != "" {
		out[outbox.ChannelSMS] = &outbox.SMSSender{URL: d.smsURL, Token: d.smsToken}
	}
	if d.webhookURL != "" {
		out[outbox.ChannelWebhook] = &outbox.WebhookSender{URL: d.webhookURL, Secret: d.webhookSecret}
	}
	return out
}

// channels lists the configured channels, in a fixed order.
func (d *delivery) channels() []string {
	s := d.senders()
	var out []string
	for _, c := range []string{outbox.ChannelEmail, outbox.ChannelSMS, outbox.ChannelWebhook} {
		if s[c] != nil {
			out = append(out, c)
		}
	}
	return out
}

// dispatcher returns the outbox's dispatcher, or nil when no channel is configured.
func (d *delivery) dispatcher(db *sql.DB, dialect string) (*outbox.Dispatcher, error) {
	s := d.senders()
	if len(s) == 0 {
		return nil, nil
	}
	if s[outbox.ChannelEmail] != nil && d.smtpFrom == "" {
		return nil, fmt.Errorf("-smtp-addr needs -smtp-from (the sender address of e-mail notifications)")
	}
	if d.maxAttempts < 1 {
		return nil, fmt.Errorf("-outbox-max-attempts must be at least 1")
	}
	return &outbox.Dispatcher{DB: db, Dialect: dialect, Senders: s, MaxAttempts: d.maxAttempts,
		Backoff: outbox.Exponential(d.backoff, max(d.backoff, time.Hour), rand.Float64)}, nil
}

// env returns the environment variable name, or def when it is unset.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// envDuration returns the environment variable name as a duration, or def when it is unset or invalid.
func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

// envInt returns the environment variable name as an integer, or def when it is unset or invalid.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// defaultInstance names this process for timer claims: host and process id.
func defaultInstance() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}
