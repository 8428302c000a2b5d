package admin

import (
	"slices"
	"testing"
)

// readCSV is the first step of every import: what it lets through, the API is asked about; what it
// refuses is told to the user by its catalogue key.
func TestReadCSV(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		header   []string
		rows     int
		problem  string
		line     int
	}{
		{"bom dropped", "\uFEFF姓名,性别\n张三,男\n", []string{"姓名", "性别"}, 1, "", 0},
		{"no bom, crlf, quoted comma", "name,address\r\n\"Li, Ming\",\"a\nb\"\r\n", []string{"name", "address"}, 1, "", 0},
		{"short rows kept", "a,b,c\n1\n", []string{"a", "b", "c"}, 1, "", 0},
		{"header only", "a,b\n", []string{"a", "b"}, 0, "", 0},
		{"empty", "", nil, 0, "import.empty", 0},
		{"not utf-8 (GBK)", "\xd0\xd5\xc3\xfb\n", nil, 0, "import.notUTF8", 0},
		{"stray quote", "a,b\n1,\"x\n2,3\n", nil, 0, "import.malformed", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header, rows, line, problem := readCSV([]byte(tc.in))
			if problem != tc.problem || !slices.Equal(header, tc.header) || len(rows) != tc.rows || line != tc.line {
				t.Errorf("readCSV(%q) = %q, %d rows, line %d, %q; want %q, %d rows, line %d, %q",
					tc.in, header, len(rows), line, problem, tc.header, tc.rows, tc.line, tc.problem)
			}
		})
	}
}
