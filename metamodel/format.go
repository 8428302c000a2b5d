package metamodel

// The format table: every mapping a model file may hold, its keys, what each key's value is, and what it
// means. The loader takes its allowed keys from here (an unknown key is an error naming the nearest one),
// and JSONSchema writes the same table as a JSON Schema for editors, so the two cannot disagree on which
// keys exist. Descriptions follow METAMODEL.md.

// shapeKind is the kind of value a key holds.
type shapeKind int

const (
	shapeString    shapeKind = iota // a string, optionally one of words or matching pattern
	shapeBool                       // true or false
	shapeInteger                    // a whole number, at least min
	shapeNumber                     // any number
	shapeText                       // a label, help or message: a string or a map of locale to string
	shapeExpr                       // a CEL expression (a scalar)
	shapeAny                        // any value, null too (data values)
	shapeValue                      // any value but null (a field's default)
	shapeObject                     // the mapping of formatObjects named by ref
	shapeNamed                      // a mapping of declared names to item
	shapeList                       // a list of item
	shapeOneOrList                  // item, or a list of item
	shapeEither                     // one of alts
)

// shape is what a value in a model file may be.
type shape struct {
	kind    shapeKind
	words   []string // shapeString: the allowed strings
	pattern string   // shapeString: a regular expression the string matches
	min     int      // shapeInteger: the least value
	ref     string   // shapeObject: the object's name in formatObjects
	item    *shape   // shapeNamed, shapeList, shapeOneOrList
	alts    []*shape // shapeEither
	doc     string   // what a value of this shape is, when the key's description does not say
}

// formatKey is one key of a mapping.
type formatKey struct {
	name     string
	shape    *shape
	required bool // the loader or Build reports the mapping without it
	doc      string
}

// formatObject is a mapping with a fixed set of keys.
type formatObject struct {
	doc  string
	keys []formatKey
	// oneKey: the mapping has exactly one of its keys (an action).
	oneKey bool
	// rest is the shape of the values of keys not in keys, which are names (data's entities, a record's
	// fields); nil when keys are all there is.
	rest *shape
	// notNull: the loader rejects a null in place of this mapping (most read null as empty).
	notNull bool
}

// Constructors of shapes, named v… (a value that is …) to keep the table short.
func vString() *shape                    { return &shape{kind: shapeString} }
func vWords(ws ...string) *shape         { return &shape{kind: shapeString, words: ws} }
func vPattern(pattern string) *shape     { return &shape{kind: shapeString, pattern: pattern} }
func vBool() *shape                      { return &shape{kind: shapeBool} }
func vInt(min int) *shape                { return &shape{kind: shapeInteger, min: min} }
func vNumber() *shape                    { return &shape{kind: shapeNumber} }
func vText() *shape                      { return &shape{kind: shapeText} }
func vExpr() *shape                      { return &shape{kind: shapeExpr} }
func vAny() *shape                       { return &shape{kind: shapeAny} }
func vValue() *shape                     { return &shape{kind: shapeValue} }
func vObject(name string) *shape         { return &shape{kind: shapeObject, ref: name} }
func vNamed(item *shape) *shape          { return &shape{kind: shapeNamed, item: item} }
func vList(item *shape) *shape           { return &shape{kind: shapeList, item: item} }
func vOneOrList(item *shape) *shape      { return &shape{kind: shapeOneOrList, item: item} }
func vEither(alts ...*shape) *shape      { return &shape{kind: shapeEither, alts: alts} }
func (s *shape) means(doc string) *shape { s.doc = doc; return s }

// vScope is a row scope: a scope word or a field scope.
func vScope() *shape {
	return vEither(vWords(scopeWords...), vObject("fieldScope")).
		means("Which rows: none (default), own (the ownerField is the user), team (owned by the user's team or its sub-teams), all, or {field: F, equals: user.id | user.team}.")
}

// typeNames are the field types as strings.
func typeNames() []string {
	out := make([]string, len(FieldTypes))
	for i, t := range FieldTypes {
		out[i] = string(t)
	}
	return out
}

// formatObjects are the mappings of the model format by name; "file" is a whole model file.
var formatObjects = map[string]*formatObject{
	"file": {
		doc: "A crmgen model file. A model is a directory: every *.yaml and *.yml file in it is read and merged, " +
			"and each file may hold any of these sections.",
		keys: []formatKey{
			{name: "app", shape: vObject("app"), doc: "The application: name, title and locales. Declared once in a model."},
			{name: "enums", shape: vNamed(vObject("enum")), doc: "Enumerations by name (PascalCase)."},
			{name: "entities", shape: vNamed(vObject("entity")), doc: "Entities by name (PascalCase). User and Team are built in; declaring them adds fields and relations."},
			{name: "roles", shape: vNamed(vObject("role")), doc: "Roles by name (lowerCamelCase) and what they may read and change."},
			{name: "workflows", shape: vNamed(vObject("workflow")), doc: "Workflows by name (PascalCase): states of an entity and the transitions between them."},
			{name: "automations", shape: vNamed(vObject("automation")), doc: "Automations by name: actions run when records change."},
			{name: "reports", shape: vNamed(vObject("report")), doc: "Reports by name (lowerCamelCase)."},
			{name: "dashboards", shape: vNamed(vObject("dashboard")), doc: "Dashboards by name: reports shown to roles in the admin screens."},
			{name: "functions", shape: vNamed(vObject("function")), doc: "CEL functions by name (lowerCamelCase) that the app's own Go code (its extend/ package) implements, usable in every expression."},
			{name: "data", shape: vObject("data"), doc: "Demo and reference data loaded by crmgen run into an empty database (and by crmgen seed)."},
		},
	},
	"function": {
		doc: "A CEL function implemented by the app's own Go code (extend/, registered with extension.Function): its signature, so expressions calling it are type-checked with the model.",
		keys: []formatKey{
			{name: "params", shape: vList(vWords(FunctionTypes...)), doc: "The CEL types of its parameters, in order."},
			{name: "returns", required: true, shape: vWords(FunctionTypes...), doc: "The CEL type of its result."},
			{name: "help", shape: vText(), doc: "What it computes, for the model's readers."},
		},
	},
	"app": {
		doc: "The application.",
		keys: []formatKey{
			{name: "name", required: true, shape: vPattern(appNameRE.String()), doc: "lowerCamel or kebab-case; becomes the Go module and binary name."},
			{name: "title", shape: vText(), doc: "The application's title."},
			{name: "locales", shape: vList(vString()), doc: "The locales of labels and screens, such as [zh, en]."},
			{name: "defaultLocale", shape: vString(), doc: "The locale a missing translation falls back to (default: the first of locales)."},
			{name: "timezone", shape: vString(), doc: "The IANA time zone of dates, times, report buckets and `at` timers, such as Asia/Shanghai (default UTC)."},
		},
	},
	"enum": {
		doc: "An enumeration.",
		keys: []formatKey{
			{name: "label", shape: vText()},
			{name: "values", required: true, shape: vList(vEither(vString().means("A value's key (shorthand)."), vObject("enumValue"))), doc: "The values, in order."},
		},
	},
	"enumValue": {
		doc: "A value of an enumeration.",
		keys: []formatKey{
			{name: "key", shape: vString(), required: true, doc: "The value's key: letters, digits and _, as stored and in GraphQL."},
			{name: "label", shape: vText()},
			{name: "color", shape: vString(), doc: "A color for badges and charts, such as red."},
		},
	},
	"entity": {
		doc: "An entity: a kind of record.",
		keys: []formatKey{
			{name: "label", shape: vText()},
			{name: "display", shape: vString(), doc: "The field shown as the record's title (default: the autoNumber field, else the first string field)."},
			{name: "traits", shape: vList(vWords(Traits...)), doc: "Fields and behaviour to add. Default when absent: [timestamps, owner, audit]."},
			{name: "ownerField", shape: vString(), doc: "The User relation that defines \"own\" (default: the owner trait's field)."},
			{name: "renamedFrom", shape: vString(), doc: "The entity's previous name: its table is renamed at the next start, keeping its rows."},
			{name: "fields", shape: vNamed(vEither(vWords(typeNames()...).means("The field's type (shorthand)."), vObject("field"))), doc: "Fields by name (lowerCamelCase)."},
			{name: "relations", shape: vNamed(vObject("relation")), doc: "Relations by name (lowerCamelCase); the other side is derived."},
			{name: "indexes", shape: vList(vObject("index")), doc: "Database indexes."},
			{name: "views", shape: vObject("views"), doc: "How the admin screens show the entity."},
		},
	},
	"field": {
		doc: "A field of an entity.",
		keys: []formatKey{
			{name: "label", shape: vText()},
			{name: "help", shape: vText(), doc: "Help shown with the field in forms."},
			{name: "type", shape: vWords(typeNames()...), required: true, doc: "The field's type. email, phone and url are strings with built-in validation; file and image hold an uploaded attachment (name, size, content type, content hash), downloaded under the same rules as reads of the record and field."},
			{name: "renamedFrom", shape: vString(), doc: "The field's previous name: its column is renamed at the next start, keeping its data."},
			{name: "required", shape: vBool()},
			{name: "unique", shape: vBool()},
			{name: "default", shape: vValue(), doc: "The value of a new record."},
			{name: "min", shape: vNumber(), doc: "Least value (numeric fields)."},
			{name: "max", shape: vNumber(), doc: "Greatest value (numeric fields)."},
			{name: "minLen", shape: vInt(0), doc: "Least length (string-like fields)."},
			{name: "maxLen", shape: vInt(0), doc: "Greatest length (string-like fields)."},
			{name: "pattern", shape: vString(), doc: "A regular expression (RE2) the value matches (string-like fields)."},
			{name: "precision", shape: vInt(0), doc: "Total digits of a decimal field."},
			{name: "scale", shape: vInt(0), doc: "Digits after the point of a decimal field."},
			{name: "enum", shape: vString(), doc: "The enumeration of an enum field."},
			{name: "maxSize", shape: vPattern(sizeRE.String()), doc: "The largest upload of a file or image field, such as 5MB (B, KB, MB or GB; default 10MB)."},
			{name: "accept", shape: vOneOrList(vString()), doc: "What a file or image field takes: MIME types (application/pdf, image/*) or extensions (pdf, docx). Default: any file; for an image png, jpeg, gif and webp."},
			{name: "multiple", shape: vBool(), doc: "A file or image field that holds a list of uploads (at most 20), each within maxSize and accept."},
			{name: "readonly", shape: vBool(), doc: "Set only by the system: workflows, automations, autoNumber, computed."},
			{name: "immutable", shape: vBool(), doc: "Settable on create only."},
			{name: "sensitive", shape: vBool(), doc: "Left out of lists, search and exports unless a role's field rule shows it."},
			{name: "search", shape: vBool(), doc: "Matched by the list's search box and the API's search argument."},
			{name: "index", shape: vBool(), doc: "Index the column."},
			{name: "autoNumber", shape: vString(), doc: "A per-entity sequence rendered through a pattern, such as 'P{yyyy}{mm}-{seq:5}'."},
			{name: "computed", shape: vExpr(), doc: "A CEL expression; the field is read-only and not stored unless stored: true."},
			{name: "stored", shape: vBool(), doc: "Store a computed field, recomputed on every write of its record."},
		},
	},
	"relation": {
		doc: "A relation to another entity.",
		keys: []formatKey{
			{name: "label", shape: vText()},
			{name: "to", shape: vString(), required: true, doc: "The target entity. A relation to the entity itself is a tree."},
			{name: "kind", shape: vWords(string(BelongsTo), string(ManyToMany)), doc: "belongsTo (many-to-one, a foreign key here; the default) or manyToMany (a join table)."},
			{name: "inverse", shape: vString(), doc: "The name of the list on the target."},
			{name: "required", shape: vBool()},
			{name: "unique", shape: vBool(), doc: "A unique belongsTo is one-to-one."},
			{name: "onDelete", shape: vWords(onDeleteActions...), doc: "What deleting the target does (default restrict)."},
		},
	},
	"index": {
		doc: "A database index.",
		keys: []formatKey{
			{name: "fields", shape: vList(vString()), required: true, doc: "Fields and belongsTo relations, in order."},
			{name: "unique", shape: vBool()},
		},
	},
	"views": {
		doc: "How the admin screens show an entity.",
		keys: []formatKey{
			{name: "list", shape: vObject("listView")},
			{name: "form", shape: vObject("formView")},
			{name: "kanban", shape: vObject("kanbanView")},
			{name: "calendar", shape: vObject("calendarView")},
		},
	},
	"listView": {
		doc: "The list screen.",
		keys: []formatKey{
			{name: "columns", shape: vList(vString())},
			{name: "filters", shape: vList(vString())},
			{name: "sort", shape: vString(), doc: "A field to sort by; -field sorts descending."},
			{name: "pageSize", shape: vInt(1)},
		},
	},
	"formView": {
		doc: "The form screen.",
		keys: []formatKey{
			{name: "sections", shape: vList(vObject("formSection"))},
		},
	},
	"formSection": {
		doc: "A section of a form.",
		keys: []formatKey{
			{name: "label", shape: vText()},
			{name: "fields", shape: vList(vString())},
		},
	},
	"kanbanView": {
		doc: "A board with a column per value of an enum field.",
		keys: []formatKey{
			{name: "groupBy", shape: vString(), required: true, doc: "An enum field."},
			{name: "card", shape: vList(vString()), doc: "Fields shown on a card."},
		},
	},
	"calendarView": {
		doc: "A calendar of records by a date.",
		keys: []formatKey{
			{name: "date", shape: vString(), required: true, doc: "A date or datetime field."},
			{name: "title", shape: vString()},
		},
	},
	"role": {
		doc: "A role and its permissions. A user's rights are the union of their roles.",
		keys: []formatKey{
			{name: "label", shape: vText()},
			{name: "superuser", shape: vBool(), doc: "May do everything."},
			{name: "inherits", shape: vOneOrList(vString()), doc: "Roles whose permissions this role copies."},
			{name: "permissions", shape: vNamed(vObject("permission")), doc: "Permissions by entity name."},
		},
	},
	"permission": {
		doc: "What a role may do with an entity.",
		keys: []formatKey{
			{name: "read", shape: vScope()},
			{name: "update", shape: vScope()},
			{name: "delete", shape: vScope()},
			{name: "create", shape: vBool()},
			{name: "export", shape: vBool()},
			{name: "import", shape: vBool()},
			{name: "fields", shape: vNamed(vWords(AccessHidden, AccessReadonly, AccessVisible)),
				doc: "Field rules by field or relation: hidden (absent from every read path), readonly, or visible (a sensitive field shown)."},
		},
	},
	"fieldScope": {
		doc: "The rows whose relation F is the user (equals: user.id) or the user's team (equals: user.team).",
		keys: []formatKey{
			{name: "field", shape: vString(), required: true, doc: "A relation to User or Team."},
			{name: "equals", shape: vWords("user.id", "user.team"), required: true},
			{name: "subteams", shape: vBool(), doc: "With user.team: include the user's sub-teams."},
		},
	},
	"workflow": {
		doc: "A workflow: the states of an entity's state field and the transitions that change it.",
		keys: []formatKey{
			{name: "label", shape: vText()},
			{name: "entity", required: true, shape: vString(), doc: "The entity whose records move through the states."},
			{name: "field", shape: vString(), doc: "The enum field created for the states (default status)."},
			{name: "initial", required: true, shape: vString(), doc: "The state of a new record."},
			{name: "states", required: true, shape: vNamed(vObject("state")), doc: "States by name, in order."},
			{name: "transitions", shape: vNamed(vObject("transition")), doc: "Transitions by name."},
			{name: "timers", shape: vList(vObject("timer")), doc: "Timers: once per entry into a state, they notify and/or run a transition."},
		},
	},
	"state": {
		doc: "A workflow state.",
		keys: []formatKey{
			{name: "label", shape: vText()},
			{name: "final", shape: vBool(), doc: "A final state locks its records."},
			{name: "lock", shape: vBool(), doc: "Whether the state makes its records read-only (default: final)."},
			{name: "color", shape: vString()},
		},
	},
	"transition": {
		doc: "A workflow transition.",
		keys: []formatKey{
			{name: "label", shape: vText()},
			{name: "from", required: true, shape: vOneOrList(vString()), doc: "The states it leaves."},
			{name: "to", required: true, shape: vString(), doc: "The state it enters."},
			{name: "roles", shape: vOneOrList(vString()), doc: "Roles that may run it."},
			{name: "requires", shape: vOneOrList(vString()), doc: "Fields that must be set."},
			{name: "guard", shape: vExpr(), doc: "A CEL condition that must hold."},
			{name: "guardMessage", shape: vText(), doc: "What a user is told when the guard does not hold."},
			{name: "comment", shape: vWords(CommentRequired, CommentOptional)},
			{name: "set", shape: vNamed(vExpr()), doc: "Fields to set, by name, to CEL expressions."},
			{name: "do", shape: vList(vObject("action")), doc: "Actions to run."},
			{name: "notify", shape: vObject("notify")},
			{name: "create", shape: vObject("create")},
		},
	},
	"timer": {
		doc: "A timer: fires once per entry into its state.",
		keys: []formatKey{
			{name: "state", required: true, shape: vString()},
			{name: "after", shape: vPattern(durationRE.String()), doc: "A duration: a number and m, h, d or w (30m, 72h, 90d)."},
			{name: "at", shape: vExpr(), doc: "A CEL timestamp expression."},
			{name: "notify", shape: vObject("notify")},
			{name: "transition", shape: vString(), doc: "A transition to run as the system."},
		},
	},
	"notify": {
		doc: "A notification to users, delivered through an outbox.",
		keys: []formatKey{
			{name: "roles", shape: vOneOrList(vString())},
			{name: "users", shape: vOneOrList(vString()), doc: "Usernames."},
			{name: "field", shape: vString(), doc: "A User relation of the record."},
			{name: "message", shape: vText(), required: true},
			{name: "channels", shape: vOneOrList(vWords(Channels...)), doc: "Channels besides the in-app inbox."},
		},
	},
	"action": {
		doc: "An action: exactly one of create, notify, set or run.",
		keys: []formatKey{
			{name: "create", shape: vObject("create")},
			{name: "notify", shape: vObject("notify")},
			{name: "set", shape: vNamed(vExpr()), doc: "Fields to set, by name, to CEL expressions."},
			{name: "run", shape: vString(), doc: "An action of the app's own Go code (its extend/ package, extension.Action), by name (lowerCamelCase)."},
		},
		oneKey: true,
	},
	"create": {
		doc: "Create a record.",
		keys: []formatKey{
			{name: "entity", shape: vString(), required: true},
			{name: "values", shape: vNamed(vExpr()), doc: "Values by field or relation name, as CEL expressions."},
		},
	},
	"automation": {
		doc: "An automation: actions run in the transaction of a change.",
		keys: []formatKey{
			{name: "label", shape: vText()},
			{name: "entity", required: true, shape: vString()},
			{name: "on", required: true, shape: vOneOrList(vPattern(`^(create|update|delete|transition:.+)$`)), doc: "create, update, delete or transition:<name>."},
			{name: "when", shape: vExpr(), doc: "A CEL condition."},
			{name: "do", required: true, shape: vList(vObject("action"))},
		},
	},
	"report": {
		doc: "A report.",
		keys: []formatKey{
			{name: "label", shape: vText()},
			{name: "kind", shape: vWords(ReportKinds...), doc: "aggregate (the default: groupBy and measures), rfm, recency, associationRules, funnel or decisionTree."},
			{name: "entity", shape: vString()},
			{name: "groupBy", shape: vList(vEither(vString(), vObject("groupBy"))), doc: "Fields, belongsTo relations, or {field, bucket}."},
			{name: "measures", shape: vList(vPattern(measureRE.String())), doc: "count, count(f), sum(f), avg(f), min(f), max(f)."},
			{name: "where", shape: vExpr(), doc: "A CEL condition on the records counted."},
			{name: "chart", shape: vWords(Charts...)},
			{name: "events", shape: vObject("events"), doc: "rfm and recency: the events of each record."},
			{name: "buckets", shape: vNamed(vPattern(durationRE.String())), doc: "recency: {active: 90d, dormant: 365d}."},
			{name: "transactions", shape: vObject("transactions"), doc: "associationRules: the baskets and their items."},
			{name: "minSupport", shape: vNumber()},
			{name: "minConfidence", shape: vNumber()},
			{name: "workflow", shape: vString(), doc: "funnel: the workflow whose states the records reach."},
			{name: "states", shape: vList(vString()), doc: "funnel: the states in funnel order (default: the workflow's states as declared)."},
			{name: "target", shape: vEither(vString(), vObject("targetReport")), doc: "decisionTree: a bool or enum field, or {report: <a recency report>}."},
			{name: "features", shape: vList(vString()), doc: "decisionTree: fields and belongsTo relations that may explain the target."},
			{name: "maxDepth", shape: vInt(1), doc: "decisionTree: the depth of the tree (default 4)."},
			{name: "params", shape: vNamed(vObject("param")), doc: "Inputs the reader gives, usable in where as params.<name>."},
		},
	},
	"param": {
		doc: "A report parameter: an input of the reader. A parameter left empty drops the comparisons that use it.",
		keys: []formatKey{
			{name: "type", shape: vWords(ParamTypes...), required: true},
			{name: "enum", shape: vString(), doc: "For type enum: the enumeration."},
			{name: "label", shape: vText()},
		},
	},
	"targetReport": {
		doc: "A decision tree's target taken from another report.",
		keys: []formatKey{
			{name: "report", shape: vString(), required: true, doc: "A recency report over the same entity: its status is the target."},
		},
	},
	"groupBy": {
		doc: "A group of a report, by a time bucket.",
		keys: []formatKey{
			{name: "field", shape: vString(), required: true},
			{name: "bucket", shape: vWords(Buckets...)},
			{name: "bands", shape: vList(vString()), doc: "Age bands: how long before now the date lies, cut at these durations (30d, 60d, 90d, 180d), as receivables are aged."},
		},
	},
	"events": {
		doc: "The events of a record: rows of another entity.",
		keys: []formatKey{
			{name: "entity", shape: vString()},
			{name: "by", shape: vString(), doc: "The event's relation to the record."},
			{name: "date", shape: vString()},
			{name: "amount", shape: vString()},
		},
	},
	"transactions": {
		doc: "Baskets and their items.",
		keys: []formatKey{
			{name: "entity", shape: vString()},
			{name: "basket", shape: vString()},
			{name: "item", shape: vString()},
		},
	},
	"data": {
		doc: "Demo and reference data: users, and records by entity name.",
		keys: []formatKey{
			{name: "users", shape: vList(vObject("record")), doc: "Users: username, password, roles, team and fields of User."},
		},
		rest: vList(vObject("record")).means("Records of the entity of this name."),
	},
	"record": {
		doc: "A record: values by field or relation name. A relation value names the target by its _key, a unique field or (for User) the username.",
		keys: []formatKey{
			{name: "_key", shape: vString(), doc: "A name other records use to refer to this one."},
		},
		rest:    vAny(),
		notNull: true,
	},
	"dashboard": {
		doc: "A dashboard.",
		keys: []formatKey{
			{name: "label", shape: vText()},
			{name: "roles", shape: vOneOrList(vString())},
			{name: "reports", required: true, shape: vOneOrList(vString())},
		},
	},
}

// objectKeys returns the keys of a mapping of the format, in order, for the loader's strict decoding.
func objectKeys(name string) []string {
	o := formatObjects[name]
	if o == nil {
		panic("metamodel: no format object " + name)
	}
	keys := make([]string, len(o.keys))
	for i, k := range o.keys {
		keys[i] = k.name
	}
	return keys
}
