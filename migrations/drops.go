package migrations

// Drops names, for each migration, the tables its down migration drops, so that a
// rollback can count their rows before it runs and refuse to destroy data unless told
// to. A migration whose down drops nothing has an empty entry; TestDropsDeclared fails
// on a migration without one, or whose up creates other tables than it names.
func Drops() map[string][]string {
	return map[string][]string{
		"20261121000001": {"refresh_tokens", "sessions", "users"},
		"20261122000001": {
			"personas", "onboarding_integrations", "research_preferences", "business_infos",
			"website_analyses", "provider_keys", "onboarding_steps", "onboarding_progress",
		},
		"20261122000002": {"audit_log", "stripe_events", "subscription_changes", "subscriptions", "billing_accounts"},
		"20261123000001": {"backups"},
		"20261204000001": {"llm_usage"},
		"20261206000001": {},
		"20261207000001": {"user_identities", "api_keys"},
		"20261208000001": {"conversation_messages", "conversations", "chat_settings"},
		"20261208000002": {"chat_approvals"},
		"20261209000001": {"team_invitations", "team_members", "teams"},
		"20261210000001": {"knowledge_versions", "ingestion_jobs", "document_chunks", "document_tags", "documents"},
		"20261210000002": {"team_billing_accounts"},
		"20261211000001": {"knowledge_forgotten_blobs", "custom_playbooks"},
	}
}
