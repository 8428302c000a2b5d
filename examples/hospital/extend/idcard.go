package extend

import (
	"errors"
	"time"
)

// IDCard is what a resident identity card number (GB 11643-1999, 18 characters) says of its holder.
type IDCard struct {
	Birth  time.Time // the date of birth, at midnight UTC (a calendar date, not an instant)
	Female bool      // the 17th digit is even for women, odd for men
}

// Errors of ParseIDCard, one per way a well-formed number can be wrong.
var (
	errFormat   = errors.New("not 17 digits and a digit or X")
	errChecksum = errors.New("check character does not match (ISO 7064 MOD 11-2)")
	errBirth    = errors.New("the date of birth is not a date")
)

// idWeights are the ISO 7064 MOD 11-2 weights of the first 17 digits (2^(18-i) mod 11); the remainder of
// the weighted sum by 11 indexes idCheck.
var (
	idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	idCheck   = "10X98765432"
)

// ParseIDCard checks an 18-character ID card number — its form, its check character and its date of
// birth (digits 7–14, YYYYMMDD; not in the future) — and returns what it says. A lowercase x is accepted,
// as people type it.
func ParseIDCard(s string, now time.Time) (IDCard, error) {
	if len(s) != 18 {
		return IDCard{}, errFormat
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return IDCard{}, errFormat
		}
		sum += int(c-'0') * idWeights[i]
	}
	last := s[17]
	if last == 'x' {
		last = 'X'
	}
	if (last < '0' || last > '9') && last != 'X' {
		return IDCard{}, errFormat
	}
	if idCheck[sum%11] != last {
		return IDCard{}, errChecksum
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || birth.After(now) || birth.Year() < 1900 {
		return IDCard{}, errBirth
	}
	return IDCard{Birth: birth, Female: (s[16]-'0')%2 == 0}, nil
}
