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
		enforce.RuleMaxSize, enforce.RuleAccept, enforce.RuleFile,
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

// TestEveryKeyInEveryLanguage checks that the catalogue's languages have the same keys: a key missing in
// Chinese falls back to English, which a Chinese screen then shows.
func TestEveryKeyInEveryLanguage(t *testing.T) {
	for _, lang := range languages {
		for _, other := range languages {
			for k := range catalogue[other] {
				if catalogue[lang][k] == "" {
					t.Errorf("%q has words in %s but none in %s", k, other, lang)
				}
			}
		}
	}
}

// TestStepsOfNoUser checks that a step no user ran (a timer's, the demo data's seeding) is named in the
// reader's language in a record's timeline and history: the API names its user "system".
func TestStepsOfNoUser(t *testing.T) {
	if got := actorName("zh", "system"); got != "系统自动" {
		t.Errorf("zh: %q", got)
	}
	if got := actorName("en", "system"); got != "System (automatic)" {
		t.Errorf("en: %q", got)
	}
	if got := actorName("zh", "liuyang"); got != "liuyang" {
		t.Errorf("a user's name: %q", got)
	}
}
