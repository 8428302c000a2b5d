package generator

import (
	"fmt"
	"sort"

	"github.com/crmgen/crmgen/metamodel"
)

// unsupported lists the model sections this generator validates but cannot yet turn into behaviour. A
// model using one is refused rather than generated with the section silently ignored.
var unsupported = map[string]string{}

// Supported reports, with positions, every section of m that the generator does not implement yet.
func Supported(m *metamodel.Model) error {
	var errs metamodel.ErrorList
	names := make([]string, 0, len(m.Sections))
	for s := range m.Sections {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, s := range names {
		what, ok := unsupported[s]
		if !ok {
			continue
		}
		errs = append(errs, &metamodel.Error{Pos: m.Sections[s],
			Msg: fmt.Sprintf("section %q is valid but not generated yet: this crmgen does not implement %s; remove the section to generate the rest", s, what)})
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
