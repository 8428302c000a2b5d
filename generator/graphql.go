package generator

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/codegen/templates"
	"github.com/dave/jennifer/jen"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/gqltype"
	crmtemplates "github.com/crmgen/crmgen/templates"
)

const (
	pkgContext  = "context"
	pkgGraphQL  = "github.com/99designs/gqlgen/graphql"
	pkgGQLType  = "github.com/crmgen/crmgen/platform/gqltype"
	pkgGQLWrite = "github.com/crmgen/crmgen/platform/gqlwrite"
	pkgExpr     = "github.com/crmgen/crmgen/platform/expr"
	pkgAttach   = "github.com/crmgen/crmgen/platform/attach"
)

// graphqlFiles emits gqlgen's configuration, the hand-written part of the GraphQL schema (mutations,
// computed fields, scalars) and the resolvers. entgql writes the rest of the schema (types, connections,
// where-inputs, mutation inputs) from the ent schemas.
func graphqlFiles(m *metamodel.Model, mod string, ext *extendSchema) (Files, error) {
	files := Files{}
	yml, err := crmtemplates.Render("gqlgen.yml", map[string]any{"Module": mod, "Extend": ext.files.Paths(),
		"Attachments": attachmentFields(m)})
	if err != nil {
		return nil, err
	}
	files["gqlgen.yml"] = yml
	files["graph/crm.graphqls"] = []byte(crmSchema(m))
	src, err := render(resolvers(m, mod))
	if err != nil {
		return nil, fmt.Errorf("emit resolvers: %w", err)
	}
	files["graph/resolver.go"] = src
	acct, err := crmtemplates.Render("account.go", map[string]any{"Module": mod})
	if err != nil {
		return nil, err
	}
	if files["graph/account.go"], err = gofmt("graph/account.go", acct); err != nil {
		return nil, err
	}
	proc, err := crmtemplates.Render("process.go", nil)
	if err != nil {
		return nil, err
	}
	if files["graph/process.go"], err = gofmt("graph/process.go", proc); err != nil {
		return nil, err
	}
	rep, err := crmtemplates.Render("report.go", nil)
	if err != nil {
		return nil, err
	}
	if files["graph/report.go"], err = gofmt("graph/report.go", rep); err != nil {
		return nil, err
	}
	hist, err := crmtemplates.Render("history.go", nil)
	if err != nil {
		return nil, err
	}
	if files["graph/history.go"], err = gofmt("graph/history.go", hist); err != nil {
		return nil, err
	}
	return files, nil
}

// crmSchema is the GraphQL schema crmgen adds to entgql's: CRUD mutations and computed fields.
func crmSchema(m *metamodel.Model) string {
	var b bytes.Buffer
	b.WriteString("# " + generatedHeader + "\n\n")
	b.WriteString("\"\"\"Any JSON value.\"\"\"\nscalar JSON\n\n")
	b.WriteString(accountSchema)
	b.WriteString(processSchema)
	b.WriteString(reportSchema)
	b.WriteString("type Mutation {\n")
	b.WriteString(accountMutations)
	b.WriteString(processMutations)
	for _, e := range m.Entities {
		fmt.Fprintf(&b, "  \"\"\"Create a record of %s.\"\"\"\n", e.Name)
		fmt.Fprintf(&b, "  create%s(input: Create%sInput!): %s!\n", e.Name, e.Name, e.Name)
		fmt.Fprintf(&b, "  \"\"\"Update a record of %s; only the fields given change.\"\"\"\n", e.Name)
		fmt.Fprintf(&b, "  update%s(id: ID!, input: Update%sInput!): %s!\n", e.Name, e.Name, e.Name)
		fmt.Fprintf(&b, "  \"\"\"Delete a record of %s and return its id.\"\"\"\n", e.Name)
		fmt.Fprintf(&b, "  delete%s(id: ID!): ID!\n", e.Name)
		if e.Has(metamodel.TraitSoftDelete) {
			fmt.Fprintf(&b, "  \"\"\"Restore a deleted record of %s (needs the right to delete it).\"\"\"\n", e.Name)
			fmt.Fprintf(&b, "  restore%s(id: ID!): %s!\n", e.Name, e.Name)
		}
		if len(m.WorkflowsOf(e.Name)) > 0 {
			fmt.Fprintf(&b, "  \"\"\"Run a workflow transition on a record of %s; answers the record, or null if you may no longer read it.\"\"\"\n", e.Name)
			fmt.Fprintf(&b, "  transition%s(id: ID!, transition: String!, comment: String): %s\n", e.Name, e.Name)
		}
	}
	b.WriteString("}\n")
	b.WriteString(historySchema)
	var trash []string
	for _, e := range m.Entities {
		if e.Has(metamodel.TraitSoftDelete) {
			trash = append(trash, fmt.Sprintf("  \"\"\"Deleted records of %s that you may restore (those you may delete).\"\"\"\n  %s(after: Cursor, first: Int, before: Cursor, last: Int, where: %sWhereInput): %sConnection!\n",
				e.Name, e.DeletedQueryField(), e.Name, e.Name))
		}
	}
	if len(trash) > 0 {
		b.WriteString("\nextend type Query {\n" + strings.Join(trash, "") + "}\n")
	}
	b.WriteString("\nextend type Query {\n")
	for _, e := range m.Entities {
		search := ""
		if len(searchFields(e)) > 0 {
			search = ", search: String"
		}
		fmt.Fprintf(&b, "  \"\"\"How many records %s lists with the same where and search: all of them, or, with upTo (at most %d), at most upTo + 1, reading no more rows than that.\"\"\"\n  %s(where: %sWhereInput%s, upTo: Int): Int!\n",
			e.QueryField(), gqltype.MaxCountUpTo, e.CountField(), e.Name, search)
	}
	b.WriteString("}\n")
	if len(attachmentFields(m)) > 0 {
		b.WriteString(attachmentSchema)
		b.WriteString("\n\"\"\"A file or image field an uploaded file is for.\"\"\"\nenum AttachmentField {\n")
		for _, e := range m.Entities {
			for _, f := range entityAttachments(e) {
				fmt.Fprintf(&b, "  \"\"\"%s.%s\"\"\"\n  %s\n", e.Name, f.GraphQLName(), metamodel.UploadKey(e, f))
			}
		}
		b.WriteString("}\n")
	}
	for _, e := range m.Entities {
		comp := computedFields(e)
		files := entityAttachments(e)
		flow := len(m.WorkflowsOf(e.Name)) > 0
		if len(comp) == 0 && len(files) == 0 && !e.Has(metamodel.TraitAudit) && !flow {
			continue
		}
		fmt.Fprintf(&b, "\nextend type %s {\n", e.Name)
		for _, f := range files {
			if f.Multiple {
				fmt.Fprintf(&b, "  \"\"\"The uploaded %ss, in order; download each at its url.\"\"\"\n  %s: [Attachment!]!\n", f.Type, f.GraphQLName())
				continue
			}
			fmt.Fprintf(&b, "  \"\"\"The uploaded %s; download it at its url.\"\"\"\n  %s: Attachment\n", f.Type, f.GraphQLName())
		}
		if flow {
			b.WriteString("  \"\"\"The transitions you may run on this record now, labelled in locale (default: the app's).\"\"\"\n  availableTransitions(locale: String): [WorkflowTransition!]!\n")
			b.WriteString("  \"\"\"The record's workflow steps, oldest first.\"\"\"\n  workflowHistory: [WorkflowStep!]!\n")
		}
		for _, f := range comp {
			fmt.Fprintf(&b, "  \"\"\"Computed: %s\"\"\"\n  %s: %s\n", strings.ReplaceAll(f.Computed.Src, `"`, `'`), f.GraphQLName(), gqlScalar(f.Type))
		}
		if e.Has(metamodel.TraitAudit) {
			b.WriteString("  \"\"\"Who changed what and when, oldest first (changes of fields hidden from you are left out).\"\"\"\n  history: [AuditEntry!]!\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// reportSchema is the report query of METAMODEL.md, in every app (a model without reports answers
// NOT_FOUND). The resolver comes from templates/app/report.go.tmpl.
const reportSchema = `"""A column of a report: its key in each row, its label in your language, and the type of its cells."""
type ReportColumn {
  name: String!
  label: String!
  type: String!
}

"""How many records of an rfm report have recency score r, frequency score f and segment."""
type RFMCount {
  r: Int!
  f: Int!
  segment: String!
  count: Int!
}

"""A report as you may see it: rows you may read, fields you may see."""
type Report {
  name: String!
  label: String!
  kind: String!
  chart: String
  columns: [ReportColumn!]!
  """Each row an object keyed by column name: the first first rows, all when first is not given."""
  rows(first: Int): [JSON!]!
  """How many rows the report has."""
  rowCount: Int!
  """An rfm report's records counted by recency score, frequency score and segment (empty for other kinds)."""
  rfm: [RFMCount!]!
  """A decision tree's share of records predicted right."""
  accuracy: Float
  """When the result was computed (it may be reused until a record it reads changes)."""
  at: Time!
}

extend type Query {
  """Run the report named name with params (an object of its parameters), labelled in locale (default: the app's)."""
  report(name: String!, params: JSON, locale: String): Report!
}

`

// historySchema declares the audit history types.
const historySchema = `
"""One field's change: its old and new values."""
type AuditChange {
  field: String!
  old: JSON
  new: JSON
}

"""One recorded operation on a record: create, update, delete, restore, or seed (loaded with the model's data)."""
type AuditEntry {
  id: ID!
  op: String!
  at: Time!
  userID: ID
  username: String!
  changes: [AuditChange!]!
}
`

// processSchema declares workflow transitions and history, the signed-in user's inbox, and the outbox's
// dead letters (for superusers). The resolvers come from templates/app/process.go.tmpl.
const processSchema = `
"""A workflow transition: a button on a record."""
type WorkflowTransition {
  name: String!
  label: String!
  from: [String!]!
  to: String!
  toLabel: String!
  """required, optional, or null when the transition takes no comment"""
  comment: String
  """fields that must be set before the transition may run"""
  requires: [String!]!
}

"""One step of a record's workflow: a transition, or the record's creation or seeding."""
type WorkflowStep {
  workflow: String!
  from: String
  to: String!
  """the transition's name, or (created), (seeded)"""
  transition: String!
  """username; system for timers and data loading"""
  user: String
  at: Time!
  comment: String
}

"""A notification in the signed-in user's inbox."""
type InboxItem {
  id: ID!
  title: String!
  body: String!
  """path of the record it is about"""
  link: String
  createdAt: Time!
  readAt: Time
}

"""An e-mail, SMS or webhook message that failed every delivery attempt."""
type DeadLetter {
  id: ID!
  channel: String!
  recipient: String!
  subject: String!
  attempts: Int!
  lastError: String!
  createdAt: Time!
}

extend type Query {
  """Your notifications, newest first (at most first, default 50)."""
  inbox(unreadOnly: Boolean, first: Int): [InboxItem!]!
  """How many of your notifications are unread."""
  unreadCount: Int!
  """Messages whose delivery failed for good (superusers only)."""
  deadLetters: [DeadLetter!]!
}
`

// processMutations are the Mutation fields of processSchema.
const processMutations = `  """Mark one of your notifications read."""
  markRead(id: ID!): Boolean!
  """Mark all of your notifications read; answers how many were unread."""
  markAllRead: Int!
  """Send a dead letter again (superusers only)."""
  requeueMessage(id: ID!): Boolean!
`

// computedFields lists the entity's fields computed at read time.
func computedFields(e *metamodel.Entity) []*metamodel.Field {
	var out []*metamodel.Field
	for _, f := range e.Fields {
		if virtual(f) {
			out = append(out, f)
		}
	}
	return out
}

// goName is the Go name gqlgen gives a GraphQL field's resolver method.
func goName(graphqlName string) string { return templates.ToGo(graphqlName) }

// accountSchema is the part of the API every app has: signing in and out, the current user, and personal
// API tokens. The resolvers come from templates/app/account.go.tmpl.
const accountSchema = `"""A signed-in session: send the token as Authorization: Bearer <token>."""
type AuthPayload {
  token: String!
  user: User!
}

"""A personal API token (its secret is shown only when it is created)."""
type APIToken {
  id: ID!
  name: String!
  createdAt: Time!
  lastUsedAt: Time
  revokedAt: Time
}

"""A new API token and its secret, shown this once."""
type NewAPIToken {
  token: String!
  apiToken: APIToken!
}

extend type Query {
  """The signed-in user."""
  me: User
  """The signed-in user's API tokens."""
  apiTokens: [APIToken!]!
}

`

const accountMutations = `  """Sign in; answered without a session. Repeated failures are throttled."""
  login(username: String!, password: String!): AuthPayload!
  """End the current session."""
  logout: Boolean!
  """Create a personal API token for the signed-in user."""
  createAPIToken(name: String!): NewAPIToken!
  """Revoke one of the signed-in user's API tokens."""
  revokeAPIToken(id: ID!): Boolean!
  """Change the signed-in user's password (at least 8 characters); every session ends, so sign in again."""
  changePassword(oldPassword: String!, newPassword: String!): Boolean!
  """Set a user's password; needs the right to update that user. Their sessions end."""
  setUserPassword(id: ID!, password: String!): Boolean!
`

// attachmentSchema is the GraphQL type of file and image fields, in apps that have them.
const attachmentSchema = `
"""An uploaded file of a file or image field. Download it at url, which answers only those who may read the record and the field."""
type Attachment {
  name: String!
  size: Int!
  contentType: String!
  sha256: String!
  """Where the file is downloaded; empty for a file uploadFile answers, which no record holds yet."""
  url: String!
  """The value to write into a file or image field to give a record this file (a multiple field takes a JSON list of them: [reference, …])."""
  reference: String!
}

"""A file sent with the request, as the GraphQL multipart request spec sends it (a multipart/form-data POST)."""
scalar Upload

extend type Mutation {
  """Store a file for a file or image field and answer the reference to write into it (create…, update…). Needs the right to write the field; the field's size and type limits apply to the content as stored."""
  uploadFile(field: AttachmentField!, file: Upload!): Attachment!
}
`

// entityAttachments are e's file and image fields.
func entityAttachments(e *metamodel.Entity) []*metamodel.Field {
	var out []*metamodel.Field
	for _, f := range e.Fields {
		if f.Type.Attachment() {
			out = append(out, f)
		}
	}
	return out
}

// attachmentFields names the file and image fields of m by type and GraphQL field ("Patient": "photo"),
// for gqlgen.yml, which resolves them from the stored reference.
func attachmentFields(m *metamodel.Model) map[string][]string {
	out := map[string][]string{}
	for _, e := range m.Entities {
		for _, f := range entityAttachments(e) {
			out[e.Name] = append(out[e.Name], f.GraphQLName())
		}
	}
	return out
}

// virtual reports whether a field is computed at read time rather than stored.
func virtual(f *metamodel.Field) bool { return f.Computed.Src != "" && !f.Stored }

// gqlScalar is the GraphQL type of a field type.
func gqlScalar(t metamodel.FieldType) string {
	switch t {
	case metamodel.TypeInt:
		return "Int"
	case metamodel.TypeFloat, metamodel.TypeDecimal:
		return "Float"
	case metamodel.TypeBool:
		return "Boolean"
	case metamodel.TypeDate, metamodel.TypeDateTime:
		return "Time"
	case metamodel.TypeJSON:
		return "JSON"
	}
	return "String"
}

// gqlGoConv is the gqltype conversion function (and its Go result type) for a computed field's value.
func gqlGoConv(t metamodel.FieldType) (string, jen.Code) {
	switch t {
	case metamodel.TypeInt:
		return "Int", jen.Op("*").Int()
	case metamodel.TypeFloat, metamodel.TypeDecimal:
		return "Float", jen.Op("*").Float64()
	case metamodel.TypeBool:
		return "Bool", jen.Op("*").Bool()
	case metamodel.TypeDate, metamodel.TypeDateTime:
		return "Time", jen.Op("*").Qual(pkgTime, "Time")
	case metamodel.TypeJSON:
		return "JSON", jen.Qual(pkgJSON, "RawMessage")
	}
	return "String", jen.Op("*").String()
}

// orderable reports whether entgql generates an orderBy argument for the entity.
func orderable(e *metamodel.Entity) bool {
	for _, f := range e.Fields {
		if f.Type != metamodel.TypeJSON && !f.Secret && !virtual(f) {
			return true
		}
	}
	return false
}

// resolvers emits graph/resolver.go: the root resolver, Relay queries, CRUD mutations and computed
// fields. Every call goes through the ent client in the request's transaction, so the platform's hooks,
// interceptors and policies apply.
func resolvers(m *metamodel.Model, mod string) *jen.File {
	entPkg := mod + "/ent"
	f := jen.NewFile("graph")
	f.HeaderComment(generatedHeader)
	f.PackageComment("Package graph is the GraphQL API of the application: gqlgen's executor over entgql's schema.")

	f.Comment("Resolver is the root resolver; it holds the ent client used outside a transaction.")
	f.Type().Id("Resolver").Struct(jen.Id("client").Op("*").Qual(entPkg, "Client"))
	f.Comment("NewSchema returns the executable GraphQL schema over client.")
	f.Func().Id("NewSchema").Params(jen.Id("client").Op("*").Qual(entPkg, "Client")).Qual(pkgGraphQL, "ExecutableSchema").Block(
		jen.Return(jen.Id("NewExecutableSchema").Call(jen.Id("Config").Values(jen.Dict{
			jen.Id("Resolvers"): jen.Op("&").Id("Resolver").Values(jen.Dict{jen.Id("client"): jen.Id("client")}),
		}))),
	)
	f.Comment("ent returns the client of the request's transaction, if any, else the root client.")
	f.Func().Params(jen.Id("r").Op("*").Id("Resolver")).Id("ent").Params(jen.Id("ctx").Qual(pkgContext, "Context")).Op("*").Qual(entPkg, "Client").Block(
		jen.If(jen.Id("c").Op(":=").Qual(entPkg, "FromContext").Call(jen.Id("ctx")), jen.Id("c").Op("!=").Nil()).Block(jen.Return(jen.Id("c"))),
		jen.Return(jen.Id("r").Dot("client")),
	)

	root := func(name string) {
		f.Commentf("%s returns the %s resolver.", name, name)
		f.Func().Params(jen.Id("r").Op("*").Id("Resolver")).Id(name).Params().Id(name + "Resolver").Block(
			jen.Return(jen.Op("&").Id(metamodel.LowerFirst(name) + "Resolver").Values(jen.Id("r"))),
		)
		f.Type().Id(metamodel.LowerFirst(name) + "Resolver").Struct(jen.Op("*").Id("Resolver"))
	}
	root("Query")
	root("Mutation")

	ctx := jen.Id("ctx").Qual(pkgContext, "Context")
	q := jen.Id("r").Op("*").Id("queryResolver")
	f.Comment("Node resolves a node by its global id.")
	f.Func().Params(q.Clone()).Id("Node").Params(ctx.Clone(), jen.Id("id").Int()).Params(jen.Qual(entPkg, "Noder"), jen.Error()).Block(
		jen.Return(jen.Id("r").Dot("ent").Call(jen.Id("ctx")).Dot("Noder").Call(jen.Id("ctx"), jen.Id("id"))),
	)
	f.Comment("Nodes resolves nodes by their global ids.")
	f.Func().Params(q.Clone()).Id("Nodes").Params(ctx.Clone(), jen.Id("ids").Index().Int()).Params(jen.Index().Qual(entPkg, "Noder"), jen.Error()).Block(
		jen.Return(jen.Id("r").Dot("ent").Call(jen.Id("ctx")).Dot("Noders").Call(jen.Id("ctx"), jen.Id("ids"))),
	)

	cursor := jen.Op("*").Qual(pkgEntGQL, "Cursor").Types(jen.Int())
	for _, e := range m.Entities {
		n := e.Name
		params := []jen.Code{ctx.Clone(), jen.Id("after").Add(cursor.Clone()), jen.Id("first").Op("*").Int(),
			jen.Id("before").Add(cursor.Clone()), jen.Id("last").Op("*").Int()}
		opts := []jen.Code{jen.Id("ctx"), jen.Id("after"), jen.Id("first"), jen.Id("before"), jen.Id("last")}
		if orderable(e) {
			params = append(params, jen.Id("orderBy").Index().Op("*").Qual(entPkg, n+"Order"))
			opts = append(opts, jen.Qual(entPkg, "With"+n+"Order").Call(jen.Id("orderBy")))
		}
		params = append(params, jen.Id("where").Op("*").Qual(entPkg, n+"WhereInput"))
		opts = append(opts, jen.Qual(entPkg, "With"+n+"Filter").Call(jen.Id("where").Dot("Filter")))
		fields := searchFields(e)
		countResolver(f, e, entPkg, len(fields) > 0)
		if len(fields) > 0 {
			params = append(params, jen.Id("search").Op("*").String())
		}
		compiledResolver(f, e, entPkg, params, len(fields) > 0)
		compiled := compiledCall(e, len(fields) > 0)
		if len(fields) == 0 {
			f.Commentf("%s lists %s records as a Relay connection.", goName(e.QueryField()), n)
			f.Func().Params(q.Clone()).Id(goName(e.QueryField())).Params(params...).
				Params(jen.Op("*").Qual(entPkg, n+"Connection"), jen.Error()).Block(
				compiled,
				jen.Return(jen.Id("r").Dot("ent").Call(jen.Id("ctx")).Dot(n).Dot("Query").Call().Dot("Paginate").Call(opts...)),
			)
			continue
		}
		pkg := entPkg + "/" + e.Package()
		f.Commentf("%s lists %s records as a Relay connection, those matching search if given.", goName(e.QueryField()), n)
		f.Func().Params(q.Clone()).Id(goName(e.QueryField())).Params(params...).
			Params(jen.Op("*").Qual(entPkg, n+"Connection"), jen.Error()).Block(
			append([]jen.Code{compiled}, append(searchedQuery(n, true), jen.Return(jen.Id("query").Dot("Paginate").Call(opts...)))...)...,
		)
		var cases []jen.Code
		for _, fd := range fields {
			cases = append(cases, jen.Case(jen.Lit(fd.Name)).Block(
				jen.Id("ps").Op("=").Append(jen.Id("ps"), jen.Qual(pkg, entPascal(fd.EntName())+"ContainsFold").Call(jen.Id("text")))))
		}
		f.Commentf("search%s is the predicate of the search argument: text in one of the search fields the caller may search", n)
		f.Comment("by (enforce decides which), no match when there is none, nil for empty text.")
		f.Func().Id("search"+n).Params(ctx.Clone(), jen.Id("text").String()).Qual(entPkg+"/predicate", n).Block(
			jen.Id("text").Op("=").Qual("strings", "TrimSpace").Call(jen.Id("text")),
			jen.If(jen.Id("text").Op("==").Lit("")).Block(jen.Return(jen.Nil())),
			jen.Var().Id("ps").Index().Qual(entPkg+"/predicate", n),
			jen.For(jen.List(jen.Id("_"), jen.Id("f")).Op(":=").Range().Qual(pkgEnforce, "FromContext").Call(jen.Id("ctx")).Dot("Searchable").Call(jen.Id("ctx"), jen.Lit(n))).Block(
				jen.Switch(jen.Id("f")).Block(cases...)),
			jen.If(jen.Len(jen.Id("ps")).Op("==").Lit(0)).Block(jen.Return(jen.Qual(pkg, "IDLT").Call(jen.Lit(0)))),
			jen.Return(jen.Qual(pkg, "Or").Call(jen.Id("ps").Op("..."))),
		)
	}

	for _, e := range m.Entities {
		if !e.Has(metamodel.TraitSoftDelete) {
			continue
		}
		n := e.Name
		params := []jen.Code{ctx.Clone(), jen.Id("after").Add(cursor.Clone()), jen.Id("first").Op("*").Int(),
			jen.Id("before").Add(cursor.Clone()), jen.Id("last").Op("*").Int(), jen.Id("where").Op("*").Qual(entPkg, n+"WhereInput")}
		f.Commentf("%s lists the deleted %s records the caller may restore.", goName(e.DeletedQueryField()), n)
		f.Func().Params(q.Clone()).Id(goName(e.DeletedQueryField())).Params(params...).
			Params(jen.Op("*").Qual(entPkg, n+"Connection"), jen.Error()).Block(
			jen.List(jen.Id("p"), jen.Err()).Op(":=").Qual(pkgEnforce, "FromContext").Call(jen.Id("ctx")).Dot("Restorable").Call(jen.Id("ctx"), jen.Lit(n)),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Id("ctx").Op("=").Qual(pkgEnforce, "IncludeDeleted").Call(jen.Id("ctx")),
			jen.Id("query").Op(":=").Id("r").Dot("ent").Call(jen.Id("ctx")).Dot(n).Dot("Query").Call().Dot("Where").Call(jen.Qual(entPkg+"/"+e.Package(), "DeletedAtNotNil").Call()),
			jen.If(jen.Id("p").Op("!=").Nil()).Block(jen.Id("query").Dot("Where").Call(jen.Qual(entPkg+"/predicate", n).Call(jen.Id("p")))),
			jen.Return(jen.Id("query").Dot("Paginate").Call(jen.Id("ctx"), jen.Id("after"), jen.Id("first"), jen.Id("before"), jen.Id("last"),
				jen.Qual(entPkg, "With"+n+"Filter").Call(jen.Id("where").Dot("Filter")))),
		)
	}

	mr := jen.Id("r").Op("*").Id("mutationResolver")
	for _, e := range m.Entities {
		n := e.Name
		client := jen.Id("r").Dot("ent").Call(jen.Id("ctx")).Dot(n)
		// Automations may change the record after it is saved (a `set`, or a created record's own
		// automations): the answer then reads it again. Automations that only notify change nothing.
		reread := func(save jen.Code) []jen.Code {
			if !automationsWrite(m, n) {
				return []jen.Code{jen.Return(save)}
			}
			return []jen.Code{
				jen.List(jen.Id("row"), jen.Err()).Op(":=").Add(save),
				jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
				jen.If(jen.List(jen.Id("now"), jen.Err()).Op(":=").Add(client.Clone()).Dot("Get").Call(jen.Id("ctx"), jen.Id("row").Dot("ID")), jen.Err().Op("==").Nil()).Block(
					jen.Return(jen.Id("now"), jen.Nil()),
				),
				jen.Return(jen.Id("row"), jen.Nil()), // no longer readable by the caller: what was saved
			}
		}
		f.Commentf("%s creates a %s.", goName("create"+n), n)
		f.Func().Params(mr.Clone()).Id(goName("create"+n)).Params(ctx.Clone(), jen.Id("input").Qual(entPkg, "Create"+n+"Input")).
			Params(jen.Op("*").Qual(entPkg, n), jen.Error()).Block(
			reread(client.Clone().Dot("Create").Call().Dot("SetInput").Call(jen.Id("input")).Dot("Save").Call(jen.Id("ctx")))...,
		)
		f.Commentf("%s updates a %s.", goName("update"+n), n)
		f.Func().Params(mr.Clone()).Id(goName("update"+n)).Params(ctx.Clone(), jen.Id("id").Int(), jen.Id("input").Qual(entPkg, "Update"+n+"Input")).
			Params(jen.Op("*").Qual(entPkg, n), jen.Error()).Block(
			reread(client.Clone().Dot("UpdateOneID").Call(jen.Id("id")).Dot("SetInput").Call(jen.Id("input")).Dot("Save").Call(jen.Id("ctx")))...,
		)
		f.Commentf("%s deletes a %s.", goName("delete"+n), n)
		f.Func().Params(mr.Clone()).Id(goName("delete"+n)).Params(ctx.Clone(), jen.Id("id").Int()).Params(jen.Int(), jen.Error()).Block(
			jen.If(jen.Err().Op(":=").Add(client.Clone()).Dot("DeleteOneID").Call(jen.Id("id")).Dot("Exec").Call(jen.Id("ctx")), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Lit(0), jen.Err()),
			),
			jen.Return(jen.Id("id"), jen.Nil()),
		)
		if e.Has(metamodel.TraitSoftDelete) {
			f.Commentf("%s restores a deleted %s.", goName("restore"+n), n)
			f.Func().Params(mr.Clone()).Id(goName("restore"+n)).Params(ctx.Clone(), jen.Id("id").Int()).Params(jen.Op("*").Qual(entPkg, n), jen.Error()).Block(
				jen.Id("rc").Op(":=").Qual(pkgEnforce, "Restoring").Call(jen.Id("ctx")),
				jen.Return(jen.Id("r").Dot("ent").Call(jen.Id("ctx")).Dot(n).Dot("UpdateOneID").Call(jen.Id("id")).Dot("ClearDeletedAt").Call().Dot("Save").Call(jen.Id("rc"))),
			)
		}
		if len(m.WorkflowsOf(n)) > 0 {
			f.Commentf("%s runs a workflow transition on a %s.", goName("transition"+n), n)
			f.Func().Params(mr.Clone()).Id(goName("transition"+n)).Params(ctx.Clone(), jen.Id("id").Int(), jen.Id("transition").String(), jen.Id("comment").Op("*").String()).
				Params(jen.Op("*").Qual(entPkg, n), jen.Error()).Block(
				jen.If(jen.Err().Op(":=").Id("r").Dot("transition").Call(jen.Id("ctx"), jen.Lit(n), jen.Id("id"), jen.Id("transition"), jen.Id("comment")), jen.Err().Op("!=").Nil()).Block(
					jen.Return(jen.Nil(), jen.Err()),
				),
				jen.List(jen.Id("row"), jen.Err()).Op(":=").Add(client.Clone()).Dot("Get").Call(jen.Id("ctx"), jen.Id("id")),
				jen.If(jen.Qual(entPkg, "IsNotFound").Call(jen.Err())).Block(jen.Return(jen.Nil(), jen.Nil())),
				jen.Return(jen.Id("row"), jen.Err()),
			)
		}
	}

	if len(attachmentFields(m)) > 0 {
		f.Comment("UploadFile stores a file for a file or image field; the enforcement point decides (enforce.Runtime.Upload).")
		f.Func().Params(jen.Id("r").Op("*").Id("mutationResolver")).Id("UploadFile").
			Params(ctx.Clone(), jen.Id("field").Id("AttachmentField"), jen.Id("file").Qual(pkgGraphQL, "Upload")).
			Params(jen.Op("*").Qual(pkgAttach, "File"), jen.Error()).Block(
			jen.Return(jen.Qual(pkgEnforce, "FromContext").Call(jen.Id("ctx")).Dot("Upload").Call(jen.Id("ctx"),
				jen.String().Call(jen.Id("field")), jen.Id("file").Dot("Filename"), jen.Id("file").Dot("File"), jen.Id("file").Dot("Size"))),
		)
	}

	for _, e := range m.Entities {
		comp := computedFields(e)
		files := entityAttachments(e)
		n := e.Name
		flow := len(m.WorkflowsOf(n)) > 0
		if len(comp) == 0 && len(files) == 0 && !e.Has(metamodel.TraitAudit) && !flow {
			continue
		}
		rname := metamodel.LowerFirst(n) + "Resolver"
		if flow {
			f.Commentf("AvailableTransitions lists the transitions the caller may run on a %s now.", n)
			f.Func().Params(jen.Id("r").Op("*").Id(rname)).Id("AvailableTransitions").Params(ctx.Clone(), jen.Id("obj").Op("*").Qual(entPkg, n), jen.Id("locale").Op("*").String()).
				Params(jen.Index().Op("*").Qual(pkgProcess, "TransitionView"), jen.Error()).Block(
				jen.Return(jen.Id("r").Dot("availableTransitions").Call(jen.Id("ctx"), jen.Lit(n), jen.Id("obj").Dot("ID"), jen.Id("locale"))),
			)
			f.Commentf("WorkflowHistory lists the workflow steps of a %s.", n)
			f.Func().Params(jen.Id("r").Op("*").Id(rname)).Id("WorkflowHistory").Params(ctx.Clone(), jen.Id("obj").Op("*").Qual(entPkg, n)).
				Params(jen.Index().Op("*").Qual(pkgProcess, "StepView"), jen.Error()).Block(
				jen.Return(jen.Id("r").Dot("workflowHistory").Call(jen.Id("ctx"), jen.Lit(n), jen.Id("obj").Dot("ID"))),
			)
		}
		if e.Has(metamodel.TraitAudit) {
			f.Commentf("History returns the audit history of a %s.", n)
			f.Func().Params(jen.Id("r").Op("*").Id(rname)).Id("History").Params(ctx.Clone(), jen.Id("obj").Op("*").Qual(entPkg, n)).
				Params(jen.Index().Op("*").Id("AuditEntry"), jen.Error()).Block(
				jen.Return(jen.Id("r").Dot("history").Call(jen.Id("ctx"), jen.Lit(n), jen.Id("obj").Dot("ID"))),
			)
		}
		f.Commentf("%s returns the resolver of %s's computed fields, history and workflow.", n, n)
		f.Func().Params(jen.Id("r").Op("*").Id("Resolver")).Id(goName(n)).Params().Id(goName(n) + "Resolver").Block(
			jen.Return(jen.Op("&").Id(rname).Values(jen.Id("r"))),
		)
		f.Type().Id(rname).Struct(jen.Op("*").Id("Resolver"))
		for _, fd := range files {
			stored := jen.Id("obj").Dot(entPascal(fd.EntName()))
			if fd.Required {
				stored = jen.Op("&").Add(stored)
			}
			if fd.Multiple {
				f.Commentf("%s reads the references %s.%s holds, each with its download URL.", goName(fd.GraphQLName()), n, fd.Name)
				f.Func().Params(jen.Id("r").Op("*").Id(rname)).Id(goName(fd.GraphQLName())).
					Params(ctx.Clone(), jen.Id("obj").Op("*").Qual(entPkg, n)).Params(jen.Index().Op("*").Qual(pkgAttach, "File"), jen.Error()).Block(
					jen.Return(jen.Qual(pkgAttach, "References").Call(stored, jen.Lit(n), jen.Id("obj").Dot("ID"), jen.Lit(fd.GraphQLName())), jen.Nil()),
				)
				continue
			}
			f.Commentf("%s reads the reference %s.%s holds, with its download URL.", goName(fd.GraphQLName()), n, fd.Name)
			f.Func().Params(jen.Id("r").Op("*").Id(rname)).Id(goName(fd.GraphQLName())).
				Params(ctx.Clone(), jen.Id("obj").Op("*").Qual(entPkg, n)).Params(jen.Op("*").Qual(pkgAttach, "File"), jen.Error()).Block(
				jen.Return(jen.Qual(pkgAttach, "Reference").Call(stored, jen.Lit(n), jen.Id("obj").Dot("ID"), jen.Lit(fd.GraphQLName())), jen.Nil()),
			)
		}
		for _, fd := range comp {
			conv, typ := gqlGoConv(fd.Type)
			f.Commentf("%s computes %s.%s = %s.", goName(fd.GraphQLName()), n, fd.Name, fd.Computed.Src)
			f.Func().Params(jen.Id("r").Op("*").Id(rname)).Id(goName(fd.GraphQLName())).
				Params(ctx.Clone(), jen.Id("obj").Op("*").Qual(entPkg, n)).Params(typ, jen.Error()).Block(
				jen.List(jen.Id("v"), jen.Err()).Op(":=").Qual(pkgExpr, "Computed").Call(jen.Id("ctx"), jen.Lit(n), jen.Lit(fd.Name), jen.Id("obj")),
				jen.Return(jen.Qual(pkgGQLType, conv).Call(jen.Id("v")), jen.Err()),
			)
		}
	}
	return f
}

// searchedQuery starts a resolver that reads entity n's records: its query, narrowed by the search
// argument when the entity has search fields. The list and its count read the same records.
func searchedQuery(n string, searchable bool) []jen.Code {
	out := []jen.Code{jen.Id("query").Op(":=").Id("r").Dot("ent").Call(jen.Id("ctx")).Dot(n).Dot("Query").Call()}
	if searchable {
		out = append(out, jen.If(jen.Id("search").Op("!=").Nil()).Block(
			jen.If(jen.Id("p").Op(":=").Id("search"+n).Call(jen.Id("ctx"), jen.Op("*").Id("search")), jen.Id("p").Op("!=").Nil()).Block(
				jen.Id("query").Dot("Where").Call(jen.Id("p")))))
	}
	return out
}

// countResolver emits the count field of e (metamodel.Entity.CountField): the records its list field
// answers for the same where and search, counted whole, or, with upTo, only up to upTo + 1 of them.
func countResolver(f *jen.File, e *metamodel.Entity, entPkg string, searchable bool) {
	n := e.Name
	params := []jen.Code{jen.Id("ctx").Qual(pkgContext, "Context"), jen.Id("where").Op("*").Qual(entPkg, n+"WhereInput")}
	if searchable {
		params = append(params, jen.Id("search").Op("*").String())
	}
	body := append(searchedQuery(n, searchable),
		jen.If(jen.Id("where").Op("!=").Nil()).Block(
			jen.Var().Id("err").Error(),
			jen.If(jen.List(jen.Id("query"), jen.Id("err")).Op("=").Id("where").Dot("Filter").Call(jen.Id("query")), jen.Id("err").Op("!=").Nil()).Block(
				jen.Return(jen.Lit(0), jen.Id("err")))),
		jen.If(jen.Id("upTo").Op("!=").Nil()).Block(
			// Not DISTINCT (ent's default for IDs), which would read every row before the limit; the
			// filters are subqueries, so an id comes once.
			jen.List(jen.Id("ids"), jen.Id("err")).Op(":=").Id("query").Dot("Unique").Call(jen.False()).Dot("Limit").Call(
				jen.Qual(pkgGQLType, "CountLimit").Call(jen.Op("*").Id("upTo"))).Dot("IDs").Call(jen.Id("ctx")),
			jen.Return(jen.Len(jen.Id("ids")), jen.Id("err"))),
		jen.Return(jen.Id("query").Dot("Count").Call(jen.Id("ctx"))))
	f.Commentf("%s counts the %s records %s lists, at most upTo + 1 of them when upTo is given.", goName(e.CountField()), n, e.QueryField())
	f.Func().Params(jen.Id("r").Op("*").Id("queryResolver")).Id(goName(e.CountField())).Params(append(params, jen.Id("upTo").Op("*").Int())...).
		Params(jen.Int(), jen.Error()).Block(body...)
}

// automationsWrite reports whether an automation of entity writes records (sets values or creates a
// record), so that a mutation's answer must read its record again after them.
func automationsWrite(m *metamodel.Model, entity string) bool {
	for _, a := range m.AutomationsOf(entity) {
		for _, act := range a.Do {
			if len(act.Set) > 0 || act.Create != nil {
				return true
			}
		}
	}
	return false
}
