package migrations

import (
	"context"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// onboarding adds the wizard's progress and everything a user enters in it: provider
// keys (encrypted), website analysis or business information, research preferences,
// chosen integrations and generated personas. Structured fields are JSON in TEXT
// columns, the same on both dialects; nothing queries inside them.
func onboarding(m *migrate.Migrations) error {
	return m.Register(func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db,
			`CREATE TABLE onboarding_progress (
				user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
				current_step INTEGER NOT NULL CHECK (current_step BETWEEN 1 AND 6),
				started_at {{time}} NOT NULL,
				completed_at {{time}},
				updated_at {{time}} NOT NULL
			)`,
			`CREATE TABLE onboarding_steps (
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				step INTEGER NOT NULL CHECK (step BETWEEN 1 AND 6),
				status TEXT NOT NULL CHECK (status IN ('PENDING', 'IN_PROGRESS', 'COMPLETED', 'SKIPPED')),
				started_at {{time}},
				completed_at {{time}},
				skipped_at {{time}},
				updated_at {{time}} NOT NULL,
				PRIMARY KEY (user_id, step)
			)`,
			`CREATE TABLE provider_keys (
				id TEXT PRIMARY KEY,
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				provider TEXT NOT NULL,
				ciphertext {{blob}} NOT NULL,
				key_version INTEGER NOT NULL,
				masked TEXT NOT NULL,
				format_valid BOOLEAN NOT NULL,
				status TEXT NOT NULL CHECK (status IN ('VERIFIED', 'FORMAT_OK', 'INVALID', 'UNVERIFIED')),
				last_verified_at {{time}},
				last_error TEXT NOT NULL DEFAULT '',
				created_at {{time}} NOT NULL,
				updated_at {{time}} NOT NULL
			)`,
			`CREATE UNIQUE INDEX provider_keys_user_provider_key ON provider_keys (user_id, provider)`,
			`CREATE INDEX provider_keys_key_version_idx ON provider_keys (key_version)`,
			`CREATE TABLE website_analyses (
				user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
				url TEXT NOT NULL,
				final_url TEXT NOT NULL,
				analyzed_at {{time}} NOT NULL,
				title TEXT NOT NULL,
				description TEXT NOT NULL,
				headings TEXT NOT NULL,
				word_count INTEGER NOT NULL,
				reading_level TEXT NOT NULL,
				language TEXT NOT NULL,
				top_terms TEXT NOT NULL,
				tone TEXT NOT NULL,
				style TEXT,
				brand TEXT,
				content_type TEXT NOT NULL,
				fetched_bytes BIGINT NOT NULL,
				fetch_duration_ms BIGINT NOT NULL
			)`,
			`CREATE TABLE business_infos (
				user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
				id TEXT NOT NULL UNIQUE,
				business_name TEXT NOT NULL,
				description TEXT NOT NULL,
				industry TEXT NOT NULL,
				target_audience TEXT NOT NULL,
				business_goals TEXT NOT NULL,
				products TEXT NOT NULL,
				created_at {{time}} NOT NULL,
				updated_at {{time}} NOT NULL
			)`,
			`CREATE TABLE research_preferences (
				user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
				depth TEXT NOT NULL,
				content_types TEXT NOT NULL,
				auto_research BOOLEAN NOT NULL,
				factual_content BOOLEAN NOT NULL,
				target_audience TEXT NOT NULL,
				writing_tone TEXT NOT NULL,
				language TEXT NOT NULL,
				updated_at {{time}} NOT NULL
			)`,
			`CREATE TABLE onboarding_integrations (
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				kind TEXT NOT NULL,
				status TEXT NOT NULL,
				created_at {{time}} NOT NULL,
				PRIMARY KEY (user_id, kind)
			)`,
			`CREATE TABLE personas (
				id TEXT PRIMARY KEY,
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				version INTEGER NOT NULL,
				active BOOLEAN NOT NULL,
				source TEXT NOT NULL CHECK (source IN ('LLM', 'RULES')),
				model TEXT NOT NULL,
				core TEXT NOT NULL,
				platform_personas TEXT NOT NULL,
				quality TEXT NOT NULL,
				selected_platforms TEXT NOT NULL,
				created_at {{time}} NOT NULL
			)`,
			`CREATE UNIQUE INDEX personas_user_version_key ON personas (user_id, version)`,
			// At most one active persona per user, whatever two requests race to do.
			`CREATE UNIQUE INDEX personas_user_active_key ON personas (user_id) WHERE active`,
		)
	}, func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db,
			`DROP TABLE personas`,
			`DROP TABLE onboarding_integrations`,
			`DROP TABLE research_preferences`,
			`DROP TABLE business_infos`,
			`DROP TABLE website_analyses`,
			`DROP TABLE provider_keys`,
			`DROP TABLE onboarding_steps`,
			`DROP TABLE onboarding_progress`,
		)
	})
}
