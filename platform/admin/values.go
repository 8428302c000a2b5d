package admin

import (
	"encoding/json"
	"html/template"
	"strconv"
	"strings"
	"time"
	// Dates are shown and entered in the app's zone (app.timezone), the zone the API reads dates and
	// zone-less times in, and times in the user's zone (else the app's), whatever the server's own zone
	// (TZ) is; the zone database is embedded so that works on hosts without one.
	_ "time/tzdata"

	"github.com/crmgen/crmgen/metamodel"
)

// Values between the API and the screens: how a field's value is selected, shown and edited, and how
// what a form sends becomes a GraphQL input value again.

// cell is a value as a screen shows it. Templates print Text (escaped by html/template); nothing here is
// ever trusted HTML.
type cell struct {
	Text  string
	Color string       // a palette colour for enum values and workflow states
	Link  string       // the related record, or a mailto: or http(s) link
	Tel   template.URL // a phone number's tap-to-call link: "tel:" and only digits and "+", so safe as a URL
	Items []cell       // the records of a to-many relation
	Long  bool         // multi-line text: shown preserving line breaks
	Doc   *doc         // a json field's document, shown as lists and tables (Text is its JSON, for lists' cells)
	Empty bool
	// An attachment: Image is an image's URL (shown as a thumbnail), File a file's download URL; Text is
	// its name and Size its size for people.
	Image, File, Size string
	// Files are the attachments of a multiple file or image field, each such a cell.
	Files []cell
	// Folded is a list cell a phone's card leaves out: an empty one, or one after its first cardValues
	// values (rowOf).
	Folded bool
}

// palette are the colour names the stylesheet knows; other model colours are shown grey.
var palette = map[string]bool{"red": true, "orange": true, "yellow": true, "green": true, "teal": true,
	"blue": true, "purple": true, "pink": true, "gray": true, "grey": true, "cyan": true, "brown": true}

func colorClass(c string) string {
	c = strings.ToLower(c)
	if c == "grey" {
		return "gray"
	}
	if palette[c] {
		return c
	}
	return "gray"
}

// selections are the GraphQL selections of members, in order.
func selections(ms []member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = selection(m)
	}
	return out
}

// selection is the GraphQL selection of a member: a field's name, or a relation's related record(s) with
// what names them.
func selection(m member) string {
	if m.Field != nil {
		if m.Field.Type.Attachment() {
			return m.Field.GraphQLName() + " { sha256 name size contentType url }"
		}
		return m.Field.GraphQLName()
	}
	t := m.Rel.Target
	if m.Rel.Many() {
		return m.Rel.GraphQLName() + "(first: 20) { totalCount edges { node { " + displaySelection(t) + " } } }"
	}
	return m.Rel.GraphQLName() + " { " + displaySelection(t) + " }"
}

// enumChoice is one choice of an enum field: its key, label and colour.
type enumChoice struct{ Key, Label, Color string }

// choices lists the values of an enum field (a workflow's state field lists the states).
func (s *server) choices(f *metamodel.Field, lang string) []enumChoice {
	var out []enumChoice
	if f.StateOf != "" {
		if w := s.cfg.Model.Workflow(f.StateOf); w != nil {
			colors := map[string]string{}
			if f.EnumRef != nil {
				for _, v := range f.EnumRef.Values {
					colors[v.Key] = v.Color
				}
			}
			for _, st := range w.States {
				c := st.Color
				if c == "" {
					c = colors[st.Name]
				}
				out = append(out, enumChoice{Key: st.Name, Label: s.cfg.Model.Localize(st.Label, lang, st.Name), Color: colorClass(c)})
			}
			return out
		}
	}
	if f.EnumRef != nil {
		for _, v := range f.EnumRef.Values {
			out = append(out, enumChoice{Key: v.Key, Label: s.cfg.Model.Localize(v.Label, lang, v.Key), Color: colorClass(v.Color)})
		}
	}
	return out
}

// cellOf renders member m of a node, its dates and times in z.
func (s *server) cellOf(m member, n map[string]any, lang string, z zones) cell {
	v := n[m.gqlName()]
	if m.Rel != nil {
		t := m.Rel.Target
		if m.Rel.Many() {
			var c cell
			for _, rn := range nodes(v) {
				c.Items = append(c.Items, cell{Text: s.displayOf(t, rn, lang), Link: recordURL(t, str(rn["id"]))})
			}
			c.Empty = len(c.Items) == 0
			return c
		}
		rn, _ := v.(map[string]any)
		if rn == nil {
			return cell{Empty: true}
		}
		return cell{Text: s.displayOf(t, rn, lang), Link: recordURL(t, str(rn["id"]))}
	}
	if v == nil {
		return cell{Empty: true}
	}
	f := m.Field
	text := str(v)
	switch f.Type {
	case metamodel.TypeFile, metamodel.TypeImage:
		if f.Multiple {
			return attachmentsCell(v)
		}
		return attachmentCell(v)
	case metamodel.TypeEnum:
		for _, ch := range s.choices(f, lang) {
			if ch.Key == text {
				return cell{Text: ch.Label, Color: ch.Color}
			}
		}
		return cell{Text: text, Color: "gray"}
	case metamodel.TypeBool:
		if v == true {
			return cell{Text: translate(lang, "yes")}
		}
		return cell{Text: translate(lang, "no")}
	case metamodel.TypeDate:
		if t, err := time.Parse(time.RFC3339Nano, text); err == nil {
			return cell{Text: t.In(z.app).Format("2006-01-02")}
		}
	case metamodel.TypeDateTime:
		if t, err := time.Parse(time.RFC3339Nano, text); err == nil {
			return cell{Text: t.In(z.user).Format("2006-01-02 15:04")}
		}
	case metamodel.TypeDecimal:
		if x, err := strconv.ParseFloat(text, 64); err == nil {
			return cell{Text: strconv.FormatFloat(x, 'f', f.Scale, 64)}
		}
	case metamodel.TypeText:
		return cell{Text: text, Long: true}
	case metamodel.TypeJSON:
		b, _ := json.Marshal(v)
		return cell{Text: string(b), Doc: jsonDoc(v, lang)}
	case metamodel.TypeEmail:
		return cell{Text: text, Link: "mailto:" + text}
	case metamodel.TypePhone:
		if n := dialable(text); n != "" {
			return cell{Text: text, Tel: template.URL("tel:" + n)}
		}
	case metamodel.TypeURL:
		if strings.HasPrefix(text, "http://") || strings.HasPrefix(text, "https://") {
			return cell{Text: text, Link: text}
		}
	}
	return cell{Text: text}
}

// dialable is a phone number as a tel: link dials it: its digits, with a leading "+" kept ("" when it has
// no digits).
func dialable(phone string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(phone) {
		if r >= '0' && r <= '9' || r == '+' && i == 0 {
			b.WriteRune(r)
		}
	}
	if strings.Trim(b.String(), "+") == "" {
		return ""
	}
	return b.String()
}

// formValue renders a field's value as its form input expects it, a date or time as one of z.
func formValue(f *metamodel.Field, v any, z zones) string {
	if v == nil {
		return ""
	}
	text := str(v)
	switch f.Type {
	case metamodel.TypeDate:
		if t, err := time.Parse(time.RFC3339Nano, text); err == nil {
			return t.In(z.app).Format("2006-01-02")
		}
	case metamodel.TypeDateTime:
		if t, err := time.Parse(time.RFC3339Nano, text); err == nil {
			return t.In(z.user).Format("2006-01-02T15:04")
		}
	case metamodel.TypeJSON:
		b, _ := json.MarshalIndent(v, "", "  ")
		return string(b)
	}
	return text
}

// inputValue parses what a form sent for field f into its GraphQL input value. An empty string is nil
// (unset). A date or time is one of z. A value that does not parse yields the rule to report at the field.
func inputValue(f *metamodel.Field, raw string, z zones) (v any, rule string) {
	loc := z.of(f)
	if f.Type != metamodel.TypeText && f.Type != metamodel.TypeJSON {
		raw = strings.TrimSpace(raw)
	} else {
		raw = strings.ReplaceAll(raw, "\r\n", "\n") // browsers send a textarea's line breaks as CRLF
	}
	if raw == "" {
		if f.Type == metamodel.TypeBool {
			return false, ""
		}
		return nil, ""
	}
	switch f.Type {
	case metamodel.TypeInt:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, "number"
		}
		return n, ""
	case metamodel.TypeFloat, metamodel.TypeDecimal:
		x, err := strconv.ParseFloat(strings.ReplaceAll(raw, ",", ""), 64)
		if err != nil {
			return nil, "number"
		}
		return x, ""
	case metamodel.TypeBool:
		return raw == "true" || raw == "on", ""
	case metamodel.TypeDate:
		// A date is its midnight in the app's zone (z.of), as the API stores dates it is given without a time.
		t, err := time.ParseInLocation("2006-01-02", raw, loc)
		if err != nil {
			return nil, "date"
		}
		return t.Format(time.RFC3339), ""
	case metamodel.TypeDateTime:
		t, err := time.ParseInLocation("2006-01-02T15:04", raw, loc)
		if err != nil {
			if t, err = time.ParseInLocation("2006-01-02T15:04:05", raw, loc); err != nil {
				return nil, "date"
			}
		}
		return t.Format(time.RFC3339), ""
	case metamodel.TypeJSON:
		var x any
		if err := json.Unmarshal([]byte(raw), &x); err != nil {
			return nil, "json"
		}
		return x, ""
	}
	return raw, ""
}

// sameValue reports whether a parsed input value equals the stored one, so an edit sends only changes.
func sameValue(f *metamodel.Field, stored any, parsed any) bool {
	if stored == nil || parsed == nil {
		return stored == nil && parsed == nil
	}
	switch f.Type {
	case metamodel.TypeInt, metamodel.TypeFloat, metamodel.TypeDecimal:
		a, err1 := strconv.ParseFloat(str(stored), 64)
		b, err2 := strconv.ParseFloat(str(parsed), 64)
		return err1 == nil && err2 == nil && a == b
	case metamodel.TypeDate, metamodel.TypeDateTime:
		a, err1 := time.Parse(time.RFC3339Nano, str(stored))
		b, err2 := time.Parse(time.RFC3339Nano, str(parsed))
		return err1 == nil && err2 == nil && a.Equal(b)
	case metamodel.TypeJSON:
		a, _ := json.Marshal(stored)
		b, _ := json.Marshal(parsed)
		var x, y any
		json.Unmarshal(a, &x)
		json.Unmarshal(b, &y)
		a, _ = json.Marshal(x)
		b, _ = json.Marshal(y)
		return string(a) == string(b)
	}
	return str(stored) == str(parsed)
}

// recordURL is the detail screen of a record.
func recordURL(e *metamodel.Entity, id string) string { return entityURL(e) + "/" + id }

// entityURL is the list screen of an entity.
func entityURL(e *metamodel.Entity) string { return "/e/" + e.Name }
