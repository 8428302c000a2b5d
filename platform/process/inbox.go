package process

import (
	"context"
	"errors"
	"time"

	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/outbox"
)

// InboxView is an inbox item as the API shows it.
type InboxView struct {
	ID        int        `json:"id"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	Link      string     `json:"link"`
	CreatedAt time.Time  `json:"createdAt"`
	ReadAt    *time.Time `json:"readAt"`
}

// DeadLetterView is a dead letter as the API shows it.
type DeadLetterView struct {
	ID        int       `json:"id"`
	Channel   string    `json:"channel"`
	Recipient string    `json:"recipient"`
	Subject   string    `json:"subject"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"lastError"`
	CreatedAt time.Time `json:"createdAt"`
}

// signedIn returns the user ctx acts for, or an error asking to sign in.
func signedIn(ctx context.Context) (*auth.Principal, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, auth.ErrInvalidToken
	}
	return p, nil
}

// Inbox returns the signed-in user's notifications, newest first.
func (e *Engine) Inbox(ctx context.Context, unreadOnly bool, first *int) ([]*InboxView, error) {
	p, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	limit := 0
	if first != nil {
		limit = *first
	}
	items, err := outbox.Inbox(ctx, e.Backend.Conn(ctx), e.Dialect, p.ID, unreadOnly, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*InboxView, len(items))
	for i, it := range items {
		out[i] = &InboxView{ID: int(it.ID), Title: it.Title, Body: it.Body, Link: it.Link, CreatedAt: it.CreatedAt, ReadAt: it.ReadAt}
	}
	return out, nil
}

// UnreadCount counts the signed-in user's unread notifications.
func (e *Engine) UnreadCount(ctx context.Context) (int, error) {
	p, err := signedIn(ctx)
	if err != nil {
		return 0, err
	}
	return outbox.UnreadCount(ctx, e.Backend.Conn(ctx), e.Dialect, p.ID)
}

// MarkRead marks one of the signed-in user's notifications read; another user's is not found.
func (e *Engine) MarkRead(ctx context.Context, id int) (bool, error) {
	p, err := signedIn(ctx)
	if err != nil {
		return false, err
	}
	if err := outbox.MarkRead(ctx, e.Backend.Conn(ctx), e.Dialect, p.ID, int64(id)); err != nil {
		if errors.Is(err, outbox.ErrNotFound) {
			return false, &enforce.NotFoundError{Entity: "InboxItem"}
		}
		return false, err
	}
	return true, nil
}

// MarkAllRead marks all of the signed-in user's notifications read and returns how many were unread.
func (e *Engine) MarkAllRead(ctx context.Context) (int, error) {
	p, err := signedIn(ctx)
	if err != nil {
		return 0, err
	}
	n, err := outbox.MarkAllRead(ctx, e.Backend.Conn(ctx), e.Dialect, p.ID)
	return int(n), err
}

// superuser refuses anyone but a superuser.
func (e *Engine) superuser(ctx context.Context) error {
	p, err := signedIn(ctx)
	if err != nil {
		return err
	}
	for _, name := range p.Roles {
		if r := e.Model.Role(name); r != nil && r.Superuser {
			return nil
		}
	}
	return &enforce.ForbiddenError{Entity: "the outbox", Action: "manage"}
}

// DeadLetters lists the messages whose delivery failed for good (superusers only).
func (e *Engine) DeadLetters(ctx context.Context) ([]*DeadLetterView, error) {
	if err := e.superuser(ctx); err != nil {
		return nil, err
	}
	out := []*DeadLetterView{}
	if e.Dispatcher == nil {
		return out, nil
	}
	dead, err := e.Dispatcher.Dead(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range dead {
		out = append(out, &DeadLetterView{ID: int(r.ID), Channel: r.Channel, Recipient: r.Recipient, Subject: r.Subject,
			Attempts: r.Attempts, LastError: r.LastError, CreatedAt: r.CreatedAt})
	}
	return out, nil
}

// Requeue sends a dead letter again (superusers only).
func (e *Engine) Requeue(ctx context.Context, id int) (bool, error) {
	if err := e.superuser(ctx); err != nil {
		return false, err
	}
	if err := outbox.Requeue(ctx, e.Backend.Conn(ctx), e.Dialect, int64(id), e.now()); err != nil {
		if errors.Is(err, outbox.ErrNotFound) {
			return false, &enforce.NotFoundError{Entity: "DeadLetter"}
		}
		return false, err
	}
	return true, nil
}
