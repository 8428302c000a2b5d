package outbox_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/dbtest"
	"github.com/crmgen/crmgen/internal/pgtest"
	"github.com/crmgen/crmgen/platform/database"
	"github.com/crmgen/crmgen/platform/outbox"
)

func TestMain(m *testing.M) {
	defer pgtest.Stop()
	m.Run()
}

// onEachDB runs f on a migrated database of each dialect; dsn lets f open more handles to it.
func onEachDB(t *testing.T, f func(t *testing.T, db *database.DB, dsn string)) {
	dbtest.Each(t, func(t *testing.T, db *database.DB, dsn string) {
		if err := outbox.Migrate(context.Background(), db.SQL, db.Dialect); err != nil {
			t.Fatal(err)
		}
		f(t, db, dsn)
	})
}

func open(t *testing.T, dsn string) *database.DB {
	t.Helper()
	db, err := database.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *database.DB, query string) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRowContext(context.Background(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// clock is a settable clock for dispatchers.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Add(time.Hour)} } // after every enqueue's time

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestEnqueueCommitsWithTheCaller(t *testing.T) {
	onEachDB(t, func(t *testing.T, db *database.DB, _ string) {
		ctx := context.Background()
		msgs := []outbox.Message{
			{Channel: outbox.ChannelInbox, Recipient: "7", Subject: "Follow-up assigned", Body: "Patient 张三", Link: "/followups/1"},
			{Channel: outbox.ChannelEmail, Recipient: "a@example.com", Subject: "Hello", Body: "Body"},
			{Channel: outbox.ChannelWebhook, Recipient: "crm", Body: "x", Payload: []byte(`{"id":1}`)},
		}
		enqueueAll := func() {
			tx, err := db.SQL.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			for _, m := range msgs {
				if err := outbox.Enqueue(ctx, tx, db.Dialect, m); err != nil {
					t.Fatal(err)
				}
			}
			// The same content again in the same transaction collapses into one message.
			if err := outbox.Enqueue(ctx, tx, db.Dialect, msgs[1]); err != nil {
				t.Fatal(err)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM crm_outbox`); n != 0 {
				t.Errorf("outbox visible before commit: %d rows", n)
			}
		}
		enqueueAll() // rolled back by the deferred Rollback
		if n := count(t, db, `SELECT COUNT(*) FROM crm_outbox`) + count(t, db, `SELECT COUNT(*) FROM crm_inbox`); n != 0 {
			t.Fatalf("rolled-back enqueue left %d rows", n)
		}

		tx, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range append(msgs, msgs...) {
			if err := outbox.Enqueue(ctx, tx, db.Dialect, m); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM crm_outbox WHERE status = 'pending'`); n != 2 {
			t.Errorf("outbox has %d pending rows, want 2", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM crm_inbox`); n != 1 {
			t.Errorf("inbox has %d rows, want 1", n)
		}
		// An explicit key distinguishes otherwise identical messages.
		again := msgs[1]
		again.IdempotencyKey = "reminder:2"
		if err := outbox.Enqueue(ctx, db.SQL, db.Dialect, again); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM crm_outbox`); n != 3 {
			t.Errorf("outbox has %d rows, want 3", n)
		}

		for _, bad := range []outbox.Message{
			{Channel: "fax", Recipient: "1"},
			{Channel: outbox.ChannelInbox, Recipient: "bob"},
			{Channel: outbox.ChannelEmail, Recipient: " "},
			{Channel: outbox.ChannelWebhook, Recipient: "x", Payload: []byte(`{`)},
		} {
			if err := outbox.Enqueue(ctx, db.SQL, db.Dialect, bad); err == nil {
				t.Errorf("Enqueue(%+v) succeeded", bad)
			}
		}
	})
}

func TestInbox(t *testing.T) {
	onEachDB(t, func(t *testing.T, db *database.DB, _ string) {
		ctx := context.Background()
		for i, user := range []int{1, 1, 1, 2} {
			m := outbox.Message{Channel: outbox.ChannelInbox, Recipient: strconv.Itoa(user), Subject: "n" + strconv.Itoa(i), Link: "/x"}
			if err := outbox.Enqueue(ctx, db.SQL, db.Dialect, m); err != nil {
				t.Fatal(err)
			}
		}
		items, err := outbox.Inbox(ctx, db.SQL, db.Dialect, 1, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 3 || items[0].Title != "n2" || items[2].Title != "n0" || items[0].UserID != 1 || items[0].Link != "/x" {
			t.Fatalf("inbox of user 1: %+v", items)
		}
		if n, err := outbox.UnreadCount(ctx, db.SQL, db.Dialect, 1); err != nil || n != 3 {
			t.Fatalf("unread = %d, %v; want 3", n, err)
		}
		if err := outbox.MarkRead(ctx, db.SQL, db.Dialect, 1, items[1].ID); err != nil {
			t.Fatal(err)
		}
		if err := outbox.MarkRead(ctx, db.SQL, db.Dialect, 1, items[1].ID); err != nil { // again: still fine
			t.Fatal(err)
		}
		if n, err := outbox.UnreadCount(ctx, db.SQL, db.Dialect, 1); err != nil || n != 2 {
			t.Fatalf("unread = %d, %v; want 2", n, err)
		}
		unread, err := outbox.Inbox(ctx, db.SQL, db.Dialect, 1, true, 1)
		if err != nil || len(unread) != 1 || unread[0].ID != items[0].ID || unread[0].ReadAt != nil {
			t.Fatalf("first unread: %+v, %v", unread, err)
		}
		all, _ := outbox.Inbox(ctx, db.SQL, db.Dialect, 1, false, 10)
		if all[1].ReadAt == nil {
			t.Errorf("read item has no read time: %+v", all[1])
		}

		other, err := outbox.Inbox(ctx, db.SQL, db.Dialect, 2, false, 10)
		if err != nil || len(other) != 1 {
			t.Fatalf("inbox of user 2: %+v, %v", other, err)
		}
		if err := outbox.MarkRead(ctx, db.SQL, db.Dialect, 1, other[0].ID); !errors.Is(err, outbox.ErrNotFound) {
			t.Errorf("marking another user's item: err = %v, want ErrNotFound", err)
		}
		if err := outbox.MarkRead(ctx, db.SQL, db.Dialect, 1, 99999); !errors.Is(err, outbox.ErrNotFound) {
			t.Errorf("marking a missing item: err = %v, want ErrNotFound", err)
		}
		if n, _ := outbox.UnreadCount(ctx, db.SQL, db.Dialect, 2); n != 1 {
			t.Errorf("user 2's item was marked read by user 1")
		}
		if n, err := outbox.MarkAllRead(ctx, db.SQL, db.Dialect, 1); err != nil || n != 2 {
			t.Errorf("MarkAllRead = %d, %v; want 2", n, err)
		}
		if n, _ := outbox.UnreadCount(ctx, db.SQL, db.Dialect, 1); n != 0 {
			t.Errorf("unread after MarkAllRead = %d", n)
		}
	})
}

func TestExponentialBackoff(t *testing.T) {
	b := outbox.Exponential(time.Second, 10*time.Second, nil)
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 100: 10 * time.Second} {
		if got := b(attempt); got != want {
			t.Errorf("backoff(%d) = %v, want %v", attempt, got, want)
		}
	}
	j := outbox.Exponential(time.Second, time.Hour, func() float64 { return 0.5 })
	if got := j(3); got != 4*time.Second+500*time.Millisecond {
		t.Errorf("jittered backoff(3) = %v", got)
	}
}
