// Scenarios driven through masto.js (https://github.com/neet/masto.js), the library many web clients build on.
// Each uses the library's typed calls only and checks the shape of what it decoded (shapes.mjs); the C# test
// asserts on the values returned.

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createOAuthAPIClient, createRestAPIClient, createStreamingAPIClient, MastoHttpError } from "masto";
import * as shape from "./shapes.mjs";

const client = (request, member) =>
  createRestAPIClient({ url: request.baseUrl, accessToken: member ? request.members[member].token : undefined, timeout: 20_000 });

/** Everything a client reads about the server, anonymously and as a member. */
export async function instance(request) {
  const anonymous = client(request);
  const v1 = shape.instanceV1(await anonymous.v1.instance.fetch());
  const v2 = shape.instanceV2(await anonymous.v2.instance.fetch());
  const peers = await anonymous.v1.instance.peers.list();
  const activity = await anonymous.v1.instance.activity.list();
  const rules = await anonymous.v1.instance.rules.list();
  const extended = await anonymous.v1.instance.extendedDescription.fetch();
  const emojis = await anonymous.v1.customEmojis.list();
  const trendingTags = await anonymous.v1.trends.tags.list();
  const trendingStatuses = await anonymous.v1.trends.statuses.list();
  const trendingLinks = await anonymous.v1.trends.links.list();
  const preferences = await client(request, "alice").v1.preferences.fetch();
  return {
    v1: { uri: v1.uri, title: v1.title, version: v1.version, streaming: v1.urls.streamingApi, userCount: v1.stats.userCount, thumbnail: v1.thumbnail },
    v2: { domain: v2.domain, title: v2.title, version: v2.version, streaming: v2.configuration.urls.streaming,
      maxCharacters: v2.configuration.statuses.maxCharacters, thumbnail: v2.thumbnail.url, registrations: v2.registrations.enabled,
      apiVersions: v2.apiVersions ?? null, rules: v2.rules.map((r) => r.text) },
    peers, activityWeeks: activity.length, activityFirst: activity[0], rules: rules.map((r) => r.text),
    extendedDescription: extended.content, emojis, trends: [trendingTags.length, trendingStatuses.length, trendingLinks.length],
    preferences,
  };
}

/**
 * Two members of one server: alice posts, bob follows her, reads, replies, favourites and boosts, then alice reads
 * her notifications and deletes a post.
 */
export async function conversation(request) {
  const alice = client(request, "alice");
  const bob = client(request, "bob");
  const aliceId = request.members.alice.id;
  const bobId = request.members.bob.id;

  const me = shape.account(await alice.v1.accounts.verifyCredentials());
  assert.equal(me.id, aliceId);
  assert.equal(typeof me.source?.note, "string", "verify_credentials has source.note");
  assert.ok(Array.isArray(me.source?.fields), "verify_credentials has source.fields");

  const found = shape.account(await bob.v1.accounts.lookup({ acct: request.members.alice.acct }));
  assert.equal(found.id, aliceId);
  const fetched = shape.account(await bob.v1.accounts.$select(aliceId).fetch());
  const followed = shape.relationship(await bob.v1.accounts.$select(aliceId).follow({ reblogs: true }));
  const [relationship] = await bob.v1.accounts.relationships.fetch({ id: [aliceId] });
  shape.relationship(relationship);

  const post = shape.status(await alice.v1.statuses.create({
    status: `Hello @${request.members.bob.acct}, agenda for Thursday`, spoilerText: "meeting", visibility: "public", language: "en",
  }));
  const privatePost = shape.status(await alice.v1.statuses.create({ status: "followers only", visibility: "private" }));
  const seen = shape.status(await bob.v1.statuses.$select(post.id).fetch());
  const reply = shape.status(await bob.v1.statuses.create({ status: `@${request.members.alice.acct} thanks, I will be there`, inReplyToId: post.id, visibility: "unlisted" }));
  const context = await bob.v1.statuses.$select(post.id).context.fetch();
  context.descendants.forEach((s, i) => shape.status(s, `descendants[${i}]`));
  const replyContext = await alice.v1.statuses.$select(reply.id).context.fetch();

  const favourited = shape.status(await bob.v1.statuses.$select(post.id).favourite());
  const boost = shape.status(await bob.v1.statuses.$select(post.id).reblog());
  const aliceStatuses = await bob.v1.accounts.$select(aliceId).statuses.list({ limit: 10 });
  aliceStatuses.forEach((s, i) => shape.status(s, `accountStatuses[${i}]`));

  const notifications = await alice.v1.notifications.list({ limit: 30 });
  shape.list(shape.notification)(notifications, "notifications");
  const mentions = await alice.v1.notifications.list({ types: ["mention"] });
  shape.list(shape.notification)(mentions, "mentions");
  const withoutFollows = await alice.v1.notifications.list({ excludeTypes: ["follow"] });
  const fromBob = await alice.v1.notifications.list({ accountId: bobId });
  const one = shape.notification(await alice.v1.notifications.$select(mentions[0].id).fetch());
  await alice.v1.notifications.$select(one.id).dismiss();
  let afterDismiss;
  try {
    await alice.v1.notifications.$select(one.id).fetch();
    afterDismiss = 200;
  } catch (error) {
    if (!(error instanceof MastoHttpError)) throw error;
    afterDismiss = error.statusCode;
  }

  const unboosted = shape.status(await bob.v1.statuses.$select(post.id).unreblog());
  const unfavourited = shape.status(await bob.v1.statuses.$select(post.id).unfavourite());
  const afterUndo = await alice.v1.notifications.list({ types: ["favourite", "reblog"] });
  const deleted = shape.status(await alice.v1.statuses.$select(privatePost.id).remove());
  let deletedFetch;
  try {
    await bob.v1.statuses.$select(privatePost.id).fetch();
    deletedFetch = 200;
  } catch (error) {
    deletedFetch = error.statusCode;
  }
  await alice.v1.notifications.clear();
  const afterClear = await alice.v1.notifications.list();

  return {
    me: { id: me.id, acct: me.acct, displayName: me.displayName, avatar: me.avatar, createdAt: me.createdAt },
    fetched: { id: fetched.id, acct: fetched.acct, url: fetched.url },
    followed: { following: followed.following, requested: followed.requested },
    relationship: { following: relationship.following, followedBy: relationship.followedBy },
    post: { id: post.id, spoilerText: post.spoilerText, sensitive: post.sensitive, visibility: post.visibility, language: post.language,
      mentions: post.mentions.map((m) => m.acct), content: post.content, editedAt: post.editedAt, createdAt: post.createdAt },
    seen: { id: seen.id, spoilerText: seen.spoilerText },
    reply: { id: reply.id, inReplyToId: reply.inReplyToId, inReplyToAccountId: reply.inReplyToAccountId, visibility: reply.visibility },
    context: { ancestors: context.ancestors.map((s) => s.id), descendants: context.descendants.map((s) => s.id) },
    replyContext: { ancestors: replyContext.ancestors.map((s) => s.id), descendants: replyContext.descendants.map((s) => s.id) },
    favourited: favourited.favourited,
    boost: { id: boost.id, reblogOf: boost.reblog?.id ?? null, reblogged: boost.reblog?.reblogged ?? null },
    accountStatuses: aliceStatuses.map((s) => s.id),
    notifications: notifications.map((n) => ({ type: n.type, account: n.account.id, status: n.status?.id ?? null })),
    mentions: mentions.map((n) => n.type),
    withoutFollows: withoutFollows.map((n) => n.type),
    fromBob: fromBob.map((n) => n.account.id),
    dismissed: one.id, afterDismiss,
    unboosted: unboosted.reblogged, unfavourited: unfavourited.favourited,
    afterUndo: afterUndo.map((n) => n.type),
    deleted: { id: deleted.id, text: deleted.text ?? null }, deletedFetch,
    afterClear: afterClear.length,
  };
}

/** Paging the way masto.js does it: the paginator follows the Link header until a page comes back empty. */
export async function paging(request) {
  const bob = client(request, "bob");
  const { pageSize } = request.args;
  const collect = async (paginator) => {
    const pages = [];
    for await (const page of paginator) {
      if (page.length === 0) break;
      page.forEach((s, i) => shape.status(s, `page${pages.length}[${i}]`));
      pages.push(page.map((s) => s.id));
      if (pages.length > 50) throw new Error("paging did not end");
    }
    return pages;
  };
  const home = await collect(bob.v1.timelines.home.list({ limit: pageSize }));
  const publicLocal = await collect(bob.v1.timelines.public.list({ limit: pageSize, local: true }));
  const account = await collect(bob.v1.accounts.$select(request.members.alice.id).statuses.list({ limit: pageSize, excludeReplies: true }));
  // Newer than the first page: the paginator walks towards the present with rel="prev".
  const newest = home.flat()[0];
  const oldest = home.flat().at(-1);
  const newer = [];
  for await (const page of bob.v1.timelines.home.list({ limit: pageSize, minId: oldest }).setDirection("prev")) {
    if (page.length === 0) break;
    newer.push(page.map((s) => s.id));
    if (newer.length > 50) throw new Error("paging did not end");
  }
  return { home, publicLocal, account, newest, newer };
}

/** Notifications paged by the library, and the markers that say where the member stopped reading. */
export async function notificationPaging(request) {
  const alice = client(request, "alice");
  const pages = [];
  for await (const page of alice.v1.notifications.list({ limit: request.args.pageSize })) {
    if (page.length === 0) break;
    shape.list(shape.notification)(page, `page${pages.length}`);
    pages.push(page.map((n) => ({ id: n.id, type: n.type })));
    if (pages.length > 50) throw new Error("paging did not end");
  }
  const lastReadId = pages.flat()[0].id;
  const saved = await alice.v1.markers.create({ notifications: { lastReadId } });
  const markers = await alice.v1.markers.fetch({ timeline: ["notifications", "home"] });
  const unread = await alice.v1.notifications.unreadCount.fetch();
  return { pages, saved: saved.notifications.lastReadId, marker: markers.notifications?.lastReadId ?? null, unread: unread.count };
}

/** Bookmarks, favourites, mutes, blocks and follower lists through masto's paginators. */
export async function collections(request) {
  const alice = client(request, "alice");
  const bob = client(request, "bob");
  const aliceId = request.members.alice.id;
  const all = async (paginator) => {
    const items = [];
    for await (const page of paginator) {
      if (page.length === 0) break;
      items.push(...page);
      if (items.length > 500) throw new Error("paging did not end");
    }
    return items;
  };

  await bob.v1.accounts.$select(aliceId).follow();
  const posts = [];
  for (const text of ["one", "two", "three"]) posts.push((await alice.v1.statuses.create({ status: text })).id);
  for (const id of posts) {
    const saved = shape.status(await bob.v1.statuses.$select(id).bookmark());
    assert.equal(saved.bookmarked, true);
    await bob.v1.statuses.$select(id).favourite();
  }
  const bookmarks = await all(bob.v1.bookmarks.list({ limit: 2 }));
  bookmarks.forEach((s, i) => shape.status(s, `bookmarks[${i}]`));
  const favourites = await all(bob.v1.favourites.list({ limit: 2 }));
  const unbookmarked = await bob.v1.statuses.$select(posts[0]).unbookmark();

  const followers = await all(alice.v1.accounts.$select(aliceId).followers.list({ limit: 1 }));
  followers.forEach((a, i) => shape.account(a, `followers[${i}]`));
  const following = await all(bob.v1.accounts.$select(request.members.bob.id).following.list());

  const muted = shape.relationship(await bob.v1.accounts.$select(aliceId).mute({ notifications: false, duration: 3600 }));
  const mutes = await all(bob.v1.mutes.list());
  const homeWhileMuted = await bob.v1.timelines.home.list();
  await bob.v1.accounts.$select(aliceId).unmute();
  const blocked = shape.relationship(await alice.v1.accounts.$select(request.members.bob.id).block());
  const blocks = await all(alice.v1.blocks.list());
  await alice.v1.accounts.$select(request.members.bob.id).unblock();

  return {
    posts, bookmarks: bookmarks.map((s) => s.id), favourites: favourites.map((s) => s.id), unbookmarked: unbookmarked.bookmarked,
    followers: followers.map((a) => a.id), following: following.map((a) => a.id),
    muted: { muting: muted.muting, mutingNotifications: muted.mutingNotifications }, mutes: mutes.map((a) => a.id),
    homeWhileMuted: homeWhileMuted.map((s) => s.account.id),
    blocked: blocked.blocking, blocks: blocks.map((a) => a.id),
  };
}

/** Minimal HTML entity decoding for the hidden fields of the sign-in and consent forms. */
const decodeHtml = (text) => text
  .replace(/&#x([0-9a-f]+);/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
  .replace(/&#(\d+);/g, (_, dec) => String.fromCodePoint(Number(dec)))
  .replace(/&quot;/g, "\"").replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

const hiddenFields = (html) => Object.fromEntries(
  [...html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [decodeHtml(m[1]), decodeHtml(m[2])]));

/** A browser without JavaScript: keeps cookies, never follows redirects on its own. */
function browser(baseUrl) {
  const jar = new Map();
  return async (path, init = {}) => {
    const headers = new Headers(init.headers ?? {});
    if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const response = await fetch(new URL(path, baseUrl), { ...init, headers, redirect: "manual" });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(";");
      const at = pair.indexOf("=");
      jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return response;
  };
}

/** Waits (polling) until probe returns a truthy value. */
async function eventually(probe, what, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Progress on stderr, so that a run that does not finish shows the last step it reached. */
function progress(scenario) {
  const started = Date.now();
  return (what) => process.stderr.write(`[${scenario} +${((Date.now() - started) / 1000).toFixed(1)} s] ${what}\n`);
}

/**
 * What the audit of real clients found they call beyond posting and reading: follow suggestions (v1, v2 and their
 * dismissal), the profile directory, accounts and statuses by id, translation languages, a filter keyword edited on
 * its own, a scheduled post retried with the same Idempotency-Key, and a poll edited (same options, then new ones).
 */
export async function discovery(request) {
  const alice = client(request, "alice");
  const bob = client(request, "bob");
  const bobId = request.members.bob.id;
  const aliceId = request.members.alice.id;

  const bobPost = shape.status(await bob.v1.statuses.create({ status: "bob is new here" }));
  const suggested = await alice.v1.suggestions.list({ limit: 40 });
  shape.list(shape.account)(suggested, "suggestions");
  const suggestedV2 = await alice.v2.suggestions.list({ limit: 40 });
  suggestedV2.forEach((s, i) => { shape.account(s.account, `suggestionsV2[${i}].account`); assert.equal(typeof s.source, "string"); });
  const bobSuggestion = suggestedV2.find((s) => s.account.id === bobId);
  await alice.v1.suggestions.$select(bobId).remove();
  const afterDismissal = await alice.v1.suggestions.list({ limit: 40 });

  const directory = await alice.v1.directory.list({ local: true, order: "active", limit: 40 });
  shape.list(shape.account)(directory, "directory");
  const byIds = await alice.v1.accounts.fetch({ id: [bobId, aliceId] });
  shape.list(shape.account)(byIds, "accountsById");
  const statusesByIds = await alice.v1.statuses.fetch({ id: [bobPost.id] });
  shape.list(shape.status)(statusesByIds, "statusesById");
  const translationLanguages = await alice.v1.instance.translationLanguages.fetch();

  const filter = await alice.v2.filters.create({ title: "Spoilers", context: ["home"], keywordsAttributes: [{ keyword: "finale", wholeWord: true }] });
  const keyword = await alice.v2.filters.keywords.$select(filter.keywords[0].id).update({ keyword: "season finale", wholeWord: false });
  const keywordAgain = await alice.v2.filters.keywords.$select(filter.keywords[0].id).fetch();

  const scheduledAt = new Date(Date.now() + 3 * 3600_000).toISOString();
  const retry = { requestInit: { headers: { "Idempotency-Key": `discovery-${aliceId}` } } };
  const scheduled = await alice.v1.statuses.create({ status: "later", scheduledAt }, retry);
  const scheduledAgain = await alice.v1.statuses.create({ status: "later", scheduledAt }, retry);
  const scheduledList = await alice.v1.scheduledStatuses.list();

  const poll = shape.status(await alice.v1.statuses.create({ status: "Which day?", poll: { options: ["Tue", "Thu"], expiresIn: 86400 } }));
  await bob.v1.polls.$select(poll.poll.id).votes.create({ choices: [1] });
  const sameOptions = shape.status(await alice.v1.statuses.$select(poll.id).update({ status: "Which day, please?", poll: { options: ["Tue", "Thu"], expiresIn: 86400 } }));
  const newOptions = shape.status(await alice.v1.statuses.$select(poll.id).update({ status: "Which day, please?", poll: { options: ["Tue", "Thu", "Fri"], expiresIn: 86400 } }));
  const history = await alice.v1.statuses.$select(poll.id).history.list();

  return {
    suggested: suggested.map((a) => a.id), bobSources: bobSuggestion?.sources ?? null, bobSource: bobSuggestion?.source ?? null,
    afterDismissal: afterDismissal.map((a) => a.id), directory: directory.map((a) => a.id), byIds: byIds.map((a) => a.id),
    statusesByIds: statusesByIds.map((s) => s.id), bobPost: bobPost.id, translationLanguages,
    keyword: { keyword: keyword.keyword, wholeWord: keyword.wholeWord, again: keywordAgain.keyword },
    scheduled: [scheduled.id, scheduledAgain.id], scheduledCount: scheduledList.length,
    pollVotes: [poll.poll.votesCount, sameOptions.poll.votesCount, newOptions.poll.votesCount],
    pollOptions: newOptions.poll.options.map((o) => o.title), historyPolls: history.map((h) => h.poll?.options?.length ?? null),
  };
}

/**
 * A whole session as an app built on masto.js has it: register the app, sign in through the server's OAuth page
 * with PKCE (S256), upload an image and post it, post a poll, read both back from the home and local timelines,
 * follow a member of another Fellows server, hear their poll arrive on the user stream, vote on it, and hear their
 * follow back arrive as a notification on the same stream.
 */
export async function session(request) {
  const { login, password, imagePng } = request.args;
  const redirectUri = "urn:ietf:wg:oauth:2.0:oob";
  const scope = "read write follow push";
  const step = progress("masto.session");
  step("registering the app");
  const app = await client(request).v1.apps.create({ clientName: "masto session", redirectUris: redirectUri, scopes: scope });

  // The authorization page, as a browser would go through it.
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const go = browser(request.baseUrl);
  const authorize = `/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: app.clientId, redirect_uri: redirectUri, scope,
    code_challenge: challenge, code_challenge_method: "S256" })}`;
  step("the sign-in page");
  let page = await go(authorize);
  let html = await page.text();
  assert.match(html, /action="\/oauth\/sign_in"/, "the sign-in page");
  const signedIn = await go("/oauth/sign_in", { method: "POST", body: new URLSearchParams({ ...hiddenFields(html), login, password }) });
  assert.equal(signedIn.status, 302, "signed in");
  page = await go(signedIn.headers.get("location"));
  html = await page.text();
  assert.match(html, /action="\/oauth\/authorize"/, "the consent page");
  step("the consent page");
  const consent = await go("/oauth/authorize", { method: "POST", body: new URLSearchParams({ ...hiddenFields(html), decision: "approve" }) });
  const code = decodeHtml(/<code id="code" class="code">([^<]*)<\/code>/.exec(await consent.text())?.[1] ?? "");
  assert.ok(code.length > 0, "the out-of-band page shows a code");
  step("exchanging the code for a token");
  const oauth = createOAuthAPIClient({ url: request.baseUrl });
  const token = await oauth.token.create({ grantType: "authorization_code", clientId: app.clientId, clientSecret: app.clientSecret,
    redirectUri, code, codeVerifier: verifier, scope });

  const me = createRestAPIClient({ url: request.baseUrl, accessToken: token.accessToken, timeout: 20_000 });
  const account = shape.account(await me.v1.accounts.verifyCredentials());

  // Media (uploaded through v2, processed asynchronously; the library waits for it) and a poll.
  step("uploading an image (v2, waiting for processing)");
  const media = await me.v2.media.create({ file: new Blob([Buffer.from(imagePng, "base64")], { type: "image/png" }), description: "The rota" });
  step("posting the image and a poll");
  const withMedia = shape.status(await me.v1.statuses.create({ status: "December rota attached", mediaIds: [media.id] }));
  const withPoll = shape.status(await me.v1.statuses.create({ status: "Which evening for the assembly?",
    poll: { options: ["Tuesday", "Thursday"], expiresIn: 86_400 } }));
  step("reading the home and local timelines");
  const home = await me.v1.timelines.home.list({ limit: 20 });
  const local = await me.v1.timelines.public.list({ local: true, limit: 40 });

  // A member of another Fellows server: found by handle, followed, and heard on the user stream.
  const instance = await me.v2.instance.fetch();
  step(`subscribing to the user stream at ${instance.configuration.urls.streaming}`);
  const streaming = createStreamingAPIClient({ streamingApiUrl: instance.configuration.urls.streaming, accessToken: token.accessToken,
    implementation: WebSocket, retry: false });
  const events = streaming.user.subscribe();
  const heard = [];
  let streamEnded = null;
  const listening = (async () => {
    try {
      for await (const event of events) {
        step(`heard ${event.event} on ${event.stream}`);
        heard.push(event);
      }
      streamEnded = "the stream ended";
    } catch (error) {
      streamEnded = `the stream failed: ${error?.message ?? error}`;
    }
  })();
  // The stream is closed on every path out of here, or its WebSocket would keep Node running after the answer.
  try {
    return await sessionWithStream(request, { me, account, token, media, withMedia, withPoll, home, local, heard, step,
      ended: () => streamEnded });
  } finally {
    step("closing the stream");
    events.unsubscribe();
    streaming.close();
    await Promise.race([listening, new Promise((r) => setTimeout(r, 1000))]);
  }
}

async function sessionWithStream(request, { me, account, token, media, withMedia, withPoll, home, local, heard, step, ended }) {
  const { remoteBaseUrl, remoteAcct } = request.args;
  /** Waits for an event on the stream; gives up at once, with the reason, if the stream has ended. */
  const hear = (match, what, seconds = 30) => eventually(() => {
    if (ended()) throw new Error(`Waiting for ${what}, but ${ended()}`);
    return heard.find(match);
  }, what, seconds);

  // A subscription is taken without acknowledgement, so a post from another server could arrive before it: first
  // hear a post of our own on the stream (posting again if the first came too early).
  step("checking the stream is live");
  for (let attempt = 1, live = false; !live; attempt++) {
    const own = await me.v1.statuses.create({ status: `Listening (${attempt})`, visibility: "private" });
    live = await hear((e) => e.event === "update" && e.payload.id === own.id, "our own post on the user stream", 5)
      .catch((error) => { if (attempt === 5 || ended()) throw error; return false; });
  }

  step(`resolving ${remoteAcct}`);
  const found = await me.v2.search.list({ q: remoteAcct, resolve: true, type: "accounts" });
  assert.equal(found.accounts.length, 1, "the remote member is found by handle");
  const remoteId = found.accounts[0].id;
  step("following them");
  await me.v1.accounts.$select(remoteId).follow();
  await eventually(async () => (await me.v1.accounts.relationships.fetch({ id: [remoteId] }))[0].following, "the follow to be accepted");

  step("the remote member posts a poll");
  const remote = createRestAPIClient({ url: remoteBaseUrl, accessToken: request.members.remote.token, timeout: 20_000 });
  const remotePoll = await remote.v1.statuses.create({ status: "Shall we share the van?", poll: { options: ["Yes", "No"], expiresIn: 86_400 } });
  const arrived = await hear((e) => e.event === "update" && e.payload.uri === remotePoll.uri, "the remote poll on the user stream");
  step("voting");
  const voted = await me.v1.polls.$select(arrived.payload.poll.id).votes.create({ choices: [0] });

  // The remote member follows back: the notification comes on the same stream.
  step("the remote member follows back");
  const mine = await remote.v2.search.list({ q: `${account.acct}@${new URL(request.baseUrl).host}`, resolve: true, type: "accounts" });
  await remote.v1.accounts.$select(mine.accounts[0].id).follow();
  const notification = await hear((e) => e.event === "notification", "the follow notification on the stream");
  step("waiting for the vote to be counted on the poll's server");
  const remoteCounts = await eventually(async () => {
    const poll = await remote.v1.polls.$select(remotePoll.poll.id).fetch();
    return poll.votesCount === 1 ? poll : null;
  }, "the vote to be counted on the poll's server");
  step("done");

  return {
    tokenScope: token.scope, acct: account.acct,
    media: { id: media.id, type: media.type, url: media.url, description: media.description },
    withMedia: { id: withMedia.id, attachments: withMedia.mediaAttachments.map((m) => m.id) },
    withPoll: { id: withPoll.id, options: withPoll.poll.options.map((o) => o.title), multiple: withPoll.poll.multiple },
    home: home.map((s) => s.id), local: local.map((s) => s.id),
    arrived: { content: arrived.payload.content, stream: arrived.stream, pollOptions: arrived.payload.poll.options.map((o) => o.title) },
    voted: { voted: voted.voted, ownVotes: voted.ownVotes, votesCount: voted.votesCount },
    notification: { type: notification.payload.type, account: notification.payload.account.acct },
    remoteCounts: remoteCounts.options.map((o) => o.votesCount),
  };
}
