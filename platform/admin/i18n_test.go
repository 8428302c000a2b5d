package admin

import (
	"testing"

	"github.com/crmgen/crmgen/platform/enforce"
)

// TestEveryRuleIsWorded checks that each rule the enforcement point can name has its words in every
// language of the screens: a rule without them was shown as "wrong type of value", which told a physician
// importing a patient for a colleague nothing about why.
func TestEveryRuleIsWorded(t *testing.T) {
	rules := []string{
		enforce.RuleRequired, enforce.RuleUnique, enforce.RuleMin, enforce.RuleMax, enforce.RuleMinLen,
		enforce.RuleMaxLen, enforce.RulePattern, enforce.RuleEmail, enforce.RulePhone, enforce.RuleURL,
		enforce.RuleEnum, enforce.RuleScale, enforce.RulePrecision, enforce.RuleReadonly, enforce.RuleExists,
		enforce.RuleType, enforce.RuleCycle, enforce.RuleWorkflow, enforce.RuleOwner,
		enforce.RuleMaxSize, enforce.RuleAccept,
	}
	for _, lang := range []string{"zh", "en"} {
		for _, r := range rules {
			if catalogue[lang]["rule."+r] == "" {
				t.Errorf("rule %q has no words in %s", r, lang)
			}
		}
	}
	if ruleText("zh", enforce.RuleOwner) == catalogue["zh"]["rule.type"] {
		t.Errorf("the owner rule is worded as a type error")
	}
}
