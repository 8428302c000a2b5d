package admin

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/crmgen/crmgen/platform/database"
)

// ViewStore keeps the users' saved list views in the platform table crm_saved_views: a name and the
// list's query string (filters, sort, columns, page size) per user and entity. A view holds only query
// parameters, so applying one goes through the same checks as typing its URL: a shared view naming a
// column hidden from a reader shows nothing of it.
type ViewStore struct {
	DB      *sql.DB
	Dialect string // dialect.SQLite or dialect.Postgres
}

// savedView is one saved view of a list.
type savedView struct {
	ID            int
	Name, Query   string
	UserID        int
	Shared, Owned bool
	Deletable     bool   // the user may delete it: theirs, or shared and the user a superuser
	URL           string // the list with the view's query, for the screens
}

// Migrate creates the saved views' table when it does not exist.
func (v *ViewStore) Migrate(ctx context.Context) error {
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if v.Dialect == dialect.Postgres {
		id = "BIGSERIAL PRIMARY KEY"
	}
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS crm_saved_views (
			id         ` + id + `,
			user_id    BIGINT NOT NULL,
			entity     VARCHAR(200) NOT NULL,
			name       VARCHAR(200) NOT NULL,
			query      VARCHAR(4000) NOT NULL,
			shared     BOOLEAN NOT NULL DEFAULT FALSE,
			created_at BIGINT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS crm_saved_views_entity ON crm_saved_views (entity, user_id)`,
	} {
		if _, err := v.DB.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create saved views table: %w", err)
		}
	}
	return nil
}

func (v *ViewStore) q(query string) string { return database.Rebind(v.Dialect, query) }

// list returns the views of an entity's list the user sees: their own and the shared ones, by name.
func (v *ViewStore) list(ctx context.Context, user int, entity string) ([]savedView, error) {
	rows, err := v.DB.QueryContext(ctx, v.q(`SELECT id, user_id, name, query, shared FROM crm_saved_views
		WHERE entity = ? AND (user_id = ? OR shared = ?) ORDER BY shared DESC, name, id`), entity, user, true)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []savedView
	for rows.Next() {
		var sv savedView
		if err := rows.Scan(&sv.ID, &sv.UserID, &sv.Name, &sv.Query, &sv.Shared); err != nil {
			return nil, err
		}
		sv.Owned = sv.UserID == user
		out = append(out, sv)
	}
	return out, rows.Err()
}

// create saves a view for the user.
func (v *ViewStore) create(ctx context.Context, user int, entity, name, query string, shared bool) error {
	_, err := v.DB.ExecContext(ctx, v.q(`INSERT INTO crm_saved_views (user_id, entity, name, query, shared, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`), user, entity, name, query, shared, time.Now().UnixMilli())
	return err
}

// remove deletes a view of its owner; a superuser may delete a shared view too. It reports whether a
// view was deleted.
func (v *ViewStore) remove(ctx context.Context, id, user int, superuser bool) (bool, error) {
	res, err := v.DB.ExecContext(ctx, v.q(`DELETE FROM crm_saved_views WHERE id = ? AND (user_id = ? OR (shared = ? AND ?))`),
		id, user, true, superuser)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// cleanViewQuery keeps the parameters a view saves: filters, search, queue, sort, columns and page size,
// not the page shown.
func cleanViewQuery(raw string) string {
	q, _ := url.ParseQuery(strings.TrimPrefix(raw, "?"))
	for _, k := range pagingParams {
		q.Del(k)
	}
	return q.Encode()
}
