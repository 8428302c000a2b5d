// Package metamodel owns crmgen's platform-independent model (the PIM): its types, loading from YAML with
// positions, validation (names, types, references, CEL type-checks) and the JSON form that generated apps
// embed and the platform reads at run time.
//
// The flow is Load (YAML files → *Model with positions, references still names) → Build (resolve references,
// apply defaults and traits, validate; the result is immutable) → consumers (generator, platform). The JSON
// form (Marshal / Unmarshal) carries everything except source positions, and Unmarshal re-links the
// references, so the platform sees the same resolved model the generator saw.
package metamodel

import (
	"time"
	_ "time/tzdata" // app.timezone is checked on machines without a zone database

	"github.com/google/cel-go/common/types/ref"
)

// Pos is a position in a model file. File is relative to the model directory given to Load.
type Pos struct {
	File string `json:"-"`
	Line int    `json:"-"`
	Col  int    `json:"-"`
}

// Text is a localized string: locale → text. A plain YAML string is stored under the key "" and resolved
// through Model.Localize, which falls back to the default locale and then to the name.
type Text map[string]string

// Expr is a CEL expression with the position of its first character, so type errors point into the file.
type Expr struct {
	Src string `json:"src"`
	Pos Pos    `json:"-"`
}

// IsZero reports whether no expression was given.
func (e Expr) IsZero() bool { return e.Src == "" }

// Model is a loaded (and, after Build, resolved and validated) model. Slices are sorted by name unless the
// order is meaningful (fields, states, transitions, actions keep source order).
type Model struct {
	App         App           `json:"app"`
	Enums       []*Enum       `json:"enums,omitempty"`
	Entities    []*Entity     `json:"entities"`
	Roles       []*Role       `json:"roles,omitempty"`
	Workflows   []*Workflow   `json:"workflows,omitempty"`
	Automations []*Automation `json:"automations,omitempty"`
	Reports     []*Report     `json:"reports,omitempty"`
	Dashboards  []*Dashboard  `json:"dashboards,omitempty"`
	Functions   []*Function   `json:"functions,omitempty"`
	Data        *Data         `json:"data,omitempty"`

	// Sections records where each top-level section was first declared (for errors such as "generate does
	// not implement workflows yet").
	Sections map[string]Pos `json:"-"`

	// Warnings are the problems Build found that do not stop generation (e.g. an unreachable state).
	Warnings ErrorList `json:"-"`

	src   map[any]srcPos // positions of keys and list items inside an element, by element pointer
	texts []textLoc      // localized texts with the positions of their locale keys
	built bool

	// loadErrs are the problems Load found; Build validates what was decoded anyway and reports these
	// with its own, so one run shows every problem.
	loadErrs ErrorList
	// call runs the app's implementation of a declared function (SetFunctions).
	call func(name string, args []ref.Val) ref.Val
	// broken holds the positions of values whose decoding reported a problem (see failed).
	broken map[Pos]bool
	// incomplete is set when a file was not valid YAML or a mapping of declarations (entities, fields,
	// states, …) was not a mapping: the names it declares are missing, so validating the rest would report
	// each use of them as unknown, and Build reports Load's errors alone.
	incomplete bool
	envs       *envCache
	// restrict holds Restrictable's answers, computed on first use.
	restrict *restrictCache

	enumByName     map[string]*Enum
	entityByName   map[string]*Entity
	roleByName     map[string]*Role
	workflowByName map[string]*Workflow
	reportByName   map[string]*Report
}

// App is the `app` section.
type App struct {
	Name          string   `json:"name"`
	Title         Text     `json:"title,omitempty"`
	Locales       []string `json:"locales"`
	DefaultLocale string   `json:"defaultLocale"`
	Timezone      string   `json:"timezone,omitempty"` // an IANA zone; "" is UTC
	Pos           Pos      `json:"-"`
}

// Location is the app's time zone (UTC when the model names none or one this system does not know).
func (a *App) Location() *time.Location {
	if a.Timezone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(a.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Enum is a named set of values.
type Enum struct {
	Name   string       `json:"name"`
	Label  Text         `json:"label,omitempty"`
	Values []*EnumValue `json:"values"`
	Pos    Pos          `json:"-"`
}

// EnumValue is one value of an enum; Key is what is stored and what CEL sees.
type EnumValue struct {
	Key   string `json:"key"`
	Label Text   `json:"label,omitempty"`
	Color string `json:"color,omitempty"`
	Pos   Pos    `json:"-"`
}

// FieldType is the type of a field as written in the model.
type FieldType string

// The field types of the format.
const (
	TypeString   FieldType = "string"
	TypeText     FieldType = "text"
	TypeInt      FieldType = "int"
	TypeFloat    FieldType = "float"
	TypeDecimal  FieldType = "decimal"
	TypeBool     FieldType = "bool"
	TypeDate     FieldType = "date"
	TypeDateTime FieldType = "datetime"
	TypeEnum     FieldType = "enum"
	TypeEmail    FieldType = "email"
	TypePhone    FieldType = "phone"
	TypeURL      FieldType = "url"
	TypeJSON     FieldType = "json"
	TypeFile     FieldType = "file"
	TypeImage    FieldType = "image"
)

// FieldTypes lists every field type, in the order the documentation gives them.
var FieldTypes = []FieldType{TypeString, TypeText, TypeInt, TypeFloat, TypeDecimal, TypeBool, TypeDate,
	TypeDateTime, TypeEnum, TypeEmail, TypePhone, TypeURL, TypeJSON, TypeFile, TypeImage}

// MaxAttachments is the most files a multiple file or image field holds.
const MaxAttachments = 20

// DefaultMaxSize is the largest upload a file or image field takes when the model gives no maxSize.
const DefaultMaxSize = 10 << 20

// DefaultImageAccept is what an image field takes when the model gives no accept: the raster formats
// browsers show. SVG is left out: it is a document that can run script.
var DefaultImageAccept = []string{"image/png", "image/jpeg", "image/gif", "image/webp"}

// Traits of the format.
const (
	TraitTimestamps = "timestamps"
	TraitOwner      = "owner"
	TraitAudit      = "audit"
	TraitSoftDelete = "softDelete"
	TraitVersioned  = "versioned"
)

// Traits lists every trait.
var Traits = []string{TraitTimestamps, TraitOwner, TraitAudit, TraitSoftDelete, TraitVersioned}

// DefaultTraits apply when an entity has no `traits` key.
var DefaultTraits = []string{TraitTimestamps, TraitOwner, TraitAudit}

// Entity is a business object.
type Entity struct {
	Name       string   `json:"name"`
	Label      Text     `json:"label,omitempty"`
	Display    string   `json:"display,omitempty"` // resolved by Build: the title field, or "" for "<label> #<id>"
	Traits     []string `json:"traits"`
	OwnerField string   `json:"ownerField,omitempty"` // resolved: the User relation defining "own", or ""
	// RenamedFrom is the entity's previous name: the app renames its table at start (see platform/app).
	RenamedFrom string `json:"renamedFrom,omitempty"`
	// Fields in source order; Build appends system fields (createdAt, updatedAt, deletedAt, version) and,
	// for a workflow entity, the state field if the model did not declare it.
	Fields []*Field `json:"fields"`
	// Relations: declared ones in source order, then (after Build) the derived inverse sides.
	Relations []*Relation `json:"relations,omitempty"`
	Indexes   []*Index    `json:"indexes,omitempty"`
	Views     *Views      `json:"views,omitempty"`
	// Builtin is true for User and Team, which always exist; a model's declaration extends them.
	Builtin bool `json:"builtin,omitempty"`
	Pos     Pos  `json:"-"`

	fieldByName    map[string]*Field
	relationByName map[string]*Relation
}

// Field is a typed attribute of an entity.
type Field struct {
	Name string `json:"name"`
	// RenamedFrom is the field's previous name: the app renames its column at start, keeping the data.
	RenamedFrom string    `json:"renamedFrom,omitempty"`
	Label       Text      `json:"label,omitempty"`
	Help        Text      `json:"help,omitempty"`
	Type        FieldType `json:"type"`

	Required  bool `json:"required,omitempty"`
	Unique    bool `json:"unique,omitempty"`
	Readonly  bool `json:"readonly,omitempty"`
	Immutable bool `json:"immutable,omitempty"`
	Sensitive bool `json:"sensitive,omitempty"`
	Search    bool `json:"search,omitempty"`
	Index     bool `json:"index,omitempty"`

	// Default is the typed default value: string (also enum key, date/datetime as written), int64, float64,
	// bool, or any JSON value for json fields. nil means no default.
	Default any `json:"default,omitempty"`

	Min       *float64 `json:"min,omitempty"`
	Max       *float64 `json:"max,omitempty"`
	MinLen    *int     `json:"minLen,omitempty"`
	MaxLen    *int     `json:"maxLen,omitempty"`
	Pattern   string   `json:"pattern,omitempty"` // RE2
	Precision int      `json:"precision,omitempty"`
	Scale     int      `json:"scale,omitempty"`

	// MaxSize is the largest upload in bytes of a file or image field (resolved: DefaultMaxSize when not
	// given); Accept the MIME types (image/png, image/*) and extensions (pdf) it takes, lower case, with
	// no leading dot ([] for any, resolved to DefaultImageAccept for an image field).
	MaxSize int64    `json:"maxSize,omitempty"`
	Accept  []string `json:"accept,omitempty"`
	// Multiple makes a file or image field a list of uploads, at most MaxAttachments of them.
	Multiple bool `json:"multiple,omitempty"`

	Enum    string `json:"enum,omitempty"` // enum name for TypeEnum
	EnumRef *Enum  `json:"-"`

	AutoNumber string `json:"autoNumber,omitempty"`
	Computed   Expr   `json:"computed,omitzero"`
	Stored     bool   `json:"stored,omitempty"`

	// System marks fields the platform adds (timestamps, softDelete, versioned, User.passwordHash) or a
	// workflow's state field; they are not writable through inputs.
	System bool `json:"system,omitempty"`
	// Secret fields (User.passwordHash) never leave the server: not in GraphQL, screens, exports or audit.
	Secret bool `json:"secret,omitempty"`
	// StateOf names the workflow whose state this field holds, if any.
	StateOf string `json:"stateOf,omitempty"`

	Entity *Entity `json:"-"`
	Pos    Pos     `json:"-"`
}

// RelationKind is the kind of a relation end.
type RelationKind string

// Relation kinds. Only BelongsTo and ManyToMany are declared; HasMany, HasOne and the inverse ManyToMany side
// are derived by Build.
const (
	BelongsTo  RelationKind = "belongsTo"
	ManyToMany RelationKind = "manyToMany"
	HasMany    RelationKind = "hasMany" // inverse of a belongsTo
	HasOne     RelationKind = "hasOne"  // inverse of a unique belongsTo
)

// OnDelete actions of a belongsTo relation, applied when the target row is deleted.
const (
	OnDeleteRestrict = "restrict"
	OnDeleteCascade  = "cascade"
	OnDeleteSetNull  = "setNull"
)

// Relation is one end of an association between two entities.
type Relation struct {
	Name     string       `json:"name"`
	Label    Text         `json:"label,omitempty"`
	To       string       `json:"to"`
	Kind     RelationKind `json:"kind"`
	Inverse  string       `json:"inverse"` // resolved by Build (a default name when the model gives none)
	Required bool         `json:"required,omitempty"`
	Unique   bool         `json:"unique,omitempty"`
	OnDelete string       `json:"onDelete,omitempty"` // belongsTo only; resolved default restrict
	// Derived is true for the side Build created (hasMany, hasOne, inverse manyToMany).
	Derived bool `json:"derived,omitempty"`
	// System marks relations a trait adds (owner) so inputs and forms treat them specially.
	System bool `json:"system,omitempty"`

	Entity     *Entity   `json:"-"` // the entity this end belongs to
	Target     *Entity   `json:"-"`
	InverseRel *Relation `json:"-"`
	Pos        Pos       `json:"-"`
}

// Index is a composite index over fields and belongsTo relations.
type Index struct {
	Fields []string `json:"fields"`
	Unique bool     `json:"unique,omitempty"`
	Pos    Pos      `json:"-"`
}

// Views configure the admin screens of an entity.
type Views struct {
	List     *ListView     `json:"list,omitempty"`
	Form     *FormView     `json:"form,omitempty"`
	Kanban   *KanbanView   `json:"kanban,omitempty"`
	Calendar *CalendarView `json:"calendar,omitempty"`
	Pos      Pos           `json:"-"`
}

// ListView configures the list screen. Sort is a field name, with a leading "-" for descending.
type ListView struct {
	Columns  []string `json:"columns,omitempty"`
	Filters  []string `json:"filters,omitempty"`
	Sort     string   `json:"sort,omitempty"`
	PageSize int      `json:"pageSize,omitempty"`
	Pos      Pos      `json:"-"`
}

// FormView configures the create/edit screen as sections of fields and relations.
type FormView struct {
	Sections []*FormSection `json:"sections"`
	Pos      Pos            `json:"-"`
}

// FormSection is a labelled group of form inputs.
type FormSection struct {
	Label  Text     `json:"label,omitempty"`
	Fields []string `json:"fields"`
	Pos    Pos      `json:"-"`
}

// KanbanView groups cards by an enum field (typically a workflow state).
type KanbanView struct {
	GroupBy string   `json:"groupBy"`
	Card    []string `json:"card,omitempty"`
	Pos     Pos      `json:"-"`
}

// CalendarView places records on a calendar by a date or datetime field.
type CalendarView struct {
	Date  string `json:"date"`
	Title string `json:"title,omitempty"`
	Pos   Pos    `json:"-"`
}

// Role is a set of permissions.
type Role struct {
	Name      string   `json:"name"`
	Label     Text     `json:"label,omitempty"`
	Superuser bool     `json:"superuser,omitempty"`
	Inherits  []string `json:"inherits,omitempty"`
	// Permissions per entity name. After Build they include inherited permissions (merged as a union).
	Permissions map[string]*Permission `json:"permissions,omitempty"`
	Pos         Pos                    `json:"-"`
}

// ScopeKind is a row scope.
type ScopeKind string

// Row scopes.
const (
	ScopeNone  ScopeKind = "none"
	ScopeOwn   ScopeKind = "own"
	ScopeTeam  ScopeKind = "team"
	ScopeAll   ScopeKind = "all"
	ScopeField ScopeKind = "field" // {field: F, equals: user.id | user.team}
)

// Scope is the set of rows a verb applies to.
type Scope struct {
	Kind     ScopeKind `json:"kind"`
	Field    string    `json:"field,omitempty"`
	Equals   string    `json:"equals,omitempty"` // "user.id" or "user.team"
	Subteams bool      `json:"subteams,omitempty"`
	Pos      Pos       `json:"-"`
}

// Field access rules of a role.
const (
	AccessHidden   = "hidden"
	AccessReadonly = "readonly"
	AccessVisible  = "visible"
)

// Permission is a role's rights on one entity. A nil scope is ScopeNone.
type Permission struct {
	Read   *Scope `json:"read,omitempty"`
	Update *Scope `json:"update,omitempty"`
	Delete *Scope `json:"delete,omitempty"`
	Create bool   `json:"create,omitempty"`
	Export bool   `json:"export,omitempty"`
	Import bool   `json:"import,omitempty"`
	// Fields maps a field or relation name to hidden, readonly or visible.
	Fields map[string]string `json:"fields,omitempty"`
	Pos    Pos               `json:"-"`
}

// Workflow is a state machine over an enum field of an entity.
type Workflow struct {
	Name        string        `json:"name"`
	Label       Text          `json:"label,omitempty"`
	Entity      string        `json:"entity"`
	Field       string        `json:"field"`
	Initial     string        `json:"initial"`
	States      []*State      `json:"states"`
	Transitions []*Transition `json:"transitions"`
	Timers      []*Timer      `json:"timers,omitempty"`
	Pos         Pos           `json:"-"`

	EntityRef *Entity `json:"-"`
}

// State is one state of a workflow.
type State struct {
	Name  string `json:"name"`
	Label Text   `json:"label,omitempty"`
	Final bool   `json:"final,omitempty"`
	Lock  *bool  `json:"lock,omitempty"` // nil: as Final
	Color string `json:"color,omitempty"`
	Pos   Pos    `json:"-"`
}

// Locked reports whether the state makes its records read-only: `lock` when given, else `final`.
func (s *State) Locked() bool {
	if s.Lock != nil {
		return *s.Lock
	}
	return s.Final
}

// Comment requirements of a transition.
const (
	CommentRequired = "required"
	CommentOptional = "optional"
)

// Transition moves a record from one of From to To.
type Transition struct {
	Name     string   `json:"name"`
	Label    Text     `json:"label,omitempty"`
	From     []string `json:"from"`
	To       string   `json:"to"`
	Roles    []string `json:"roles,omitempty"`
	Requires []string `json:"requires,omitempty"`
	Guard    Expr     `json:"guard,omitzero"`
	// GuardMessage is what a user is told when the guard does not hold, in their language.
	GuardMessage Text          `json:"guardMessage,omitempty"`
	Comment      string        `json:"comment,omitempty"` // "", "required" or "optional"
	Set          []*Assignment `json:"set,omitempty"`
	Do           []*Action     `json:"do,omitempty"`
	Pos          Pos           `json:"-"`
}

// Assignment sets a field or relation to the value of an expression.
type Assignment struct {
	Name  string `json:"name"`
	Value Expr   `json:"value"`
	Pos   Pos    `json:"-"`
}

// Timer fires once per entry into State, After a duration or At the time an expression gives.
type Timer struct {
	State      string  `json:"state"`
	After      string  `json:"after,omitempty"` // as written: 30m, 72h, 90d, 2w
	AfterNanos int64   `json:"afterNanos,omitempty"`
	At         Expr    `json:"at,omitzero"`
	Notify     *Notify `json:"notify,omitempty"`
	Transition string  `json:"transition,omitempty"`
	Pos        Pos     `json:"-"`
}

// Notify sends a message to users chosen by role, username and/or a User relation of the record.
type Notify struct {
	Roles    []string `json:"roles,omitempty"`
	Users    []string `json:"users,omitempty"`
	Field    string   `json:"field,omitempty"`
	Message  Text     `json:"message"`
	Channels []string `json:"channels,omitempty"` // inbox (always), email, sms, webhook
	Pos      Pos      `json:"-"`
}

// Automation runs actions when records of an entity change.
type Automation struct {
	Name   string    `json:"name"`
	Label  Text      `json:"label,omitempty"`
	Entity string    `json:"entity"`
	On     []string  `json:"on"` // create, update, delete, transition:<name>
	When   Expr      `json:"when,omitzero"`
	Do     []*Action `json:"do"`
	Pos    Pos       `json:"-"`
}

// Action is exactly one of Create, Notify or Set.
type Action struct {
	Create *CreateAction `json:"create,omitempty"`
	Notify *Notify       `json:"notify,omitempty"`
	Set    []*Assignment `json:"set,omitempty"`
	// Run names an action of the app's own code (its extend/ package registers it with
	// extension.Action); the app refuses to start when none is registered under that name.
	Run string `json:"run,omitempty"`
	Pos Pos    `json:"-"`
}

// CreateAction creates a record of Entity with values computed by expressions.
type CreateAction struct {
	Entity string        `json:"entity"`
	Values []*Assignment `json:"values,omitempty"`
	Pos    Pos           `json:"-"`
}

// Report kinds.
const (
	ReportAggregate   = "aggregate"
	ReportRFM         = "rfm"
	ReportRecency     = "recency"
	ReportAssociation = "associationRules"
	ReportFunnel      = "funnel"
	ReportTree        = "decisionTree"
)

// Report is an aggregate, RFM, recency or association-rule analysis.
type Report struct {
	Name     string     `json:"name"`
	Label    Text       `json:"label,omitempty"`
	Kind     string     `json:"kind"` // resolved default: aggregate
	Entity   string     `json:"entity,omitempty"`
	GroupBy  []*GroupBy `json:"groupBy,omitempty"`
	Measures []*Measure `json:"measures,omitempty"`
	Where    Expr       `json:"where,omitzero"`
	Chart    string     `json:"chart,omitempty"` // table | bar | line | pie | funnel

	Events        *Events           `json:"events,omitempty"`
	Buckets       map[string]string `json:"buckets,omitempty"` // recency: name → duration as written
	Transactions  *Transactions     `json:"transactions,omitempty"`
	MinSupport    float64           `json:"minSupport,omitempty"`
	MinConfidence float64           `json:"minConfidence,omitempty"`
	Workflow      string            `json:"workflow,omitempty"` // funnel
	States        []string          `json:"states,omitempty"`   // funnel: resolved default, the workflow's states
	Target        string            `json:"target,omitempty"`   // decisionTree: a field
	TargetReport  string            `json:"targetReport,omitempty"`
	Features      []string          `json:"features,omitempty"`
	MaxDepth      int               `json:"maxDepth,omitempty"` // resolved default: 4
	Params        []*Param          `json:"params,omitempty"`
	Pos           Pos               `json:"-"`

	// Filter is Where as the database evaluates it, built by validation (nil without a where); the app's
	// model.json carries it.
	Filter *Cond `json:"filter,omitempty"`
}

// Param is an input a report's reader gives.
type Param struct {
	Name  string    `json:"name"`
	Type  FieldType `json:"type"`
	Enum  string    `json:"enum,omitempty"`
	Label Text      `json:"label,omitempty"`
	Pos   Pos       `json:"-"`
}

// Param returns the parameter named name, or nil.
func (r *Report) Param(name string) *Param {
	for _, p := range r.Params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// GroupBy is a field or belongsTo relation, optionally bucketed by time.
type GroupBy struct {
	Field  string `json:"field"`
	Bucket string `json:"bucket,omitempty"` // day | week | month | quarter | year
	// Bands are age bands of a date or datetime: how long before now its value lies, cut at these
	// durations in increasing order (as written: 30d, 60d, 90d): "within 30 days", "30–60 days", …, "over
	// 90 days", and "not yet" for values after now. Receivables and complaints are aged this way.
	Bands []string `json:"bands,omitempty"`
	Pos   Pos      `json:"-"`
}

// Measure is an aggregate function over a field (Field is "" for count).
type Measure struct {
	Func  string `json:"func"` // count, sum, avg, min, max
	Field string `json:"field,omitempty"`
	Pos   Pos    `json:"-"`
}

// Events names the event entity of RFM and recency reports.
type Events struct {
	Entity string `json:"entity"`
	By     string `json:"by"`
	Date   string `json:"date"`
	Amount string `json:"amount,omitempty"`
	Pos    Pos    `json:"-"`
}

// Transactions names the basket structure of an association-rules report.
type Transactions struct {
	Entity string `json:"entity"`
	Basket string `json:"basket"`
	Item   string `json:"item"`
	Pos    Pos    `json:"-"`
}

// Function is a CEL function that the app's own Go code implements (its extend/ package, registered with
// platform/extension). The model declares its signature so that expressions calling it are type-checked
// when the model is validated, before that code is compiled; the app refuses to start when the code and
// the declaration disagree.
type Function struct {
	Name    string   `json:"name"`
	Params  []string `json:"params,omitempty"` // FunctionTypes, in order
	Returns string   `json:"returns"`          // one of FunctionTypes
	Help    Text     `json:"help,omitempty"`
	Pos     Pos      `json:"-"`
}

// FunctionTypes are the CEL types a declared function takes and returns.
var FunctionTypes = []string{"string", "int", "double", "bool", "timestamp", "duration", "dyn"}

// Dashboard shows reports to roles.
type Dashboard struct {
	Name    string   `json:"name"`
	Label   Text     `json:"label,omitempty"`
	Roles   []string `json:"roles,omitempty"`
	Reports []string `json:"reports"`
	Pos     Pos      `json:"-"`
}

// Data is demo and reference data, in load order.
type Data struct {
	Users []*Record `json:"users,omitempty"`
	// Sets holds records per entity in the order of first appearance in the files; Build orders them so
	// that referenced entities load first where the dependency graph allows.
	Sets []*DataSet `json:"sets,omitempty"`
	Pos  Pos        `json:"-"`
}

// DataSet is the records of one entity.
type DataSet struct {
	Entity  string    `json:"entity"`
	Records []*Record `json:"records"`
	Pos     Pos       `json:"-"`
}

// Record is one data record: an optional _key and values in source order.
type Record struct {
	Key    string        `json:"key,omitempty"`
	Values []*FieldValue `json:"values"`
	Pos    Pos           `json:"-"`
}

// FieldValue is one name: value pair of a record. Value is a string, int64, float64, bool, nil, a []any
// (many-to-many references, roles) or map[string]any (json fields).
type FieldValue struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
	Pos   Pos    `json:"-"`
}
