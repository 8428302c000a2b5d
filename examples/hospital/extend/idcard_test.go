package extend

import (
	"errors"
	"testing"
	"time"
)

// Numbers from the hospital's demo data and made-up ones whose check character was computed by hand.
func TestParseIDCard(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in     string
		err    error
		birth  string
		female bool
	}{
		{"330110196806019248", nil, "1968-06-01", true},
		{"33010219490817782X", nil, "1949-08-17", true},
		{"33010219490817782x", nil, "1949-08-17", true},
		{"330105197304120016", nil, "1973-04-12", false},
		{"330105197304120017", errChecksum, "", false},
		{"33010519730412001X", errChecksum, "", false},
		{"330105197313120018", errBirth, "", false}, // month 13, with a correct check character
		{"33010519730412001", errFormat, "", false},
		{"33010519730412001Y", errFormat, "", false},
		{"3301051973041200a6", errFormat, "", false},
	} {
		card, err := ParseIDCard(tc.in, now)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: error %v, want %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && (card.Birth.Format("2006-01-02") != tc.birth || card.Female != tc.female) {
			t.Errorf("%s: born %s, female %v; want %s, %v", tc.in, card.Birth.Format("2006-01-02"), card.Female, tc.birth, tc.female)
		}
	}
}
