// Package catalog owns the catalogue of server-side prompt templates and the
// playbooks built on them: the embedded template files (whose text never leaves the
// server) and their registry and validation, the playbooks' plans validated against
// it, the built-in playbooks each offered from a minimum tier, and the tier rule
// (a template is offered from the cheapest tier of a playbook that uses it). It sits
// below chat, which plans with the templates, and playbook, which runs them; it
// imports no area.
//
// A template file is a header between two "---" lines, then a text/template
// body:
//
//	---
//	id: email_to_task
//	name: Task from an email
//	description: Turns an email into a task with a title, due date and priority.
//	agent: task
//	system: You turn emails into tasks.
//	variables:
//	  - name: email
//	    description: The email's text
//	    required: true
//	  - name: today
//	    required: false
//	---
//	Write the task this email asks for: {{.email}}
//
// agent (one of chat's agents) and system (the system message) are optional.
// Besides its variables, a body may read .persona (Summary, Voice, Tone),
// .context (BusinessName, Industry, TargetAudience, Language, KeyTopics,
// Platforms, ContentTypes, ResearchDepth, FactualContent) and earlier steps'
// outputs as {{index .steps N}}. Loading refuses a body that uses anything
// else, or leaves a declared variable unused.
package catalog
