package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/smtpsink"
	"github.com/crmgen/crmgen/platform/database"
	"github.com/crmgen/crmgen/platform/outbox"
)

func TestSMTPDelivery(t *testing.T) {
	onEachDB(t, func(t *testing.T, db *database.DB, _ string) {
		ctx := context.Background()
		sink := smtpsink.Start(t)
		for i := range 3 {
			m := outbox.Message{Channel: outbox.ChannelEmail, Recipient: fmt.Sprintf("u%d@example.com", i),
				Subject: "Rückruf " + fmt.Sprint(i), Body: "line 1\n.line starting with a dot\nend"}
			if err := outbox.Enqueue(ctx, db.SQL, db.Dialect, m); err != nil {
				t.Fatal(err)
			}
		}
		clk := newClock()
		d := &outbox.Dispatcher{DB: db.SQL, Dialect: db.Dialect, Now: clk.Now,
			Senders: map[string]outbox.Sender{outbox.ChannelEmail: &outbox.SMTPSender{Addr: sink.Addr(), From: "crm@example.com"}}}
		sent, failed, err := d.RunOnce(ctx)
		if err != nil || sent != 3 || failed != 0 {
			t.Fatalf("RunOnce = %d sent, %d failed, %v; want 3, 0", sent, failed, err)
		}
		clk.Advance(24 * time.Hour)
		if sent, failed, err := d.RunOnce(ctx); err != nil || sent+failed != 0 {
			t.Fatalf("second RunOnce = %d sent, %d failed, %v; want nothing", sent, failed, err)
		}
		mails := sink.Mails()
		if len(mails) != 3 {
			t.Fatalf("sink got %d mails, want 3", len(mails))
		}
		seen := map[string]int{}
		for _, m := range mails {
			if len(m.To) != 1 || m.From != "FROM:<crm@example.com>" {
				t.Errorf("envelope: %+v", m)
			}
			seen[m.To[0]]++
			if !strings.Contains(m.Data, "\n.line starting with a dot\n") || !strings.Contains(m.Data, "Subject: =?utf-8?q?R=C3=BCckruf") {
				t.Errorf("message:\n%s", m.Data)
			}
		}
		for i := range 3 {
			if to := fmt.Sprintf("TO:<u%d@example.com>", i); seen[to] != 1 {
				t.Errorf("%s got %d mails, want 1", to, seen[to])
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM crm_outbox WHERE status = 'sent' AND attempts = 1 AND sent_at IS NOT NULL`); n != 3 {
			t.Errorf("%d messages marked sent, want 3", n)
		}
	})
}

// receiver is a webhook endpoint that fails its first failFirst requests (all of them when negative)
// and counts the requests and successful deliveries of each idempotency key.
type receiver struct {
	mu        sync.Mutex
	failFirst int
	requests  int
	ok        map[string]int
	bad       []string
	secret    string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	key := req.Header.Get("Idempotency-Key")
	var b outbox.WebhookBody
	if err := json.Unmarshal(body, &b); err != nil || b.IdempotencyKey != key || key == "" {
		r.bad = append(r.bad, fmt.Sprintf("key %q body %s", key, body))
	}
	if r.secret != "" && req.Header.Get("X-Crmgen-Signature") != outbox.Sign(r.secret, req.Header.Get("X-Crmgen-Timestamp"), body) {
		r.bad = append(r.bad, "bad signature for "+key)
	}
	if r.failFirst < 0 || r.requests <= r.failFirst {
		http.Error(w, "unavailable", http.StatusInternalServerError)
		return
	}
	r.ok[key]++
	w.WriteHeader(http.StatusNoContent)
}

func enqueueWebhooks(t *testing.T, db *database.DB, n int) []string {
	t.Helper()
	var keys []string
	for i := range n {
		m := outbox.Message{Channel: outbox.ChannelWebhook, Recipient: "erp", Subject: "deal won",
			Body: fmt.Sprint(i), Payload: json.RawMessage(fmt.Sprintf(`{"deal":%d}`, i))}
		if err := outbox.Enqueue(context.Background(), db.SQL, db.Dialect, m); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, m.Key())
	}
	return keys
}

func TestWebhookRetriesUntilDelivered(t *testing.T) {
	onEachDB(t, func(t *testing.T, db *database.DB, _ string) {
		ctx := context.Background()
		rcv := &receiver{failFirst: 2, ok: map[string]int{}, secret: "s3cret"}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		keys := enqueueWebhooks(t, db, 3)
		clk := newClock()
		var backoffs []int
		d := &outbox.Dispatcher{DB: db.SQL, Dialect: db.Dialect, Now: clk.Now, MaxAttempts: 5,
			Backoff: func(attempt int) time.Duration { backoffs = append(backoffs, attempt); return time.Minute << attempt },
			Senders: map[string]outbox.Sender{outbox.ChannelWebhook: &outbox.WebhookSender{URL: srv.URL, Secret: "s3cret"}}}

		// Round 1: the first two messages fail, the third is delivered.
		if sent, failed, err := d.RunOnce(ctx); err != nil || sent != 1 || failed != 2 {
			t.Fatalf("round 1 = %d sent, %d failed, %v; want 1, 2", sent, failed, err)
		}
		// Not due yet: the clock has not moved past the backoff.
		if sent, failed, err := d.RunOnce(ctx); err != nil || sent+failed != 0 {
			t.Fatalf("early round = %d sent, %d failed, %v; want nothing", sent, failed, err)
		}
		clk.Advance(2 * time.Minute)
		if sent, failed, err := d.RunOnce(ctx); err != nil || sent != 2 || failed != 0 {
			t.Fatalf("round 2 = %d sent, %d failed, %v; want 2, 0", sent, failed, err)
		}
		if fmt.Sprint(backoffs) != "[1 1]" {
			t.Errorf("backoff attempts = %v", backoffs)
		}
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		if len(rcv.bad) > 0 {
			t.Errorf("bad requests: %q", rcv.bad)
		}
		if rcv.requests != 5 {
			t.Errorf("receiver saw %d requests, want 5", rcv.requests)
		}
		for _, k := range keys {
			if rcv.ok[k] != 1 {
				t.Errorf("key %s delivered %d times, want 1", k, rcv.ok[k])
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM crm_outbox WHERE status = 'sent'`); n != 3 {
			t.Errorf("%d messages sent, want 3", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM crm_outbox WHERE attempts = 2 AND last_error LIKE '%500%'`); n != 2 {
			t.Errorf("%d messages record a failed first attempt, want 2", n)
		}
	})
}

func TestDeadLetter(t *testing.T) {
	onEachDB(t, func(t *testing.T, db *database.DB, _ string) {
		ctx := context.Background()
		rcv := &receiver{failFirst: -1, ok: map[string]int{}}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		enqueueWebhooks(t, db, 1)
		// A message of a channel without a sender stays pending.
		if err := outbox.Enqueue(ctx, db.SQL, db.Dialect, outbox.Message{Channel: outbox.ChannelSMS, Recipient: "+100", Body: "hi"}); err != nil {
			t.Fatal(err)
		}
		clk := newClock()
		d := &outbox.Dispatcher{DB: db.SQL, Dialect: db.Dialect, Now: clk.Now, MaxAttempts: 3,
			Backoff: func(int) time.Duration { return time.Second },
			Senders: map[string]outbox.Sender{outbox.ChannelWebhook: &outbox.WebhookSender{URL: srv.URL}}}
		for round := range 5 {
			_, failed, err := d.RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := min(1, max(0, 3-round)); failed != want {
				t.Errorf("round %d: %d failed, want %d", round, failed, want)
			}
			clk.Advance(time.Second)
		}
		dead, err := d.Dead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != 1 || dead[0].Status != outbox.StatusDead || dead[0].Attempts != 3 ||
			!strings.Contains(dead[0].LastError, "500") || string(dead[0].Payload) != `{"deal":0}` {
			t.Fatalf("dead letters: %+v", dead)
		}
		if rcv.requests != 3 {
			t.Errorf("receiver saw %d requests, want 3", rcv.requests)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM crm_outbox WHERE channel = 'sms' AND status = 'pending' AND attempts = 0`); n != 1 {
			t.Errorf("sms without a sender: %d pending untouched, want 1", n)
		}
		if err := d.Requeue(ctx, dead[0].ID); err != nil {
			t.Fatal(err)
		}
		if r, err := d.Get(ctx, dead[0].ID); err != nil || r.Status != outbox.StatusPending || r.Attempts != 0 {
			t.Errorf("requeued: %+v, %v", r, err)
		}
		if err := d.Requeue(ctx, dead[0].ID); err == nil {
			t.Error("requeueing a pending message succeeded")
		}
	})
}

func TestSMSSender(t *testing.T) {
	var got map[string]string
	var auth, key string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, key = r.Header.Get("Authorization"), r.Header.Get("Idempotency-Key")
		json.NewDecoder(r.Body).Decode(&got)
	}))
	defer srv.Close()
	s := &outbox.SMSSender{URL: srv.URL, Token: "tok"}
	if err := s.Send(context.Background(), outbox.Message{Channel: outbox.ChannelSMS, Recipient: "+8613800000000", Body: "满意度调查", IdempotencyKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	if got["to"] != "+8613800000000" || got["text"] != "满意度调查" || got["idempotencyKey"] != "k1" || auth != "Bearer tok" || key != "k1" {
		t.Errorf("gateway got %v, auth %q, key %q", got, auth, key)
	}
}

func TestConcurrentDispatchersDeliverOnce(t *testing.T) {
	onEachDB(t, func(t *testing.T, db *database.DB, dsn string) {
		ctx := context.Background()
		rcv := &receiver{ok: map[string]int{}}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		const n = 40
		keys := enqueueWebhooks(t, db, n)
		clk := newClock()
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for range 2 {
			other := open(t, dsn) // its own pool, as another app instance would have
			d := &outbox.Dispatcher{DB: other.SQL, Dialect: other.Dialect, Now: clk.Now, Batch: 5,
				Senders: map[string]outbox.Sender{outbox.ChannelWebhook: &outbox.WebhookSender{URL: srv.URL}}}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					sent, failed, err := d.RunOnce(ctx)
					if err != nil {
						errs <- err
						return
					}
					if sent+failed == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		if rcv.requests != n {
			t.Errorf("receiver saw %d requests, want %d", rcv.requests, n)
		}
		for _, k := range keys {
			if rcv.ok[k] != 1 {
				t.Errorf("key %s delivered %d times, want 1", k, rcv.ok[k])
			}
		}
		if c := count(t, db, `SELECT COUNT(*) FROM crm_outbox WHERE status = 'sent' AND attempts = 1`); c != n {
			t.Errorf("%d messages sent once, want %d", c, n)
		}
	})
}
