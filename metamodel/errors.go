package metamodel

import (
	"fmt"
	"sort"
	"strings"
)

// Error is a positioned problem in a model: an error, or a warning that does not stop generation.
type Error struct {
	Pos     Pos
	Msg     string
	Warning bool
}

// Error formats the problem as "file:line:col: msg", with "warning: " before the message of a warning.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos.File != "" || e.Pos.Line > 0 {
		fmt.Fprintf(&b, "%s:%d:%d: ", e.Pos.File, e.Pos.Line, e.Pos.Col)
	}
	if e.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is a list of problems, sorted by file, line and column. It implements error, one problem a line.
type ErrorList []*Error

// Error joins the problems with newlines.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Sort orders the list by file, line and column, keeping the order of discovery for equal positions.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Err returns the list as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// diags collects errors and warnings.
type diags struct {
	errs  ErrorList
	warns ErrorList
	seen  map[string]bool
}

func (d *diags) add(e *Error) {
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	k := e.Error()
	if d.seen[k] {
		return
	}
	d.seen[k] = true
	if e.Warning {
		d.warns = append(d.warns, e)
	} else {
		d.errs = append(d.errs, e)
	}
}

func (d *diags) errorf(pos Pos, format string, args ...any) {
	d.add(&Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func (d *diags) warnf(pos Pos, format string, args ...any) {
	d.add(&Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Warning: true})
}

// sorted returns the errors (not warnings) sorted.
func (d *diags) sorted() ErrorList {
	d.errs.Sort()
	d.warns.Sort()
	return d.errs
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }
