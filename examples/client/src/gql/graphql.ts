/* eslint-disable */
import type { JSONValue } from '../scalars.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = T | null | undefined;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /**
   * A signed 64-bit integer, for byte and token counts that outgrow Int. Output: a JSON
   * number (beware: JavaScript's number is exact only up to 2^53 - 1). Input: an integer
   * literal or number, or a string of decimal digits ("5368709120").
   */
  Int64: { input: number | string; output: number; }
  /** Any JSON value: an object, array, string, number, boolean or null. */
  JSON: { input: JSONValue; output: JSONValue; }
  /**
   * A point in time as an RFC 3339 string. Output: Go's RFC3339Nano, up to nine fractional
   * digits with trailing zeros dropped and none when the fraction is zero, e.g.
   * "2026-03-11T10:00:00.123Z"; the offset is Z (UTC) unless the server runs with another
   * TZ. Input: RFC 3339 with or without a fraction, any offset ("2026-03-11T11:00:00+01:00").
   */
  Time: { input: string; output: string; }
};

/** What an account event reports. */
export type AccountEventType =
  /** The access token this subscription was opened with expires soon (see INKGRAPH_SESSION_EXPIRY_WARNING): refresh, then open a new connection with the new token before expiresAt, when this one closes with 4403. */
  | 'SESSION_EXPIRING'
  /** A session of this account ended. */
  | 'SESSION_REVOKED';

/** A public web page or file to add as a document. */
export type AddDocumentFromUrlInput = {
  /** Its tags (at most 20, each 1 to 40 characters). */
  tags?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Its title; the page's own, else the address, when null. */
  title?: InputMaybe<Scalars['String']['input']>;
  /** Its address (http or https, public). */
  url: Scalars['String']['input'];
};

/** A file to add as a document, declared before its upload. */
export type AddDocumentInput = {
  /** Its SHA-256 as 64 hex digits. */
  checksum: Scalars['String']['input'];
  /** Its media type: text/plain, text/markdown, text/html or application/pdf. */
  mediaType: Scalars['String']['input'];
  /** Its size in bytes, 1 to INKGRAPH_KNOWLEDGE_MAX_BYTES (20 MiB by default). */
  sizeBytes: Scalars['Int64']['input'];
  /** Its tags (at most 20, each 1 to 40 characters). */
  tags?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Its title, 1 to 200 characters. */
  title: Scalars['String']['input'];
};

/** What an API key may do. Billing and account changes are never among them: they need a signed-in session. */
export type ApiKeyScope =
  /** List, upload, download and delete backups; every use is audited. */
  | 'BACKUPS'
  /** Run chats (`sendChat`, `chat`) and quote them (`chatQuote`); read, rename and delete stored conversations; every use is audited. */
  | 'CHAT'
  /** Run playbooks and templates (`executeTemplate`, `runPlaybook`); every use is audited. */
  | 'PLAYBOOKS'
  /** Read the account's data: the user, the onboarding summary, personas, playbooks, usage, agents. */
  | 'READ';

/** What an audit entry records. */
export type AuditKind =
  /** An API key was created (detail: keyId, prefix, scopes). */
  | 'API_KEY_CREATED'
  /** An API key was revoked (detail: keyId, prefix). */
  | 'API_KEY_REVOKED'
  /** An API key used a sensitive scope: CHAT, PLAYBOOKS or BACKUPS (detail: keyId, scope, operation). */
  | 'API_KEY_USED'
  /** A Stripe Checkout was started. */
  | 'CHECKOUT_STARTED'
  /** A successful sign-in (login, or register with the account's own password). */
  | 'LOGIN'
  /** A sign-in with a wrong password, or a registration attempt with this account's email. */
  | 'LOGIN_FAILED'
  /** A session was signed out. */
  | 'LOGOUT'
  /** A payment of the subscription failed. */
  | 'PAYMENT_FAILED'
  /** A provider API key was deleted. */
  | 'PROVIDER_KEY_DELETED'
  /** A provider API key was saved or replaced. */
  | 'PROVIDER_KEY_SAVED'
  /** Sessions were ended from the list of sessions (detail: session, or sessions and kept). */
  | 'SESSION_REVOKED'
  /** The subscription was set to end at the end of its period. A team's (detail team) is in the team's log and one current owner's, as TEAM_SEATS_CHANGED is; so are the three below. */
  | 'SUBSCRIPTION_CANCELED'
  /** The subscription ended. */
  | 'SUBSCRIPTION_ENDED'
  /** A cancellation was undone. */
  | 'SUBSCRIPTION_RESUMED'
  /** An owner or admin acting in a team ran a change of what the team shares: its onboarding data, personas, documents or playbooks (detail: team, field: the operation's root field, outcome: ok or the code it answered). */
  | 'TEAM_BRAND_EDITED'
  /** An owner started a checkout for a team's seats (detail: team, seats, session). */
  | 'TEAM_CHECKOUT_STARTED'
  /** An owner deleted a team (detail: team, name, members). */
  | 'TEAM_DELETED'
  /** The user joined a team with an invitation (detail: team, invitation, role). */
  | 'TEAM_INVITATION_ACCEPTED'
  /** The user invited someone to a team (detail: team, invitation, role, email or link). */
  | 'TEAM_INVITATION_CREATED'
  /** The user revoked a team invitation (detail: team, invitation). */
  | 'TEAM_INVITATION_REVOKED'
  /** The user left a team (detail: team, role). */
  | 'TEAM_MEMBER_LEFT'
  /** The user removed a member from a team (detail: team, user, role). */
  | 'TEAM_MEMBER_REMOVED'
  /** The user transferred a team's ownership (detail: team, to). */
  | 'TEAM_OWNERSHIP_TRANSFERRED'
  /** The user changed a team member's role (detail: team, user, from, to). */
  | 'TEAM_ROLE_CHANGED'
  /** A team's subscription changed its tier or paid seats (detail: team, fromTier, toTier, fromSeats, toSeats, subscription, status, by stripe); in the team's log, and in one current owner's: the one who last opened the team's checkout or portal while still an owner, else the longest-standing owner. */
  | 'TEAM_SEATS_CHANGED'
  /** The account's tier changed (detail: from, to). */
  | 'TIER_CHANGED';

/** Where a backup's upload stands. */
export type BackupStatus =
  /** The blob is stored with the declared size and checksum. */
  | 'COMPLETED'
  /** Completing found the blob missing, different from what was declared, or over the quota; see failureReason. */
  | 'FAILED'
  /** An upload URL was issued; the upload is not completed yet. */
  | 'PENDING';

/** What a client declares before uploading a backup. */
export type BackupUploadInput = {
  /** The blob's SHA-256 as 64 hex digits. */
  checksum: Scalars['String']['input'];
  /** The blob's size in bytes, 1 to 5 GiB. */
  sizeBytes: Scalars['Int64']['input'];
  /** When the backup was taken: an RFC 3339 date-time (kept to the millisecond), from 1970 until a day from now. */
  timestamp: Scalars['String']['input'];
  /** The client's format version of the blob, 1 or more. */
  version: Scalars['Int']['input'];
};

/** What a billing event reports. */
export type BillingEventType =
  /** The subscription changed (status, period, cancellation). */
  | 'SUBSCRIPTION_UPDATED'
  /** The tier the user has changed. */
  | 'TIER_CHANGED';

/** What an action asks the client to do with its own data. */
export type ChatActionType =
  /** Add a new record to the collection (payload: its fields). */
  | 'CREATE_RECORD'
  /** Delete the record recordId. */
  | 'DELETE_RECORD'
  /** Add a document to the client's search index (payload: the document). */
  | 'INDEX_DOCUMENT'
  /** Show the user a notification (payload: its content). */
  | 'SEND_NOTIFICATION'
  /** Change the record recordId (payload: the fields to set). */
  | 'UPDATE_RECORD';

/** An event of the user's calendar. */
export type ChatCalendarEventInput = {
  /** When it ends; not before start. */
  end: Scalars['Time']['input'];
  /** The client's ID of the event; actions on it name it as recordId. */
  id: Scalars['ID']['input'];
  /** When it starts. */
  start: Scalars['Time']['input'];
  /** What the event is. */
  title: Scalars['String']['input'];
};

/** What the agents know of the user's world for this one chat: the client's own data. */
export type ChatContextInput = {
  /** Relevant documents, such as search hits (at most 500). */
  documents?: InputMaybe<Array<ChatDocumentInput>>;
  /** Emails of the inbox (at most 500). */
  emails?: InputMaybe<Array<ChatEmailInput>>;
  /** Calendar events (at most 500). */
  events?: InputMaybe<Array<ChatCalendarEventInput>>;
  /** The conversation so far, oldest first (at most 50 turns). */
  history?: InputMaybe<Array<ChatTurnInput>>;
  /** Observations of named metrics (at most 500). */
  metrics?: InputMaybe<Array<ChatMetricInput>>;
  /** Who the user is. */
  profile?: InputMaybe<ChatProfileInput>;
  /** Recent tasks (at most 500). */
  tasks?: InputMaybe<Array<ChatTaskInput>>;
};

/** A document of the client's for the agents to read. */
export type ChatDocumentInput = {
  /** The client's ID of the document. */
  id: Scalars['ID']['input'];
  /** The document's text. */
  text: Scalars['String']['input'];
  /** The document's title. */
  title: Scalars['String']['input'];
};

/** An email of the user's inbox. */
export type ChatEmailInput = {
  /** The body as text. */
  body: Scalars['String']['input'];
  /** The sender's address or name. */
  from: Scalars['String']['input'];
  /** The client's ID of the email; actions on it name it as recordId. */
  id: Scalars['ID']['input'];
  /** When it arrived. */
  received: Scalars['Time']['input'];
  /** The subject line. */
  subject: Scalars['String']['input'];
};

/** What a chat event reports; each type fills its own field of ChatEvent. */
export type ChatEventType =
  /** An agent proposes a change for the client to apply (action). */
  | 'ACTION'
  /** The orchestrator chose the agents (route). */
  | 'AGENT_ROUTED'
  /** A piece of the text of one of a pipeline's agents (delta), before the synthesis: progress to show, not part of the answer. */
  | 'AGENT_TOKEN'
  /** The run ended with an answer (done); the stream completes. */
  | 'DONE'
  /** The run failed (error); the stream completes. */
  | 'ERROR'
  /** A piece of the answer as the model wrote it (delta): in every mode, the deltas of a run's TOKEN events joined in order are exactly its done.response. A pipeline's answer is its synthesis; its agents' text comes as AGENT_TOKEN. */
  | 'TOKEN'
  /** The call waits for the user's decision (approval): approveToolCall runs or declines it; without a decision by approval.expiresAt it is declined. Its TOOL_RESULT says what became of it. */
  | 'TOOL_APPROVAL_REQUIRED'
  /** An agent's model called a tool (toolCall). */
  | 'TOOL_CALL_STARTED'
  /** The tool answered (toolResult). */
  | 'TOOL_RESULT'
  /** What the run used of the LLM, once, before DONE or ERROR (usage). */
  | 'USAGE';

/** A message to the agents, with the data they may work on. The server keeps none of it. */
export type ChatInput = {
  /** The client's data the agents may read; nothing of it is stored. */
  context?: InputMaybe<ChatContextInput>;
  /** A stored conversation to continue, for a user who keeps history (ChatSettings.keepHistory): its last 50 messages become the run's history, and the run's message and answer are added to it. Without it such a user's run starts a new conversation. BAD_USER_INPUT (field conversationId) with history off, or together with context.history; NOT_FOUND (field conversationId) for an unknown ID or another user's; QUOTA_EXCEEDED (field conversationId) for a conversation of 1,000 messages, or a new one beyond 1,000 conversations. */
  conversationId?: InputMaybe<Scalars['ID']['input']>;
  /** Only with ground: search these documents alone (at most 100). NOT_FOUND (field documentIds) for an unknown ID or another user's. */
  documentIds?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** Ground the answer in the user's documents (addDocument): the passages of them that best match the message are shown to the model, numbered, before it answers; the answer cites them with [n] markers, and ChatDone.citations says what each cites. Without it the agents may still search the documents with their search_knowledge tool. BAD_USER_INPUT (field ground) when the server has no knowledge service, or with mode PLAN. */
  ground?: InputMaybe<Scalars['Boolean']['input']>;
  /** At most 8,000 characters. */
  message: Scalars['String']['input'];
  /** DIRECT runs the agents' tools and answers; PLAN answers with a plan and runs nothing. */
  mode?: InputMaybe<ChatMode>;
  /** Only with ground: search the documents with this tag alone (at most 100 characters). */
  tag?: InputMaybe<Scalars['String']['input']>;
};

/** One observation of a named metric, such as signups on a day. */
export type ChatMetricInput = {
  /** When it was observed. */
  at: Scalars['Time']['input'];
  /** The metric's name. */
  name: Scalars['String']['input'];
  /** The observed value. */
  value: Scalars['Float']['input'];
};

/** How a chat answers. */
export type ChatMode =
  /** Run the agents' tools and answer. */
  | 'DIRECT'
  /** Answer with an execution plan of server-side template steps, running nothing. */
  | 'PLAN';

/** The user as the agents should address them. */
export type ChatProfileInput = {
  /** How to call the user. */
  name?: InputMaybe<Scalars['String']['input']>;
  /** The user's job or role, such as founder. */
  role?: InputMaybe<Scalars['String']['input']>;
  /** An IANA time zone such as Europe/Berlin. */
  timezone?: InputMaybe<Scalars['String']['input']>;
};

/** A task of the client's. */
export type ChatTaskInput = {
  /** When the task is due; null when it has no date. */
  due?: InputMaybe<Scalars['Time']['input']>;
  /** The client's ID of the task; actions on it name it as recordId. */
  id: Scalars['ID']['input'];
  /** low, medium or high. */
  priority?: InputMaybe<Scalars['String']['input']>;
  /** todo, in_progress or done. */
  status?: InputMaybe<Scalars['String']['input']>;
  /** What the task is. */
  title: Scalars['String']['input'];
};

/** What became of a tool call that waited for the user's approval. */
export type ChatToolApproval =
  /** The user approved it; it ran, with the user's arguments if they gave any. */
  | 'APPROVED'
  /** The user declined it; it did not run, and the model was told so. */
  | 'DECLINED'
  /** No decision came in time; it was declined. */
  | 'EXPIRED';

/** An earlier message of the conversation. */
export type ChatTurnInput = {
  /** What was said. */
  content: Scalars['String']['input'];
  /** user or assistant. */
  role: Scalars['String']['input'];
};

/** A kind of content the user writes. */
export type ContentType =
  /** An article. */
  | 'ARTICLE'
  /** A blog post. */
  | 'BLOG_POST'
  /** A case study. */
  | 'CASE_STUDY'
  /** An email. */
  | 'EMAIL'
  /** A newsletter issue. */
  | 'NEWSLETTER'
  /** A press release. */
  | 'PRESS_RELEASE'
  /** A product description. */
  | 'PRODUCT_DESCRIPTION'
  /** A social media post. */
  | 'SOCIAL_POST'
  /** A video script. */
  | 'VIDEO_SCRIPT'
  /** A whitepaper. */
  | 'WHITEPAPER';

/** A new API key's settings. */
export type CreateApiKeyInput = {
  /** When the key stops working, in the future; null for never. */
  expiresAt?: InputMaybe<Scalars['Time']['input']>;
  /** What uses the key, 1 to 100 characters, e.g. "nightly export". */
  name: Scalars['String']['input'];
  /** What the key may do: at least one scope. */
  scopes: Array<ApiKeyScope>;
};

/** The user's business, for users without a website. */
export type CreateBusinessInfoInput = {
  /** What the user wants to achieve. */
  businessGoals?: InputMaybe<Array<Scalars['String']['input']>>;
  /** 1 to 200 characters. */
  businessName: Scalars['String']['input'];
  /** 10 to 5000 characters. */
  description: Scalars['String']['input'];
  /** Its industry. */
  industry?: InputMaybe<Scalars['String']['input']>;
  /** Its products or services. */
  products?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Who it serves. */
  targetAudience?: InputMaybe<Scalars['String']['input']>;
};

/** Where a knowledge document's bytes came from. */
export type DocumentSource =
  /** Uploaded by the client through a signed URL. */
  | 'UPLOAD'
  /** Fetched by the server from a public web address. */
  | 'URL';

/** Where a document's ingestion stands. */
export type DocumentState =
  /** Its chunks are being embedded (documentIngestion says how many of how many). */
  | 'EMBEDDING'
  /** Its text is being extracted and split into chunks. */
  | 'EXTRACTING'
  /** Ingestion failed; see error. */
  | 'FAILED'
  /** Waiting for a worker. */
  | 'QUEUED'
  /** Its chunks are searchable. */
  | 'READY'
  /** An upload URL was issued; completeDocumentUpload not called yet. */
  | 'UPLOADING';

/** A feature of the tier matrix (see `plans`). */
export type Feature =
  /** How many chat agents (metered). */
  | 'AGENTS'
  /** Backup storage in bytes (metered). */
  | 'BACKUP'
  /** Batch runs of playbooks. */
  | 'BATCH'
  /** Chat paid with the user's own provider keys. */
  | 'BYOK'
  /** How many LLM providers (metered). */
  | 'PROVIDERS'
  /** Single sign-on. */
  | 'SSO';

/** A service the user may connect. */
export type IntegrationKind =
  /** Facebook. */
  | 'FACEBOOK'
  /** Gmail. */
  | 'GMAIL'
  /** Google Analytics. */
  | 'GOOGLE_ANALYTICS'
  /** Google Calendar. */
  | 'GOOGLE_CALENDAR'
  /** Google Search Console. */
  | 'GOOGLE_SEARCH_CONSOLE'
  /** Instagram. */
  | 'INSTAGRAM'
  /** LinkedIn. */
  | 'LINKEDIN'
  /** Medium. */
  | 'MEDIUM'
  /** Notion. */
  | 'NOTION'
  /** Wix. */
  | 'WIX'
  /** WordPress. */
  | 'WORDPRESS'
  /** X (Twitter). */
  | 'X';

/** The outcome of the last check of a stored key. */
export type KeyStatus =
  /** Well formed; not checked with the provider (live checks are off). */
  | 'FORMAT_OK'
  /** The provider refused the key. */
  | 'INVALID'
  /**
   * The stored key cannot be read (damaged, or sealed with a server key this server no
   * longer has): ask the user to enter it again with saveProviderKey. Operations that
   * need the key answer KEY_UNREADABLE (field provider) until then.
   */
  | 'UNREADABLE'
  /** The provider could not be reached; check again with verifyProviderKey. */
  | 'UNVERIFIED'
  /** The provider accepted the key. */
  | 'VERIFIED';

/** Credentials to sign in with. */
export type LoginInput = {
  /** The account's email, in any case. */
  email: Scalars['String']['input'];
  /** The account's password. */
  password: Scalars['String']['input'];
};

/** The wizard's steps, in order. Steps are numbered 1 to 6 in mutations. */
export type OnboardingStepKey =
  /** 1: at least one LLM provider key that passes validation (required). */
  | 'API_KEYS'
  /** 6: the summary and completion. */
  | 'FINAL'
  /** 5: integrations (optional). */
  | 'INTEGRATIONS'
  /** 4: a writing persona (optional; completion generates one when the data suffices). */
  | 'PERSONA'
  /** 3: research preferences (required). */
  | 'RESEARCH'
  /** 2: a website analysis, or business information for users without a website (required). */
  | 'WEBSITE';

/** What wrote a persona. */
export type PersonaSource =
  /** A language model wrote it from the user's inputs. */
  | 'LLM'
  /** The deterministic generator built it, without a language model. */
  | 'RULES';

/** A platform the user publishes on; a persona has a voice for each. */
export type Platform =
  /** The user's blog. */
  | 'BLOG'
  /** Facebook. */
  | 'FACEBOOK'
  /** Instagram. */
  | 'INSTAGRAM'
  /** LinkedIn. */
  | 'LINKEDIN'
  /** Medium. */
  | 'MEDIUM'
  /** An email newsletter. */
  | 'NEWSLETTER'
  /** X (Twitter). */
  | 'X';

/** What a playbook event reports; each type fills its own fields of PlaybookEvent. */
export type PlaybookEventType =
  /** The run ended with every step's output (done); the stream completes. */
  | 'DONE'
  /** The run failed (error); the stream completes. */
  | 'ERROR'
  /** A step's whole output (output). */
  | 'STEP_FINISHED'
  /** A step began (step, stepTitle). */
  | 'STEP_STARTED'
  /** A piece of an LLM step's answer (delta). */
  | 'TOKEN';

/** What a playbook step does. */
export type PlaybookStepKind =
  /** Transforms an earlier step's output, without the LLM. */
  | 'DATA'
  /** Asks the LLM with a template. */
  | 'LLM';

/** An earlier step whose output fills a variable of an LLM step. */
export type PlaybookStepSourceInput = {
  /** The index (from 1) of an earlier step. */
  step: Scalars['Int']['input'];
  /** The variable of the step's template it fills. */
  variable: Scalars['String']['input'];
};

/** One step of a custom playbook: an LLM step (templateId, values, inputs) or a DATA step (from, transform). */
export type PlaybookStepSpecInput = {
  /** DATA steps: the index (from 1) of the earlier step whose output is transformed. */
  from?: InputMaybe<Scalars['Int']['input']>;
  /** LLM steps: variables of the template filled by earlier steps' outputs. */
  inputs?: InputMaybe<Array<PlaybookStepSourceInput>>;
  /** LLM or DATA. */
  kind: PlaybookStepKind;
  /** LLM steps: the server's template asked (see playbookTemplates). */
  templateId?: InputMaybe<Scalars['ID']['input']>;
  /** What the step does, for the user; at most 200 characters, one line (no control characters). */
  title: Scalars['String']['input'];
  /** DATA steps: trim, first_paragraph, bullets or json. */
  transform?: InputMaybe<Scalars['String']['input']>;
  /** LLM steps: variables of the template the playbook fixes (no control characters but tabs and line breaks). */
  values?: InputMaybe<Array<PlaybookValueInput>>;
};

/** A value for a variable of a template or playbook. */
export type PlaybookValueInput = {
  /** The variable's name (see variables). */
  name: Scalars['String']['input'];
  /** At most 20,000 characters. */
  value: Scalars['String']['input'];
};

/** A variable a custom playbook declares: what a client supplies to run it. */
export type PlaybookVariableInput = {
  /** What an optional variable holds when the client leaves it out (no control characters but tabs and line breaks). */
  default?: InputMaybe<Scalars['String']['input']>;
  /** What the variable holds, for the user; at most 200 characters, one line (no control characters). */
  description?: InputMaybe<Scalars['String']['input']>;
  /** The variable's name: lower case letters, digits and _, starting with a letter; a variable of a step's template. */
  name: Scalars['String']['input'];
  /** True when the client must supply it (then it has no default). */
  required?: InputMaybe<Scalars['Boolean']['input']>;
};

/** What a provider's key is for. */
export type ProviderKind =
  /** A language model (openai, anthropic, gemini, mistral): counts for step 1. */
  | 'LLM'
  /** A web search API (tavily, serper, exa). */
  | 'RESEARCH';

/** A new account's credentials. */
export type RegisterInput = {
  /** An email address, at most 254 bytes, with a dot in its domain; stored trimmed and lower case. */
  email: Scalars['String']['input'];
  /** 8 to 72 bytes. */
  password: Scalars['String']['input'];
};

/** How much research to do before writing. */
export type ResearchDepth =
  /** A quick look. */
  | 'BASIC'
  /** Broad research from several sources. */
  | 'COMPREHENSIVE'
  /** In-depth research for expert content. */
  | 'EXPERT'
  /** The usual amount. */
  | 'STANDARD';

/** The user's research preferences; saving replaces them whole. */
export type ResearchPreferencesInput = {
  /** Research topics automatically before writing. */
  autoResearch?: Scalars['Boolean']['input'];
  /** At least one. */
  contentTypes: Array<ContentType>;
  /** How much research to do. */
  depth: ResearchDepth;
  /** Prefer verifiable, sourced facts. */
  factualContent?: Scalars['Boolean']['input'];
  /** A language tag; default en. */
  language?: InputMaybe<Scalars['String']['input']>;
  /** Up to 500 characters. */
  targetAudience?: InputMaybe<Scalars['String']['input']>;
  /** The tone to write in. */
  writingTone?: WritingTone;
};

/** Why a session ended. */
export type RevocationReason =
  /** An identity provider sign-in was linked to the account by its email (INKGRAPH_OIDC_LINK_BY_EMAIL), which ends every session, API key and password it had before. */
  | 'ACCOUNT_LINKED'
  /** The session was signed out. */
  | 'LOGOUT'
  /** An already-used refresh token was presented again, so the token may have leaked. */
  | 'TOKEN_REUSE'
  /** The user ended it from their list of sessions (revokeSession, revokeOtherSessions). */
  | 'USER_REVOKED';

/** A custom playbook to save. Errors name a step as input.steps[N], N its index from 1 as from and inputs count, and a declared variable as input.variables[N], N its index from 1. */
export type SavePlaybookInput = {
  /** What the playbook produces; at most 1,000 characters, no control characters but tabs and line breaks. */
  description?: InputMaybe<Scalars['String']['input']>;
  /** A custom playbook of the space to replace; omitted, a new one is created. */
  id?: InputMaybe<Scalars['ID']['input']>;
  /** 1 to 100 characters, unique in the space; one line (no control characters). */
  name: Scalars['String']['input'];
  /** 1 to 20 steps, in the order they run. */
  steps: Array<PlaybookStepSpecInput>;
  /** What a client supplies to run it; omitted, every template variable no step fixes or fills, as the templates describe them. */
  variables?: InputMaybe<Array<PlaybookVariableInput>>;
};

/** How a session signed in. */
export type SignInMethod =
  /** Through an external OpenID Connect identity provider. */
  | 'OIDC'
  /** With the account's email and password. */
  | 'PASSWORD';

/** An ID token of a configured identity provider. */
export type SignInWithProviderInput = {
  /** The ID token (a JWT) the provider issued to this application, obtained by the frontend's authorization-code flow with PKCE. */
  idToken: Scalars['String']['input'];
};

/** Where one step of the wizard stands. */
export type StepStatus =
  /** Done. */
  | 'COMPLETED'
  /** The current step: reached, not finished. */
  | 'IN_PROGRESS'
  /** Not reached yet. */
  | 'PENDING'
  /** Left out (optional steps only). */
  | 'SKIPPED';

/** Where a subscription stands, as Stripe says; NONE for a user who never subscribed. */
export type SubscriptionStatus =
  /** Paid and current: the tier is granted. */
  | 'ACTIVE'
  /** The subscription ended; the tier falls back to FREE. */
  | 'CANCELED'
  /** Checkout began but the first payment has not gone through. */
  | 'INCOMPLETE'
  /** The first payment never went through; the subscription is over. */
  | 'INCOMPLETE_EXPIRED'
  /** The user never subscribed. */
  | 'NONE'
  /** A payment failed. The tier is kept until graceUntil, then falls back to FREE. */
  | 'PAST_DUE'
  /** Paused in Stripe: the tier falls back to FREE while paused. */
  | 'PAUSED'
  /** In a trial period: the tier is granted. */
  | 'TRIALING'
  /** Payments failed past Stripe's retries; the tier falls back to FREE. */
  | 'UNPAID';

/** What happened in a team. */
export type TeamEventType =
  /** Someone joined (userId, role). */
  | 'MEMBER_JOINED'
  /** A member left (userId). */
  | 'MEMBER_LEFT'
  /** A member was removed (userId). */
  | 'MEMBER_REMOVED'
  /** A member's role changed (userId, role: the new one); a transfer of ownership is two of these. */
  | 'ROLE_CHANGED'
  /** The team's subscription changed: its tier or paid seats, a failed payment, a cancellation set or undone, its end (tier, seats: what the team has now). */
  | 'SEATS_CHANGED'
  /** The team was deleted; the stream ends after it. */
  | 'TEAM_DELETED';

/** What a member may do in a team. */
export type TeamRole =
  /** Manage members and invitations (invite admins and members, revoke invitations, change admins' and members' roles, remove them) and the team's shared brand: its onboarding data, personas, documents and playbooks. */
  | 'ADMIN'
  /** Use the team: its brand, documents and playbooks in chat and playbooks; may leave it. */
  | 'MEMBER'
  /** Everything an admin may, and manage owners: invite owners, change an owner's role, transfer ownership. A team keeps at least one owner. */
  | 'OWNER';

/** A billing tier. Each has a row in the feature matrix (see `plans`). */
export type Tier =
  /** The tier of every new account: no subscription. */
  | 'FREE'
  /** The paid tier above PRO. */
  | 'POWER'
  /** The first paid tier. */
  | 'PRO'
  /** The paid tier billed per seat. */
  | 'TEAM';

/** Fields left out are kept. */
export type UpdateBusinessInfoInput = {
  /** Replaces the goals. */
  businessGoals?: InputMaybe<Array<Scalars['String']['input']>>;
  /** 1 to 200 characters. */
  businessName?: InputMaybe<Scalars['String']['input']>;
  /** 10 to 5000 characters. */
  description?: InputMaybe<Scalars['String']['input']>;
  /** Its industry. */
  industry?: InputMaybe<Scalars['String']['input']>;
  /** Replaces the products. */
  products?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Who it serves. */
  targetAudience?: InputMaybe<Scalars['String']['input']>;
};

/** Changes to the chat settings; a field left out (or null) keeps its value. */
export type UpdateChatSettingsInput = {
  /** Turn conversation history on or off. Turning it off deletes every conversation kept so far. */
  keepHistory?: InputMaybe<Scalars['Boolean']['input']>;
  /** Turn tool-call approval on or off. */
  requireToolApproval?: InputMaybe<Scalars['Boolean']['input']>;
};

/** Who paid for LLM use. */
export type UsageProvider =
  /** The user's own key. */
  | 'BYOK'
  /** The built-in offline provider. */
  | 'OFFLINE'
  /** The server's provider: counts against the plan's monthly tokens. */
  | 'SERVER';

/** The tone the user writes in. */
export type WritingTone =
  /** Confident and expert. */
  | 'AUTHORITATIVE'
  /** Like talking to the reader. */
  | 'CONVERSATIONAL'
  /** Warm and approachable. */
  | 'FRIENDLY'
  /** Uplifting and motivating. */
  | 'INSPIRATIONAL'
  /** Light and humorous. */
  | 'PLAYFUL'
  /** Businesslike and polished. */
  | 'PROFESSIONAL'
  /** Precise, for a technical reader. */
  | 'TECHNICAL';

export type RegisterMutationVariables = Exact<{
  input: RegisterInput;
}>;


export type RegisterMutation = { register: { accessToken: string, refreshToken: string, expiresAt: string, user: { id: string, email: string, tier: Tier, createdAt: string } } };

export type CreateBusinessInfoMutationVariables = Exact<{
  input: CreateBusinessInfoInput;
}>;


export type CreateBusinessInfoMutation = { createBusinessInfo: { id: string, businessName: string, industry: string, createdAt: string } };

export type SaveResearchPreferencesMutationVariables = Exact<{
  input: ResearchPreferencesInput;
}>;


export type SaveResearchPreferencesMutation = { saveResearchPreferences: { depth: ResearchDepth, contentTypes: Array<ContentType>, writingTone: WritingTone, updatedAt: string } };

export type GeneratePersonaMutationVariables = Exact<{
  platforms?: InputMaybe<Array<Platform> | Platform>;
}>;


export type GeneratePersonaMutation = { generatePersona: { id: string, version: number, active: boolean, source: PersonaSource, selectedPlatforms: Array<Platform>, createdAt: string, core: { name: string, summary: string } } };

export type CompleteStepMutationVariables = Exact<{
  step: Scalars['Int']['input'];
}>;


export type CompleteStepMutation = { completeStep: { currentStep: number, percentage: number, steps: Array<{ step: number, key: OnboardingStepKey, status: StepStatus, completedAt?: string | null }> } };

export type OnboardingSummaryQueryVariables = Exact<{ [key: string]: never; }>;


export type OnboardingSummaryQuery = { me: { id: string, email: string, tier: Tier, createdAt: string, onboarding?: { hasValidatedKey: boolean, progress: { currentStep: number, percentage: number, completed: boolean, startedAt?: string | null, steps: Array<{ step: number, key: OnboardingStepKey, status: StepStatus, completedAt?: string | null }> }, resume: { step: number, reason: string, missingSteps: Array<number> }, providerKeys: Array<{ provider: string, masked: string, status: KeyStatus }>, websiteAnalysis?: { url: string, analyzedAt: string, fetchedBytes: number } | null, businessInfo?: { id: string, businessName: string, industry: string, updatedAt: string } | null, researchPreferences?: { depth: ResearchDepth, contentTypes: Array<ContentType>, writingTone: WritingTone } | null, integrations: Array<{ kind: IntegrationKind, status: string }>, activePersona?: { id: string, version: number, source: PersonaSource, core: { name: string, summary: string } } | null, personas: Array<{ id: string, active: boolean }>, personaReadiness: { ready: boolean, missing: Array<string>, sources: Array<string> }, personalization: { businessName: string, writingTone: WritingTone, personaId?: string | null, defaulted: Array<string> }, plan: { tier: Tier, backupBytes?: number | null, monthlyTokens?: number | null, requestsPerMinute: number } } | null } };

export type DeferredSummaryQueryVariables = Exact<{ [key: string]: never; }>;


export type DeferredSummaryQuery = { onboarding: { progress: { currentStep: number, percentage: number }, businessInfo?: { businessName: string } | null } & ({ websiteAnalysis?: { url: string, analyzedAt: string } | null } | { websiteAnalysis?: never }) & ({ personaReadiness: { ready: boolean, missing: Array<string>, sources: Array<string> } } | { personaReadiness?: never }) & ({ personalization: { businessName: string, writingTone: WritingTone, personaId?: string | null } } | { personalization?: never }) };

export type PlansQueryVariables = Exact<{ [key: string]: never; }>;


export type PlansQuery = { plans: Array<{ tier: Tier, monthlyTokens?: number | null, backupBytes?: number | null }> };

export type ChatSubscriptionVariables = Exact<{
  input: ChatInput;
}>;


export type ChatSubscription = { chat: { runId: string, seq: number, type: ChatEventType, agent: string, delta: string, toolCall?: { name: string, arguments: JSONValue } | null, usage?: { totalTokens: number, offline: boolean } | null, done?: { response: string, finishReason: string, offline: boolean } | null, error?: { code: string, message: string } | null } };


export const RegisterDocument = {"__meta__":{"hash":"51dcb31b25553f3108ea9f9903ae96d5ed6ad32741af45985d41fcd314801dcc"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Register"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"RegisterInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"register"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"accessToken"}},{"kind":"Field","name":{"kind":"Name","value":"refreshToken"}},{"kind":"Field","name":{"kind":"Name","value":"expiresAt"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"tier"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]}}]}}]} as unknown as DocumentNode<RegisterMutation, RegisterMutationVariables>;
export const CreateBusinessInfoDocument = {"__meta__":{"hash":"1e46996cb3f599e6083091963e3ef8eb5e4b58d971465170d49cdaa3aacf8598"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateBusinessInfo"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateBusinessInfoInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createBusinessInfo"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"businessName"}},{"kind":"Field","name":{"kind":"Name","value":"industry"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]}}]} as unknown as DocumentNode<CreateBusinessInfoMutation, CreateBusinessInfoMutationVariables>;
export const SaveResearchPreferencesDocument = {"__meta__":{"hash":"866fff5b1d2c44ec9bd002e3c12b5ea6d3cd36babaf9fd9fdebe5519fa690510"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"SaveResearchPreferences"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ResearchPreferencesInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"saveResearchPreferences"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"depth"}},{"kind":"Field","name":{"kind":"Name","value":"contentTypes"}},{"kind":"Field","name":{"kind":"Name","value":"writingTone"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]}}]} as unknown as DocumentNode<SaveResearchPreferencesMutation, SaveResearchPreferencesMutationVariables>;
export const GeneratePersonaDocument = {"__meta__":{"hash":"38d07876767e14223ba98a129edcb108119661d71d4da9c47a36f50eee4acc29"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"GeneratePersona"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"platforms"}},"type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Platform"}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"generatePersona"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"platforms"},"value":{"kind":"Variable","name":{"kind":"Name","value":"platforms"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"active"}},{"kind":"Field","name":{"kind":"Name","value":"source"}},{"kind":"Field","name":{"kind":"Name","value":"selectedPlatforms"}},{"kind":"Field","name":{"kind":"Name","value":"core"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"summary"}}]}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]}}]} as unknown as DocumentNode<GeneratePersonaMutation, GeneratePersonaMutationVariables>;
export const CompleteStepDocument = {"__meta__":{"hash":"e759fccd0e9d3eabc3f8a4f25d68a82e1f8c1b2dcdbbbb39994c6ba88732f028"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CompleteStep"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"step"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"completeStep"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"step"},"value":{"kind":"Variable","name":{"kind":"Name","value":"step"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currentStep"}},{"kind":"Field","name":{"kind":"Name","value":"percentage"}},{"kind":"Field","name":{"kind":"Name","value":"steps"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"step"}},{"kind":"Field","name":{"kind":"Name","value":"key"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"completedAt"}}]}}]}}]}}]} as unknown as DocumentNode<CompleteStepMutation, CompleteStepMutationVariables>;
export const OnboardingSummaryDocument = {"__meta__":{"hash":"566f7900176927b11a7b6c44d9805b72e1a2dfbc0b191aa30d3bc99456698eda"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"OnboardingSummary"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"me"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"tier"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"onboarding"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"progress"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currentStep"}},{"kind":"Field","name":{"kind":"Name","value":"percentage"}},{"kind":"Field","name":{"kind":"Name","value":"completed"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"steps"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"step"}},{"kind":"Field","name":{"kind":"Name","value":"key"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"completedAt"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"resume"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"step"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"missingSteps"}}]}},{"kind":"Field","name":{"kind":"Name","value":"providerKeys"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"provider"}},{"kind":"Field","name":{"kind":"Name","value":"masked"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}},{"kind":"Field","name":{"kind":"Name","value":"hasValidatedKey"}},{"kind":"Field","name":{"kind":"Name","value":"websiteAnalysis"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"url"}},{"kind":"Field","name":{"kind":"Name","value":"analyzedAt"}},{"kind":"Field","name":{"kind":"Name","value":"fetchedBytes"}}]}},{"kind":"Field","name":{"kind":"Name","value":"businessInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"businessName"}},{"kind":"Field","name":{"kind":"Name","value":"industry"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"researchPreferences"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"depth"}},{"kind":"Field","name":{"kind":"Name","value":"contentTypes"}},{"kind":"Field","name":{"kind":"Name","value":"writingTone"}}]}},{"kind":"Field","name":{"kind":"Name","value":"integrations"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}},{"kind":"Field","name":{"kind":"Name","value":"activePersona"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"source"}},{"kind":"Field","name":{"kind":"Name","value":"core"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"summary"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"personas"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"active"}}]}},{"kind":"Field","name":{"kind":"Name","value":"personaReadiness"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"ready"}},{"kind":"Field","name":{"kind":"Name","value":"missing"}},{"kind":"Field","name":{"kind":"Name","value":"sources"}}]}},{"kind":"Field","name":{"kind":"Name","value":"personalization"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"businessName"}},{"kind":"Field","name":{"kind":"Name","value":"writingTone"}},{"kind":"Field","name":{"kind":"Name","value":"personaId"}},{"kind":"Field","name":{"kind":"Name","value":"defaulted"}}]}},{"kind":"Field","name":{"kind":"Name","value":"plan"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tier"}},{"kind":"Field","name":{"kind":"Name","value":"backupBytes"}},{"kind":"Field","name":{"kind":"Name","value":"monthlyTokens"}},{"kind":"Field","name":{"kind":"Name","value":"requestsPerMinute"}}]}}]}}]}}]}}]} as unknown as DocumentNode<OnboardingSummaryQuery, OnboardingSummaryQueryVariables>;
export const DeferredSummaryDocument = {"__meta__":{"hash":"b2108114768f896d52980c5385c015e14dc15f419ffe536e3933c8a82c375b33"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"DeferredSummary"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"onboarding"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"progress"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currentStep"}},{"kind":"Field","name":{"kind":"Name","value":"percentage"}}]}},{"kind":"Field","name":{"kind":"Name","value":"businessInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"businessName"}}]}},{"kind":"InlineFragment","directives":[{"kind":"Directive","name":{"kind":"Name","value":"defer"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"label"},"value":{"kind":"StringValue","value":"slow","block":false}}]}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"websiteAnalysis"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"url"}},{"kind":"Field","name":{"kind":"Name","value":"analyzedAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"personaReadiness"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"ready"}},{"kind":"Field","name":{"kind":"Name","value":"missing"}},{"kind":"Field","name":{"kind":"Name","value":"sources"}}]}},{"kind":"Field","name":{"kind":"Name","value":"personalization"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"businessName"}},{"kind":"Field","name":{"kind":"Name","value":"writingTone"}},{"kind":"Field","name":{"kind":"Name","value":"personaId"}}]}}]}}]}}]}}]} as unknown as DocumentNode<DeferredSummaryQuery, DeferredSummaryQueryVariables>;
export const PlansDocument = {"__meta__":{"hash":"bccad1dacc466e95ab23c1e93aeb428876450d43049919bcaa7664c10e0ad47a"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Plans"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"plans"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tier"}},{"kind":"Field","name":{"kind":"Name","value":"monthlyTokens"}},{"kind":"Field","name":{"kind":"Name","value":"backupBytes"}}]}}]}}]} as unknown as DocumentNode<PlansQuery, PlansQueryVariables>;
export const ChatDocument = {"__meta__":{"hash":"8401316eee6c2769b236e6141cf95cc57585d4bf2a51264c808a6d9f3326e02c"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"Chat"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ChatInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"chat"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"runId"}},{"kind":"Field","name":{"kind":"Name","value":"seq"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"agent"}},{"kind":"Field","name":{"kind":"Name","value":"delta"}},{"kind":"Field","name":{"kind":"Name","value":"toolCall"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"arguments"}}]}},{"kind":"Field","name":{"kind":"Name","value":"usage"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalTokens"}},{"kind":"Field","name":{"kind":"Name","value":"offline"}}]}},{"kind":"Field","name":{"kind":"Name","value":"done"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"response"}},{"kind":"Field","name":{"kind":"Name","value":"finishReason"}},{"kind":"Field","name":{"kind":"Name","value":"offline"}}]}},{"kind":"Field","name":{"kind":"Name","value":"error"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}}]} as unknown as DocumentNode<ChatSubscription, ChatSubscriptionVariables>;