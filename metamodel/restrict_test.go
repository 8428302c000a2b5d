package metamodel

import (
	"reflect"
	"sort"
	"strings"
	"testing"
)

const restrictModel = `
app: {name: r, locales: [en], defaultLocale: en}
entities:
  Customer:
    fields:
      name:   {type: string}
      ssn:    {type: string, sensitive: true}
      secret: {type: float}
      double: {type: float, computed: 'record.secret * 2.0'}
      shown:  {type: string, computed: 'record.ssn'}
      plain:  {type: string, computed: 'record.name + "!"'}
  Order:
    fields:
      total: {type: float}
      risk:  {type: float, computed: 'record.customer.secret + record.total'}
    relations:
      customer: {to: Customer, kind: belongsTo, inverse: orders}
roles:
  clerk:
    permissions:
      Customer: {read: all, fields: {secret: hidden}}
      Order: {read: all}
`

// Computed fields inherit the restrictions of what they read, here and through relations; validation
// says so at the computed field.
func TestRestrictableComputed(t *testing.T) {
	dir := writeModel(t, map[string]string{"m.yaml": restrictModel})
	m, err := Load(dir)
	if err == nil {
		m, err = Build(m)
	}
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, e := range m.Entities {
		for name := range m.Restrictable(e) {
			got[e.Name] = append(got[e.Name], name)
		}
		sort.Strings(got[e.Name])
	}
	want := map[string][]string{
		"Customer": {"double", "owner", "secret", "shown", "ssn"},
		"Order":    {"customer", "owner", "risk"},
		"User":     {"team"},
		"Team":     {"parent"},
	}
	for e, w := range want {
		if !reflect.DeepEqual(got[e], w) {
			t.Errorf("Restrictable(%s) = %v, want %v", e, got[e], w)
		}
	}
	reads := m.ExprReads(m.Entity("Order"), m.Entity("Order").Field("risk").Computed)
	if want := []Read{{"Order", "customer"}, {"Customer", "secret"}, {"Order", "total"}}; !reflect.DeepEqual(reads, want) {
		t.Errorf("ExprReads(Order.risk) = %v, want %v", reads, want)
	}
	warns := strings.Join(lines(m.Warnings), "\n")
	for _, w := range []string{
		`m.yaml:8:7: warning: role "clerk" hides "secret", which computed field "Customer.double" reads, so the computed field is hidden from that role too; add double: hidden to the role's fields to say so`,
		`m.yaml:9:7: warning: computed field "Customer.shown" reads sensitive field "ssn", so it is left out of lists, search and exports like it; add sensitive: true to say so`,
		`m.yaml:14:7: warning: role "clerk" hides "Customer.secret", which computed field "Order.risk" reads, so the computed field is hidden from that role too; add risk: hidden to the role's fields to say so`,
	} {
		if !strings.Contains(warns, w) {
			t.Errorf("missing warning\n  %s\nin\n%s", w, warns)
		}
	}
	if strings.Contains(warns, "Customer.plain") {
		t.Errorf("a computed field over unrestricted fields is warned about:\n%s", warns)
	}
}
