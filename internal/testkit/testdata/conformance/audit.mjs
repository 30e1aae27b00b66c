// Runs the graphql-http server audit suite against one GraphQL endpoint.
//
//   node audit.mjs <url>
//
// Prints one JSON line to stdout:
//   {"ok":N,"notice":N,"warn":N,"error":N,"results":[{"id","name","status","reason"}...]}
// where status is ok, notice (failed MAY), warn (failed SHOULD) or error (failed MUST), and
// only failed results carry a reason. Exits 0 whenever the audits ran: the Go test
// (internal/testkit/conformance.RunAudit) judges the report. Exits non-zero only when the
// suite itself could not run (bad usage, server unreachable).
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  process.stderr.write('usage: node audit.mjs <graphql-url>\n');
  process.exit(2);
}

try {
  // An audit function throws only on fatal problems (e.g. the server is unreachable);
  // assertion failures come back as results.
  const results = await Promise.all(serverAudits({ url }).map((audit) => audit.fn()));

  const report = { ok: 0, notice: 0, warn: 0, error: 0, results: [] };
  for (const result of results) {
    if (!(result.status in report)) {
      throw new Error(`audit ${result.id} has unknown status ${result.status}`);
    }
    report[result.status] += 1;
    const entry = { id: result.id, name: result.name, status: result.status };
    if (result.status !== 'ok') {
      const got = result.response ? ` (got HTTP ${result.response.status})` : '';
      entry.reason = `${result.reason}${got}`;
    }
    report.results.push(entry);
  }
  process.stdout.write(JSON.stringify(report) + '\n');
} catch (err) {
  process.stderr.write(`audit could not run: ${err?.stack ?? err}\n`);
  process.exit(1);
}
