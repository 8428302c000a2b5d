package metamodel

// The built-in entities User and Team always exist. A model may declare either to add fields, relations,
// indexes and views; its declaration is merged into the built-in one.

func intp(i int) *int { return &i }

func builtinUser() *Entity {
	return &Entity{
		Name:    "User",
		Label:   Text{"zh": "用户", "en": "User"},
		Builtin: true,
		Fields: []*Field{
			{Name: "username", Type: TypeString, Required: true, Unique: true, MaxLen: intp(64), Search: true,
				Label: Text{"zh": "用户名", "en": "Username"}},
			{Name: "displayName", Type: TypeString, MaxLen: intp(128), Search: true,
				Label: Text{"zh": "显示名", "en": "Display name"}},
			{Name: "email", Type: TypeEmail, Label: Text{"zh": "邮箱", "en": "Email"}},
			{Name: "phone", Type: TypePhone, Label: Text{"zh": "电话", "en": "Phone"}},
			{Name: "active", Type: TypeBool, Default: true, Label: Text{"zh": "启用", "en": "Active"}},
			{Name: "roles", Type: TypeJSON, System: true, Label: Text{"zh": "角色", "en": "Roles"},
				Help: Text{"zh": "角色名列表", "en": "List of role names"}},
			{Name: "passwordHash", Type: TypeString, System: true, Secret: true,
				Label: Text{"zh": "密码哈希", "en": "Password hash"}},
		},
		Relations: []*Relation{
			{Name: "team", To: "Team", Kind: BelongsTo, Inverse: "members", OnDelete: OnDeleteSetNull,
				Label: Text{"zh": "团队", "en": "Team"}},
		},
	}
}

func builtinTeam() *Entity {
	return &Entity{
		Name:    "Team",
		Label:   Text{"zh": "团队", "en": "Team"},
		Builtin: true,
		Fields: []*Field{
			{Name: "name", Type: TypeString, Required: true, MaxLen: intp(128), Search: true,
				Label: Text{"zh": "名称", "en": "Name"}},
		},
		Relations: []*Relation{
			{Name: "parent", To: "Team", Kind: BelongsTo, Inverse: "children", OnDelete: OnDeleteRestrict,
				Label: Text{"zh": "上级团队", "en": "Parent team"}},
		},
	}
}

// builtinDerivedLabels label the derived ends of the built-in relations.
var builtinDerivedLabels = map[string]Text{
	"Team.members":  {"zh": "成员", "en": "Members"},
	"Team.children": {"zh": "下级团队", "en": "Sub-teams"},
}

// builtinTraits apply to User and Team unless the model's declaration lists traits.
var builtinTraits = []string{TraitTimestamps}

// builtins adds User and Team, merging the model's declarations of them.
func (b *builder) builtins() {
	for _, mk := range []func() *Entity{builtinUser, builtinTeam} {
		be := mk()
		var decl *Entity
		idx := -1
		for i, e := range b.m.Entities {
			if e.Name == be.Name {
				decl, idx = e, i
				break
			}
		}
		for _, f := range be.Fields {
			f.Entity = be
		}
		for _, r := range be.Relations {
			r.Entity = be
		}
		be.Traits = append([]string(nil), builtinTraits...)
		if decl == nil {
			b.m.Entities = append(b.m.Entities, be)
			continue
		}
		b.mergeBuiltin(be, decl)
		b.m.Entities[idx] = be
	}
}

func (b *builder) mergeBuiltin(be, decl *Entity) {
	be.Pos = decl.Pos
	if len(decl.Label) > 0 {
		be.Label = decl.Label
	}
	if b.m.hasKey(decl, "traits") {
		be.Traits = decl.Traits
	}
	be.Display = decl.Display
	be.OwnerField = decl.OwnerField
	b.m.src[be] = b.m.src[decl]
	for _, f := range decl.Fields {
		if old := be.Field(f.Name); old != nil || fieldIn(be.Fields, f.Name) != nil {
			b.errorf(f.Pos, "field %q is built in; choose another name", be.Name+"."+f.Name)
			continue
		}
		f.Entity = be
		be.Fields = append(be.Fields, f)
	}
	for _, r := range decl.Relations {
		if relIn(be.Relations, r.Name) != nil {
			b.errorf(r.Pos, "relation %q is built in; choose another name", be.Name+"."+r.Name)
			continue
		}
		r.Entity = be
		be.Relations = append(be.Relations, r)
	}
	be.Indexes = decl.Indexes
	be.Views = decl.Views
}

func fieldIn(fs []*Field, name string) *Field {
	for _, f := range fs {
		if f.Name == name {
			return f
		}
	}
	return nil
}

func relIn(rs []*Relation, name string) *Relation {
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	return nil
}
