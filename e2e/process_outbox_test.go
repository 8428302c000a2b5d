package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/internal/pgtest"
	"github.com/crmgen/crmgen/internal/smtpsink"
)

// flakyReceiver is an HTTP endpoint (webhook or SMS gateway) that answers 503 to its first failFirst
// requests (to all while down) and records each request's idempotency key and body.
type flakyReceiver struct {
	mu        sync.Mutex
	failFirst int
	down      bool
	requests  int
	delivered map[string]int // idempotency key → successful deliveries
	bodies    []string
}

func newReceiver(t *testing.T, failFirst int) (*flakyReceiver, string) {
	r := &flakyReceiver{failFirst: failFirst, delivered: map[string]int{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv.URL
}

func (r *flakyReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if r.down || r.requests <= r.failFirst {
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	r.delivered[req.Header.Get("Idempotency-Key")]++
	r.bodies = append(r.bodies, string(body))
	w.WriteHeader(http.StatusNoContent)
}

func (r *flakyReceiver) snapshot() (requests int, delivered map[string]int, bodies []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := map[string]int{}
	for k, v := range r.delivered {
		d[k] = v
	}
	return r.requests, d, append([]string(nil), r.bodies...)
}

func (r *flakyReceiver) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

// TestProcessOutboxDelivery sends the big-ticket notification (e-mail, SMS and webhook) to a local SMTP
// sink, an SMS gateway and a webhook receiver that fails at first: every message arrives, none twice with
// the same idempotency key, and the in-app inbox has its item at once.
func TestProcessOutboxDelivery(t *testing.T) {
	a := processApp(t)
	each := func(t *testing.T, db string) {
		sink := smtpsink.Start(t)
		hook, hookURL := newReceiver(t, 2)
		sms, smsURL := newReceiver(t, 1)
		s := a.Start(t, db, "--smtp-addr", sink.Addr(), "--smtp-from", "crm@example.com", "--webhook-url", hookURL,
			"--webhook-secret", "s3cret", "--sms-url", smsURL, "--outbox-interval", "100ms", "--outbox-backoff", "200ms")
		agent1 := proc{t, s.As(t, "agent1", "agent123")}
		boss := proc{t, s.As(t, "boss", "manager123")}
		const n = 3
		for i := range n {
			agent1.createTicket(map[string]any{"title": fmt.Sprintf("big %d", i), "amount": 8000 + i})
		}
		if got := countOf(boss.inbox(), "Big ticket"); got != n {
			t.Errorf("boss's inbox has %d big-ticket items, want %d", got, n)
		}
		ok := waitFor(30*time.Second, func() bool {
			_, hooks, _ := hook.snapshot()
			_, texts, _ := sms.snapshot()
			return len(sink.Mails()) >= n && len(hooks) >= n && len(texts) >= n
		})
		time.Sleep(time.Second) // let any duplicate show up
		mails := sink.Mails()
		hookRequests, hooks, bodies := hook.snapshot()
		_, texts, _ := sms.snapshot()
		if !ok || len(mails) != n || len(hooks) != n || len(texts) != n {
			t.Fatalf("delivered %d mails, %d webhooks, %d SMS; want %d of each", len(mails), len(hooks), len(texts), n)
		}
		for _, m := range mails {
			if len(m.To) != 1 || m.To[0] != "TO:<boss@example.com>" || !strings.Contains(m.Data, "Big ticket") {
				t.Errorf("mail to %v:\n%s", m.To, m.Data)
			}
		}
		for key, k := range hooks {
			if key == "" || k != 1 {
				t.Errorf("webhook key %q delivered %d times, want once", key, k)
			}
		}
		for key, k := range texts {
			if key == "" || k != 1 {
				t.Errorf("SMS key %q delivered %d times, want once", key, k)
			}
		}
		if hookRequests < n+2 {
			t.Errorf("the webhook saw %d requests; the first two failed, so want at least %d", hookRequests, n+2)
		}
		var body struct {
			Subject string          `json:"subject"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal([]byte(bodies[0]), &body); err != nil || body.Subject != "Big ticket" || !strings.Contains(string(body.Payload), `"boss"`) {
			t.Errorf("webhook body %s (%v)", bodies[0], err)
		}
	}
	t.Run("sqlite", func(t *testing.T) { each(t, apptest.SQLitePath(t)) })
	t.Run("postgres", func(t *testing.T) { each(t, pgtest.DSN(t)) })
}

// TestProcessDeadLetters lets a webhook fail until its message is dead: an admin sees it, requeues it
// once the receiver is back, and it is delivered; other users may not see or requeue dead letters.
func TestProcessDeadLetters(t *testing.T) {
	a := processApp(t)
	hook, hookURL := newReceiver(t, 0)
	hook.setDown(true)
	s := a.Start(t, apptest.SQLitePath(t), "--webhook-url", hookURL, "--outbox-interval", "100ms",
		"--outbox-backoff", "100ms", "--outbox-max-attempts", "2").As(t, "admin", "admin123")
	agent1 := proc{t, s.As(t, "agent1", "agent123")}
	agent1.createTicket(map[string]any{"title": "doomed", "amount": 9999})
	var dead []any
	if !waitFor(20*time.Second, func() bool {
		dead = list(t, query(t, s, `{ deadLetters { id channel recipient subject attempts lastError } }`, nil), "deadLetters")
		return len(dead) == 1
	}) {
		t.Fatalf("no dead letter: %v", dead)
	}
	if at(t, dead[0], "channel") != "webhook" || num(t, dead[0], "attempts") != 2 || !strings.Contains(str(t, dead[0], "lastError"), "503") {
		t.Errorf("dead letter %v", dead[0])
	}
	if e := mustFail(t, agent1.s, `{ deadLetters { id } }`, nil); e.Extensions["code"] != "FORBIDDEN" {
		t.Errorf("agent1 reading dead letters: %+v", e)
	}
	id := str(t, dead[0], "id")
	if e := mustFail(t, agent1.s, `mutation($id: ID!) { requeueMessage(id: $id) }`, map[string]any{"id": id}); e.Extensions["code"] != "FORBIDDEN" {
		t.Errorf("agent1 requeueing: %+v", e)
	}
	hook.setDown(false)
	query(t, s, `mutation($id: ID!) { requeueMessage(id: $id) }`, map[string]any{"id": id})
	if !waitFor(20*time.Second, func() bool { _, d, _ := hook.snapshot(); return len(d) == 1 }) {
		t.Fatal("the requeued message was not delivered")
	}
	if n := len(list(t, query(t, s, `{ deadLetters { id } }`, nil), "deadLetters")); n != 0 {
		t.Errorf("%d dead letters after the redelivery, want 0", n)
	}
}
