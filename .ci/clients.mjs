// The request flows of three more clients against the live endpoint, as frontend code runs them:
//  1. graphql-request registers a person, creates a public community and five posts;
//  2. urql pages through the posts two at a time by cursor (totalCount beside the pages) and
//     follows the community over graphql-ws (subscriptionExchange): the replay of what was
//     posted, then a post made now, live;
//  3. graphql-codegen introspects the live endpoint and generates TypeScript types for the
//     schema and for an operation.
// Usage: node .ci/clients.mjs http://127.0.0.1:8000/graphql
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphQLClient, gql as requestGql } from 'graphql-request';
import { Client, cacheExchange, fetchExchange, gql, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { generate } from '@graphql-codegen/cli';

const url = process.argv[2] ?? 'http://127.0.0.1:8000/graphql';

function fail(message) {
  console.error(`FAIL ${message}`);
  process.exit(1);
}

// 1. graphql-request.
const suffix = Date.now().toString(36);
const anonymous = new GraphQLClient(url);
const { register } = await anonymous.request(
  requestGql`mutation Register($i: RegisterInput!) { register(input: $i) { accessToken me { id profile { handle } } } }`,
  { i: { email: `clients-${suffix}@example.com`, password: 'correct horse battery', handle: `clients_${suffix}`, displayName: 'Clients' } },
);
const token = register.accessToken;
const signedIn = new GraphQLClient(url, { headers: { authorization: `Bearer ${token}` } });
const { createCommunity } = await signedIn.request(
  requestGql`mutation Create($i: CreateCommunityInput!) { createCommunity(input: $i) { id slug } }`,
  { i: { slug: `clients-${suffix}`, name: 'Clients', description: 'CI walk', visibility: 'PUBLIC' } },
);
const community = createCommunity.id;
const post = (title) =>
  signedIn.request(requestGql`mutation Post($i: CreatePostInput!) { createPost(input: $i) { id title } }`, {
    i: { communityId: community, title, body: 'text' },
  });
const titles = [];
for (let i = 1; i <= 5; i += 1) {
  titles.push((await post(`post ${i}`)).createPost.title);
}
try {
  await anonymous.request(requestGql`mutation Post($i: CreatePostInput!) { createPost(input: $i) { id } }`, {
    i: { communityId: community, title: 'anonymous', body: 'text' },
  });
  fail('graphql-request: an anonymous post was accepted');
} catch (error) {
  const code = error.response?.errors?.[0]?.extensions?.code;
  if (code !== 'UNAUTHENTICATED') fail(`graphql-request: anonymous post gave ${code}`);
}
console.log('ok graphql-request: register, community, five posts, anonymous refused with a code');

// 2. urql with graphql-ws.
const wsClient = createWsClient({
  url: url.replace(/^http/, 'ws'),
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
});
const client = new Client({
  url,
  fetchOptions: { headers: { authorization: `Bearer ${token}` } },
  exchanges: [
    cacheExchange,
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const input = { ...request, query: request.query || '' };
        return {
          subscribe(sink) {
            return { unsubscribe: wsClient.subscribe(input, sink) };
          },
        };
      },
    }),
  ],
});
const PAGE = gql`
  query Posts($id: ID!, $after: String) {
    community(id: $id) { id posts(first: 2, after: $after) { totalCount edges { cursor node { id title } } pageInfo { hasNextPage endCursor } } }
  }
`;
const seen = [];
let after = null;
for (let round = 0; round < 10; round += 1) {
  const result = await client.query(PAGE, { id: community, after }).toPromise();
  if (result.error) fail(`urql: ${result.error.message}`);
  const posts = result.data.community.posts;
  if (posts.totalCount !== 5) fail(`urql: totalCount ${posts.totalCount}`);
  seen.push(...posts.edges.map((e) => e.node.title));
  if (!posts.pageInfo.hasNextPage) break;
  after = posts.pageInfo.endCursor;
}
const newestFirst = [...titles].reverse();
if (JSON.stringify(seen) !== JSON.stringify(newestFirst)) fail(`urql paging: ${JSON.stringify(seen)}`);
console.log('ok urql: three pages by cursor, newest first, totalCount 5');

const FOLLOW = gql`
  subscription Follow($c: ID!) { communityActivity(communityId: $c, after: "0") { id action after } }
`;
await new Promise((resolve, reject) => {
  const received = [];
  const timer = setTimeout(() => reject(new Error(`urql subscription timed out: ${JSON.stringify(received)}`)), 20000);
  let posted = false;
  const { unsubscribe } = client.subscription(FOLLOW, { c: community }).subscribe((result) => {
    if (result.error) {
      clearTimeout(timer);
      reject(result.error);
      return;
    }
    const event = result.data.communityActivity;
    received.push(event.action);
    const title = event.after?.title;
    // The replay reached the last post made before: the stream is live, post one more.
    if (title === 'post 5' && !posted) {
      posted = true;
      post('live post').catch(reject);
    }
    if (title === 'live post') {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    }
  });
}).catch((error) => fail(error.message));
await wsClient.dispose();
console.log('ok urql + graphql-ws: replay from the start, then a live post');

// 3. graphql-codegen against the live endpoint.
const dir = mkdtempSync(join(tmpdir(), 'codegen-'));
writeFileSync(join(dir, 'posts.graphql'), PAGE.loc.source.body);
const output = await generate(
  {
    schema: url,
    documents: join(dir, 'posts.graphql'),
    silent: true,
    // Plugins resolve from this script's node_modules, wherever CI runs it from.
    pluginLoader: (name) => import(name),
    generates: {
      [join(dir, 'types.ts')]: {
        plugins: ['typescript', 'typescript-operations'],
        config: { scalars: { DateTime: 'string', Cents: 'number' } },
      },
    },
  },
  false,
);
const types = output.map((file) => file.content).join('\n');
for (const expected of ['export type Query = {', 'export type PostsQuery = {', 'totalCount: number', 'DateTime: { input: string; output: string; }']) {
  if (!types.includes(expected)) fail(`codegen output lacks ${expected}`);
}
console.log(`ok graphql-codegen: ${types.split('\n').length} lines of types from the live endpoint`);
process.exit(0);
