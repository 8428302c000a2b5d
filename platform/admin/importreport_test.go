package admin

import (
	"testing"
)

// The report holds the refused rows' own cells, verbatim, and what is wrong with
// each in the user's language; rows without a problem are not in it.
func TestProblemReport(t *testing.T) {
	s := &server{}
	header := []string{"姓名", "性别"}
	rows := [][]string{{"甲", "男"}, {"", "女"}, {"丙"}, {"丁", "机器人", "多余"}}
	problems := sortProblems([]importProblem{
		{Row: 5, Message: "此行的单元格多于表头"},
		{Row: 3, Field: "姓名", Message: "此项必填"},
		{Row: 0, Field: "科室", Message: "缺少此必填列"},
		{Row: 3, Field: "性别", Message: "x"},
		{Row: 4, Field: "性别", Message: "此项必填"},
	})
	got := s.problemReport(header, rows, problems, "zh")
	want := "问题,姓名,性别\n" +
		"文件：科室：缺少此必填列\n" +
		"第 3 行：姓名：此项必填；第 3 行：性别：x,,女\n" +
		"第 4 行：性别：此项必填,丙\n" +
		"第 5 行：此行的单元格多于表头,丁,机器人,多余\n"
	if got != want {
		t.Errorf("report\n%s\nwant\n%s", got, want)
	}
	if r := s.problemReport(header, rows, []importProblem{{Field: "科室", Message: "缺少此必填列"}}, "zh"); r != "" {
		t.Errorf("a refusal of the file alone has a report of rows: %q", r)
	}
	if got := problemRows(problems); got != 3 {
		t.Errorf("problemRows = %d, want 3", got)
	}
}
