package generator

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	atlas "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	entschema "entgo.io/ent/dialect/sql/schema"
	"github.com/zclconf/go-cty/cty"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/database"
)

// Versioned migrations. A generated app keeps, per dialect, the SQL files that build its schema one model
// version after another, in migrations/<dialect>/ (Atlas's directory format: NNNN_name.sql files and an
// atlas.sum of their checksums), and schema.hcl, the schema those files build. Each generation diffs that
// schema with the one the model's ent schemas describe now and, when they differ, adds a file; earlier
// files are carried over unchanged. The diff needs no database: both sides are Atlas schemas (the previous
// one read back from schema.hcl, the new one converted from ent's tables and written through the same HCL,
// so both are compared in the same form), diffed and planned by Atlas's offline differ and planner.
// renamedFrom turns a dropped and an added column into a rename, so the data stays.

// MigrationDialects are the databases a generated app ships migrations for.
var MigrationDialects = []string{dialect.SQLite, dialect.Postgres}

// MigrationsDir is the directory of an app's migrations, one subdirectory per dialect.
const MigrationsDir = "migrations"

// MigrationDir is the directory of the migrations of dialect d in an app: migrations/sqlite or
// migrations/postgres.
func MigrationDir(d string) string {
	if d == dialect.SQLite {
		return path.Join(MigrationsDir, "sqlite")
	}
	return path.Join(MigrationsDir, d)
}

// migrationSchemaFile is the schema the migrations of a dialect build, the base of the next diff.
const migrationSchemaFile = "schema.hcl"

// Migration is one dialect's change of an app's schema from its last generation to the model.
type Migration struct {
	Dialect    string
	File       string   // the new migration's path in the app, or "" when the schema did not change
	Statements []string // its SQL statements
}

// dialectSpec is what differs between the dialects for migrations.
type dialectSpec struct {
	schema  string // the schema name in the HCL document
	marshal func(any) ([]byte, error)
	eval    func([]byte, any, map[string]cty.Value) error
	diff    atlas.Differ
	plan    migrate.PlanApplier
	version string // what the ent converter asks the database at init
}

var dialects = map[string]dialectSpec{
	dialect.SQLite: {schema: "main", marshal: sqlite.MarshalHCL.MarshalSpec, eval: sqlite.EvalHCLBytes,
		diff: sqlite.DefaultDiff, plan: sqlite.DefaultPlan, version: "1"},
	dialect.Postgres: {schema: "public", marshal: postgres.MarshalHCL.MarshalSpec, eval: postgres.EvalHCLBytes,
		diff: postgres.DefaultDiff, plan: postgres.DefaultPlan, version: "160000"},
}

// migrations emits the app's migrations for the ent tables the model describes now: the files of the
// previous generation carried over and, per dialect whose schema changed, a new file; every directory with
// its atlas.sum and schema.hcl. It returns the new migrations.
func migrations(ctx context.Context, m *metamodel.Model, tables []*entschema.Table, opts Options, files Files) ([]Migration, error) {
	var out []Migration
	for _, d := range MigrationDialects {
		mig, err := migrationFor(ctx, m, d, tables, opts, files)
		if err != nil {
			return nil, fmt.Errorf("plan the %s migration: %w", d, err)
		}
		out = append(out, mig)
	}
	return out, nil
}

func migrationFor(ctx context.Context, m *metamodel.Model, d string, tables []*entschema.Table, opts Options, files Files) (Migration, error) {
	spec := dialects[d]
	dir := MigrationDir(d)
	mig := Migration{Dialect: d}
	next, direct, err := desiredHCL(ctx, m, d, tables)
	if err != nil {
		return mig, err
	}
	// The previous generation's files of this dialect, in version order.
	var sqlFiles []string
	var prevHCL []byte
	if opts.Previous != nil && opts.ReadPrevious != nil {
		prevPaths := make([]string, 0, len(opts.Previous.Files))
		for p := range opts.Previous.Files {
			prevPaths = append(prevPaths, p)
		}
		sort.Strings(prevPaths)
		for _, p := range prevPaths {
			if path.Dir(p) != dir {
				continue
			}
			b, err := opts.ReadPrevious(p)
			if err != nil {
				return mig, fmt.Errorf("read %s of the previous generation: %w", p, err)
			}
			switch {
			case strings.HasSuffix(p, ".sql"):
				files[p] = b
				sqlFiles = append(sqlFiles, p)
			case path.Base(p) == migrationSchemaFile:
				prevHCL = b
			}
		}
	}
	sort.Strings(sqlFiles)
	var prev, cur atlas.Realm
	if prevHCL != nil {
		if err := spec.eval(prevHCL, &prev, nil); err != nil {
			return mig, fmt.Errorf("read %s/%s: %w", dir, migrationSchemaFile, err)
		}
	}
	if err := spec.eval(next, &cur, nil); err != nil {
		return mig, err
	}
	from, to := schemaOf(&prev, spec.schema), schemaOf(&cur, spec.schema)
	keepSequences(from, to, direct)
	changes, err := spec.diff.SchemaDiff(from, to)
	if err != nil {
		return mig, err
	}
	changes, renamedEntities, err := renameTables(m, spec.diff, changes)
	if err != nil {
		return mig, err
	}
	changes = applyRenamedFrom(m, from, changes)
	if len(changes) > 0 {
		name := "model"
		if len(sqlFiles) == 0 {
			name = "init"
		}
		plan, err := spec.plan.PlanChanges(ctx, name, changes, func(o *migrate.PlanOptions) { o.SchemaQualifier = new(string) })
		if err != nil {
			return mig, err
		}
		if d == dialect.SQLite {
			plan.Changes = append(plan.Changes, rebuiltSequences(plan, changes, direct)...)
		}
		plan.Changes = append(plan.Changes, renamedEntities...)
		var b strings.Builder
		fmt.Fprintf(&b, "-- Generated by crmgen from the model of %s; review it before it runs on a database with data.\n", m.App.Name)
		for _, c := range plan.Changes {
			if c.Comment != "" {
				fmt.Fprintf(&b, "-- %s\n", c.Comment)
			}
			fmt.Fprintf(&b, "%s;\n", c.Cmd)
			mig.Statements = append(mig.Statements, c.Cmd)
		}
		mig.File = path.Join(dir, fmt.Sprintf("%04d_%s.sql", len(sqlFiles)+1, name))
		files[mig.File] = []byte(b.String())
		sqlFiles = append(sqlFiles, mig.File)
	}
	files[path.Join(dir, migrationSchemaFile)] = next
	mem := &migrate.MemDir{}
	for _, p := range sqlFiles {
		if err := mem.WriteFile(path.Base(p), files[p]); err != nil {
			return mig, err
		}
	}
	list, err := mem.Files()
	if err != nil {
		return mig, err
	}
	sum, err := migrate.NewHashFile(list)
	if err != nil {
		return mig, err
	}
	b, err := sum.MarshalText()
	if err != nil {
		return mig, err
	}
	files[path.Join(dir, migrate.HashFileName)] = b
	return mig, nil
}

// schemaOf returns the schema named name of r, or an empty one.
func schemaOf(r *atlas.Realm, name string) *atlas.Schema {
	if s, ok := r.Schema(name); ok {
		return s
	}
	return atlas.New(name)
}

// platformEntityTables are the platform's tables with an entity column naming the records' entity
// (platform/app creates them before migrations run).
var platformEntityTables = []string{"crm_audit", "crm_workflow_history", "crm_timers"}

// renameTables turns the drop of a renamed entity's previous table and the add of its new one into a
// rename followed by the table's other changes, and returns the statements that make the platform's
// tables (audit, workflow history, timers) name the entity by its new name.
func renameTables(m *metamodel.Model, differ atlas.Differ, changes []atlas.Change) ([]atlas.Change, []*migrate.Change, error) {
	var renames, rest []atlas.Change
	var platform []*migrate.Change
	dropped := map[string]*atlas.Table{}
	for _, c := range changes {
		if dt, ok := c.(*atlas.DropTable); ok {
			dropped[dt.T.Name] = dt.T
		}
	}
	used := map[string]bool{}
	for _, c := range changes {
		at, ok := c.(*atlas.AddTable)
		if !ok {
			continue
		}
		e := entityOfTable(m, at.T.Name)
		if e == nil || e.RenamedFrom == "" {
			continue
		}
		old, ok := dropped[(&metamodel.Entity{Name: e.RenamedFrom}).Table()]
		if !ok {
			continue
		}
		used[old.Name], used[at.T.Name] = true, true
		renames = append(renames, &atlas.RenameTable{From: old, To: at.T})
		moved := *old
		moved.Name = at.T.Name
		tc, err := differ.TableDiff(&moved, at.T)
		if err != nil {
			return nil, nil, err
		}
		if len(tc) > 0 {
			rest = append(rest, &atlas.ModifyTable{T: at.T, Changes: tc})
		}
		for _, pt := range platformEntityTables {
			platform = append(platform, &migrate.Change{
				Cmd:     fmt.Sprintf("UPDATE %s SET entity = '%s' WHERE entity = '%s'", pt, e.Name, e.RenamedFrom),
				Comment: fmt.Sprintf("%s names the renamed entity %s by its new name", pt, e.RenamedFrom),
			})
		}
	}
	if len(renames) == 0 {
		return changes, nil, nil
	}
	for _, c := range changes {
		switch c := c.(type) {
		case *atlas.DropTable:
			if used[c.T.Name] {
				continue
			}
		case *atlas.AddTable:
			if used[c.T.Name] {
				continue
			}
		}
		rest = append(rest, c)
	}
	return append(renames, rest...), platform, nil
}

// applyRenamedFrom turns the drop of a field's previous column and the add of its new one into a rename
// (METAMODEL.md, renamedFrom), so the migration keeps the column's values.
func applyRenamedFrom(m *metamodel.Model, from *atlas.Schema, changes []atlas.Change) []atlas.Change {
	for _, c := range changes {
		mt, ok := c.(*atlas.ModifyTable)
		if !ok {
			continue
		}
		e := entityOfTable(m, mt.T.Name)
		if e == nil {
			continue
		}
		for _, f := range e.Fields {
			if f.RenamedFrom == "" {
				continue
			}
			oldCol, newCol := (&metamodel.Field{Name: f.RenamedFrom}).Column(), f.Column()
			drop, add := -1, -1
			for i, tc := range mt.Changes {
				switch tc := tc.(type) {
				case *atlas.DropColumn:
					if tc.C.Name == oldCol {
						drop = i
					}
				case *atlas.AddColumn:
					if tc.C.Name == newCol {
						add = i
					}
				}
			}
			if drop < 0 || add < 0 {
				continue
			}
			mt.Changes[drop] = &atlas.RenameColumn{From: mt.Changes[drop].(*atlas.DropColumn).C, To: mt.Changes[add].(*atlas.AddColumn).C}
			mt.Changes = append(mt.Changes[:add], mt.Changes[add+1:]...)
		}
	}
	return changes
}

func entityOfTable(m *metamodel.Model, table string) *metamodel.Entity {
	for _, e := range m.Entities {
		if e.Table() == table {
			return e
		}
	}
	return nil
}

// keepSequences gives the tables that to adds the first id of their range of global ids (ent's
// IncrementStart), which SQLite's HCL does not hold: without it, ids of different entities collide.
func keepSequences(from, to, direct *atlas.Schema) {
	for _, t := range to.Tables {
		if _, ok := from.Table(t.Name); ok {
			continue
		}
		dt, ok := direct.Table(t.Name)
		if !ok {
			continue
		}
		var attrs []atlas.Attr
		attrs = append(attrs, dt.Attrs...)
		if dt.PrimaryKey != nil && len(dt.PrimaryKey.Parts) == 1 && dt.PrimaryKey.Parts[0].C != nil {
			attrs = append(attrs, dt.PrimaryKey.Parts[0].C.Attrs...)
		}
		for _, a := range attrs {
			if inc, ok := a.(*sqlite.AutoIncrement); ok && inc.Seq > 0 {
				t.AddAttrs(&sqlite.AutoIncrement{Seq: inc.Seq})
			}
		}
	}
}

// rebuiltSequences keeps the range of global ids of each table SQLite rebuilds (created anew, rows
// copied): the copy sets the new table's sequence to its largest id, but an empty table's would start at
// 1, inside another entity's range.
func rebuiltSequences(plan *migrate.Plan, changes []atlas.Change, direct *atlas.Schema) []*migrate.Change {
	var out []*migrate.Change
	for _, c := range changes {
		mt, ok := c.(*atlas.ModifyTable)
		if !ok {
			continue
		}
		rebuilt := false
		for _, pc := range plan.Changes {
			rebuilt = rebuilt || strings.HasPrefix(pc.Cmd, "CREATE TABLE `new_"+mt.T.Name+"`")
		}
		dt, ok := direct.Table(mt.T.Name)
		if !rebuilt || !ok || dt.PrimaryKey == nil || len(dt.PrimaryKey.Parts) != 1 || dt.PrimaryKey.Parts[0].C == nil {
			continue
		}
		var inc sqlite.AutoIncrement
		for _, a := range append(dt.Attrs, dt.PrimaryKey.Parts[0].C.Attrs...) {
			if x, ok := a.(*sqlite.AutoIncrement); ok && x.Seq > 0 {
				inc = *x
			}
		}
		if inc.Seq == 0 {
			continue
		}
		out = append(out, &migrate.Change{
			Cmd: fmt.Sprintf("INSERT INTO sqlite_sequence (name, seq) SELECT '%s', %d WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = '%s')",
				mt.T.Name, inc.Seq, mt.T.Name),
			Comment: fmt.Sprintf("keep the range of ids of the rebuilt %q table", mt.T.Name),
		})
	}
	return out
}

// desiredHCL converts ent's tables to an Atlas schema of dialect d, written as HCL, and returns it with
// the schema it converted.
func desiredHCL(ctx context.Context, m *metamodel.Model, d string, tables []*entschema.Table) ([]byte, *atlas.Schema, error) {
	var realm *atlas.Realm
	var a *entschema.Atlas
	a, err := entschema.NewMigrate(offline{d}, entschema.WithHooks(func(entschema.Creator) entschema.Creator {
		// Create prepares the tables (columns, keys, symbols) the way a migration at start does; the hook
		// takes the schema they describe instead of applying it.
		return entschema.CreateFunc(func(ctx context.Context, tables ...*entschema.Table) (err error) {
			realm, err = a.StateReader(tables...).ReadState(ctx)
			return err
		})
	}))
	if err != nil {
		return nil, nil, err
	}
	if err := a.Create(ctx, tables...); err != nil {
		return nil, nil, err
	}
	s := schemaOf(realm, "")
	s.Name = dialects[d].schema
	s.Realm = nil
	// ent leaves an identity's generation and increment to the database's defaults; HCL needs them named.
	for _, t := range s.Tables {
		for _, c := range t.Columns {
			for _, a := range c.Attrs {
				if id, ok := a.(*postgres.Identity); ok {
					if id.Generation == "" {
						id.Generation = "BY DEFAULT"
					}
					if id.Sequence != nil && id.Sequence.Increment == 0 {
						id.Sequence.Increment = 1
					}
				}
			}
		}
	}
	if d == dialect.Postgres {
		addBigramIndexes(m, s)
	}
	b, err := dialects[d].marshal(s)
	return b, s, err
}

// addBigramIndexes adds to s, a Postgres schema, the GIN index on the bigrams of each column an entity's
// search reads (metamodel's TextSearchFields; database.ContainsFold is the condition it serves). ent's
// schema has no expression indexes, so they join its tables here. The function they call is the
// platform's, created at start before migrations run (database.SearchDDL).
func addBigramIndexes(m *metamodel.Model, s *atlas.Schema) {
	for _, e := range m.Entities {
		t, ok := s.Table(e.Table())
		if !ok {
			continue
		}
		for _, f := range e.TextSearchFields() {
			c, ok := t.Column(f.Column())
			if !ok {
				continue
			}
			t.Indexes = append(t.Indexes, &atlas.Index{
				Name:  bigramIndexName(t.Name, c.Name),
				Table: t,
				Parts: []*atlas.IndexPart{{SeqNo: 1, X: &atlas.RawExpr{X: database.BigramIndexExpr(c.Name)}}},
				Attrs: []atlas.Attr{&postgres.IndexType{T: "GIN"}},
			})
		}
	}
}

// bigramIndexName names the bigram index of column in table within Postgres's 63 bytes: a name that
// would be longer keeps its start and ends in a hash of the whole, so it stays unique and stable.
func bigramIndexName(table, column string) string {
	name := table + "_" + column + "_bigrams"
	if len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:63-9] + "_" + hex.EncodeToString(sum[:4])
}

// offline is the database the ent schema converter asks for its version at init: none, it answers alone.
type offline struct{ dialect string }

func (o offline) Dialect() string { return o.dialect }
func (o offline) Close() error    { return nil }
func (o offline) Exec(context.Context, string, any, any) error {
	return errors.New("offline: no database")
}
func (o offline) Tx(context.Context) (dialect.Tx, error) {
	return nil, errors.New("offline: no database")
}
func (o offline) Query(_ context.Context, _ string, _, v any) error {
	rows, ok := v.(*entsql.Rows)
	if !ok {
		return errors.New("offline: unexpected query")
	}
	rows.ColumnScanner = &oneValue{v: dialects[o.dialect].version}
	return nil
}

// oneValue is a result of one row and one column.
type oneValue struct {
	v    string
	done bool
}

func (r *oneValue) Close() error                            { return nil }
func (r *oneValue) ColumnTypes() ([]*sql.ColumnType, error) { return nil, nil }
func (r *oneValue) Columns() ([]string, error)              { return []string{"v"}, nil }
func (r *oneValue) Err() error                              { return nil }
func (r *oneValue) NextResultSet() bool                     { return false }
func (r *oneValue) Next() bool {
	ok := !r.done
	r.done = true
	return ok
}
func (r *oneValue) Scan(dest ...any) error {
	switch p := dest[0].(type) {
	case *string:
		*p = r.v
	case *int:
		_, err := fmt.Sscan(r.v, p)
		return err
	case *int64:
		_, err := fmt.Sscan(r.v, p)
		return err
	case *sql.NullInt64:
		p.Valid = true
		_, err := fmt.Sscan(r.v, &p.Int64)
		return err
	default:
		return fmt.Errorf("offline: scan into %T", dest[0])
	}
	return nil
}
