package admin

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/crmgen/crmgen/metamodel"
)

// languages are the languages of the screens' own strings. Model labels may have more locales; the
// screens speak the first of these that the model's locales include, falling back to English.
var languages = []string{"zh", "en"}

// catalogue holds every string of the screens that is not a model label, per language. Keys are short
// English phrases so a missing entry still reads sensibly.
var catalogue = map[string]map[string]string{
	"zh": {
		"sign in": "登录", "sign out": "退出登录", "username": "用户名", "password": "密码",
		"invalid username or password": "用户名或密码错误", "account is disabled": "账户已停用",
		"too many attempts": "失败次数过多，请稍后再试", "sign-in failed": "登录失败",
		"home": "首页", "search": "搜索", "filter": "筛选", "clear": "清除", "apply": "应用",
		"new": "新建", "edit": "编辑", "delete": "删除", "save": "保存", "cancel": "取消", "back": "返回",
		"export csv": "导出 CSV", "delete selected": "删除所选", "select all": "全选", "select row": "选择此行",
		"confirm delete": "确定删除所选记录？", "confirm delete one": "确定删除此记录？",
		"no records": "没有记录", "of": "共", "records": "条", "first page": "首页", "previous page": "上一页",
		"next page": "下一页", "last page": "末页", "any": "全部", "yes": "是", "no": "否", "from": "从", "to": "至",
		"sort ascending": "升序", "sort descending": "降序", "list": "列表", "kanban": "看板", "calendar": "日历",
		"tree": "树形", "details": "详情", "record tabs": "记录分页", "history": "变更记录", "workflow": "流程", "transitions": "可执行操作",
		"comment": "备注", "comment required": "此操作需要填写备注", "run": "执行", "related": "相关记录",
		"dashboards": "看板", "reports": "报表", "show report": "查看报表", "more rows": "另有 %d 行，查看完整报表", "accuracy": "准确率",
		"report params": "报表条件", "run report": "查询", "drill down": "查看明细",
		"see all": "查看全部", "diagrams": "模型图", "rendering diagrams": "正在绘制模型图…", "inbox": "消息", "unread": "未读", "mark read": "标为已读", "mark all read": "全部标为已读",
		"no messages": "没有消息", "open": "打开", "created": "创建", "updated": "修改", "deleted": "删除",
		"restored": "恢复", "seeded": "初始化", "field": "字段", "old value": "原值", "new value": "新值",
		"by": "操作人", "at": "时间", "saved": "已保存", "deleted n": "已删除", "deleted records": "已删除的记录", "deleted at": "删除时间", "restore": "恢复",
		"restored n": "已恢复", "no deleted records": "没有可恢复的记录", "not found": "记录不存在或无权查看",
		"forbidden": "无权执行此操作", "error": "出错了", "request": "请求编号", "please fix": "请修正标出的错误后再保存",
		"required": "必填", "type to search": "输入以搜索", "no match": "无匹配记录", "remove": "移除",
		"month": "月", "week": "周", "today": "今天", "previous": "上一个", "next": "下一个",
		"move refused": "无法移动到该列", "move to": "移动到…", "agenda": "日程", "nothing in this period": "这段时间没有记录", "moved": "已移动", "language": "语言", "menu": "菜单", "user menu": "用户菜单",
		"entities": "业务对象", "count": "数量", "none": "无", "choose": "请选择", "skip to content": "跳到正文", "breadcrumb": "当前位置",
		"more": "更多", "rule.required": "此项必填", "rule.unique": "该值已存在", "rule.maxLen": "太长",
		"rule.minLen": "太短", "rule.pattern": "格式不正确", "rule.email": "邮箱格式不正确", "rule.phone": "电话格式不正确",
		"rule.url": "网址格式不正确", "rule.min": "小于允许的最小值", "rule.max": "大于允许的最大值",
		"rule.scale": "小数位数过多", "rule.precision": "数字位数过多", "rule.type": "值的类型不正确",
		"rule.readonly": "此项不可修改", "rule.enum": "不是可选的值", "rule.exists": "所选记录不存在",
		"rule.cycle": "不能形成循环", "rule.owner": "不能把记录交给你无权管理的人", "rule.workflow": "只能通过流程操作修改", "rule.json": "不是有效的 JSON", "rule.number": "不是有效的数字",
		"rule.date": "不是有效的日期", "rule.maxSize": "文件超过允许的大小", "rule.accept": "不接受这种文件类型", "rule.file": "引用的文件不存在，请重新上传",
		"upload.tooLarge": "文件 %s 超过允许的大小 %s", "upload.wrongType": "不接受文件 %s 的类型（可接受：%s）", "upload.remove": "删除",
		"upload.keep": "不选择文件则保留当前文件", "upload.addFiles": "可一次选择多个文件，添加到已有文件之后；最多 %d 个", "rule.maxFiles": "文件太多：最多 %d 个", "upload.kept": "已上传 %s（%s），保存后生效；选择其他文件可替换", "state": "状态", "to state": "目标状态", "requires": "需要先填写",
		"id": "编号", "actions": "操作", "page": "页",
		"columns": "显示列", "page size": "每页条数", "page n of": "第 %d / %s 页", "page n": "第 %d 页", "per page": "%d 条/页",
		"saved views": "已保存的视图", "save view": "保存当前视图", "view name": "视图名称", "share with everyone": "共享给所有人", "shared": "共享", "delete view": "删除视图",
		"load failed":  "加载失败，未能显示结果，请稍后重试",
		"showing n of": "显示 %d 条，共 %d 条 · 查看全部", "n more": "还有 %d 条",
		"; ": "；", ", ": "、", ": ": "：", "other records": "其他记录", "system": "系统自动",
		"deleted of": "已删除 %d 条（共选 %d 条）", "not deleted": "以下 %d 条未删除",
		"bulk transition": "对所选执行", "bulk run": "执行", "bulk field": "批量修改字段", "bulk edit": "修改所选",
		"bulk set": "修改「%s」", "bulk edit title": "将所选 %[2]d 条记录的「%[1]s」改为", "bulk apply": "应用到所选记录",
		"bulk done of": "%s：已完成 %d 条（共选 %d 条）", "bulk not done": "以下 %d 条未执行",
		"search everything": "全局搜索", "work": "待办工作", "overdue": "已逾期", "assigned to me": "%s是我", "work queue": "待办",
		"refused.state":        "此%s现在是「%s」状态，不能再执行「%s」（可能已有人处理），请刷新页面查看",
		"refused.changed":      "此记录已被他人修改，请刷新页面后重试",
		"refused.locked":       "此%s已是「%s」状态，已锁定，不能修改或删除",
		"locked note":          "此%s已是「%s」状态，已锁定：不能再修改或删除",
		"refused.restricted":   "不能删除此%s：还有%s引用它，请先删除或改派这些记录",
		"refused.role":         "您的角色不能执行「%s」",
		"refused.guard":        "现在不能执行「%s」：条件尚不满足",
		"refused.guardMessage": "不能执行「%s」：%s",
		"refused.requires":     "执行「%s」前需要先填写：%s",
		"profile":              "个人设置", "display name": "姓名", "time zone": "时区", "app zone": "系统默认（%s）", "now": "现在",
		"zone help":    "列表、详情、表单、日历和变更记录中的时间按此时区显示和填写；仅有日期的字段、报表的时间分组和定时提醒仍按系统时区（全机构统一）",
		"unknown zone": "未知的时区「%s」，请从列表中选择",
	},
	"en": {
		"sign in": "Sign in", "sign out": "Sign out", "username": "Username", "password": "Password",
		"invalid username or password": "Invalid username or password", "account is disabled": "This account is disabled",
		"too many attempts": "Too many failed attempts; try again later", "sign-in failed": "Sign-in failed",
		"home": "Home", "search": "Search", "filter": "Filter", "clear": "Clear", "apply": "Apply",
		"new": "New", "edit": "Edit", "delete": "Delete", "save": "Save", "cancel": "Cancel", "back": "Back",
		"export csv": "Export CSV", "delete selected": "Delete selected", "select all": "Select all", "select row": "Select row",
		"confirm delete": "Delete the selected records?", "confirm delete one": "Delete this record?",
		"no records": "No records", "of": "of", "records": "records", "first page": "First page", "previous page": "Previous page",
		"next page": "Next page", "last page": "Last page", "any": "Any", "yes": "Yes", "no": "No", "from": "From", "to": "To",
		"sort ascending": "Sort ascending", "sort descending": "Sort descending", "list": "List", "kanban": "Kanban", "calendar": "Calendar",
		"tree": "Tree", "details": "Details", "record tabs": "Record sections", "history": "History", "workflow": "Workflow", "transitions": "Actions",
		"comment": "Comment", "comment required": "This action needs a comment", "run": "Run", "related": "Related",
		"dashboards": "Dashboards", "reports": "Reports", "show report": "Open report", "more rows": "%d more rows: open the full report", "accuracy": "Accuracy",
		"report params": "Report conditions", "run report": "Run", "drill down": "Show records",
		"see all": "See all", "diagrams": "Diagrams", "rendering diagrams": "Drawing the diagrams…", "inbox": "Inbox", "unread": "unread", "mark read": "Mark read", "mark all read": "Mark all read",
		"no messages": "No messages", "open": "Open", "created": "created", "updated": "updated", "deleted": "deleted",
		"restored": "restored", "seeded": "seeded", "field": "Field", "old value": "Old", "new value": "New",
		"by": "By", "at": "At", "saved": "Saved", "deleted n": "Deleted", "deleted records": "Deleted records", "deleted at": "Deleted at", "restore": "Restore",
		"restored n": "Restored", "no deleted records": "Nothing to restore", "not found": "Not found, or not yours to see",
		"forbidden": "You may not do this", "error": "Something went wrong", "request": "request", "please fix": "Please fix the marked fields and save again",
		"required": "required", "type to search": "Type to search", "no match": "No match", "remove": "Remove",
		"month": "Month", "week": "Week", "today": "Today", "previous": "Previous", "next": "Next",
		"move refused": "The card cannot move there", "move to": "Move to…", "agenda": "Agenda", "nothing in this period": "Nothing in this period", "moved": "Moved", "language": "Language", "menu": "Menu", "user menu": "User menu",
		"entities": "Records", "count": "Count", "none": "None", "choose": "Choose…", "skip to content": "Skip to content", "breadcrumb": "Breadcrumb",
		"more": "More", "rule.required": "This field is required", "rule.unique": "This value is already taken", "rule.maxLen": "Too long",
		"rule.minLen": "Too short", "rule.pattern": "Wrong format", "rule.email": "Not a valid e-mail address", "rule.phone": "Not a valid phone number",
		"rule.url": "Not a valid URL", "rule.min": "Below the minimum", "rule.max": "Above the maximum",
		"rule.scale": "Too many decimal places", "rule.precision": "Too many digits", "rule.type": "Wrong type of value",
		"rule.readonly": "This field cannot be changed", "rule.enum": "Not one of the choices", "rule.exists": "The chosen record does not exist",
		"rule.cycle": "This would make a cycle", "rule.owner": "You may not hand the record to someone outside your scope", "rule.workflow": "Changes only through the workflow's actions", "rule.json": "Not valid JSON", "rule.number": "Not a valid number",
		"rule.date": "Not a valid date", "rule.maxSize": "The file is larger than allowed", "rule.accept": "This type of file is not accepted", "rule.file": "The file referred to does not exist; upload it again",
		"upload.tooLarge": "The file %s is larger than the limit of %s", "upload.wrongType": "The type of the file %s is not accepted (accepted: %s)", "upload.remove": "Remove",
		"upload.keep": "Choose no file to keep the current one", "upload.addFiles": "Choose one or more files to add them after those here; at most %d", "rule.maxFiles": "Too many files: at most %d", "upload.kept": "Uploaded %s (%s), saved with the form; choose another file to replace it", "state": "State", "to state": "To", "requires": "Needs",
		"id": "ID", "actions": "Actions", "page": "Page",
		"columns": "Columns", "page size": "Rows per page", "page n of": "Page %d of %s", "page n": "Page %d", "per page": "%d per page",
		"saved views": "Saved views", "save view": "Save this view", "view name": "View name", "share with everyone": "Share with everyone", "shared": "Shared", "delete view": "Delete view",
		"load failed":  "Loading failed; no results are shown. Please try again",
		"showing n of": "Showing %d of %d · see all", "n more": "+%d more",
		"; ": "; ", ", ": ", ", ": ": ": ", "other records": "other records", "system": "System (automatic)",
		"deleted of": "Deleted %d of the %d selected records", "not deleted": "%d not deleted",
		"bulk transition": "Run on selected", "bulk run": "Run", "bulk field": "Change field", "bulk edit": "Edit selected",
		"bulk set": "Set “%s”", "bulk edit title": "Set “%s” on the %d selected records to", "bulk apply": "Apply to selected records",
		"bulk done of": "%s: done on %d of the %d selected records", "bulk not done": "%d not done",
		"search everything": "Search everything", "work": "Work to do", "overdue": "Overdue", "assigned to me": "%s: me", "work queue": "Queue",
		"refused.state":        "This %s is now “%s”, so “%s” can no longer be done (someone may have done it already). Reload the page to see it",
		"refused.changed":      "Someone else changed this record. Reload the page and try again",
		"refused.locked":       "This %s is “%s”, which locks it: it cannot be changed or deleted",
		"locked note":          "This %s is “%s” and locked: it can no longer be changed or deleted",
		"refused.restricted":   "This %s cannot be deleted: %s still refer to it. Delete or reassign those first",
		"refused.role":         "Your roles do not allow “%s”",
		"refused.guard":        "“%s” cannot be done now: its condition does not hold yet",
		"refused.guardMessage": "“%s” cannot be done: %s",
		"refused.requires":     "Fill in %[2]s before “%[1]s”",
		"profile":              "Profile", "display name": "Name", "time zone": "Time zone", "app zone": "App default (%s)", "now": "Now",
		"zone help":    "Times in lists, records, forms, calendars and history are shown and entered in this zone. Date-only fields, report time buckets and timers stay in the app's zone, the organisation's",
		"unknown zone": "Unknown time zone “%s”: choose one from the list",
	},
}

// translate returns the catalogue's string for key in lang, else in English, else key itself.
func translate(lang, key string) string {
	if s := catalogue[lang][key]; s != "" {
		return s
	}
	if s := catalogue["en"][key]; s != "" {
		return s
	}
	return key
}

// errorText is what a screen says of a failure whose detail went to the log: that something went
// wrong, and the id of the request, which finds the log's lines of it.
func errorText(lang, id string) string {
	if id == "" {
		return translate(lang, "error")
	}
	return fmt.Sprintf("%s (%s %s)", translate(lang, "error"), translate(lang, "request"), id)
}

// actorName is how a screen names who did a step of a record's history or timeline: the user's name,
// or, for a step no user ran (timers, automations, the demo data's seeding), the system in lang's words.
func actorName(lang, username string) string {
	if username == "system" { // the name the API gives steps no user ran
		return translate(lang, "system")
	}
	return username
}

// langCookie is the cookie that keeps the user's choice of language.
const langCookie = "lang"

// language picks the language of a request: the lang cookie, else the first of Accept-Language the
// screens speak, else the model's default locale (if the screens speak it), else English.
func language(m *metamodel.Model, r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && supported(c.Value) {
		return c.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if supported(base) {
			return base
		}
	}
	if supported(m.App.DefaultLocale) {
		return m.App.DefaultLocale
	}
	return "en"
}

func supported(lang string) bool {
	for _, l := range languages {
		if l == lang {
			return true
		}
	}
	return false
}

// setLanguage serves GET /lang?l=en&next=/path: it keeps the choice in a cookie for a year and returns to
// the page the user was on. A language choice changes no data, so a plain link may make it.
func (s *server) setLanguage(w http.ResponseWriter, r *http.Request) {
	l := r.URL.Query().Get("l")
	if supported(l) {
		s.setCookie(w, r, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			SameSite: http.SameSiteLaxMode, HttpOnly: true})
	}
	redirect(w, r, r.URL.Query().Get("next"))
}
