package report

import "fmt"

// words are the report engine's own words, in zh and en; everything else comes from the model's labels.
var words = map[string][2]string{ // key → {zh, en}
	"noReport":      {"没有名为“%s”的报表，或你的角色不能查看它", "there is no report %q, or your roles may not see it"},
	"hiddenField":   {"报表“%s”用到了你的角色不能查看的字段“%s”", "report %q uses the field %q, which your roles may not see"},
	"unknownParam":  {"报表没有参数“%s”", "the report has no parameter %q"},
	"badParam":      {"参数“%s”应为%s", "parameter %q must be %s"},
	"type.date":     {"日期（如 2026-01-31）", "a date such as 2026-01-31"},
	"type.datetime": {"时间（如 2026-01-31T08:30:00+08:00）", "a time such as 2026-01-31T08:30:00+08:00"},
	"type.int":      {"整数", "a whole number"},
	"type.float":    {"数字", "a number"},
	"type.decimal":  {"数字", "a number"},
	"type.bool":     {"是或否", "true or false"},
	"type.enum":     {"列出的选项之一", "one of the listed options"},
	"type.string":   {"文本", "text"},

	"bucket.day":     {"（日）", " (day)"},
	"bucket.week":    {"（周）", " (week)"},
	"bucket.month":   {"（月）", " (month)"},
	"bucket.quarter": {"（季度）", " (quarter)"},
	"bucket.year":    {"（年）", " (year)"},
	"bucket.bands":   {"（账龄）", " (age)"},
	"band.notYet":    {"未到期", "not yet due"},
	"band.within":    {"%s以内", "within %s"},
	"band.between":   {"%s–%s", "%s–%s"},
	"band.over":      {"%s以上", "over %s"},
	"unit.m":         {"%s分钟", "%s minutes"},
	"unit.h":         {"%s小时", "%s hours"},
	"unit.d":         {"%s天", "%s days"},
	"unit.w":         {"%s周", "%s weeks"},
	"unit.m1":        {"%s分钟", "%s minute"},
	"unit.h1":        {"%s小时", "%s hour"},
	"unit.d1":        {"%s天", "%s day"},
	"unit.w1":        {"%s周", "%s week"},

	"measure.count": {"数量", "Count"},
	"measure.sum":   {"%s合计", "Total %s"},
	"measure.avg":   {"%s平均", "Average %s"},
	"measure.min":   {"%s最小", "Lowest %s"},
	"measure.max":   {"%s最大", "Highest %s"},

	"col.record":      {"记录", "Record"},
	"col.r":           {"最近度 R", "Recency R"},
	"col.f":           {"频度 F", "Frequency F"},
	"col.m":           {"金额 M", "Monetary M"},
	"col.segment":     {"客户分群", "Segment"},
	"col.recencyDays": {"距上次天数", "Days since last"},
	"col.frequency":   {"次数", "Events"},
	"col.monetary":    {"金额合计", "Total amount"},
	"col.status":      {"活跃状态", "Status"},
	"col.lastEventAt": {"最近一次", "Last event"},
	"col.antecedent":  {"前项", "If bought"},
	"col.consequent":  {"后项", "Then also"},
	"col.support":     {"支持度", "Support"},
	"col.confidence":  {"置信度", "Confidence"},
	"col.lift":        {"提升度", "Lift"},
	"col.state":       {"阶段", "Stage"},
	"col.count":       {"数量", "Count"},
	"col.rate":        {"转化率（相对第一步）", "Rate (of the first step)"},
	"col.stepRate":    {"转化率（相对上一步）", "Rate (of the step before)"},
	"col.rule":        {"规则", "Rule"},
	"col.prediction":  {"预测", "Prediction"},
	"col.samples":     {"样本数", "Records"},
	"col.accuracy":    {"准确率", "Accuracy"},

	"status.active":  {"活跃", "active"},
	"status.dormant": {"沉睡", "dormant"},
	"status.churned": {"流失", "churned"},
	"status.none":    {"无记录", "none"},

	"segment.champions":   {"重要价值客户", "champions"},
	"segment.potential":   {"重要发展客户", "potential"},
	"segment.atRisk":      {"重要保持客户", "at risk"},
	"segment.cantLose":    {"重要挽留客户", "can't lose"},
	"segment.loyal":       {"一般价值客户", "loyal"},
	"segment.new":         {"一般发展客户", "new"},
	"segment.hibernating": {"一般保持客户", "hibernating"},
	"segment.lost":        {"一般挽留客户", "lost"},

	"yes":       {"是", "yes"},
	"no":        {"否", "no"},
	"empty":     {"（空）", "(empty)"},
	"all":       {"全部", "all records"},
	"rule.eq":   {"%s 为 %s", "%s is %s"},
	"rule.ne":   {"%s 不为 %s", "%s is not %s"},
	"rule.le":   {"%s ≤ %s", "%s ≤ %s"},
	"rule.gt":   {"%s > %s", "%s > %s"},
	"rule.null": {"%s 为空", "%s is empty"},
}

// Label returns the engine's words for key in lang: the names of rfm segments (segment.<key>) and recency
// statuses (status.<key>), for screens that show report rows.
func Label(lang, key string) string { return (*Engine)(nil).say(lang, key) }

// say returns the engine's words for key in lang (zh, or en for every other language), formatted.
func (e *Engine) say(lang, key string, args ...any) string {
	w, ok := words[key]
	if !ok {
		return key
	}
	f := w[1]
	if lang == "zh" {
		f = w[0]
	}
	if len(args) == 0 {
		return f
	}
	return fmt.Sprintf(f, args...)
}
