// Outgoing webhooks against the live server, checked by the Standard Webhooks reference library
// (npm `standardwebhooks`), as a receiver would check them: a local HTTP receiver is registered
// as an organization's endpoint, a contract is created, and the delivery that arrives must verify
// with the secret shown at creation (headers, signature, timestamp tolerance); a tampered body or
// another secret must not. A replay arrives again with the same webhook-id and verifies too.
// No sleeps: every step waits for a request the server must send (with a deadline).
// Usage: node .ci/webhooks.mjs http://127.0.0.1:8000/graphql
import { createServer } from 'node:http';
import standardwebhooks from 'standardwebhooks';

const { Webhook } = standardwebhooks;
const url = process.argv[2] ?? 'http://127.0.0.1:8000/graphql';

function fail(message) {
  console.error(`FAIL ${message}`);
  process.exit(1);
}

async function gql(query, variables, token) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) fail(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

// The receiver: records each POST (raw body and headers) and answers 200.
const received = [];
const waiting = [];
const server = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
    response.writeHead(200).end();
    for (const wake of waiting.splice(0)) wake();
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const hookUrl = `http://127.0.0.1:${server.address().port}/hook`;

function delivery(n) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received.length} webhook(s) arrived, not ${n}`)), 20000);
    const check = () => {
      if (received.length >= n) {
        clearTimeout(timer);
        resolve(received[n - 1]);
      } else {
        waiting.push(check);
      }
    };
    check();
  });
}

function verifies(secret, hook) {
  try {
    return new Webhook(secret).verify(hook.body, hook.headers);
  } catch {
    return undefined;
  }
}

const suffix = Date.now().toString(36);
const { register } = await gql(
  'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }',
  { i: { email: `hooks-${suffix}@example.com`, password: 'correct horse battery', handle: `hooks_${suffix}`, displayName: 'Hooks' } },
);
const token = register.accessToken;
const { createOrganization } = await gql(
  'mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { id } }',
  { i: { slug: `hooks-${suffix}`, name: 'Hooks' } },
  token,
);
const organizationId = createOrganization.id;
const { webhookEventTypes } = await gql('{ webhookEventTypes }', {}, token);
if (!webhookEventTypes.includes('contract.created')) fail(`contract.created is not an event type: ${webhookEventTypes}`);
const { createWebhookEndpoint } = await gql(
  'mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret endpoint { id } } }',
  { i: { organizationId, url: hookUrl, eventTypes: ['contract.created'] } },
  token,
);
const { secret } = createWebhookEndpoint;
const endpointId = createWebhookEndpoint.endpoint.id;

const { createContract } = await gql(
  'mutation($i: CreateContractInput!) { createContract(input: $i) { id } }',
  { i: { organizationId, title: 'Webhooks', currency: 'EUR', budgetCents: 10000 } },
  token,
);
const first = await delivery(1);
const event = verifies(secret, first);
if (!event) fail(`the delivery does not verify: ${JSON.stringify(first)}`);
if (event.type !== 'contract.created' || event.data.subjectId !== createContract.id) {
  fail(`unexpected event ${JSON.stringify(event)}`);
}
if (verifies(secret, { ...first, body: first.body.replace('contract.created', 'contract.completed') })) {
  fail('a tampered body verified');
}
const other = `whsec_${Buffer.from('another key of twenty four').toString('base64')}`;
if (verifies(other, first)) fail('another secret verified');
console.log(`ok standardwebhooks: ${first.headers['webhook-id']} verifies; a tampered body or another secret does not`);

const { webhookDeliveries } = await gql(
  'query($e: ID!) { webhookDeliveries(endpointId: $e, first: 1) { edges { node { id webhookId status } } } }',
  { e: endpointId },
  token,
);
const listed = webhookDeliveries.edges[0].node;
if (listed.webhookId !== first.headers['webhook-id']) fail(`listed ${JSON.stringify(listed)}`);
await gql(
  'mutation($i: ReplayWebhookDeliveryInput!) { replayWebhookDelivery(input: $i) { status } }',
  { i: { deliveryId: listed.id } },
  token,
);
const again = await delivery(2);
if (again.headers['webhook-id'] !== first.headers['webhook-id']) fail('the replay changed the webhook-id');
if (!verifies(secret, again)) fail(`the replay does not verify: ${JSON.stringify(again)}`);
console.log('ok standardwebhooks: the replay arrives with the same webhook-id and verifies');

server.close();
process.exit(0);
