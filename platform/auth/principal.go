package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/crmgen/crmgen/platform/database"
)

// Principal loads the principal of an active user from the users and teams tables: username, display
// name, roles (users.roles, a JSON array of role names; NULL is none), team, and the team's sub-teams at
// any depth. A user that does not exist is ErrNotFound; a deactivated one is ErrInactive.
func (s *Service) Principal(ctx context.Context, userID int) (*Principal, error) {
	p, err := LoadPrincipal(ctx, s.db, s.dialect, userID)
	database.Statements.Add(1) // the user, and for a user with a team its sub-teams
	if p != nil && p.Team != 0 {
		database.Statements.Add(1)
	}
	return p, err
}

// Querier runs a query: a *sql.DB, a *sql.Tx, or an ent client (which runs it in its transaction).
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// LoadPrincipal is Service.Principal through q, such as the transaction that has just created the user.
func LoadPrincipal(ctx context.Context, q Querier, dialect string, userID int) (*Principal, error) {
	var (
		p           = &Principal{ID: userID}
		displayName sql.NullString
		active      sql.NullBool
		roles       []byte
		team        sql.NullInt64
	)
	rows, err := q.QueryContext(ctx, database.Rebind(dialect, `SELECT username, display_name, active, roles, team_id FROM users WHERE id = ?`), userID)
	if err == nil {
		err = sql.ErrNoRows
		if rows.Next() {
			err = rows.Scan(&p.Username, &displayName, &active, &roles, &team)
		}
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("user %d: %w", userID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load user %d: %w", userID, err)
	}
	if !active.Valid || !active.Bool {
		return nil, fmt.Errorf("user %d: %w", userID, ErrInactive)
	}
	p.DisplayName = displayName.String
	if len(roles) > 0 {
		// A malformed list fails the request rather than granting anything by accident.
		if err := json.Unmarshal(roles, &p.Roles); err != nil {
			return nil, fmt.Errorf("user %d: roles: want a JSON array of role names: %w", userID, err)
		}
	}
	if p.Roles == nil {
		p.Roles = []string{}
	}
	if team.Valid {
		p.Team = int(team.Int64)
		if p.Teams, err = subteams(ctx, q, dialect, p.Team); err != nil {
			return nil, fmt.Errorf("load teams of user %d: %w", userID, err)
		}
	}
	return p, nil
}

// subteams returns team and all teams below it, in ascending order. UNION (not UNION ALL) stops at a
// team already seen, so a cycle in parent_id cannot loop.
func subteams(ctx context.Context, q Querier, dialect string, team int) ([]int, error) {
	rows, err := q.QueryContext(ctx, database.Rebind(dialect, `WITH RECURSIVE sub(id) AS (
			SELECT id FROM teams WHERE id = ?
			UNION
			SELECT t.id FROM teams t JOIN sub ON t.parent_id = sub.id
		)
		SELECT id FROM sub ORDER BY id`), team)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
