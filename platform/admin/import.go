package admin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/enforce"
)

// The CSV and Excel import of an entity's list screen, for users whose role has `import` on it. A file's rows
// become records through the API's create mutation, the one the create form uses, so validation,
// defaults, workflows' initial states, audit, automations and row rules apply to each. By default all
// rows go in one mutation operation, which the API runs in one transaction: if any row is refused, none
// is written. The user may instead ask for only the valid rows to be written (createValid says how a
// refusal is pinned on its row). Either way the page lists every refused row with the field and the rule
// in the user's language, and offers those rows as a CSV to download (importreport.go).
//
// The form is a same-origin multipart POST, guarded like every other form of the admin by the session
// middleware's cross-origin check.

// Limits of one import, their one home (the shell lets a post of MaxImportBytes through to the handler,
// platform/app/body.go). A file of more than importBatch rows, in the valid-rows mode, runs as a
// background job (importjob.go) that writes importBatch rows per operation; all or nothing is one
// operation, one transaction, so it takes at most opRows rows, unless the app can hold a transaction
// across operations (Config.HoldTx, on Postgres): then a larger file runs as a job in one transaction.
const (
	// MaxImportBytes is the largest file an import reads.
	MaxImportBytes = 50 << 20
	// MaxImportBody is the largest import post: the file and the form around it.
	MaxImportBody = MaxImportBytes + 64<<10
	// maxImportRows is the most data rows a file may hold.
	maxImportRows = 200_000
	// importBatch is the rows of one operation of a background import: one transaction, committed
	// before the next, so a crash loses at most one batch.
	importBatch = 500
	// maxOpRows bounds the rows of one operation whatever the API's field limit.
	maxOpRows = 1000
)

// importBody is the import page: the form, and after a post either what was imported or why nothing was;
// for a background import, its progress and then its result.
type importBody struct {
	Entity, Label, Title, Action, ListURL string
	Limits                                string
	Columns                               []string // the members a file may set, by label
	Unknown                               []string // headers that named nothing, ignored
	Error                                 string
	Problems                              []importProblem
	More                                  int // problems not listed (a job's result lists maxShownProblems)
	Done                                  string
	ValidOnly                             bool // the mode chosen: write the valid rows, list the others
	Keys                                  []importKey
	Key                                   string // the natural key chosen, "": every row creates
	Report                                string // the refused rows as a CSV, for the report's download form
	ReportURL                             string // a finished job's report, to download
	Job                                   *jobProgress
	JobURL                                string // the user's running import, when a new one is refused
}

// opRows is the most rows one create operation may hold under the API's field limit (two fields a row:
// the create and its id): the bound of an all-or-nothing import.
func (s *server) opRows() int {
	n := maxOpRows - 1
	if f := s.cfg.MaxGraphQLFields; f > 0 && (f-1)/2 < n {
		n = (f - 1) / 2
	}
	return n
}

// jobsAllOrNothing reports whether an all-or-nothing import of more than opRows rows runs as a job in
// one held transaction.
func (s *server) jobsAllOrNothing() bool { return s.cfg.Jobs != nil && s.cfg.HoldTx != nil }

// importEntity resolves {entity} for the import screens: the user's Access must grant import on it.
func (s *server) importEntity(w http.ResponseWriter, r *http.Request) *metamodel.Entity {
	return s.entityIf(w, r, (*enforce.Access).MayImport)
}

func (s *server) importPage(w http.ResponseWriter, r *http.Request) {
	e := s.importEntity(w, r)
	if e == nil {
		return
	}
	s.renderImport(w, r, http.StatusOK, e, &importBody{})
}

// renderImport renders the import page with b's outcome, filling in what every such page shows.
func (s *server) renderImport(w http.ResponseWriter, r *http.Request, status int, e *metamodel.Entity, b *importBody) {
	lang := language(s.cfg.Model, r)
	b.Entity, b.Label = e.Name, s.entityLabel(e, lang)
	b.Title = translate(lang, "import csv") + " · " + b.Label
	b.Action, b.ListURL = entityURL(e)+"/import", entityURL(e)
	if s.jobsAllOrNothing() {
		b.Limits = fmt.Sprintf(translate(lang, "import.limitsHeld"), MaxImportBytes>>20, maxImportRows)
	} else {
		b.Limits = fmt.Sprintf(translate(lang, "import.limits"), MaxImportBytes>>20, maxImportRows, s.opRows())
	}
	if si, err := s.schema(r.Context()); err == nil {
		a := access(r.Context(), e.Name)
		for _, m := range allMembers(e) {
			if importable(m) && a.Shows(m.Name) && a.Writable(m.Name) && inputKey(si, e, m, true) != "" &&
				(m.Rel == nil || m.Rel.Kind == metamodel.BelongsTo) {
				label := s.memberLabel(m, lang)
				if requiredOnImport(e, m) {
					label += " *"
				}
				b.Columns = append(b.Columns, label)
			}
		}
	}
	if si, err := s.schema(r.Context()); err == nil {
		b.Keys = s.importKeys(r.Context(), e, si, lang)
	}
	f := s.newFrame(r, b.Title)
	f.Active = e.Name
	f.Body = b
	s.render(w, r, status, "import", f)
}

// importOutcome words what an import wrote, or "" when it wrote nothing; with a natural key it tells
// the records created from those updated.
func importOutcome(lang string, keyed bool, t tally, problemRows int) string {
	switch {
	case t.written() == 0:
		return ""
	case keyed && problemRows > 0:
		return fmt.Sprintf(translate(lang, "import.partialUpsert"), t.created, t.updated, problemRows)
	case keyed:
		return fmt.Sprintf(translate(lang, "import.doneUpsert"), t.created, t.updated)
	case problemRows > 0:
		return fmt.Sprintf(translate(lang, "import.partial"), t.written(), problemRows)
	}
	return fmt.Sprintf(translate(lang, "import.done"), t.written())
}

// importFile reads the posted file and imports its rows, or says why it imported none.
func (s *server) importFile(w http.ResponseWriter, r *http.Request) {
	e := s.importEntity(w, r)
	if e == nil {
		return
	}
	ctx := r.Context()
	lang := language(s.cfg.Model, r)
	refuse := func(status int, msg string, problems ...importProblem) {
		s.renderImport(w, r, status, e, &importBody{Error: msg, Problems: problems})
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxImportBody)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			w.Header().Set("Connection", "close") // the rest of the body is not read
			refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf(translate(lang, "import.tooLarge"), MaxImportBytes>>20))
			return
		}
		refuse(http.StatusBadRequest, translate(lang, "import.noFile"))
		return
	}
	defer r.MultipartForm.RemoveAll()
	file, _, err := r.FormFile("file")
	if err != nil {
		refuse(http.StatusOK, translate(lang, "import.noFile"))
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, MaxImportBytes+1))
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if len(data) > MaxImportBytes {
		refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf(translate(lang, "import.tooLarge"), MaxImportBytes>>20))
		return
	}
	var header []string
	var rows [][]string
	var line int
	var problem string
	switch {
	case isXLSX(data):
		header, rows, problem = readXLSX(data)
	case bytes.HasPrefix(data, []byte("\xD0\xCF\x11\xE0")):
		problem = "import.badXLSX" // an .xls of Excel 97–2003, a compound file: only .xlsx is read
	default:
		header, rows, line, problem = readCSV(data)
	}
	if problem != "" {
		msg := translate(lang, problem)
		if line > 0 {
			msg = fmt.Sprintf(translate(lang, "import.malformedAt"), line)
		}
		refuse(http.StatusOK, msg)
		return
	}
	if len(rows) == 0 {
		refuse(http.StatusOK, translate(lang, "import.empty"))
		return
	}
	validOnly := r.FormValue("mode") == "valid"
	switch {
	case len(rows) > maxImportRows:
		refuse(http.StatusOK, fmt.Sprintf(translate(lang, "import.tooMany"), len(rows), maxImportRows))
		return
	case len(rows) > s.opRows() && (validOnly && s.cfg.Jobs == nil || !validOnly && !s.jobsAllOrNothing()):
		refuse(http.StatusOK, fmt.Sprintf(translate(lang, "import.tooManyAll"), len(rows), s.opRows()))
		return
	}
	si, err := s.schema(ctx)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	key := r.FormValue("key")
	if key != "" && !slices.ContainsFunc(s.importKeys(ctx, e, si, lang), func(k importKey) bool { return k.Name == key }) {
		refuse(http.StatusOK, translate(lang, "import.badKey"))
		return
	}
	plan, unknown, problems := s.matchColumns(ctx, e, si, header, key, lang)
	if len(problems) == 0 && len(plan.cols) == 0 && plan.key == nil {
		problems = append(problems, importProblem{Message: translate(lang, "import.noColumns")})
	}
	// Whatever goes wrong, the page says what, lists the ignored headers, keeps the mode chosen and, when
	// rows were refused, offers them back as a file.
	answer := func(b *importBody, problems []importProblem) {
		b.Unknown, b.ValidOnly, b.Key = unknown, validOnly, key
		b.Problems = sortProblems(problems)
		b.Report = s.problemReport(header, rows, b.Problems, lang)
		s.renderImport(w, r, http.StatusOK, e, b)
	}
	if len(problems) > 0 {
		answer(&importBody{Error: translate(lang, "import.refused")}, problems)
		return
	}
	if validOnly && len(rows) > importBatch && s.cfg.Jobs != nil || !validOnly && len(rows) > s.opRows() {
		s.startImportJob(w, r, e, si, plan, header, rows, unknown, key, validOnly, lang)
		return
	}
	inputs, problems, err := s.rowInputs(ctx, e, si, plan, rows, header, lang)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if len(problems) > 0 && (!validOnly || len(inputs) == 0) {
		answer(&importBody{Error: translate(lang, "import.refused")}, problems)
		return
	}
	var wrote tally
	if validOnly {
		var refused []importProblem
		wrote, refused = s.createValid(r, e, inputs, lang)
		problems = append(problems, refused...)
	} else if wrote, problems = s.createAll(r, e, inputs, lang); len(problems) > 0 {
		answer(&importBody{Error: translate(lang, "import.refused")}, problems)
		return
	}
	if done := importOutcome(lang, key != "", wrote, problemRows(problems)); done != "" {
		answer(&importBody{Done: done}, problems)
	} else {
		answer(&importBody{Error: translate(lang, "import.refused")}, problems)
	}
}

// The import screens' strings, kept with them and added to the catalogue.
func init() {
	for lang, kv := range map[string]map[string]string{
		"zh": {
			"import csv": "导入", "import.file": "CSV 或 Excel 文件", "import.run": "导入",
			"import.help":       "第一行为表头：列名可写字段名称（中文或英文）；关联记录可写其名称或编号。可选择全部导入或全部不导入，或只导入正确的行。",
			"import.columns":    "可导入的列（* 为必填）",
			"import.limits":     "文件不超过 %d MB，最多 %d 行（“全部导入或全部不导入”最多 %d 行）；CSV 文件须为 UTF-8 编码、逗号分隔，Excel 文件（.xlsx）读取第一个工作表。",
			"import.limitsHeld": "文件不超过 %d MB，最多 %d 行；CSV 文件须为 UTF-8 编码、逗号分隔，Excel 文件（.xlsx）读取第一个工作表。",
			"import.tooManyAll": "文件有 %d 行：“全部导入或全部不导入”最多 %d 行。请选择“只导入正确的行”（分批写入），或拆分后再导入",
			"import.running":    "正在导入……可以离开此页，稍后回来查看结果。",
			"import.progress":   "已处理 %d / %d 行，其中 %d 行有问题",
			"import.cancel":     "停止导入", "import.cancelling": "正在停止……",
			"import.cancelled":       "导入已停止：停止前已导入 %d 条",
			"import.cancelledAll":    "导入已停止：未导入任何记录",
			"import.interruptedNone": "导入因服务重启而中断：已处理 %d / %d 行，未导入任何记录。请重新导入",
			"import.busy":            "您已有一个导入正在进行，请等待其完成",
			"import.viewJob":         "查看进度",
			"import.interrupted":     "导入因服务重启而中断：已处理 %d / %d 行，至少已导入 %d 条，其余行未导入。请重新导入文件中未导入的行（选择按编号匹配已有记录，可避免重复导入）",
			"import.more":            "另有 %d 个问题未列出，见下载的问题行文件",
			"import.tooLarge":        "文件太大：不能超过 %d MB", "import.tooMany": "文件有 %d 行，超过了上限 %d 行，请拆分后再导入",
			"import.noFile": "请选择要导入的 CSV 或 Excel 文件", "import.notUTF8": "文件不是 UTF-8 编码：请在表格软件中另存为“CSV UTF-8”",
			"import.badXLSX":      "无法读取此 Excel 文件：请在表格软件中另存为 .xlsx 格式",
			"import.xlsxTooLarge": "此 Excel 文件解压后太大：请删去多余的工作表、图片或空行，或拆分后再导入",
			"import.malformed":    "无法读取此 CSV 文件", "import.malformedAt": "无法读取此 CSV 文件：第 %d 行格式不正确",
			"import.empty": "文件中没有数据行", "import.noColumns": "表头中没有可导入的列",
			"import.refused":       "未导入任何记录，请修正以下问题后重新导入：",
			"import.notWritable":   "您无权填写此项",
			"import.notImportable": "此项不能导入",
			"import.twice":         "此列出现了两次",
			"import.missingColumn": "缺少此必填列",
			"import.extraCells":    "此行的单元格多于表头",
			"import.noRecord":      "找不到“%s”（记录不存在或无权查看）",
			"import.ambiguous":     "有多条记录名为“%s”，请改填编号",
			"import.unknown":       "以下列无法识别或由系统生成，已忽略：",
			"import.done":          "已导入 %d 条", "import.row": "第 %d 行", "import.fileLevel": "文件",
			"import.back": "返回列表",
			"import.mode": "导入方式", "import.modeAll": "全部导入或全部不导入：任何一行出错都不写入任何记录",
			"import.modeValid": "只导入正确的行：出错的行不写入，并列出其问题",
			"import.partial":   "已导入 %d 条；以下 %d 行有问题，未导入：",
			"import.problem":   "问题", "import.report": "下载问题行（CSV）",
			"import.noReport": "无法读取问题报告，请重新导入文件",
		},
		"en": {
			"import csv": "Import", "import.file": "CSV or Excel file", "import.run": "Import",
			"import.help":       "The first row holds the headers: a field's name or label (Chinese or English); a related record is named by its name or number. Choose whether the file is imported as a whole, or only its valid rows.",
			"import.columns":    "Columns you can import (* required)",
			"import.limits":     "At most %d MB and %d rows (%d all or nothing); a CSV file in UTF-8, comma separated, or an Excel file (.xlsx), of which the first sheet is read.",
			"import.limitsHeld": "At most %d MB and %d rows; a CSV file in UTF-8, comma separated, or an Excel file (.xlsx), of which the first sheet is read.",
			"import.tooManyAll": "The file has %d rows: all or nothing takes at most %d. Choose to import only the valid rows (written in batches), or split the file",
			"import.running":    "Importing… You may leave this page and come back for the result.",
			"import.progress":   "%d of %d rows done, %d with problems",
			"import.cancel":     "Stop the import", "import.cancelling": "Stopping…",
			"import.cancelled":       "The import was stopped: %d records had been imported",
			"import.cancelledAll":    "The import was stopped: no record was imported",
			"import.interruptedNone": "The import was interrupted when the server restarted: %d of %d rows done, no record imported. Import the file again",
			"import.busy":            "You have an import running: wait for it to finish",
			"import.viewJob":         "See its progress",
			"import.interrupted":     "The import was interrupted when the server restarted: %d of %d rows done, at least %d records imported, the other rows not. Import the rows that were not imported again (matching existing records by their number avoids importing a row twice)",
			"import.more":            "%d more problems are not listed: download the problem rows",
			"import.tooLarge":        "The file is too large: the limit is %d MB", "import.tooMany": "The file has %d rows, more than the limit of %d: split it and import the parts",
			"import.noFile": "Choose a CSV or Excel file to import", "import.notUTF8": "The file is not UTF-8: save it as “CSV UTF-8” in your spreadsheet program",
			"import.badXLSX":      "This Excel file cannot be read: save it as .xlsx in your spreadsheet program",
			"import.xlsxTooLarge": "This Excel file is too large once unpacked: remove extra sheets, pictures or empty rows, or split it",
			"import.malformed":    "This CSV file cannot be read", "import.malformedAt": "This CSV file cannot be read: row %d is malformed",
			"import.empty": "The file has no data rows", "import.noColumns": "None of the headers names a column you can import",
			"import.refused":       "Nothing was imported. Fix these problems and import the file again:",
			"import.notWritable":   "You may not fill in this field",
			"import.notImportable": "This field cannot be imported",
			"import.twice":         "This column appears twice",
			"import.missingColumn": "This required column is missing",
			"import.extraCells":    "This row has more cells than the header",
			"import.noRecord":      "“%s” not found, or not yours to see",
			"import.ambiguous":     "More than one record is named “%s”: give its number instead",
			"import.unknown":       "These columns were not recognised, or are filled in by the system, and were ignored:",
			"import.done":          "Imported %d records", "import.row": "Row %d", "import.fileLevel": "File",
			"import.back": "Back to the list",
			"import.mode": "How to import", "import.modeAll": "All or nothing: if any row has an error, no record is written",
			"import.modeValid": "Only the valid rows: rows with errors are not written, and their problems are listed",
			"import.partial":   "Imported %d records; these %d rows have problems and were not imported:",
			"import.problem":   "Problem", "import.report": "Download the problem rows (CSV)",
			"import.noReport": "The problem report cannot be read: import the file again",
		},
	} {
		for k, v := range kv {
			catalogue[lang][k] = v
		}
	}
}
