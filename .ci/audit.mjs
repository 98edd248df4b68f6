// Runs the GraphQL-over-HTTP spec's server audits (graphql-http) against a running server.
// Usage: node .ci/audit.mjs http://127.0.0.1:8000/graphql
// Exits non-zero when any MUST or SHOULD audit fails; MAY audits are reported.
import { serverAudits } from 'graphql-http';

const url = process.argv[2] ?? 'http://127.0.0.1:8000/graphql';
let failed = 0;
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  const level = audit.name.split(' ')[0];
  const ok = result.status === 'ok';
  if (!ok && level !== 'MAY') failed += 1;
  const reason = ok ? '' : ` -- ${result.reason}`;
  console.log(`${ok ? 'ok  ' : level === 'MAY' ? 'may ' : 'FAIL'} ${audit.id} ${audit.name}${reason}`);
}
console.log(failed === 0 ? 'all MUST and SHOULD audits pass' : `${failed} MUST/SHOULD audits failed`);
process.exit(failed === 0 ? 0 : 1);
