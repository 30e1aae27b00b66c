// Package playbook owns running playbooks for users: the service that lists the
// playbooks and templates a user's tier reaches (from internal/catalog), runs a
// plan step by step, streaming its LLM steps' tokens through the prompt sanitizer
// of the llm engine, or renders one template for a client that drives its own
// plan. Who answers and who pays is the meter's choice, made once per run. It also
// keeps the custom playbooks a space (a user's, or a team's, saved by its admins)
// builds from the server's templates with catalog's plan builder: stored as JSON in
// custom_playbooks, built again and checked on every read.
package playbook
