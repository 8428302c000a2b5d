package outbox

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"time"

	"github.com/crmgen/crmgen/platform/database"
)

// InboxItem is one in-app notification of a user.
type InboxItem struct {
	ID        int64      `json:"id"`
	UserID    int        `json:"userId"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	Link      string     `json:"link"`
	CreatedAt time.Time  `json:"createdAt"`
	ReadAt    *time.Time `json:"readAt"`
}

// Limits of one inbox page.
const (
	DefaultInboxLimit = 50
	MaxInboxLimit     = 500
)

// Inbox returns the user's inbox items, newest first: at most limit of them (DefaultInboxLimit when
// limit is not positive, never more than MaxInboxLimit), only the unread ones when unreadOnly.
func Inbox(ctx context.Context, q Querier, d string, userID int, unreadOnly bool, limit int) ([]InboxItem, error) {
	if limit <= 0 {
		limit = DefaultInboxLimit
	}
	limit = min(limit, MaxInboxLimit)
	if err := database.Flush(ctx); err != nil {
		return nil, fmt.Errorf("read inbox of user %d: %w", userID, err)
	}
	query := `SELECT id, user_id, title, body, link, created_at, read_at FROM crm_inbox WHERE user_id = ?`
	if unreadOnly {
		query += ` AND read_at IS NULL`
	}
	query += ` ORDER BY id DESC LIMIT ?`
	rows, err := q.QueryContext(ctx, database.Rebind(d, query), userID, limit)
	if err != nil {
		return nil, fmt.Errorf("read inbox of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []InboxItem
	for rows.Next() {
		var (
			it      InboxItem
			created int64
			read    stdsql.NullInt64
		)
		if err := rows.Scan(&it.ID, &it.UserID, &it.Title, &it.Body, &it.Link, &created, &read); err != nil {
			return nil, fmt.Errorf("read inbox of user %d: %w", userID, err)
		}
		it.CreatedAt = fromMS(created)
		if read.Valid {
			t := fromMS(read.Int64)
			it.ReadAt = &t
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read inbox of user %d: %w", userID, err)
	}
	return out, nil
}

// UnreadCount returns how many of the user's inbox items are unread.
func UnreadCount(ctx context.Context, q Querier, d string, userID int) (int, error) {
	if err := database.Flush(ctx); err != nil {
		return 0, fmt.Errorf("count unread inbox items of user %d: %w", userID, err)
	}
	rows, err := q.QueryContext(ctx, database.Rebind(d, `SELECT COUNT(*) FROM crm_inbox WHERE user_id = ? AND read_at IS NULL`), userID)
	if err != nil {
		return 0, fmt.Errorf("count unread inbox items of user %d: %w", userID, err)
	}
	defer rows.Close()
	var n int
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, fmt.Errorf("count unread inbox items of user %d: %w", userID, err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("count unread inbox items of user %d: %w", userID, err)
	}
	return n, nil
}

// MarkRead marks the user's inbox item id read; marking a read item again keeps its first read time.
// An item that does not exist or belongs to another user is ErrNotFound, so users cannot probe for the
// ids of others' items.
func MarkRead(ctx context.Context, ex Execer, d string, userID int, id int64) error {
	if err := database.Flush(ctx); err != nil {
		return fmt.Errorf("mark inbox item %d read: %w", id, err)
	}
	res, err := ex.ExecContext(ctx, database.Rebind(d, `UPDATE crm_inbox SET read_at = COALESCE(read_at, ?) WHERE id = ? AND user_id = ?`),
		ms(time.Now()), id, userID)
	if err != nil {
		return fmt.Errorf("mark inbox item %d read: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("mark inbox item %d read: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("inbox item %d: %w", id, ErrNotFound)
	}
	return nil
}

// MarkAllRead marks all of the user's unread inbox items read and returns how many there were.
func MarkAllRead(ctx context.Context, ex Execer, d string, userID int) (int64, error) {
	if err := database.Flush(ctx); err != nil {
		return 0, fmt.Errorf("mark inbox of user %d read: %w", userID, err)
	}
	res, err := ex.ExecContext(ctx, database.Rebind(d, `UPDATE crm_inbox SET read_at = ? WHERE user_id = ? AND read_at IS NULL`),
		ms(time.Now()), userID)
	if err != nil {
		return 0, fmt.Errorf("mark inbox of user %d read: %w", userID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("mark inbox of user %d read: %w", userID, err)
	}
	return n, nil
}
