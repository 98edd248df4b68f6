// Follows a community with the `graphql-ws` JavaScript client, as a browser app would:
// subscribe, receive, disconnect, miss two posts, resume with `after` and get exactly those,
// then keep receiving live. Also checks that a bad token closes the socket with 4403.
// Usage: node .ci/live.mjs http://127.0.0.1:8000/graphql
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const url = process.argv[2] ?? 'http://127.0.0.1:8000/graphql';
const wsUrl = url.replace(/^http/, 'ws');

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
  if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

function fail(message) {
  console.error(`FAIL ${message}`);
  process.exit(1);
}

const suffix = Date.now().toString(36);
const { register } = await gql(
  'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }',
  { i: { email: `live-${suffix}@example.com`, password: 'correct horse battery', handle: `live_${suffix}`, displayName: 'Live' } },
);
const token = register.accessToken;
const { createCommunity } = await gql(
  'mutation($i: CreateCommunityInput!) { createCommunity(input: $i) { id } }',
  { i: { slug: `live-${suffix}`, name: 'Live', description: 'CI', visibility: 'PUBLIC' } },
  token,
);
const community = createCommunity.id;
const post = async (title) =>
  (await gql(
    'mutation($i: CreatePostInput!) { createPost(input: $i) { id } }',
    { i: { communityId: community, title, body: 'text' } },
    token,
  )).createPost.id;

const SUBSCRIPTION =
  'subscription($c: ID!, $after: ID) { communityActivity(communityId: $c, after: $after) { id action subjectId } }';

// Follows the community until `done(events)` says so; `onEvent` may act on each event (post
// the next thing once the subscription has proven live). No timing: every step waits for an
// event the server must send.
function follow(client, variables, onEvent, done) {
  return new Promise((resolve, reject) => {
    const events = [];
    const timer = setTimeout(() => reject(new Error(`timed out after ${JSON.stringify(events)}`)), 20000);
    const dispose = client.subscribe(
      { query: SUBSCRIPTION, variables },
      {
        next: async (result) => {
          if (result.errors) return reject(new Error(JSON.stringify(result.errors)));
          events.push(result.data.communityActivity);
          try {
            await onEvent(result.data.communityActivity);
          } catch (err) {
            return reject(err);
          }
          if (done(events)) {
            clearTimeout(timer);
            dispose();
            resolve(events);
          }
        },
        error: (err) => reject(err instanceof Error ? err : new Error(JSON.stringify(err))),
        complete: () => {},
      },
    );
  });
}

const connect = () =>
  createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` } });

// Subscribe from the community's beginning (after: "0" replays it), then receive live: once
// the first post arrived, the next one is posted and must arrive too.
const first = await post('first');
let second;
let client = connect();
const seen = await follow(
  client,
  { c: community, after: '0' },
  async (event) => {
    if (event.subjectId === first) second = await post('second');
  },
  (events) => second !== undefined && events.some((e) => e.subjectId === second),
);
const actions = seen.map((e) => e.action);
if (actions[0] !== 'community.created') fail(`replay from the beginning: ${JSON.stringify(actions)}`);
await client.dispose();
console.log('ok   subscribe, replay and receive live');

// Miss two posts, then resume after the last event seen: exactly those, then live.
const last = seen[seen.length - 1].id;
const missed = [await post('third'), await post('fourth')];
let fifth;
client = connect();
const resumed = await follow(
  client,
  { c: community, after: last },
  async (event) => {
    if (event.subjectId === missed[1]) fifth = await post('fifth');
  },
  (events) => fifth !== undefined && events.some((e) => e.subjectId === fifth),
);
const got = resumed.map((e) => e.subjectId);
const want = [...missed, fifth];
if (JSON.stringify(got) !== JSON.stringify(want)) fail(`resume: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
await client.dispose();
console.log('ok   resume with after: the missed events, once, in order, then live');

// A bad token closes with 4403.
const code = await new Promise((resolve) => {
  const bad = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: 'Bearer nope' },
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => {},
    on: { closed: (event) => resolve(event.code) },
  });
  setTimeout(() => { bad.dispose(); resolve('no close'); }, 10000);
});
if (code !== 4403) fail(`bad token closed with ${code}, want 4403`);
console.log('ok   a bad token closes with 4403');
console.log('graphql-ws client: all checks pass');
process.exit(0);
