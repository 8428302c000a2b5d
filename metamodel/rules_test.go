package metamodel

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ruleTest is a rule of METAMODEL.md: a small model and the exact problems it must produce.
type ruleTest struct {
	name string
	yaml string
	want []string
}

// ruleTests are the rules of the model's structure (this file) and of its behaviour: workflows, roles,
// automations, reports and data (rules_behaviour_test.go).
var ruleTests = slices.Concat(structureRules, behaviourRules)

var structureRules = []ruleTest{
	// Names the generated application derives.
	{"entity table collides with a join table", `
app: {name: t}
entities:
  Account:
    fields: {name: string}
    relations:
      tags: {to: Category, kind: manyToMany, inverse: accounts}
  AccountTag:
    fields: {name: string}
  Category:
    fields: {name: string}
`, []string{
		`m.yaml:6:7: the many-to-many relation "Account.tags" needs the table "account_tags", which entity "AccountTag" already uses (at m.yaml:7:3); rename one of them`,
	}},
	{"entity names differing only in case", `
app: {name: t}
entities:
  FollowUp:
    fields: {name: string}
  Followup:
    fields: {name: string}
`, []string{
		`m.yaml:5:3: entity "Followup" differs from entity "FollowUp" only in letter case; generated Go packages and files would collide (rename one)`,
	}},
	{"entity named like a generated GraphQL type", `
app: {name: t}
entities:
  Account:
    fields: {name: string}
  AccountOrder:
    fields: {name: string}
`, []string{
		`m.yaml:5:3: entity name "AccountOrder" collides with a GraphQL type generated for entity "Account"; rename the entity`,
	}},
	// Functions the app's own code implements.
	{"declared function used in a computed field and a guard", `
app: {name: t}
functions:
  checksumOK: {params: [string], returns: bool}
  score: {params: [string, int], returns: double}
entities:
  Account:
    fields:
      code: {type: string}
      valid: {type: bool, computed: 'checksumOK(record.code)'}
      bad: {type: bool, computed: 'checksumOK(record.code, 1)'}
      rank: {type: string, computed: 'score(record.code, 2)'}
`, []string{
		`m.yaml:10:46: expression: found no matching overload for 'checksumOK' applied to '(string, int)'`,
		`m.yaml:11:39: computed value of field "Account.rank" has type double, want string`,
	}},
	{"undeclared function", `
app: {name: t}
entities:
  Account:
    fields:
      code: {type: string}
      valid: {type: bool, computed: 'checksumOK(record.code)'}
`, []string{
		`m.yaml:6:48: expression: undeclared reference to 'checksumOK' (want record, old, user or now; a function of the app's own code is declared under functions:)`,
	}},
	{"run action names", `
app: {name: t}
entities:
  Ticket:
    fields: {title: string}
automations:
  escalate:
    entity: Ticket
    on: [create]
    do:
      - run: pushToHelpdesk
      - run: Push-It
`, []string{
		`m.yaml:11:14: automation "escalate" run: action name "Push-It": want lowerCamelCase (pushIt)`,
	}},
	{"function declarations", `
app: {name: t}
functions:
  Checksum: {params: [string], returns: bool}
  years: {params: [string], returns: int}
  f: {params: [text], returns: bool}
  g: {params: [string]}
entities:
  Account:
    fields: {name: string}
`, []string{
		`m.yaml:3:3: function name "Checksum": want lowerCamelCase (checksum)`,
		`m.yaml:4:3: function "years": expressions already have a function of that name; choose another`,
		`m.yaml:5:16: function "f": parameter type "text": want one of string, int, double, bool, timestamp, duration, dyn`,
		`m.yaml:6:3: function "g" has no returns: name the type of its result (string, int, double, bool, timestamp, duration, dyn)`,
	}},
	// Files and keys.
	{"unknown top-level key", `
app: {name: t}
entites: {}
`, []string{`m.yaml:2:1: unknown key "entites" in the model file (did you mean "entities"?)`}},
	{"unknown field key with suggestion", `
app: {name: t}
entities:
  Patient:
    fields:
      name: {type: string, requird: true}
`, []string{
		"m.yaml:5:28: unknown key \"requird\" in field \"Patient.name\" (did you mean \"required\"?)",
	}},
	{"unknown key without close candidate lists the keys", `
app: {name: t}
entities:
  Patient:
    relations:
      doctor: {to: User, color: red}
`, []string{
		"m.yaml:5:26: unknown key \"color\" in relation \"Patient.doctor\" (want one of label, to, kind, inverse, required, unique, onDelete)",
	}},
	{"decoding and validation errors in one run", `
app: {name: t}
enums:
  Grade: {values: [A, B]}
entities:
  Region:
    fields: {name: string}
  Customer:
    fields:
      name:  {type: string, requird: true}
      grade: {type: enum, enum: CustomerGrade}
    relations:
      region: {to: SalesRegion, kind: belongsTo}
`, []string{
		"m.yaml:9:29: unknown key \"requird\" in field \"Customer.name\" (did you mean \"required\"?)",
		"m.yaml:10:33: unknown enum \"CustomerGrade\" for field \"Customer.grade\" (did you mean \"Grade\"?)",
		"m.yaml:12:20: unknown entity \"SalesRegion\" for relation \"Customer.region\" (did you mean \"Region\"?)",
	}},
	{"a misspelt key is read as the key it means", `
app: {name: t}
entities:
  Lead:
    fileds:
      name: {tpye: string}
    views:
      list: {columns: [name]}
`, []string{
		"m.yaml:4:5: unknown key \"fileds\" in entity \"Lead\" (did you mean \"fields\"?)",
		"m.yaml:5:14: unknown key \"tpye\" in field \"Lead.name\" (did you mean \"type\"?)",
	}},
	{"a misspelt key written next to the right one is dropped", `
app: {name: t}
entities:
  Lead:
    fields:
      name: {type: string, tpye: int}
`, []string{
		"m.yaml:5:28: unknown key \"tpye\" in field \"Lead.name\" (did you mean \"type\"?)",
	}},
	{"a value of the wrong type is not also reported missing", `
app: {name: t}
entities:
  Lead:
    fields:
      grade: {type: enum, enum: [Grade]}
automations:
  welcome: {entity: Lead, on: create, do: [hello]}
`, []string{
		"m.yaml:5:33: field \"Lead.grade\" enum: want a string, got a list",
		"m.yaml:7:44: automation \"welcome\" do[0]: want {create: …}, {notify: …}, {set: …} or {run: …}, got \"hello\"",
	}},
	{"declarations that are not a mapping stop before validation", `
app: {name: t}
entities:
  Lead:
    fields: [name, phone]
    views:
      list: {columns: [name, phone]}
`, []string{
		"m.yaml:4:13: entity \"Lead\" fields: want a mapping, got a list",
	}},
	{"a name suggested by its words", `
app: {name: t}
entities:
  Region:
    fields: {name: string}
  Customer:
    relations:
      region: {to: SalesRegion}
      area: {to: RegionArea}
`, []string{
		"m.yaml:7:20: unknown entity \"SalesRegion\" for relation \"Customer.region\" (did you mean \"Region\"?)",
		"m.yaml:8:18: unknown entity \"RegionArea\" for relation \"Customer.area\" (did you mean \"Region\"?)",
	}},
	// Labels, help and messages that YAML cut at a comma.
	{"a label cut at a comma is shown quoted", `
app: {name: t, locales: [zh, en]}
entities:
  Customer:
    label: {zh: 文本, en: a text, with a comma}
    fields: {name: string}
`, []string{
		`m.yaml:4:25: entity "Customer" label.en: the text is cut at a comma, because YAML splits {…} at every comma; quote it: label: {zh: 文本, en: "a text, with a comma"}`,
	}},
	{"texts cut at several commas, in help, messages and nested mappings", `
app: {name: t, locales: [zh, en]}
enums:
  Grade:
    values:
      - {key: A, label: {zh: 甲, en: first, best, top}}
entities:
  Customer:
    fields:
      name: {type: string, help: {name, as on the licence}}
workflows:
  Flow:
    entity: Customer
    initial: open
    states: {open: {}, done: {final: true}}
    transitions:
      close: {from: open, to: done, notify: {field: owner, message: {zh: 已关闭, en: "closed, at last", fr: fermé, enfin}}}
`, []string{
		`m.yaml:5:37: enum "Grade" value label.en: the text is cut at a comma, because YAML splits {…} at every comma; quote it: label: {zh: 甲, en: "first, best, top"}`,
		`m.yaml:9:35: field "Customer.name" help: the text is cut at a comma, because YAML splits {…} at every comma; quote it: help: "name, as on the licence"`,
		`m.yaml:16:106: transition "Flow.close" notify message.fr: the text is cut at a comma, because YAML splits {…} at every comma; quote it: message: {zh: 已关闭, en: "closed, at last", fr: "fermé, enfin"}`,
	}},
	{"a text key that is not a locale", `
app: {name: t, locales: [zh, en]}
entities:
  Customer:
    label:
      zh: 客户
      Customer name:
    fields: {name: string}
`, []string{
		`m.yaml:6:7: entity "Customer" label: "Customer name" is not a locale, and has no text (write a locale and its text, as in en: "Customer name")`,
	}},
	{"a locale with no text", `
app: {name: t, locales: [zh, en]}
entities:
  Customer:
    label: {zh: 客户, en: }
    fields: {name: string}
`, []string{
		`m.yaml:4:25: entity "Customer" label.en: want a string, got null`,
	}},
	{"yaml syntax error", `
app: {name: t
entities: {}
`, []string{
		"m.yaml:2:1: invalid YAML: did not find expected ',' or '}'",
	}},
	{"key written twice", `
app:
  name: t
  name: u
`, []string{
		"m.yaml:3:3: key \"name\" is declared twice in app (first at m.yaml:2:3)",
	}},
	{"entity declared twice in one file", `
app: {name: t}
entities:
  Patient: {}
  Patient: {}
`, []string{
		"m.yaml:4:3: entity \"Patient\" is declared twice (first at m.yaml:3:3)",
	}},
	{"want a mapping", `
app: {name: t}
entities:
  Patient:
    fields: [name]
`, []string{
		"m.yaml:4:13: entity \"Patient\" fields: want a mapping, got a list",
	}},
	{"want true or false", `
app: {name: t}
entities:
  Patient:
    fields:
      name: {type: string, required: yes}
`, []string{
		"m.yaml:5:38: field \"Patient.name\" required: want true or false, got \"yes\"",
	}},
	{"want an integer", `
app: {name: t}
entities:
  Patient:
    fields:
      name: {type: string, maxLen: ten}
`, []string{
		"m.yaml:5:36: field \"Patient.name\" maxLen: want an integer, got \"ten\"",
	}},

	// app.
	{"missing app section", `
entities: {}
`, []string{
		"m.yaml:1:1: the model has no app section (add app: {name: ...})",
	}},
	{"app name must be lowerCamel or kebab", `
app: {name: My_App}
`, []string{
		"m.yaml:1:13: app name \"My_App\" must be lowerCamel or kebab-case (rename to \"my-app\")",
	}},
	{"defaultLocale must be listed", `
app: {name: t, locales: [en], defaultLocale: zh}
`, []string{
		"m.yaml:1:46: defaultLocale \"zh\" is not in app.locales (en)",
	}},
	{"label in an unlisted locale is a warning", `
app: {name: t, locales: [en]}
entities:
  Patient:
    label: {en: Patient, fr: Patient}
`, []string{
		"m.yaml:4:26: warning: locale \"fr\" is not in app.locales (en)",
	}},

	// Names.
	{"entity name must be PascalCase", `
app: {name: t}
entities:
  follow_up: {}
`, []string{
		"m.yaml:3:3: entity name \"follow_up\" must be PascalCase (rename to \"FollowUp\")",
	}},
	{"entity name colliding with generated code", `
app: {name: t}
entities:
  Query: {}
`, []string{
		"m.yaml:3:3: entity name \"Query\" collides with a generated or predeclared name (rename to \"QueryRecord\")",
	}},
	{"field name must be lowerCamelCase", `
app: {name: t}
entities:
  Patient:
    fields:
      BirthDate: {type: date}
`, []string{
		"m.yaml:5:7: field name \"BirthDate\" must be lowerCamelCase (rename to \"birthDate\")",
	}},
	{"reserved field name", `
app: {name: t}
entities:
  Patient:
    fields:
      type: {type: string}
      id: {type: int}
`, []string{
		"m.yaml:5:7: field name \"type\" is a reserved Go word (rename to \"kind\")",
		"m.yaml:6:7: field name \"id\" is reserved: generated code defines it on every record (rename to \"code\")",
	}},
	{"field name must survive the snake_case mapping", `
app: {name: t}
entities:
  Patient:
    fields:
      isVIP: {type: bool}
`, []string{
		"m.yaml:5:7: field name \"isVIP\" does not survive the mapping to snake_case and back (is_vip → isVip; rename to \"isVip\")",
	}},
	{"field and relation share a name", `
app: {name: t}
entities:
  Patient:
    fields:
      doctor: {type: string}
    relations:
      doctor: {to: User}
`, []string{
		"m.yaml:7:7: relation \"Patient.doctor\" has the same name as field \"Patient.doctor\" (rename one)",
	}},
	{"field colliding with a generated name", `
app: {name: t}
entities:
  Patient:
    fields:
      hasDoctor: {type: bool}
    relations:
      doctor: {to: User}
`, []string{
		"m.yaml:5:7: field \"Patient.hasDoctor\" collides with a name generated for relation \"doctor\" (rename it)",
	}},
	{"enum key must be a GraphQL enum value", `
app: {name: t}
enums:
  Grade:
    values: [A, 1st, "null"]
`, []string{
		"m.yaml:4:17: enum key \"1st\" of \"Grade\" is not a valid GraphQL enum value (use letters, digits and _, not starting with a digit)",
		"m.yaml:4:22: enum key \"null\" of \"Grade\" is reserved in GraphQL (rename it)",
	}},

	// Fields.
	{"unknown field type", `
app: {name: t}
entities:
  Patient:
    fields:
      name: {type: strin}
`, []string{`m.yaml:5:20: unknown field type "strin" (want one of string, text, int, float, decimal, bool, date, datetime, enum, email, phone, url, json, file, image)`}},
	{"field without type", `
app: {name: t}
entities:
  Patient:
    fields:
      name: {required: true}
`, []string{
		"m.yaml:5:7: field \"Patient.name\" has no type (want one of string, text, int, float, decimal, bool, date, datetime, enum, email, phone, url, json, file, image)",
	}},
	{"attachment options only on file and image fields, in their own units", `
app: {name: t}
entities:
  Claim:
    fields:
      scan: {type: file, maxSize: 5mb, accept: [pdf, .docx, 'text /plain']}
      note: {type: text, accept: pdf}
`, []string{
		`m.yaml:5:35: field "Claim.scan" maxSize: invalid size "5mb" (want a whole number and B, KB, MB or GB, such as 5MB)`,
		`m.yaml:5:61: accept of field "Claim.scan": "text /plain" is not a MIME type (want type/subtype such as application/pdf, or type/* such as image/*)`,
		`m.yaml:6:34: accept is only allowed on file and image fields; field "Claim.note" has type text`,
	}},
	{"multiple only on file and image fields, and a boolean", `
app: {name: t}
entities:
  Claim:
    fields:
      scans: {type: file, multiple: true}
      photos: {type: image, multiple: yes please}
      note: {type: text, multiple: true}
`, []string{
		`m.yaml:6:39: field "Claim.photos" multiple: want true or false, got "yes please"`,
		`m.yaml:7:36: multiple is only allowed on file and image fields; field "Claim.note" has type text`,
	}},
	{"min only on numeric fields", `
app: {name: t}
entities:
  Patient:
    fields:
      name: {type: string, min: 1}
`, []string{
		"m.yaml:5:33: min is only allowed on numeric (int, float, decimal) fields; field \"Patient.name\" has type string",
	}},
	{"maxLen only on string-like fields", `
app: {name: t}
entities:
  Patient:
    fields:
      age: {type: int, maxLen: 3}
`, []string{
		"m.yaml:5:32: maxLen is only allowed on string-like (string, text, email, phone, url) fields; field \"Patient.age\" has type int",
	}},
	{"pattern must compile", `
app: {name: t}
entities:
  Patient:
    fields:
      idCard: {type: string, pattern: '^[0-9+$'}
`, []string{
		"m.yaml:5:39: invalid pattern of field \"Patient.idCard\": error parsing regexp: missing closing ]: `[0-9+$`",
	}},
	{"scale not above precision", `
app: {name: t}
entities:
  Patient:
    fields:
      balance: {type: decimal, precision: 4, scale: 6}
`, []string{
		"m.yaml:5:53: scale 6 of field \"Patient.balance\" is greater than its precision 4",
	}},
	{"enum type needs an enum", `
app: {name: t}
entities:
  Patient:
    fields:
      grade: {type: enum}
`, []string{
		"m.yaml:5:7: field \"Patient.grade\" has type enum but no enum (add enum: <EnumName>)",
	}},
	{"unknown enum", `
app: {name: t}
enums:
  Grade: {values: [A]}
entities:
  Patient:
    fields:
      grade: {type: enum, enum: Grad}
`, []string{
		"m.yaml:7:33: unknown enum \"Grad\" for field \"Patient.grade\" (did you mean \"Grade\"?)",
	}},
	{"enum only on enum fields", `
app: {name: t}
enums:
  Grade: {values: [A]}
entities:
  Patient:
    fields:
      grade: {type: string, enum: Grade}
`, []string{
		"m.yaml:7:35: enum is only allowed on fields of type enum; field \"Patient.grade\" has type string",
	}},
	{"enum default must be a key", `
app: {name: t}
enums:
  Grade: {values: [A, B]}
entities:
  Patient:
    fields:
      grade: {type: enum, enum: Grade, default: D}
`, []string{
		"m.yaml:7:49: default of field \"Patient.grade\": \"D\" is not a value of enum \"Grade\" (want one of A, B)",
	}},
	{"defaults are typed", `
app: {name: t}
entities:
  Patient:
    fields:
      age: {type: int, default: "3"}
      born: {type: date, default: 2024-13-01}
      seen: {type: datetime, default: yesterday}
      ok: {type: bool, default: 1}
`, []string{
		"m.yaml:5:33: default of field \"Patient.age\": want an integer, got string \"3\"",
		"m.yaml:6:35: default of field \"Patient.born\": want a date such as 2024-01-02, got \"2024-13-01\"",
		"m.yaml:7:39: default of field \"Patient.seen\": want a datetime such as 2024-01-02T15:04:05+08:00 or 2024-01-02 15:04, got \"yesterday\"",
		"m.yaml:8:33: default of field \"Patient.ok\": want true or false, got integer 1",
	}},
	{"autoNumber pattern", `
app: {name: t}
entities:
  Patient:
    fields:
      code: {type: string, autoNumber: 'P{yyyy}{month}'}
      code2: {type: string, autoNumber: 'P{yyyy}'}
      code3: {type: int, autoNumber: '{seq}'}
`, []string{
		"m.yaml:5:40: unknown token \"{month}\" in autoNumber pattern \"P{yyyy}{month}\" (want {yyyy}, {yy}, {mm}, {dd}, {seq} or {seq:N})",
		"m.yaml:6:41: autoNumber pattern \"P{yyyy}\" has no {seq} (e.g. 'P{yyyy}{mm}-{seq:5}')",
		"m.yaml:7:38: autoNumber is only allowed on string fields; field \"Patient.code3\" has type int",
	}},
	{"unique text", `
app: {name: t}
entities:
  Patient:
    fields:
      notes: {type: text, unique: true}
`, []string{
		"m.yaml:5:35: field \"Patient.notes\" of type text cannot be unique (use string for a unique value)",
	}},
	{"readonly and required without a value is a warning", `
app: {name: t}
entities:
  Patient:
    fields:
      code: {type: string, readonly: true, required: true}
`, []string{
		"m.yaml:5:7: warning: field \"Patient.code\" is readonly and required but has no default, autoNumber or computed value, so records cannot be created through forms",
	}},
	{"computed expression is type-checked", `
app: {name: t}
entities:
  Patient:
    fields:
      amount: {type: decimal}
      double: {type: int, computed: 'record.amuont * 2'}
      label2: {type: string, computed: "record.amount"}
`, []string{
		"m.yaml:6:44: expression: undefined field 'amuont' (did you mean 'amount'?)",
		"m.yaml:7:41: computed value of field \"Patient.label2\" has type double, want string",
	}},

	// Traits.
	{"unknown trait", `
app: {name: t}
entities:
  Patient:
    traits: [timestamp]
`, []string{
		"m.yaml:4:14: unknown trait \"timestamp\" (did you mean \"timestamps\"?)",
	}},
	{"field colliding with a trait field", `
app: {name: t}
entities:
  Patient:
    fields:
      createdAt: {type: datetime}
`, []string{
		"m.yaml:5:7: field \"Patient.createdAt\" collides with the field the \"timestamps\" trait adds (rename it or drop the trait)",
	}},
	{"ownerField must be a User relation", `
app: {name: t}
entities:
  Patient:
    ownerField: department
    relations:
      department: {to: Team}
`, []string{
		"m.yaml:4:17: ownerField \"department\" of entity \"Patient\" must be a belongsTo relation to User",
	}},
	{"display must be a field", `
app: {name: t}
entities:
  Patient:
    display: nmae
    fields:
      name: {type: string}
`, []string{
		"m.yaml:4:14: unknown display field \"nmae\" of entity \"Patient\" (did you mean \"name\"?)",
	}},

	// Relations.
	{"unknown relation target", `
app: {name: t}
entities:
  Patient:
    relations:
      doctor: {to: Usr}
`, []string{
		"m.yaml:5:20: unknown entity \"Usr\" for relation \"Patient.doctor\" (did you mean \"User\"?)",
	}},
	{"derived kinds are not declared", `
app: {name: t}
entities:
  Patient:
    relations:
      visits: {to: Visit, kind: hasMany}
  Visit: {}
`, []string{
		"m.yaml:5:33: relation kind \"hasMany\" is derived, not declared: declare belongsTo on \"Visit\" with inverse: \"visits\" instead",
	}},
	{"setNull on a required relation", `
app: {name: t}
entities:
  Patient:
    relations:
      doctor: {to: User, required: true, onDelete: setNull}
`, []string{
		"m.yaml:5:52: relation \"Patient.doctor\" is required, so onDelete cannot be setNull (use restrict or cascade)",
	}},
	{"onDelete on manyToMany", `
app: {name: t}
entities:
  Patient:
    relations:
      tags: {to: Tag, kind: manyToMany, onDelete: cascade}
  Tag: {}
`, []string{
		"m.yaml:5:51: onDelete is only for belongsTo relations; relation \"Patient.tags\" is manyToMany (its join rows are always removed)",
	}},
	{"inverse collides with a field of the target", `
app: {name: t}
entities:
  Patient:
    relations:
      team: {to: Team, inverse: name}
`, []string{
		"m.yaml:5:33: inverse \"name\" of relation \"Patient.team\" collides with field \"Team.name\" (set inverse: to another name)",
	}},
	{"default inverse collides", `
app: {name: t}
entities:
  Patient:
    relations:
      doctor: {to: User}
  User:
    fields:
      patientsByDoctor: {type: int}
`, []string{
		"m.yaml:5:7: default inverse \"patientsByDoctor\" of relation \"Patient.doctor\" collides with field \"User.patientsByDoctor\" (set inverse: to another name)",
	}},
	{"two relations with the same inverse", `
app: {name: t}
entities:
  Patient:
    relations:
      doctor: {to: User, inverse: patients}
      nurse: {to: User, inverse: patients}
`, []string{
		"m.yaml:6:34: inverse \"patients\" of relation \"Patient.nurse\" collides with the inverse of relation \"Patient.doctor\" (set inverse: to another name)",
	}},
}

func TestRules(t *testing.T) {
	for _, tc := range ruleTests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeModel(t, map[string]string{"m.yaml": tc.yaml})
			got := problems(t, dir)
			if os.Getenv("PRINT_RULES") != "" {
				var b strings.Builder
				for _, l := range got {
					fmt.Fprintf(&b, "\t%#v,\n", l)
				}
				fmt.Printf("=== %s\n%s", tc.name, b.String())
				return
			}
			want := tc.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}
