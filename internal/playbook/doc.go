// Package playbook owns playbooks: the server-side prompt templates (embedded
// files whose text never leaves the server), the execution plans built from
// them and validated before they run, the built-in playbooks each offered from
// a minimum tier, and the service that runs a plan for a user, streaming its
// steps' tokens through the prompt sanitizer, or renders one template for a
// client that drives its own plan.
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
package playbook
