package billing_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/billing"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	gib := int64(1) << 30
	for _, tc := range []struct {
		name     string
		tier     models.Tier
		feature  models.Feature
		allowed  bool
		required models.Tier
		reason   string
	}{
		{"free has 3 agents", models.TierFree, models.Agents(3), true, "", ""},
		{"a fourth agent needs pro", models.TierFree, models.Agents(4), false, models.TierPro, "the FREE tier allows 3 of chat agents; 4 were asked for; PRO does"},
		{"pro has any number of agents", models.TierPro, models.Agents(1000), true, "", ""},
		{"free has one provider", models.TierFree, models.Providers(1), true, "", ""},
		{"no amount asks for any", models.TierFree, models.Providers(0), true, "", ""},
		{"free has no batch", models.TierFree, models.Batch(), false, models.TierPro, "the FREE tier does not include batch runs of playbooks; PRO does"},
		{"free has no backups", models.TierFree, models.Backup(1), false, models.TierPro, "the FREE tier does not include backup storage; PRO does"},
		{"pro has 5 GiB of backups", models.TierPro, models.Backup(5 * gib), true, "", ""},
		{"more needs power", models.TierPro, models.Backup(6 * gib), false, models.TierPower, "the PRO tier allows 5.0 GiB of backup storage; 6.0 GiB were asked for; POWER does"},
		{"a terabyte needs team", models.TierPro, models.Backup(1024 * gib), false, models.TierTeam, ""},
		{"byok needs power", models.TierPro, models.BYOK(), false, models.TierPower, ""},
		{"power has byok", models.TierPower, models.BYOK(), true, "", ""},
		{"sso needs team", models.TierPower, models.SSO(), false, models.TierTeam, ""},
		{"team has sso", models.TierTeam, models.SSO(), true, "", ""},
		{"an unknown tier is free", models.Tier("gold"), models.Batch(), false, models.TierPro, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := billing.Decide(tc.tier, tc.feature, "")
			require.Equal(t, tc.allowed, d.Allowed)
			require.Equal(t, tc.required, d.RequiredTier)
			require.Equal(t, tc.feature.Key, d.Feature)
			if tc.allowed {
				require.Empty(t, d.Reason)
				require.Nil(t, d.Upgrade())
			} else {
				require.NotEmpty(t, d.Reason)
				require.Equal(t, tc.required, *d.Upgrade())
			}
			if tc.reason != "" {
				require.Equal(t, tc.reason, d.Reason)
			}
		})
	}
	d := billing.Decide(models.TierFree, models.Agents(4), "a payment failed")
	require.Contains(t, d.Reason, "(a payment failed)")
	require.Equal(t, int64(3), *d.Limit)
	require.Nil(t, billing.Decide(models.TierPro, models.Agents(4), "").Limit, "unlimited")
	require.Nil(t, billing.Decide(models.TierPro, models.Batch(), "").Limit, "on/off")
}

func TestEntitlementsFollowTheTier(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db, withoutStripe())
		ctx := context.Background()
		for _, tier := range models.Tiers() {
			user := e.newUser(t)
			_, err := e.accounts.SetTier(ctx, user, tier)
			require.NoError(t, err)
			ents, err := e.svc.Entitlements(ctx, user)
			require.NoError(t, err)
			row := models.FeaturesOf(tier)
			var keys []models.FeatureKey
			for _, ent := range ents {
				keys = append(keys, ent.Feature)
				require.Equal(t, row.Allows(models.Feature{Key: ent.Feature}), ent.Allowed, "%s %s", tier, ent.Feature)
				require.Equal(t, ent.Allowed, ent.Reason == "", "%s %s", tier, ent.Feature)
				if limit := row.Limit(ent.Feature); ent.Feature.Metered() && limit != models.Unlimited {
					require.Equal(t, limit, *ent.Limit, "%s %s", tier, ent.Feature)
				} else {
					require.Nil(t, ent.Limit, "%s %s", tier, ent.Feature)
				}
			}
			require.Equal(t, models.FeatureKeys(), keys)
		}

		user := e.newUser(t)
		_, err := e.svc.Allowed(ctx, user, models.Feature{Key: "TELEPORT"})
		require.Equal(t, models.CodeBadUserInput, codeOf(err))
		_, err = e.svc.Allowed(ctx, user, models.Agents(-1))
		require.Equal(t, models.CodeBadUserInput, codeOf(err))
	})
}

func TestGraceEndsLazilyAndBySweep(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db, withoutStripe())
		ctx := context.Background()
		user := e.newUser(t)
		e.linkCustomer(t, user, "cus_grace")
		ch, err := e.svc.BillingEvents(ctx, user)
		require.NoError(t, err)

		t0 := e.clock.Now().Unix()
		s := sub{ID: "sub_grace", Customer: "cus_grace", Status: "active", Price: pricePower}
		e.mustDeliver(t, subEvent("evt_g1", "customer.subscription.created", t0, s))
		e.mustDeliver(t, invoiceEvent("evt_g2", "invoice.payment_failed", t0+60, "sub_grace", "cus_grace"))
		<-ch
		<-ch
		failedAt := time.Unix(t0+60, 0).UTC()
		allowedBYOK := func() models.Decision {
			d, err := e.svc.Allowed(ctx, user, models.BYOK())
			require.NoError(t, err)
			return d
		}

		// Within the grace: past due, tier kept.
		e.clock.Set(failedAt.Add(grace - time.Second))
		got, err := e.svc.Subscription(ctx, user)
		require.NoError(t, err)
		require.Equal(t, models.SubscriptionPastDue, got.Status)
		require.Equal(t, models.TierPower, got.Tier)
		require.Equal(t, failedAt.Add(grace), *got.GraceUntil)
		require.True(t, allowedBYOK().Allowed)
		n, err := e.svc.ExpireGrace(ctx)
		require.NoError(t, err)
		require.Zero(t, n)

		// At its end, reads say free at once, before any sweep…
		e.clock.Set(failedAt.Add(grace))
		got, err = e.svc.Subscription(ctx, user)
		require.NoError(t, err)
		require.Equal(t, models.SubscriptionPastDue, got.Status)
		require.Equal(t, models.TierFree, got.Tier)
		require.Equal(t, models.TierPower, got.PlanTier)
		d := allowedBYOK()
		require.False(t, d.Allowed)
		require.Contains(t, d.Reason, "grace period ended")
		ents, err := e.svc.Entitlements(ctx, user)
		require.NoError(t, err)
		for _, ent := range ents {
			require.Equal(t, models.FeaturesOf(models.TierFree).Allows(models.Feature{Key: ent.Feature}), ent.Allowed, ent.Feature)
		}
		require.Equal(t, models.TierPower, e.userTier(t, user), "the account's tier waits for the sweep")

		// …and the sweep brings the account in line, once.
		n, err = e.svc.ExpireGrace(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, models.TierFree, e.userTier(t, user))
		ev := <-ch
		require.Equal(t, models.BillingTierChanged, ev.Type)
		require.Equal(t, models.TierFree, ev.Tier)
		conn, err := e.audit.AuditLog(ctx, user, 1, "")
		require.NoError(t, err)
		require.Equal(t, models.AuditTierChanged, conn.Edges[0].Node.Kind)
		require.Equal(t, "power", conn.Edges[0].Node.Detail["from"])
		require.Equal(t, "free", conn.Edges[0].Node.Detail["to"])
		require.Contains(t, conn.Edges[0].Node.Detail["reason"], "grace")

		before := e.dump(t)
		n, err = e.svc.ExpireGrace(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		require.Equal(t, before, e.dump(t), "a second sweep changes nothing")

		// Paying brings the tier back.
		e.mustDeliver(t, invoiceEvent("evt_g3", "invoice.paid", e.clock.Now().Unix(), "sub_grace", "cus_grace"))
		got, err = e.svc.Subscription(ctx, user)
		require.NoError(t, err)
		require.Equal(t, models.SubscriptionActive, got.Status)
		require.Equal(t, models.TierPower, got.Tier)
		require.Nil(t, got.GraceUntil)
		require.Equal(t, models.TierPower, e.userTier(t, user))
	})
}

func TestLatePaymentFailureAfterItsGraceCountsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testkit.NewDB(t, testkit.SQLite), withoutStripe())
	user := e.newUser(t)
	e.linkCustomer(t, user, "cus_late")
	t0 := e.clock.Now().Unix()
	e.mustDeliver(t, subEvent("evt_x1", "customer.subscription.created", t0, sub{ID: "sub_late", Customer: "cus_late", Status: "active", Price: pricePro}))
	e.clock.Add(grace + time.Hour)
	// Delivered days late (Stripe retried it for that long): its grace is over.
	e.mustDeliver(t, invoiceEvent("evt_x2", "invoice.payment_failed", t0+60, "sub_late", "cus_late"))
	require.Equal(t, models.TierFree, e.userTier(t, user))
}
