package extend

import (
	"context"
	"time"

	"hospital/ent"
	"hospital/ent/followup"

	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/extension"
)

// FollowUpsDueToday resolves Query.followUpsDueToday (schema.graphql): the open follow-ups due today in
// the app's time zone. The client in ctx reads as the caller, so a physician gets their own follow-ups,
// a department head their department's and the service center all of them.
func FollowUpsDueToday(ctx context.Context) ([]*ent.FollowUp, error) {
	now := time.Now().In(enforce.FromContext(ctx).Model.App.Location())
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	return ent.FromContext(ctx).FollowUp.Query().
		Where(followup.CompletedAtIsNil(), followup.DueAtGTE(start), followup.DueAtLT(start.AddDate(0, 0, 1))).
		Order(ent.Asc(followup.FieldDueAt), ent.Asc(followup.FieldID)).
		All(ctx)
}

// Messages of refused postponements, in the hospital's locales.
var (
	msgDays = map[string]string{
		"zh": "只能推迟 1 到 30 天",
		"en": "Follow-ups can be postponed by 1 to 30 days",
	}
	msgNoDue = map[string]string{
		"zh": "该随访没有计划随访时间，无法推迟",
		"en": "This follow-up has no due time to postpone",
	}
)

// PostponeFollowUps resolves Mutation.postponeFollowUps (schema.graphql). Each update goes through the
// enforcement point as the caller (a follow-up they may not update is refused); the mutation's one
// transaction makes the whole list one change: when one follow-up is refused, none moves.
func PostponeFollowUps(ctx context.Context, ids []int, days int) ([]*ent.FollowUp, error) {
	if days < 1 || days > 30 {
		return nil, extension.Refuse("days", "range", msgDays)
	}
	client := ent.FromContext(ctx)
	out := make([]*ent.FollowUp, 0, len(ids))
	for _, id := range ids {
		f, err := client.FollowUp.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if f.DueAt == nil {
			return nil, extension.Refuse("dueAt", "missing", msgNoDue)
		}
		if f, err = client.FollowUp.UpdateOne(f).SetDueAt(f.DueAt.AddDate(0, 0, days)).Save(ctx); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
