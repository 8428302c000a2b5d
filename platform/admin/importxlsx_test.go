package admin

import (
	"archive/zip"
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// xlsxFile builds a workbook whose first sheet holds rows (a cell's value as excelize stores it: a
// time.Time is a date cell, a number a number cell), with style applied to the cells named in styled.
func xlsxFile(t *testing.T, rows [][]any, styled map[string]excelize.Style) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	for cell, st := range styled {
		id, err := f.NewStyle(&st)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellStyle(sheet, cell, cell, id); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zipOf is a zip archive of one file.
func zipOf(t *testing.T, name string, content []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(content)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// readXLSX must give what readCSV gives for the same table: the cells' shown text, and dates in the
// text a CSV holds for them, whatever format the spreadsheet shows them in.
func TestReadXLSX(t *testing.T) {
	custom := func(code string) excelize.Style { return excelize.Style{CustomNumFmt: &code} }
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	b := xlsxFile(t, [][]any{
		{"姓名", "手机号", "出生日期", "就诊时间", "体重", "备注"},
		{"张三", 13800000001, day, at, 61.5, "a, \"b\""},
		{}, // a blank row between is skipped, as a blank line of a CSV is
		{"李四", "13800000002", day, at, 70},
		{"王五"}, // a short row: the missing cells are empty
	}, map[string]excelize.Style{
		"C2": {NumFmt: 14},                    // the default short date, shown "12-01-26"
		"D2": {NumFmt: 22},                    // the default date and time
		"C4": custom(`yyyy"年"m"月"d"日"`),       // a Chinese date
		"D4": custom("yyyy/m/d h:mm;@"),       // a custom date and time
		"E4": custom(`0.0"kg"`),               // a number format that is no date: shown as is
		"B4": custom(`[$-F800]dddd, mmmm dd`), // a string cell keeps its text whatever the format
	})
	header, rows, problem := readXLSX(b)
	if problem != "" {
		t.Fatalf("readXLSX: problem %q", problem)
	}
	if want := []string{"姓名", "手机号", "出生日期", "就诊时间", "体重", "备注"}; !slices.Equal(header, want) {
		t.Errorf("header %q, want %q", header, want)
	}
	want := [][]string{
		{"张三", "13800000001", "2026-12-01", "2026-12-01 09:30", "61.5", "a, \"b\""},
		{"李四", "13800000002", "2026-12-01", "2026-12-01 09:30", "70.0kg"},
		{"王五"},
	}
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("rows\n\t%q\nwant\n\t%q", rows, want)
	}

	for _, tc := range []struct {
		name    string
		in      []byte
		problem string
	}{
		{"a zip that is no workbook", []byte("PK\x03\x04not really a zip"), "import.badXLSX"},
		{"an empty sheet", xlsxFile(t, nil, nil), "import.empty"},
		{"a bomb", zipOf(t, "xl/worksheets/sheet1.xml", bytes.Repeat([]byte(" "), maxXLSXUnzipped+1)), "import.xlsxTooLarge"},
		{"only blank cells", xlsxFile(t, [][]any{{"", " "}}, nil), "import.empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, problem := readXLSX(tc.in); problem != tc.problem {
				t.Errorf("problem %q, want %q", problem, tc.problem)
			}
		})
	}
	if !isXLSX(b) || isXLSX([]byte("姓名,性别\n")) {
		t.Errorf("isXLSX does not tell a workbook from a CSV")
	}
}

// Custom number formats are dates by their codes outside literal text, whatever letters the text holds.
func TestCodeDateFormat(t *testing.T) {
	for code, want := range map[string]dateFormat{
		"yyyy-mm-dd":          dateOnly,
		"d/m/yy h:mm":         dateTime,
		"h:mm:ss":             timeOnly,
		`0.00"days"`:          notDate,
		`#,##0 "y"`:           notDate,
		"[Red]0.00":           notDate,
		"0.00E+00":            notDate,
		`yyyy\年m\月d\日`:        dateOnly,
		"[$-409]mmmm d, yyyy": dateOnly,
	} {
		if got := codeDateFormat(code); got != want {
			t.Errorf("codeDateFormat(%q) = %d, want %d", code, got, want)
		}
	}
}
