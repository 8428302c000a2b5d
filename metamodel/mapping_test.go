package metamodel

import "testing"

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"a":            "a",
		"name":         "name",
		"birthDate":    "birth_date",
		"lastContact":  "last_contact",
		"taxId":        "tax_id",
		"FollowUp":     "follow_up",
		"HTTPServer":   "http_server",
		"APIKey":       "api_key",
		"userID":       "user_id",
		"isVIP":        "is_vip",
		"ID":           "id",
		"address2":     "address2",
		"line2Text":    "line2_text",
		"utf8Name":     "utf8_name",
		"nameUTF8":     "name_utf8",
		"äpfelBaum":    "äpfel_baum",
		"passwordHash": "password_hash",
	} {
		if got := Snake(in); got != want {
			t.Errorf("Snake(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNameRoundTrips(t *testing.T) {
	for in, want := range map[string]bool{
		"name":      true,
		"birthDate": true,
		"taxId":     true,
		"line2Text": true,
		"userID":    false, // user_id → userId
		"isVIP":     false, // is_vip → isVip
		"fileURLs":  false,
	} {
		if got := NameRoundTrips(in); got != want {
			t.Errorf("NameRoundTrips(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestPlural(t *testing.T) {
	for in, want := range map[string]string{
		"Account":  "Accounts",
		"Category": "Categories",
		"Company":  "Companies",
		"Day":      "Days", // a vowel before y
		"Key":      "Keys",
		"Boy":      "Boys",
		"Address":  "Addresses",
		"Status":   "Statuses",
		"Box":      "Boxes",
		"Match":    "Matches",
		"Wish":     "Wishes",
		"FollowUp": "FollowUps",
		"Person":   "Persons", // mechanical, not English: ent would say People, but crmgen names tables itself
		"Y":        "Ys",
	} {
		if got := Plural(in); got != want {
			t.Errorf("Plural(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEntityNames(t *testing.T) {
	for _, c := range []struct {
		entity, table, pkg, query string
	}{
		{"Account", "accounts", "account", "accounts"},
		{"Category", "categories", "category", "categories"},
		{"FollowUp", "follow_ups", "followup", "followUps"},
		{"Address", "addresses", "address", "addresses"},
	} {
		e := &Entity{Name: c.entity}
		if got := e.Table(); got != c.table {
			t.Errorf("%s.Table() = %q, want %q", c.entity, got, c.table)
		}
		if got := e.Package(); got != c.pkg {
			t.Errorf("%s.Package() = %q, want %q", c.entity, got, c.pkg)
		}
		if got := e.QueryField(); got != c.query {
			t.Errorf("%s.QueryField() = %q, want %q", c.entity, got, c.query)
		}
	}
}

func TestGraphQLName(t *testing.T) {
	// Later words that are one of ent's initialisms are upper-cased, as entgql names the field; the first
	// word never is.
	for in, want := range map[string]string{
		"name":        "name",
		"birthDate":   "birthDate",
		"taxId":       "taxID",
		"websiteUrl":  "websiteURL",
		"homepageUri": "homepageURI",
		"userUuid":    "userUUID",
		"httpsUrl":    "httpsURL",
		"myIdCard":    "myIDCard",
		"apiKey":      "apiKey",
		"ipAddress":   "ipAddress",
		"cpuUsage":    "cpuUsage",
		"jsonData":    "jsonData",
		"rawJson":     "rawJSON",
		"textUtf8":    "textUTF8",
		"taxRate":     "taxRate",
		"ids":         "ids",
		"listIds":     "listIds", // "ids" is no initialism
	} {
		f := &Field{Name: in}
		if got := f.GraphQLName(); got != want {
			t.Errorf("Field %q: GraphQLName() = %q, want %q", in, got, want)
		}
		r := &Relation{Name: in}
		if got := r.GraphQLName(); got != want {
			t.Errorf("Relation %q: GraphQLName() = %q, want %q", in, got, want)
		}
	}
	// The foreign-key field: FKField is its model-level name (backend.go's setters and the seed data use
	// it), GraphQLFKName its name in the GraphQL API; they differ when the relation ends in an initialism.
	for _, c := range []struct{ name, model, graphql string }{
		{"account", "accountID", "accountID"},
		{"parentTeam", "parentTeamID", "parentTeamID"},
		{"apiClient", "apiClientID", "apiClientID"},
		{"primaryApi", "primaryApiID", "primaryAPIID"},
	} {
		r := &Relation{Name: c.name}
		if got := r.FKField(); got != c.model {
			t.Errorf("Relation %q: FKField() = %q, want %q", c.name, got, c.model)
		}
		if got := r.GraphQLFKName(); got != c.graphql {
			t.Errorf("Relation %q: GraphQLFKName() = %q, want %q", c.name, got, c.graphql)
		}
	}
}

// manyToMany returns the declared end from.name → to and its derived inverse.
func manyToMany(from, to *Entity, name, inverse string) (decl, inv *Relation) {
	decl = &Relation{Name: name, Kind: ManyToMany, To: to.Name, Inverse: inverse, Entity: from, Target: to}
	inv = &Relation{Name: inverse, Kind: ManyToMany, To: from.Name, Inverse: name, Derived: true, Entity: to, Target: from}
	decl.InverseRel, inv.InverseRel = inv, decl
	return decl, inv
}

func TestJoinTable(t *testing.T) {
	account, category := &Entity{Name: "Account"}, &Entity{Name: "Category"}
	followUp, person := &Entity{Name: "FollowUp"}, &Entity{Name: "Person"}
	for _, c := range []struct {
		from, to          *Entity
		name, inverse     string
		table, col1, col2 string
	}{
		{account, category, "tags", "taggedAccounts", "account_tags", "account_id", "category_id"},
		{account, category, "interestAreas", "interestedAccounts", "account_interest_areas", "account_id", "category_id"},
		{followUp, category, "relatedTags", "followUps", "follow_up_related_tags", "follow_up_id", "category_id"},
		// A self-reference names the second column after the inverse end (ent's default for a To/From
		// pair of one type), so the two columns differ.
		{person, person, "friends", "friendOf", "person_friends", "person_id", "friend_of_id"},
	} {
		decl, inv := manyToMany(c.from, c.to, c.name, c.inverse)
		// Both ends name the same table and columns, in the same order: the declaring side's id first.
		for _, r := range []*Relation{decl, inv} {
			q := r.Entity.Name + "." + r.Name
			if got := r.JoinTable(); got != c.table {
				t.Errorf("%s: JoinTable() = %q, want %q", q, got, c.table)
			}
			if c1, c2 := r.JoinColumns(); c1 != c.col1 || c2 != c.col2 {
				t.Errorf("%s: JoinColumns() = %q, %q, want %q, %q", q, c1, c2, c.col1, c.col2)
			}
		}
	}
}

func TestFieldAndRelationColumns(t *testing.T) {
	f := &Field{Name: "lastContact"}
	if f.EntName() != "last_contact" || f.Column() != "last_contact" {
		t.Errorf("lastContact: EntName %q, Column %q, want last_contact", f.EntName(), f.Column())
	}
	r := &Relation{Name: "parentTeam"}
	if r.EntName() != "parent_team" || r.FKColumn() != "parent_team_id" {
		t.Errorf("parentTeam: EntName %q, FKColumn %q, want parent_team and parent_team_id", r.EntName(), r.FKColumn())
	}
}
