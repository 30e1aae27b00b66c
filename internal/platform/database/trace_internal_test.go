package database

import "testing"

// TestTableAfterFrom: a raw statement's table is the name after its first FROM
// keyword, quoted or not, qualified or not; none for a subquery or a FROM in a string
// or a quoted name.
func TestTableAfterFrom(t *testing.T) {
	t.Parallel()
	for q, want := range map[string]string{
		`SELECT count(*) FROM users WHERE password_hash = ?`:                                               "users",
		`select 1 from "onboarding_steps" AS "onboarding_step" WHERE (user_id = $1)`:                       "onboarding_steps",
		`SELECT u.tier, p.x AS p_x FROM users AS u LEFT JOIN onboarding_progress AS p ON p.user_id = u.id`: "users",
		`SELECT * FROM public.users`:                "public.users",
		`SELECT * FROM "my schema"."Users" u`:       "my schema.Users",
		`DELETE FROM sessions WHERE id = ?`:         "sessions",
		`SELECT 'FROM x', "from" FROM t`:            "t",
		`SELECT a FROM (SELECT 1 AS a FROM t) AS s`: "",
		`SELECT fromage FROM cheese`:                "cheese",
		`SELECT 1`:                                  "",
		`SELECT 'unterminated FROM t`:               "",
		`SELECT 1 FROM`:                             "",
	} {
		if got := tableAfterFrom(q); got != want {
			t.Errorf("tableAfterFrom(%q) = %q, want %q", q, got, want)
		}
	}
}
