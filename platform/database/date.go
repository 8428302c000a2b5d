package database

import (
	"database/sql/driver"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// zonedDate is Postgres's date type as the model means it: a day of the app's zone, which the rest of the
// platform handles as that day's midnight in the zone (the instant SQLite stores). pgx's own codec reads a
// date as midnight UTC and writes a time's calendar day in whatever location the value carries; with it, a
// date read on Postgres was 8 hours off in Asia/Shanghai (a guard `record.maturityDate <= now + …` or an
// `at:` timer moved by that much), and an instant written in UTC (16:00Z, Shanghai's midnight) was stored
// as the day before. Here reads give the zone's midnight and writes store the value's Day.
type zonedDate struct {
	pgtype.DateCodec
	loc *time.Location
}

// Day is the day a date field's value t names, as its midnight in loc (the app's zone), which both
// databases then keep: a time at midnight of its own offset is the day written ("1985-09-09T00:00:00Z", what
// a client sends for a day whatever the app's zone), any other instant the day it falls on in loc (`now +
// duration("72h")`, a date that already is a midnight in loc).
func Day(t time.Time, loc *time.Location) time.Time {
	if t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 || t.Nanosecond() != 0 {
		t = t.In(loc)
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// inZone is date's day as its midnight in loc; infinity and NULL pass unchanged.
func inZone(d pgtype.Date, loc *time.Location) pgtype.Date {
	if d.Valid && d.InfinityModifier == pgtype.Finite {
		y, m, day := d.Time.Date() // pgx decodes a date at midnight UTC: its fields are the stored day
		d.Time = time.Date(y, m, day, 0, 0, 0, 0, loc)
	}
	return d
}

func (c zonedDate) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(pgtype.DateValuer); !ok {
		return nil // pgx wraps time.Time (and pointers) into DateValuers and asks again
	}
	inner := c.DateCodec.PlanEncode(m, oid, format, pgtype.Date{})
	if inner == nil {
		return nil
	}
	return encodeInZone{inner: inner, loc: c.loc}
}

type encodeInZone struct {
	inner pgtype.EncodePlan
	loc   *time.Location
}

func (p encodeInZone) Encode(value any, buf []byte) ([]byte, error) {
	d, err := value.(pgtype.DateValuer).DateValue()
	if err != nil {
		return nil, err
	}
	if d.Valid && d.InfinityModifier == pgtype.Finite {
		d.Time = Day(d.Time, p.loc)
	}
	return p.inner.Encode(d, buf)
}

func (c zonedDate) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if _, ok := target.(pgtype.DateScanner); !ok {
		return nil // pgx wraps *time.Time into a DateScanner and asks again
	}
	inner := c.DateCodec.PlanScan(m, oid, format, &pgtype.Date{})
	if inner == nil {
		return nil
	}
	return scanInZone{inner: inner, loc: c.loc}
}

type scanInZone struct {
	inner pgtype.ScanPlan
	loc   *time.Location
}

func (p scanInZone) Scan(src []byte, target any) error {
	var d pgtype.Date
	if err := p.inner.Scan(src, &d); err != nil {
		return err
	}
	return target.(pgtype.DateScanner).ScanDate(inZone(d, p.loc))
}

func (c zonedDate) DecodeDatabaseSQLValue(m *pgtype.Map, oid uint32, format int16, src []byte) (driver.Value, error) {
	v, err := c.DecodeValue(m, oid, format, src)
	if inf, ok := v.(pgtype.InfinityModifier); ok {
		return inf.String(), err
	}
	return v, err
}

func (c zonedDate) DecodeValue(m *pgtype.Map, oid uint32, format int16, src []byte) (any, error) {
	if src == nil {
		return nil, nil
	}
	var d pgtype.Date
	if err := c.PlanScan(m, oid, format, &d).Scan(src, &d); err != nil {
		return nil, err
	}
	if d.InfinityModifier != pgtype.Finite {
		return d.InfinityModifier, nil
	}
	return d.Time, nil
}
