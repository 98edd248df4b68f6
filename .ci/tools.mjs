// What frontend tooling does against the live endpoint:
//  1. graphql-js: the standard introspection query with every option, rebuilt into a schema,
//     equals the committed schema.graphql (which must itself build: no redeclared directives).
//  2. Apollo Client 4 with automatic persisted queries: the first request sends the hash only,
//     the server asks for the query, the client resends it; a second client needs one request.
//  3. Apollo Client 4 `typePolicies.Query` with relayStylePagination merges two pages; any
//     Apollo cache warning fails the run.
// Usage: node .ci/tools.mjs http://127.0.0.1:8000/graphql
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema, printSchema,
} from 'graphql';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { relayStylePagination } from '@apollo/client/utilities';

const url = process.argv[2] ?? 'http://127.0.0.1:8000/graphql';

function fail(message) {
  console.error(`FAIL ${message}`);
  process.exit(1);
}

// Apollo reports cache problems (missing ids, lost data) as console warnings/errors.
const warnings = [];
for (const level of ['warn', 'error']) {
  const original = console[level];
  console[level] = (...args) => {
    warnings.push(args.map(String).join(' '));
    original(...args);
  };
}

// 1. Introspection round trip.
{
  const query = getIntrospectionQuery({
    descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true,
    schemaDescription: true, inputValueDeprecation: true, oneOf: true,
  });
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, operationName: 'IntrospectionQuery' }),
  });
  const body = await response.json();
  if (response.status !== 200 || body.errors) fail(`introspection: ${response.status} ${JSON.stringify(body.errors)}`);
  // async-graphql answers __schema.description with a fixed text about schemas in general;
  // the SDL carries no schema description, so that one text is left out of the comparison.
  body.data.__schema.description = null;
  const live = printSchema(lexicographicSortSchema(buildClientSchema(body.data)));
  const committed = printSchema(lexicographicSortSchema(buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'))));
  if (live !== committed) fail('the introspected schema differs from schema.graphql');
  const dateTime = body.data.__schema.types.find((t) => t.name === 'DateTime');
  if (!dateTime?.specifiedByURL) fail('DateTime has no specifiedByURL');
  console.log('ok introspection (every option) rebuilds schema.graphql exactly');
}

// 2. Automatic persisted queries through Apollo's link.
const sha256 = (text) => createHash('sha256').update(text).digest('hex');
function countingFetch(log) {
  return async (input, init) => {
    log.push(JSON.parse(init.body));
    return fetch(input, init);
  };
}
{
  const sent = [];
  const client = new ApolloClient({
    link: new PersistedQueryLink({ sha256 }).concat(new HttpLink({ uri: url, fetch: countingFetch(sent) })),
    cache: new InMemoryCache(),
  });
  const query = gql`query CiPersisted { __typename }`;
  const { data, error } = await client.query({ query, fetchPolicy: 'network-only' });
  if (error || data?.__typename !== 'Query') fail(`persisted query: ${error} ${JSON.stringify(data)}`);
  if (sent.length !== 2 || sent[0].query || !sent[1].query) {
    fail(`expected hash only, then hash and query: ${JSON.stringify(sent)}`);
  }
  const again = [];
  const second = new ApolloClient({
    link: new PersistedQueryLink({ sha256 }).concat(new HttpLink({ uri: url, fetch: countingFetch(again) })),
    cache: new InMemoryCache(),
  });
  const result = await second.query({ query, fetchPolicy: 'network-only' });
  if (result.data?.__typename !== 'Query' || again.length !== 1 || again[0].query) {
    fail(`a registered hash should run alone: ${JSON.stringify(again)}`);
  }
  console.log('ok Apollo persisted queries: not found → resent → known by hash');
}

// 3. typePolicies.Query with relay-style pagination.
{
  const stamp = Date.now().toString(36);
  for (const n of [1, 2, 3]) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }',
        variables: { i: { email: `tools${n}${stamp}@example.com`, password: 'correct horse battery', handle: `tools${n}${stamp}`, displayName: `Tools ${n}` } },
      }),
    });
    const body = await response.json();
    if (body.errors) fail(`register: ${JSON.stringify(body.errors)}`);
  }
  const client = new ApolloClient({
    link: new HttpLink({ uri: url }),
    cache: new InMemoryCache({ typePolicies: { Query: { fields: { profiles: relayStylePagination(['filter']) } } } }),
  });
  const query = gql`query CiProfiles($after: String) {
    profiles(first: 2, after: $after, filter: { text: "tools" }) {
      edges { cursor node { id handle displayName } }
      pageInfo { hasNextPage endCursor }
    }
  }`;
  const watch = client.watchQuery({ query });
  const first = await client.query({ query });
  const page = first.data.profiles;
  if (page.edges.length !== 2 || !page.pageInfo.hasNextPage) fail(`first page: ${JSON.stringify(page)}`);
  await watch.fetchMore({ variables: { after: page.pageInfo.endCursor } });
  const merged = client.readQuery({ query });
  if (merged.profiles.edges.length < 3) fail(`typePolicies.Query did not merge pages: ${JSON.stringify(merged.profiles)}`);
  console.log(`ok Apollo typePolicies.Query merged ${merged.profiles.edges.length} profiles across pages`);
}

if (warnings.length) fail(`Apollo warned: ${warnings.join(' | ')}`);
console.log('tools passed');
process.exit(0);
