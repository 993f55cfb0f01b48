// Scenarios driven through megalodon (https://github.com/h3poteto/megalodon), which desktop and mobile clients
// (Whalebird among them) use for Mastodon and its relatives. megalodon first detects what kind of server it talks
// to from NodeInfo, then keeps Mastodon's snake_case field names.

import assert from "node:assert/strict";
import generator, { detector } from "megalodon";
import * as shapes from "./shapes.mjs";

// megalodon rebuilds statuses from a fixed list of fields and drops the rest (filtered, text).
const shape = {
  ...shapes,
  status: (s, path) => shapes.status(s, path, { rebuilt: true }),
  notification: (n, path) => shapes.notification(n, path, { rebuilt: true }),
};

const client = (request, member) => generator("mastodon", request.baseUrl, member ? request.members[member].token : null);

/** max_id of the rel="next" link, as a client paging with megalodon reads it from the response headers. */
function nextMaxId(response) {
  const link = response.headers?.link ?? response.headers?.Link;
  if (!link) return null;
  const next = link.split(",").find((part) => /rel="next"/.test(part));
  if (!next) return null;
  const url = new URL(next.match(/<([^>]+)>/)[1]);
  return url.searchParams.get("max_id");
}

export async function instance(request) {
  const sns = await detector(request.baseUrl);
  const anonymous = client(request);
  const info = shape.instanceV1((await anonymous.getInstance()).data);
  const peers = (await anonymous.getInstancePeers()).data;
  const activity = (await anonymous.getInstanceActivity()).data;
  const emojis = (await anonymous.getInstanceCustomEmojis()).data;
  const trends = (await anonymous.getInstanceTrends()).data;
  const preferences = (await client(request, "alice").getPreferences()).data;
  return { sns, uri: info.uri, version: info.version, streaming: info.urls.streaming_api, peers, activityWeeks: activity.length, emojis, trends,
    preferences };
}

export async function conversation(request) {
  const alice = client(request, "alice");
  const bob = client(request, "bob");
  const aliceId = request.members.alice.id;
  const bobId = request.members.bob.id;

  const me = shape.account((await alice.verifyAccountCredentials()).data);
  assert.equal(me.id, aliceId);
  const found = shape.account((await bob.lookupAccount(request.members.alice.acct)).data);
  const fetched = shape.account((await bob.getAccount(aliceId)).data);
  const followed = shape.relationship((await bob.followAccount(aliceId)).data);
  const relationships = (await bob.getRelationships([aliceId])).data;
  relationships.forEach((r, i) => shape.relationship(r, `relationships[${i}]`));

  const post = shape.status((await alice.postStatus("Minutes of the general meeting", { spoiler_text: "long", visibility: "unlisted" })).data);
  const reply = shape.status((await bob.postStatus(`@${request.members.alice.acct} thank you`, { in_reply_to_id: post.id })).data);
  const seen = shape.status((await bob.getStatus(post.id)).data);
  const context = (await alice.getStatusContext(post.id)).data;
  const favourited = shape.status((await bob.favouriteStatus(post.id)).data);
  const boost = shape.status((await bob.reblogStatus(post.id)).data);
  const statuses = (await bob.getAccountStatuses(aliceId, { limit: 5 })).data;
  statuses.forEach((s, i) => shape.status(s, `accountStatuses[${i}]`));

  const notifications = (await alice.getNotifications({ limit: 20 })).data;
  shape.list(shape.notification)(notifications, "notifications");
  const noMentions = (await alice.getNotifications({ exclude_types: ["mention"] })).data;
  const fromBob = (await alice.getNotifications({ account_id: bobId })).data;
  const single = shape.notification((await alice.getNotification(notifications[0].id)).data);
  await alice.dismissNotification(single.id);
  const afterDismiss = (await alice.getNotifications({ limit: 20 })).data;

  await bob.unreblogStatus(post.id);
  await bob.unfavouriteStatus(post.id);
  const deleted = (await alice.deleteStatus(post.id)).data;
  await alice.dismissNotifications();
  const afterClear = (await alice.getNotifications()).data;

  return {
    me: me.id, found: found.id, fetched: fetched.acct, followed: followed.following, relationships: relationships.map((r) => r.following),
    post: { id: post.id, spoiler: post.spoiler_text, visibility: post.visibility },
    reply: { inReplyToId: reply.in_reply_to_id, visibility: reply.visibility },
    seen: seen.id, descendants: context.descendants.map((s) => s.id),
    favourited: favourited.favourited, boostOf: boost.reblog?.id ?? null,
    accountStatuses: statuses.map((s) => s.id),
    notifications: notifications.map((n) => n.type), noMentions: noMentions.map((n) => n.type), fromBob: fromBob.map((n) => n.account.id),
    dismissed: single.id, afterDismiss: afterDismiss.map((n) => n.id),
    deleted: deleted.id, afterClear: afterClear.length,
  };
}

/** megalodon leaves paging to the caller: follow rel="next" from the Link header until a page is empty. */
export async function paging(request) {
  const bob = client(request, "bob");
  const { pageSize } = request.args;
  const walk = async (fetchPage) => {
    const pages = [];
    let maxId;
    for (;;) {
      const response = await fetchPage(maxId);
      if (response.data.length === 0) break;
      response.data.forEach((s, i) => shape.status(s, `page${pages.length}[${i}]`));
      pages.push(response.data.map((s) => s.id));
      maxId = nextMaxId(response);
      if (!maxId || pages.length > 50) break;
    }
    return pages;
  };
  const home = await walk((max_id) => bob.getHomeTimeline({ limit: pageSize, max_id }));
  const local = await walk((max_id) => bob.getLocalTimeline({ limit: pageSize, max_id }));
  const account = await walk((max_id) => bob.getAccountStatuses(request.members.alice.id, { limit: pageSize, max_id }));
  return { home, local, account };
}

/** Lists through megalodon, which follows rel="next" itself for follower lists (get_all). */
export async function collections(request) {
  const alice = client(request, "alice");
  const bob = client(request, "bob");
  const aliceId = request.members.alice.id;
  await bob.followAccount(aliceId);
  const post = shape.status((await alice.postStatus("for the record")).data);
  const bookmarked = shape.status((await bob.bookmarkStatus(post.id)).data);
  await bob.favouriteStatus(post.id);
  const bookmarks = (await bob.getBookmarks({ limit: 10 })).data;
  const favourites = (await bob.getFavourites({ limit: 10 })).data;
  const followers = (await alice.getAccountFollowers(aliceId, { limit: 1, get_all: true })).data;
  followers.forEach((a, i) => shape.account(a, `followers[${i}]`));
  const following = (await bob.getAccountFollowing(request.members.bob.id, { limit: 1, get_all: true })).data;
  const muted = shape.relationship((await bob.muteAccount(aliceId, true)).data);
  const mutes = (await bob.getMutes({ limit: 10 })).data;
  await bob.unmuteAccount(aliceId);
  const saved = (await bob.saveMarkers({ home: { last_read_id: post.id } })).data;
  const markers = (await bob.getMarkers(["home", "notifications"])).data;
  return {
    post: post.id, bookmarked: bookmarked.bookmarked, bookmarks: bookmarks.map((s) => s.id), favourites: favourites.map((s) => s.id),
    followers: followers.map((a) => a.id), following: following.map((a) => a.id),
    muting: muted.muting, mutes: mutes.map((a) => a.id),
    savedHome: saved.home?.last_read_id ?? null, markerHome: markers.home?.last_read_id ?? null,
  };
}

/** Suggestions (megalodon reads v1), the directory, a poll edited with the same options and then new ones, v1 filters. */
export async function discovery(request) {
  const alice = client(request, "alice");
  const bob = client(request, "bob");
  const suggested = (await alice.getSuggestions(40)).data;
  shape.list(shape.account)(suggested, "suggestions");
  const directory = (await alice.getInstanceDirectory({ local: true, order: "new", limit: 40 })).data;
  shape.list(shape.account)(directory, "directory");
  const poll = shape.status((await alice.postStatus("Which day?", { poll: { options: ["Tue", "Thu"], expires_in: 86400 } })).data);
  await bob.votePoll(poll.poll.id, [0]);
  const same = shape.status((await alice.editStatus(poll.id, { status: "Which day, please?", poll: { options: ["Tue", "Thu"], expires_in: 86400 } })).data);
  const changed = shape.status((await alice.editStatus(poll.id, { status: "Which day, please?", poll: { options: ["Mon", "Tue", "Thu"], expires_in: 86400 } })).data);
  const bobView = (await bob.getPoll(poll.poll.id)).data;

  // megalodon's filters are v1: one phrase each.
  const created = (await alice.createFilter("finale", ["home", "public"], { whole_word: true })).data;
  const updated = (await alice.updateFilter(created.id, "season finale", ["home"], { irreversible: true })).data;
  const fetched = (await alice.getFilter(created.id)).data;
  await alice.deleteFilter(created.id);
  const remaining = (await alice.getFilters()).data;
  return {
    filter: { created: created.phrase, updated: updated.phrase, context: updated.context, irreversible: fetched.irreversible,
      remaining: remaining.length },
    suggested: suggested.map((a) => a.id), directory: directory.map((a) => a.id),
    votes: [same.poll.votes_count, changed.poll.votes_count],
    options: changed.poll.options.map((o) => o.title),
    bobVoted: bobView.voted,
  };
}
