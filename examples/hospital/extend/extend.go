// Package extend is the hospital's own Go code, kept beside its model: crmgen generate copies it into a
// new app's extend/ package, and never writes there again, so the app's copy is the team's to change.
//
// It checks resident ID card numbers before a patient is saved, and fills the patient's date of birth and
// gender from the card when the form leaves them empty: the card's checksum catches most typing errors,
// which the model's pattern (18 digits or X) cannot.
package extend

import (
	"context"
	"errors"
	"time"

	"github.com/crmgen/crmgen/platform/extension"
)

func init() {
	extension.BeforeWrite("Patient", checkIDCard)
}

// Messages of refused ID card numbers, in the hospital's locales.
var (
	msgChecksum = map[string]string{
		"zh": "身份证号校验位不正确，请核对后重新输入",
		"en": "The ID card number's check character is wrong: check the number and enter it again",
	}
	msgBirth = map[string]string{
		"zh": "身份证号中的出生日期无效",
		"en": "The date of birth in the ID card number is not a valid date",
	}
)

// checkIDCard refuses a patient whose ID card number fails its checksum or holds no valid date of birth,
// and fills birthDate and gender from a valid one where they are empty ("unknown" gender counts as empty).
// A number that is not 18 digits-or-X is left to the model's pattern rule, which words it already; a write
// that does not set the number (an update of other fields) is not checked again.
func checkIDCard(ctx context.Context, w *extension.Write) error {
	if w.Op == extension.Delete || !w.Sets("idCard") {
		return nil
	}
	number, err := w.String("idCard")
	if err != nil || number == "" {
		return err
	}
	card, err := ParseIDCard(number, time.Now())
	switch {
	case errors.Is(err, errFormat):
		return nil
	case errors.Is(err, errChecksum):
		return extension.Refuse("idCard", "checksum", msgChecksum)
	case err != nil:
		return extension.Refuse("idCard", "birthDate", msgBirth)
	}
	if _, set, err := w.Get("birthDate"); err != nil {
		return err
	} else if !set {
		if err := w.Set("birthDate", card.Birth.Format("2006-01-02")); err != nil {
			return err
		}
	}
	gender, err := w.String("gender")
	if err != nil {
		return err
	}
	if gender == "" || gender == "unknown" {
		g := "male"
		if card.Female {
			g = "female"
		}
		return w.Set("gender", g)
	}
	return nil
}
