package admin

import (
	"archive/zip"
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Reading an Excel workbook for the import: its first sheet becomes the same header and rows a CSV file
// gives (importcsv.go), so everything after reading — matching headers, parsing cells, the API's create
// mutation — is one path for both.

// Bounds on unpacking a workbook. An .xlsx is a zip, so a file under the upload limit may unpack to far
// more: these refuse a bomb. A row of eight text cells is about 500 bytes of XML (measured on
// bench/importbench's patients), so 64 MB holds some 130,000 such rows; a larger file goes in as a CSV,
// which is read without unpacking, up to maxImportRows.
const (
	maxXLSXUnzipped    = 64 << 20
	maxXLSXUnzippedXML = 32 << 20
)

// isXLSX reports whether an uploaded file is a workbook rather than text: an .xlsx is a zip archive,
// which starts with a local file header whatever the file's name says.
func isXLSX(b []byte) bool { return bytes.HasPrefix(b, []byte("PK\x03\x04")) }

// readXLSX reads the first sheet of a workbook as readCSV reads a file: the header row and the data rows,
// blank rows skipped, each cell as the text the spreadsheet shows, except dates (below). The problem key
// says why it could not be read.
//
// A cell typed as an Excel date is a day number with a date format, which the spreadsheet shows in the
// format's and the machine's conventions ("12-01-26" for the default short date): it is read instead as
// the text a CSV export would hold for it, "2026-12-01", or "2026-12-01 09:30" when the format shows a
// time, so a date imports the same from either kind of file.
func readXLSX(b []byte) (header []string, rows [][]string, problem string) {
	// What the archive says it unpacks to is checked first, so the user hears that the workbook is too
	// large rather than that it cannot be read; excelize's own limits still hold a file that lies.
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, nil, "import.badXLSX"
	}
	var unzipped uint64
	for _, zf := range zr.File {
		unzipped += zf.UncompressedSize64
	}
	if unzipped > maxXLSXUnzipped {
		return nil, nil, "import.xlsxTooLarge"
	}
	f, err := excelize.OpenReader(bytes.NewReader(b), excelize.Options{
		UnzipSizeLimit: maxXLSXUnzipped, UnzipXMLSizeLimit: maxXLSXUnzippedXML})
	if err != nil {
		return nil, nil, "import.badXLSX"
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, nil, "import.empty"
	}
	sheet := sheets[0]
	shown, err := f.GetRows(sheet)
	if err != nil {
		return nil, nil, "import.badXLSX"
	}
	raw, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, nil, "import.badXLSX"
	}
	date1904 := false
	if p, err := f.GetWorkbookProps(); err == nil && p.Date1904 != nil {
		date1904 = *p.Date1904
	}
	dates := map[int]dateFormat{} // by style: whether and how its cells are dates
	var all [][]string
	for i, row := range shown {
		blank := true
		for j, cell := range row {
			if strings.TrimSpace(cell) != "" {
				blank = false
			}
			if i >= len(raw) || j >= len(raw[i]) || raw[i][j] == cell {
				continue // a formatted value that differs from the stored one is all a date can be
			}
			name, err := excelize.CoordinatesToCellName(j+1, i+1)
			if err != nil {
				continue
			}
			style, err := f.GetCellStyle(sheet, name)
			if err != nil {
				continue
			}
			df, ok := dates[style]
			if !ok {
				df = styleDateFormat(f, style)
				dates[style] = df
			}
			if df == notDate {
				continue
			}
			if text, ok := excelDate(raw[i][j], df, date1904); ok {
				row[j] = text
			}
		}
		if !blank {
			all = append(all, row)
		}
	}
	if len(all) == 0 {
		return nil, nil, "import.empty"
	}
	return all[0], all[1:], ""
}

// dateFormat is what a cell's number format makes of its number.
type dateFormat int

const (
	notDate  dateFormat = iota
	dateOnly            // a day: 2026-12-01
	dateTime            // a day and a time of day: 2026-12-01 09:30
	timeOnly            // a time of day alone is kept as the spreadsheet shows it
)

// styleDateFormat classifies a style's number format: Excel's built-in date formats by their ids, and a
// custom one by its codes outside quoted text and brackets (y, d for a date; h, s for a time; m is
// either, so it decides nothing).
func styleDateFormat(f *excelize.File, idx int) dateFormat {
	st, err := f.GetStyle(idx)
	if err != nil || st == nil {
		return notDate
	}
	if st.CustomNumFmt != nil {
		return codeDateFormat(*st.CustomNumFmt)
	}
	switch id := st.NumFmt; {
	case id >= 14 && id <= 17, id >= 27 && id <= 31, id >= 34 && id <= 36, id >= 50 && id <= 58:
		// 27–36 and 50–58 are the East Asian built-in dates (年月日); 32, 33 are times among them.
		return dateOnly
	case id == 22:
		return dateTime
	case id >= 18 && id <= 21, id == 32, id == 33, id >= 45 && id <= 47:
		return timeOnly
	}
	return notDate
}

// codeDateFormat classifies a custom number format code such as "yyyy/m/d h:mm" or `yyyy"年"m"月"d"日"`.
func codeDateFormat(code string) dateFormat {
	code, _, _ = strings.Cut(code, ";") // the format of positive numbers
	var date, clock bool
	for i := 0; i < len(code); i++ {
		switch c := code[i] | 0x20; code[i] {
		case '"':
			if j := strings.IndexByte(code[i+1:], '"'); j >= 0 {
				i += j + 1
			}
		case '[':
			if j := strings.IndexByte(code[i+1:], ']'); j >= 0 {
				i += j + 1
			}
		case '\\', '_', '*':
			i++ // the next character is literal, or padding
		default:
			switch c {
			case 'y', 'd':
				date = true
			case 'h', 's':
				clock = true
			}
		}
	}
	switch {
	case date && clock:
		return dateTime
	case date:
		return dateOnly
	case clock:
		return timeOnly
	}
	return notDate
}

// excelDate writes a cell's stored day number as the text of its kind of date.
func excelDate(raw string, df dateFormat, date1904 bool) (string, bool) {
	if df != dateOnly && df != dateTime {
		return "", false
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || n < 1 {
		return "", false
	}
	t, err := excelize.ExcelDateToTime(n, date1904)
	if err != nil {
		return "", false
	}
	if df == dateOnly {
		return t.Format(time.DateOnly), true
	}
	t = t.Round(time.Second)
	if t.Second() != 0 {
		return t.Format(time.DateTime), true
	}
	return t.Format("2006-01-02 15:04"), true
}
