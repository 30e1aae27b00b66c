// An Inkgraph client in TypeScript, typed by graphql-codegen (codegen.ts), run by CI
// against a real server. Usage:
//
//   node dist/main.js SERVER_URL                 every step against a server that runs any document
//   node dist/main.js SERVER_URL --trusted       against one started with INKGRAPH_TRUSTED_DOCUMENTS=src/gql/persisted-documents.json
//   node dist/main.js SERVER_URL --only=a,b      only the steps named (register and onboard always run)
//   node dist/main.js SERVER_URL --origin=URL    also the CORS and WebSocket-origin steps, for a server
//                                                started with INKGRAPH_ALLOWED_ORIGINS=URL
//
// Each step prints "ok <step>: …", or "FAIL <step>: …" on stderr; the program exits
// with status 1 when any step failed (at once when register or onboard did: the others
// need them).
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { deferred, apq } from './apollo.js';
import { overSSE, overWebSocket, checkRun } from './chat.js';
import { check, CheckError, equal, isTime, present, show } from './check.js';
import { corsHTTP, corsSSESingle, corsWebSocket } from './cors.js';
import {
  CompleteStepDocument,
  CreateBusinessInfoDocument,
  DeferredSummaryDocument,
  GeneratePersonaDocument,
  OnboardingSummaryDocument,
  PlansDocument,
  RegisterDocument,
  SaveResearchPreferencesDocument,
} from './documents.js';
import type { PlansQuery } from './gql/graphql.js';
import { data, documentId, errorCode, Server, type Send } from './http.js';

interface Session {
  email: string;
  token: string;
}

const businessName = 'Crumb & Co. Bakery';

/** register signs a new user up, with an address no run has used. */
async function register(server: Server, send: Send): Promise<Session> {
  const email = `client-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`;
  const { register: r } = await server.must(RegisterDocument, { input: { email, password: 'correct horse battery' } }, { send });
  equal(r.user.email, email, 'register: user.email');
  equal(r.user.tier, 'FREE', 'register: user.tier');
  check(r.accessToken.split('.').length === 3, 'register: accessToken is not a JWT', r.accessToken);
  check(isTime(r.expiresAt, 'register: expiresAt') > new Date(), 'register: expiresAt is not in the future', r.expiresAt);
  isTime(r.user.createdAt, 'register: user.createdAt');
  return { email, token: r.accessToken };
}

/** onboard fills steps 2 and 3 of the wizard and saves a persona. */
async function onboard(server: Server, s: Session, send: Send): Promise<{ personaId: string; line: string }> {
  const opts = { token: s.token, send };
  const { createBusinessInfo: b } = await server.must(CreateBusinessInfoDocument, {
    input: {
      businessName,
      description: 'A neighbourhood bakery that writes weekly about sourdough, seasonal bakes and its suppliers.',
      industry: 'Food & beverage',
      targetAudience: 'home bakers and local food lovers',
      businessGoals: ['grow the newsletter'],
      products: ['sourdough', 'pastries'],
    },
  }, opts);
  equal(b.businessName, businessName, 'createBusinessInfo: businessName');
  const { saveResearchPreferences: p } = await server.must(SaveResearchPreferencesDocument, {
    input: { depth: 'STANDARD', contentTypes: ['BLOG_POST', 'NEWSLETTER'], writingTone: 'FRIENDLY' },
  }, opts);
  equal(p.writingTone, 'FRIENDLY', 'saveResearchPreferences: writingTone');
  const { generatePersona: persona } = await server.must(GeneratePersonaDocument, { platforms: ['BLOG', 'LINKEDIN'] }, opts);
  check(persona.active, 'generatePersona: the new persona is not active', persona);
  check(persona.core.name.trim() !== '', 'generatePersona: the persona has no name', persona.core);
  // Step 1 needs a validated provider key: completing step 2 before it is refused,
  // with a code a client can act on.
  const refused = await server.post(CompleteStepDocument, { step: 2 }, opts);
  const err = errorCode(refused, 'completeStep(2) before step 1');
  check(err.extensions?.code !== undefined && err.extensions.code !== 'INTERNAL', 'completeStep(2) before step 1: want a specific code', err);
  return { personaId: persona.id, line: `business info, preferences, persona ${persona.id} (${persona.source}); completeStep(2) refused ${err.extensions?.code}` };
}

/** summary fetches the whole onboarding summary with its user, in one request. */
async function summary(server: Server, s: Session, personaId: string, send: Send): Promise<string> {
  const r = send === 'documentId'
    ? data(await server.get(OnboardingSummaryDocument, {}, { token: s.token, send }), 'OnboardingSummary')
    : await server.must(OnboardingSummaryDocument, {}, { token: s.token, send });
  equal(r.me.email, s.email, 'summary: me.email');
  const o = present(r.me.onboarding, 'summary: me.onboarding');
  equal(o.businessInfo?.businessName, businessName, 'summary: businessInfo.businessName');
  equal(o.personalization.businessName, businessName, 'summary: personalization.businessName');
  equal(o.researchPreferences?.writingTone, 'FRIENDLY', 'summary: researchPreferences.writingTone');
  equal(o.activePersona?.id, personaId, 'summary: activePersona.id');
  equal(o.personalization.personaId, personaId, 'summary: personalization.personaId');
  equal(o.personas.length, 1, 'summary: personas');
  equal(o.progress.steps.length, 6, 'summary: progress.steps');
  equal(o.hasValidatedKey, false, 'summary: hasValidatedKey');
  check(o.resume.missingSteps.includes(1), 'summary: resume.missingSteps should include step 1', o.resume);
  equal(o.plan.tier, 'FREE', 'summary: plan.tier');
  // Int64 arrives as a JSON number (or null for unlimited), Time as RFC 3339 text.
  check(o.plan.monthlyTokens === null || o.plan.monthlyTokens === undefined || Number.isInteger(o.plan.monthlyTokens), 'summary: plan.monthlyTokens is not a number', o.plan.monthlyTokens);
  check(typeof o.plan.backupBytes === 'number' || o.plan.backupBytes == null, 'summary: plan.backupBytes is not a number', o.plan.backupBytes);
  isTime(r.me.createdAt, 'summary: me.createdAt');
  isTime(present(o.businessInfo, 'summary: businessInfo').updatedAt, 'summary: businessInfo.updatedAt');
  return `${s.email}, ${o.progress.percentage}% done, persona ${personaId}, plan ${o.plan.tier} (monthlyTokens ${show(o.plan.monthlyTokens)})`;
}

/**
 * deferRaw reads the deferred summary's multipart/mixed answer itself: the first part
 * has the summary without the deferred fields and says more follows; a later one
 * brings them as an incremental result at the summary's path.
 */
async function deferRaw(server: Server, s: Session): Promise<string> {
  const { parts } = await server.multipart(DeferredSummaryDocument, s.token);
  check(parts.length >= 2, 'want at least two parts: the initial result and the deferred one', parts.map((p) => p.body));
  const [first, ...rest] = parts as [typeof parts[0], ...typeof parts];
  const initial = first.body as { data?: { onboarding?: Record<string, unknown> }; hasNext?: boolean; errors?: unknown };
  check(!initial.errors, 'the initial part has errors', initial.errors);
  const onboarding = present(initial.data?.onboarding, 'the initial part\'s onboarding');
  equal((onboarding.businessInfo as { businessName?: string } | null)?.businessName, businessName, 'initial part: businessInfo.businessName');
  check(!('personaReadiness' in onboarding) && !('personalization' in onboarding), 'the initial part already has the deferred fields', onboarding);
  equal(initial.hasNext, true, 'initial part: hasNext');
  // The part that brings the deferred fields, counted from 1.
  const slowAt = parts.findIndex((p, i) => i > 0 && incrementalOf(p.body).some((r) => r.data && 'personaReadiness' in r.data));
  check(slowAt > 0, 'no later part brings the deferred fields', rest.map((p) => p.body));
  const slow = incrementalOf(parts[slowAt]!.body).find((r) => r.data && 'personaReadiness' in r.data)!;
  equal(JSON.stringify(slow.path), JSON.stringify(['onboarding']), 'the deferred result\'s path');
  equal(slow.label, 'slow', 'the deferred result\'s label');
  equal((slow.data!.personalization as { businessName?: string }).businessName, businessName, 'deferred personalization.businessName');
  equal((parts[parts.length - 1]!.body as { hasNext?: boolean }).hasNext, false, 'last part: hasNext');
  return `${parts.length} parts; the deferred fields came in part ${slowAt + 1}, ${(parts[slowAt]!.at - first.at).toFixed(1)} ms after the first`;
}

interface IncrementalResult {
  data?: Record<string, unknown>;
  path?: unknown[];
  label?: string;
}

function incrementalOf(body: Record<string, unknown>): IncrementalResult[] {
  return (body.incremental as IncrementalResult[] | undefined) ?? [];
}

/** trustedRefusals checks that a server in trusted-documents mode runs nothing else. */
async function trustedRefusals(server: Server, s: Session): Promise<string> {
  const adHoc = errorCode(await server.postRaw({ query: '{ plans { tier } }' }, s.token), 'an ad-hoc query');
  equal(adHoc.extensions?.code, 'PERSISTED_QUERY_NOT_ALLOWED', 'an ad-hoc query\'s code');
  // The manifest holds each document as codegen printed it; the same operation
  // formatted otherwise is another document, so clients send the ID.
  const reformatted = errorCode(await server.post(PlansDocument, {}, { token: s.token, send: 'text' }), 'Plans, formatted otherwise');
  equal(reformatted.extensions?.code, 'PERSISTED_QUERY_NOT_ALLOWED', 'Plans formatted otherwise: code');
  const unknownID = errorCode(await server.postRaw({ documentId: 'f'.repeat(64) }, s.token), 'an unknown documentId');
  equal(unknownID.extensions?.code, 'PERSISTED_QUERY_NOT_FOUND', 'an unknown documentId\'s code');
  // The manifest's own text runs: a client that sends documents rather than IDs.
  const manifest = JSON.parse(await readFile(new URL('../src/gql/persisted-documents.json', import.meta.url), 'utf8')) as Record<string, string>;
  const text = present(manifest[documentId(PlansDocument)], 'Plans in the manifest');
  const { plans } = data(await server.postRaw<PlansQuery>({ query: text }, s.token), 'Plans as the manifest has it');
  check(plans.length > 0, 'Plans (the manifest\'s text) answered no plan');
  return 'ad-hoc query and reformatted Plans PERSISTED_QUERY_NOT_ALLOWED, unknown ID PERSISTED_QUERY_NOT_FOUND, the manifest\'s text runs';
}

async function main(argv: string[]): Promise<void> {
  const base = argv.find((a) => !a.startsWith('--'));
  if (!base) {
    process.stderr.write('usage: node dist/main.js SERVER_URL [--trusted] [--only=step,step] [--origin=URL]\n');
    process.exit(2);
  }
  const trusted = argv.includes('--trusted');
  const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
  const origin = argv.find((a) => a.startsWith('--origin='))?.slice('--origin='.length);
  const server = new Server(base);
  const tag = randomUUID().replaceAll('-', '').slice(0, 12);

  // Steps after the first two stand alone: each one that fails is reported and the
  // rest still run, and the exit status is 1 if any failed.
  const failed: string[] = [];
  const step = async (name: string, fn: () => Promise<string>, needed = false): Promise<void> => {
    if (only && !needed && !only.includes(name)) return;
    try {
      const line = await fn();
      process.stdout.write(`ok ${name}${line ? `: ${line}` : ''}\n`);
    } catch (err) {
      const message = err instanceof CheckError ? err.message : err instanceof Error ? (err.stack ?? err.message) : show(err);
      process.stderr.write(`FAIL ${name}: ${message}\n`);
      failed.push(name);
      if (needed) throw new Stop();
    }
  };
  try {
    // In trusted mode every document goes by its ID alone: POST, GET and WebSocket.
    const send: Send = trusted ? 'documentId' : 'text';
    let session!: Session;
    await step('register', async () => {
      session = await register(server, send);
      return `${session.email}${trusted ? ' (documentId over POST)' : ''}`;
    }, true);
    let personaId = '';
    await step('onboard', async () => {
      const r = await onboard(server, session, send);
      personaId = r.personaId;
      return r.line;
    }, true);
    await step('summary', async () => `${await summary(server, session, personaId, send)}${trusted ? ' (documentId over GET)' : ''}`);
    await step('chat-ws', async () => `${checkRun(await overWebSocket(server, session.token, send), 'graphql-ws')}${trusted ? ' (documentId)' : ''}`);
    if (trusted) {
      await step('trusted-refusals', () => trustedRefusals(server, session));
    } else {
      await step('chat-sse', async () => checkRun(await overSSE(server, session.token, false), 'graphql-sse distinct connections'));
      await step('chat-sse-single', async () => checkRun(await overSSE(server, session.token, true), 'graphql-sse single connection'));
      await step('apq-post', () => apq(server, session.token, session.email, false, tag));
      await step('apq-get', () => apq(server, session.token, session.email, true, tag));
      await step('defer', () => deferRaw(server, session));
      await step('defer-apollo', () => deferred(server, session.token, businessName));
    }
    if (origin) {
      await step('cors', () => corsHTTP(server, origin, session.token));
      await step('cors-ws', () => corsWebSocket(server, origin, session.token));
      await step('cors-sse-single', () => corsSSESingle(server, origin));
    }
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
  }
  if (failed.length > 0) {
    process.stderr.write(`FAILED: ${failed.join(', ')}\n`);
    process.exit(1);
  }
  // Every client was disposed; exit all the same, so that a socket a library keeps
  // open cannot hold CI.
  process.exit(process.exitCode ?? 0);
}

/** Stop ends the run when a step the others need has failed. */
class Stop extends Error {}

// A promise that fails with no one waiting (a client library's socket, say) is a
// failure too, reported as one rather than as Node's crash dump.
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`FAIL (unhandled rejection): ${show(reason)}\n`);
  process.exitCode = 1;
});

await main(process.argv.slice(2));
