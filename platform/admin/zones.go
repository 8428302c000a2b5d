package admin

import (
	"context"
	"time"

	"github.com/crmgen/crmgen/metamodel"
)

// Time zones per user. The app has one zone (app.timezone); each user may choose another on their profile
// page, and the screens then show and read every instant (a dateTime field, a history entry, a message's
// time) in it. A date-only field is the same day for everyone: the API stores a date as its midnight in the
// app's zone, so the screens show and read dates in the app's zone whatever the user's. What the server
// computes for everyone ignores users' zones: reports' time buckets are the app zone's, and `at` timers are
// instants.

// zones are the zones a request's screens show and read values in.
type zones struct {
	app  *time.Location // dates: a date is its midnight in the app's zone
	user *time.Location // instants: the user's choice, else the app's zone
}

// of is the zone field f's values are shown and read in: the app's for a date, the user's otherwise.
func (z zones) of(f *metamodel.Field) *time.Location {
	if f != nil && f.Type == metamodel.TypeDate {
		return z.app
	}
	return z.user
}

// today is the user's current day, as the midnight in loc that dates are stored as (a user east of the app's
// zone has tomorrow sooner).
func (z zones) today(loc *time.Location) time.Time {
	now := time.Now().In(z.user)
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
}

type userZoneKey struct{}

// zones returns the zones of a request's screens: the app's, and the signed-in user's choice.
func (s *server) zones(ctx context.Context) zones {
	if loc, ok := ctx.Value(userZoneKey{}).(*time.Location); ok {
		return zones{app: s.zone, user: loc}
	}
	return zones{app: s.zone, user: s.zone}
}

// withUserZone adds the signed-in user's time zone to ctx when they chose one. A failure to read it is
// logged and the page shown in the app's zone: a preference should not make the screens unusable.
func (s *server) withUserZone(ctx context.Context, user int) context.Context {
	if s.cfg.Preferences == nil {
		return ctx
	}
	name, err := s.cfg.Preferences.zone(ctx, user)
	if err != nil {
		s.cfg.Log.ErrorContext(ctx, "read the user's time zone", "err", err)
		return ctx
	}
	if loc := loadZone(name); loc != nil {
		return context.WithValue(ctx, userZoneKey{}, loc)
	}
	return ctx
}

// loadZone returns the IANA zone name, or nil for "" and for a name that is not one. "Local" (the server's
// own zone, whatever it is) is not a choice.
func loadZone(name string) *time.Location {
	if name == "" || name == "Local" || len(name) > 64 {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	return loc
}
