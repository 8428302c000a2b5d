package metamodel

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// text reads a label, help or message: a plain string or a map of locale to string.
func (l *loader) text(n *yaml.Node, what string) Text {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return Text{"": n.Value}
	}
	t := Text{}
	loc := textLoc{text: t, keys: map[string]Pos{}}
	if n.Kind != yaml.MappingNode {
		l.errorf(l.at(n), "%s: want a string or a map of locale to string, got %s", what, describe(n))
		return t
	}
	pieces, whole := l.cutTexts(n, what)
	l.mapping(n, what, nil, func(locale string, k, v *yaml.Node) {
		if pieces[k] {
			return
		}
		if s, ok := whole[locale]; ok {
			t[locale] = s
			loc.keys[locale] = l.at(k)
			return
		}
		if isNull(v) && !localeRE.MatchString(locale) {
			l.errorf(l.at(k), "%s: %q is not a locale, and has no text (write a locale and its text, as in en: %s)",
				what, locale, strconv.Quote(locale))
			return
		}
		t[locale] = l.str(v, what+"."+locale)
		loc.keys[locale] = l.at(k)
	})
	if s, ok := whole[""]; ok {
		t[""] = s
	}
	l.m.texts = append(l.m.texts, loc)
	return t
}

// cutTexts finds texts that YAML cut at a comma. In a flow mapping, `{zh: 文本, en: a text, with a comma}`
// is the locales zh and en and a third key "with a comma" with no value, so the text would be read as
// "a text" and the rest reported as a locale without text. cutTexts reports each such text once, at its
// start, with the mapping quoted as it was meant. It returns the keys that are pieces of a text, for text
// to skip, and each cut text whole by its locale ("" for a text with no locale).
func (l *loader) cutTexts(n *yaml.Node, what string) (pieces map[*yaml.Node]bool, whole Text) {
	if n.Style&yaml.FlowStyle == 0 {
		return nil, nil
	}
	// A run is a locale and its text (or, with no locale, a text at the start of the mapping) followed by
	// the keys written without a colon, which are the rest of that text.
	type run struct {
		locale string
		at     *yaml.Node // where the text starts
		parts  []string
		quoted bool // the text was quoted as written (it cannot have been cut)
	}
	var runs []*run
	pieces = map[*yaml.Node]bool{}
	cut := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			return nil, nil
		}
		if isNull(v) && l.noColonAfter(k) {
			pieces[k] = true
			if len(runs) == 0 || runs[len(runs)-1].quoted {
				runs = append(runs, &run{at: k})
			} else {
				cut = true
			}
			r := runs[len(runs)-1]
			r.parts = append(r.parts, k.Value)
			continue
		}
		r := &run{locale: k.Value, at: v, quoted: v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0}
		if v.Kind == yaml.ScalarNode && !isNull(v) {
			r.parts = []string{v.Value}
		}
		runs = append(runs, r)
	}
	if !cut && !(len(runs) > 0 && runs[0].locale == "" && len(runs[0].parts) > 1) {
		return nil, nil
	}
	// The mapping as it was meant: each cut text joined again and quoted.
	var fixed string
	if len(runs) == 1 && runs[0].locale == "" {
		fixed = strconv.Quote(strings.Join(runs[0].parts, ", "))
	} else {
		var items []string
		for _, r := range runs {
			text := strings.Join(r.parts, ", ")
			if r.quoted || len(r.parts) > 1 {
				text = strconv.Quote(text)
			}
			if r.locale == "" {
				items = append(items, text)
			} else {
				items = append(items, r.locale+": "+text)
			}
		}
		fixed = "{" + strings.Join(items, ", ") + "}"
	}
	if key := l.keyBefore(n); key != "" {
		fixed = key + ": " + fixed
	}
	whole = Text{}
	for _, r := range runs {
		if len(r.parts) < 2 {
			continue
		}
		w := what
		if r.locale != "" {
			w += "." + r.locale
		}
		l.errorf(l.at(r.at), "%s: the text is cut at a comma, because YAML splits {…} at every comma; quote it: %s",
			w, fixed)
		whole[r.locale] = strings.Join(r.parts, ", ")
	}
	return pieces, whole
}

// noColonAfter reports whether plain key k is written without a colon after it: in a flow mapping, YAML
// then reads it as a key with no value.
func (l *loader) noColonAfter(k *yaml.Node) bool {
	if k.Style != 0 || k.Line < 1 || k.Line > len(l.lines) || strings.Contains(k.Value, "\n") {
		return false
	}
	line := l.lines[k.Line-1]
	// yaml.v3 counts columns in characters.
	i := runeOffset(line, k.Column-1+utf8.RuneCountInString(k.Value))
	rest := strings.TrimLeft(line[i:], " \t")
	return !strings.HasPrefix(rest, ":")
}

var keyBeforeRE = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*:\s*$`)

// keyBefore returns the key written just before node n on its line ("label" in `label: {…}`), or "".
func (l *loader) keyBefore(n *yaml.Node) string {
	if n.Line < 1 || n.Line > len(l.lines) {
		return ""
	}
	line := l.lines[n.Line-1]
	if m := keyBeforeRE.FindStringSubmatch(line[:runeOffset(line, n.Column-1)]); m != nil {
		return m[1]
	}
	return ""
}

// runeOffset returns the byte offset of the character at index i of s, or len(s).
func runeOffset(s string, i int) int {
	for off := range s {
		if i == 0 {
			return off
		}
		i--
	}
	return len(s)
}
