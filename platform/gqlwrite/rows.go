package gqlwrite

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// list is a compiled list: its statement's columns and how its rows are written.
type list struct {
	entity string
	kinds  []kind
	conn   []slot        // the connection's fields
	id     int           // the column of the list's row id: a row's statement rows are consecutive
	total  int           // the column of the count of all the list's rows; -1: totalCount is not selected
	count  *sql.Selector // the list's rows counted, for a page without rows
}

// write runs the list's statement and writes the connection's JSON: its edges from the rows, one per
// row of the list (the statement rows of one row of the list, consecutive, make its group: the rows of
// its spread connection); totalCount from the count each row carries, or, for a page without rows,
// from count. Rows are written as they come, into one buffer; a group's values are copied until it ends.
func (l *list) write(ctx context.Context, rows Rows, query string, args []any) ([]byte, error) {
	edges := make([]byte, 0, sizeOf(l.entity))
	total, n := int64(-1), 0
	var edge []slot
	for _, s := range l.conn {
		if s.kind == slotRows {
			edge = s.slots
		}
	}
	err := rows(ctx, query, args, func(r pgx.Rows) error {
		w, err := newValues(r.FieldDescriptions(), l.kinds)
		if err != nil {
			return err
		}
		g := groups.Get().(*group)
		defer groups.Put(g)
		g.reset()
		flush := func() error {
			rs := g.rows()
			if l.total >= 0 && total < 0 {
				if total, err = w.int(l.total, rs[0][l.total]); err != nil {
					return err
				}
			}
			if n > 0 {
				edges = append(edges, ',')
			}
			n++
			edges, err = w.object(edges, edge, rs[0], rs)
			g.reset()
			return err
		}
		for r.Next() {
			vals := r.RawValues()
			if g.n > 0 && !bytes.Equal(vals[l.id], g.value(l.id)) {
				if err := flush(); err != nil {
					return err
				}
			}
			g.add(vals)
		}
		if g.n > 0 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if l.total >= 0 && n == 0 {
		if total, err = l.counted(ctx, rows); err != nil {
			return nil, err
		}
	}
	// The connection's fields, with what the rows gave them.
	conn := make([]slot, len(l.conn))
	for i, s := range l.conn {
		switch s.kind {
		case slotValue: // totalCount
			s = slot{key: s.key, kind: slotLiteral, lit: strconv.FormatInt(total, 10)}
		case slotRows:
			s = slot{key: s.key, kind: slotWritten, written: edges}
		}
		conn[i] = s
	}
	out, err := (&values{}).object(make([]byte, 0, len(edges)+64), conn, nil, nil)
	if err != nil {
		return nil, err
	}
	sized(l.entity, len(edges))
	return out, nil
}

// counted counts the list's rows.
func (l *list) counted(ctx context.Context, rows Rows) (int64, error) {
	query, args := l.count.Query()
	if err := l.count.Err(); err != nil {
		return 0, err
	}
	var n int64
	err := rows(ctx, query, args, func(r pgx.Rows) error {
		for r.Next() {
			if err := r.Scan(&n); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// sizes remembers, per entity, how long the last list written was: a page is written into a buffer of
// about that size at once, rather than one grown (and copied) a dozen times.
var sizes sync.Map // entity → *atomic.Int64

func sizeOf(entity string) int {
	if v, ok := sizes.Load(entity); ok {
		return int(v.(*atomic.Int64).Load())*9/8 + 64
	}
	return 4096
}

func sized(entity string, n int) {
	v, ok := sizes.Load(entity)
	if !ok {
		v, _ = sizes.LoadOrStore(entity, new(atomic.Int64))
	}
	v.(*atomic.Int64).Store(int64(n))
}

// group holds copies of the values of a list row's statement rows (pgx's raw values are valid until the
// next row only).
type group struct {
	buf   []byte
	spans [][2]int // per value: its bytes in buf; -1: NULL
	width int
	n     int
	views [][]byte
	rowsv [][][]byte
}

var groups = sync.Pool{New: func() any { return new(group) }}

func (g *group) reset() {
	g.buf, g.spans, g.n = g.buf[:0], g.spans[:0], 0
}

func (g *group) add(vals [][]byte) {
	g.width = len(vals)
	for _, v := range vals {
		if v == nil {
			g.spans = append(g.spans, [2]int{-1, -1})
			continue
		}
		start := len(g.buf)
		g.buf = append(g.buf, v...)
		g.spans = append(g.spans, [2]int{start, len(g.buf)})
	}
	g.n++
}

// value is the first row's value of column col.
func (g *group) value(col int) []byte { return g.view(g.spans[col]) }

var empty = []byte{}

func (g *group) view(s [2]int) []byte {
	switch {
	case s[0] < 0:
		return nil
	case s[0] == s[1]:
		return empty // an empty value is not NULL
	}
	return g.buf[s[0]:s[1]:s[1]]
}

// rows is the group's rows, each a value per column (nil: NULL).
func (g *group) rows() [][][]byte {
	g.views, g.rowsv = g.views[:0], g.rowsv[:0]
	for _, s := range g.spans {
		g.views = append(g.views, g.view(s))
	}
	for i := range g.n {
		g.rowsv = append(g.rowsv, g.views[i*g.width:(i+1)*g.width])
	}
	return g.rowsv
}

// values writes the values of a statement's columns: each as its kind, from Postgres's binary form of
// its type (text types are their bytes in either form).
type values struct {
	kinds []kind
	oids  []uint32
}

func newValues(fds []pgconn.FieldDescription, kinds []kind) (*values, error) {
	if len(fds) != len(kinds) {
		return nil, fmt.Errorf("gqlwrite: %d columns, %d expected", len(fds), len(kinds))
	}
	v := &values{kinds: kinds, oids: make([]uint32, len(fds))}
	for i, fd := range fds {
		v.oids[i] = fd.DataTypeOID
		switch fd.DataTypeOID {
		case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID:
			if kinds[i] == kindText || kinds[i] == kindJSON {
				continue
			}
		default:
			if fd.Format == pgtype.BinaryFormatCode && kinds[i] != kindText && kinds[i] != kindJSON {
				continue
			}
		}
		return nil, fmt.Errorf("gqlwrite: column %d (%s) is of type %d in format %d", i, fd.Name, fd.DataTypeOID, fd.Format)
	}
	return v, nil
}

// object writes an object of slots from row, and the rows of its spread connection from group.
func (w *values) object(out []byte, slots []slot, row [][]byte, group [][][]byte) ([]byte, error) {
	var err error
	out = append(out, '{')
	for i := range slots {
		s := &slots[i]
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, s.key...)
		switch s.kind {
		case slotLiteral:
			out = append(out, s.lit...)
		case slotValue:
			out, err = w.value(out, s.col, row[s.col])
		case slotObject:
			if s.col >= 0 && row[s.col] == nil {
				out = append(out, "null"...)
				continue
			}
			out, err = w.object(out, s.slots, row, group)
		case slotWritten:
			out = append(out, '[')
			out = append(out, s.written...)
			out = append(out, ']')
		case slotRows:
			out = append(out, '[')
			n := 0
			for _, r := range group {
				if r[s.col] == nil {
					continue // a record without nested rows: its one statement row's are NULL
				}
				if n > 0 {
					out = append(out, ',')
				}
				n++
				if out, err = w.object(out, s.slots, r, nil); err != nil {
					return nil, err
				}
			}
			out = append(out, ']')
		}
		if err != nil {
			return nil, err
		}
	}
	return append(out, '}'), nil
}

// value writes the value v of column col as gqlgen's marshaler of its GraphQL type writes it.
func (w *values) value(out []byte, col int, v []byte) ([]byte, error) {
	if v == nil {
		return append(out, "null"...), nil
	}
	switch w.kinds[col] {
	case kindText:
		return appendString(out, v), nil
	case kindJSON:
		return append(out, v...), nil
	case kindInt, kindID:
		n, err := w.int(col, v)
		if err != nil {
			return nil, err
		}
		if w.kinds[col] == kindInt {
			return strconv.AppendInt(out, n, 10), nil
		}
		out = append(out, '"')
		return append(strconv.AppendInt(out, n, 10), '"'), nil
	case kindBool:
		if w.oids[col] != pgtype.BoolOID || len(v) != 1 {
			return nil, w.unexpected(col, v)
		}
		if v[0] != 0 {
			return append(out, "true"...), nil
		}
		return append(out, "false"...), nil
	case kindFloat:
		var f float64
		switch {
		case w.oids[col] == pgtype.Float8OID && len(v) == 8:
			f = math.Float64frombits(binary.BigEndian.Uint64(v))
		case w.oids[col] == pgtype.Float4OID && len(v) == 4:
			f = float64(math.Float32frombits(binary.BigEndian.Uint32(v)))
		default:
			return nil, w.unexpected(col, v)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return append(out, "null"...), nil
		}
		return strconv.AppendFloat(out, f, 'f', -1, 64), nil // gqltype.MarshalFloat
	case kindTime:
		t, ok := timeOf(w.oids[col], v)
		if !ok {
			return nil, w.unexpected(col, v)
		}
		if t.IsZero() { // graphql.MarshalTime; the infinities, which time.Time has not, too
			return append(out, "null"...), nil
		}
		out = append(out, '"')
		return append(t.AppendFormat(out, time.RFC3339Nano), '"'), nil
	}
	return nil, w.unexpected(col, v)
}

// int reads an integer column's value.
func (w *values) int(col int, v []byte) (int64, error) {
	switch {
	case w.oids[col] == pgtype.Int8OID && len(v) == 8:
		return int64(binary.BigEndian.Uint64(v)), nil
	case w.oids[col] == pgtype.Int4OID && len(v) == 4:
		return int64(int32(binary.BigEndian.Uint32(v))), nil
	case w.oids[col] == pgtype.Int2OID && len(v) == 2:
		return int64(int16(binary.BigEndian.Uint16(v))), nil
	}
	return 0, w.unexpected(col, v)
}

func (w *values) unexpected(col int, v []byte) error {
	return fmt.Errorf("gqlwrite: column %d: %d bytes of type %d are not a value of kind %d", col, len(v), w.oids[col], w.kinds[col])
}

// y2k is 2000-01-01 in Unix seconds: Postgres counts a timestamp's microseconds from it.
const y2k = 946684800

// timeOf reads a timestamp as pgx does for database/sql (and so for ent): a timestamptz in the local
// zone, a timestamp in UTC; the zero time for the infinities.
func timeOf(oid uint32, v []byte) (time.Time, bool) {
	if len(v) != 8 || (oid != pgtype.TimestamptzOID && oid != pgtype.TimestampOID) {
		return time.Time{}, false
	}
	us := int64(binary.BigEndian.Uint64(v))
	if us == math.MaxInt64 || us == math.MinInt64 {
		return time.Time{}, true
	}
	t := time.Unix(y2k+us/1_000_000, us%1_000_000*1_000)
	if oid == pgtype.TimestampOID {
		t = t.UTC()
	}
	return t, true
}

// appendString appends s as a JSON string, escaped as gqlgen's MarshalString escapes it (control
// characters, quotes and backslashes; the rest as it is).
func appendString(out, s []byte) []byte {
	const hex = "0123456789ABCDEF"
	out = append(out, '"')
	start := 0
	for i, c := range s {
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		out = append(out, s[start:i]...)
		switch c {
		case '\t':
			out = append(out, `\t`...)
		case '\r':
			out = append(out, `\r`...)
		case '\n':
			out = append(out, `\n`...)
		case '\\':
			out = append(out, `\\`...)
		case '"':
			out = append(out, `\"`...)
		default:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}
