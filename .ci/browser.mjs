// GraphiQL in headless Chromium, as a developer opens it: the page must load with no network
// beyond this server and no content-policy violation, its documentation explorer must list the
// schema, a query must run and show its result, and a subscription must show events (a
// replayed one, then a live one).
// Usage: node .ci/browser.mjs http://127.0.0.1:8000/graphql
import puppeteer from 'puppeteer-core';

const url = process.argv[2] ?? 'http://127.0.0.1:8000/graphql';
const origin = new URL(url).origin;
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';

function fail(message) {
  console.error(`FAIL ${message}`);
  process.exit(1);
}

async function gql(query, variables, token) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) fail(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

// A public community with one post, to query and to follow.
const suffix = Date.now().toString(36);
const { register } = await gql(
  'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }',
  { i: { email: `browser-${suffix}@example.com`, password: 'correct horse battery', handle: `browser_${suffix}`, displayName: 'Browser' } },
);
const token = register.accessToken;
const slug = `browser-${suffix}`;
const { createCommunity } = await gql(
  'mutation($i: CreateCommunityInput!) { createCommunity(input: $i) { id } }',
  { i: { slug, name: 'Browser', description: 'CI', visibility: 'PUBLIC' } },
  token,
);
const post = (title) =>
  gql('mutation($i: CreatePostInput!) { createPost(input: $i) { id } }', { i: { communityId: createCommunity.id, title, body: 'text' } }, token);
await post('replayed-post');

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
  ],
});
const timeout = 30000;
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(timeout);
  // Nothing may leave this server: every other request is refused and fails the run.
  const outside = [];
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const target = request.url();
    if (target.startsWith(origin) || target.startsWith('data:')) request.continue();
    else {
      outside.push(target);
      request.abort();
    }
  });
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__violations = [...(window.__violations ?? []), `${e.violatedDirective} ${e.blockedURI}`];
    });
  });

  const response = await page.goto(url, { waitUntil: 'load' });
  const policy = response.headers()['content-security-policy'] ?? '';
  if (!policy.includes("default-src 'none'")) fail(`no strict content security policy: ${policy}`);
  await page.waitForSelector('.graphiql-query-editor .CodeMirror');
  console.log('ok GraphiQL loads from the server alone');

  // The documentation explorer lists the root types, then a root field.
  await page.click('[aria-label="Show Documentation Explorer"]');
  await page.waitForFunction(() => {
    const text = document.querySelector('.graphiql-doc-explorer')?.textContent ?? '';
    return text.includes('Query') && text.includes('Mutation') && text.includes('Subscription');
  });
  await page.evaluate(() => {
    const link = [...document.querySelectorAll('.graphiql-doc-explorer a')].find((a) => a.textContent === 'Query');
    link?.click();
  });
  await page.waitForFunction(() => (document.querySelector('.graphiql-doc-explorer')?.textContent ?? '').includes('communities'));
  console.log('ok the documentation explorer lists the schema');

  const run = async (query) => {
    await page.evaluate((q) => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(q), query);
    await page.click('.graphiql-execute-button');
  };
  const waitForResponse = (needle) =>
    page.waitForFunction((n) => (document.querySelector('.graphiql-response')?.textContent ?? '').includes(n), {}, needle);

  await run(`{ community(slug: "${slug}") { name posts(first: 5) { totalCount edges { node { title } } } } }`);
  await waitForResponse('replayed-post');
  console.log('ok a query runs and shows its result');

  // The subscription replays the post made before it started (the query's result holds no
  // action, so this is the subscription's); then a post made now arrives live.
  await run(`subscription { communityActivity(communityId: "${createCommunity.id}", after: "0") { id action after } }`);
  await waitForResponse('post.created');
  await post('live-post');
  await waitForResponse('live-post');
  console.log('ok a subscription shows a replayed and a live event');

  const violations = await page.evaluate(() => window.__violations ?? []);
  if (violations.length) fail(`content security policy violations: ${violations.join('; ')}`);
  if (outside.length) fail(`requests beyond the server: ${outside.join(', ')}`);
  if (problems.length) fail(`errors in the page: ${problems.join('; ')}`);
  console.log('ok no request beyond the server, no policy violation, no page error');
} finally {
  await browser.close();
}
