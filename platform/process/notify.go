package process

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/database"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/outbox"
)

// recipient is an active user a notification goes to.
type recipient struct {
	id                     int
	username, email, phone string
	roles                  []string
}

// recipients resolves a notify's roles, usernames and User relation of rec to active users, each once,
// in id order. A role names the users who hold it or a role that inherits it.
func (e *Engine) recipients(ctx context.Context, n *metamodel.Notify, rec map[string]any) ([]recipient, error) {
	roles := e.holders(n.Roles)
	var fieldUser int64 = -1
	if n.Field != "" {
		if ref, ok := rec[n.Field].(map[string]any); ok {
			fieldUser, _ = ref["id"].(int64)
		}
	}
	// Without roles to match, only the named users and the record's user can receive it: read just them.
	query, args := `SELECT id, username, email, phone, roles FROM users WHERE active = ?`, []any{true}
	if len(roles) == 0 {
		var who []string
		if fieldUser >= 0 {
			who, args = append(who, "id = ?"), append(args, fieldUser)
		}
		if len(n.Users) > 0 {
			who = append(who, "username IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(n.Users)), ", ")+")")
			for _, u := range n.Users {
				args = append(args, u)
			}
		}
		if len(who) == 0 {
			return nil, nil
		}
		query += " AND (" + strings.Join(who, " OR ") + ")"
	}
	rows, err := e.Backend.Conn(ctx).QueryContext(ctx, database.Rebind(e.Dialect, query+" ORDER BY id"), args...)
	if err != nil {
		return nil, fmt.Errorf("notify: read users: %w", err)
	}
	defer rows.Close()
	var out []recipient
	for rows.Next() {
		var (
			r            recipient
			email, phone stdsql.NullString
			rolesJSON    []byte
		)
		if err := rows.Scan(&r.id, &r.username, &email, &phone, &rolesJSON); err != nil {
			return nil, fmt.Errorf("notify: read users: %w", err)
		}
		r.email, r.phone = email.String, phone.String
		_ = json.Unmarshal(rolesJSON, &r.roles) // a malformed list names no role
		match := int64(r.id) == fieldUser || slices.Contains(n.Users, r.username)
		for _, h := range r.roles {
			match = match || roles[h]
		}
		if match {
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

// canRead reports whether user may read record id of entity, which exists. A user whose roles read every
// row needs no query; the others are checked as themselves, through the read rules.
func (e *Engine) canRead(ctx context.Context, user recipient, entity string, id int) (bool, error) {
	if rt := enforce.FromContext(ctx); rt != nil && rt.ReadsEveryRow(user.roles, entity) {
		return true, nil
	}
	// Read in the change's transaction: the user may have been created by it (demo data).
	p, err := auth.LoadPrincipal(ctx, e.Backend.Conn(ctx), e.Dialect, user.id)
	if err != nil {
		return false, err
	}
	return e.Backend.Exists(enforce.ActingAs(ctx, p), entity, id)
}

// holders returns the named roles and every role that inherits one of them, at any depth.
func (e *Engine) holders(names []string) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	for changed := true; changed; {
		changed = false
		for _, r := range e.Model.Roles {
			if out[r.Name] {
				continue
			}
			for _, in := range r.Inherits {
				if out[in] {
					out[r.Name], changed = true, true
					break
				}
			}
		}
	}
	return out
}

// channels returns the channels a notify goes out on besides the inbox: the ones it lists, or when it
// lists none e-mail and webhook; of these only the ones configured in this application. SMS, which
// costs money per message, goes out only where a notify asks for it.
func (e *Engine) channels(n *metamodel.Notify) []string {
	want := n.Channels
	if len(want) == 0 {
		want = []string{outbox.ChannelEmail, outbox.ChannelWebhook}
	}
	var out []string
	for _, c := range want {
		if c != outbox.ChannelInbox && slices.Contains(e.Channels, c) {
			out = append(out, c)
		}
	}
	return out
}

// notify queues a notification about record id of ent in the transaction of ctx: an inbox item for each
// recipient and a message per configured channel. key names the occasion (one firing of one action), so
// each message's idempotency key is stable if the same occasion is queued again.
func (e *Engine) notify(ctx context.Context, n *metamodel.Notify, ent *metamodel.Entity, id int, rec map[string]any, key string) error {
	all, err := e.recipients(ctx, n, rec)
	if err != nil {
		return err
	}
	// A notification names its record, so it goes only to recipients who may read the record: a role's
	// escalation reaches the department heads whose scope covers it, not every department head.
	var users []recipient
	for _, u := range all {
		if ok, err := e.canRead(ctx, u, ent.Name, id); err != nil {
			return err
		} else if ok {
			users = append(users, u)
		}
	}
	loc := e.Model.App.DefaultLocale
	subject := e.Model.Localize(n.Message, loc, "")
	body := e.Model.Localize(ent.Label, loc, ent.Name) + " " + title(ent, rec, id)
	link := fmt.Sprintf("/%s/%d", ent.Name, id)
	conn := e.Backend.Conn(ctx)
	send := func(m outbox.Message) error { return outbox.Enqueue(ctx, conn, e.Dialect, m) }
	channels := e.channels(n)
	var names []string
	for _, u := range users {
		uid := strconv.Itoa(u.id)
		names = append(names, u.username)
		if err := send(outbox.Message{Channel: outbox.ChannelInbox, Recipient: uid, Subject: subject, Body: body,
			Link: link, IdempotencyKey: key + ":inbox:" + uid}); err != nil {
			return err
		}
		for _, c := range channels {
			to := map[string]string{outbox.ChannelEmail: u.email, outbox.ChannelSMS: u.phone}[c]
			if to == "" {
				continue // webhooks go out once below; a user without an address gets the inbox item only
			}
			if err := send(outbox.Message{Channel: c, Recipient: to, Subject: subject, Body: subject + "\n" + body,
				IdempotencyKey: key + ":" + c + ":" + uid}); err != nil {
				return err
			}
		}
	}
	if slices.Contains(channels, outbox.ChannelWebhook) {
		payload, err := json.Marshal(map[string]any{"entity": ent.Name, "id": id, "message": subject, "link": link,
			"recipients": names})
		if err != nil {
			return err
		}
		if err := send(outbox.Message{Channel: outbox.ChannelWebhook, Recipient: ent.Name, Subject: subject, Body: body,
			Payload: payload, IdempotencyKey: key + ":webhook"}); err != nil {
			return err
		}
	}
	return nil
}

// title names a record in a notification: its display field, else "#id".
func title(ent *metamodel.Entity, rec map[string]any, id int) string {
	if ent.Display != "" {
		if v, ok := rec[ent.Display]; ok && v != nil && fmt.Sprint(v) != "" {
			return fmt.Sprint(v)
		}
	}
	return "#" + strconv.Itoa(id)
}
