// SPDX-License-Identifier: AGPL-3.0-or-later
//
// An independent ActivityPub peer for Fellows' interoperability tests.
//
// Everything federated (actor documents, WebFinger, HTTP Signatures, Object
// Integrity Proofs, delivery, inbox verification) is done by Fedify, so the
// tests exercise Fellows against a second implementation rather than against
// our own reading of the specs.  Only the small control API under /_control/
// and the recording of inbound requests are ours.
//
// Usage: node peer.mjs --port N [--first-knock rfc9421|cavage] [--log-level LEVEL] [--exit-with-parent]

import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { parseArgs } from "node:util";

import {
  createFederation,
  generateCryptoKeyPair,
  MemoryKvStore,
} from "@fedify/fedify";
import {
  Accept,
  Activity,
  Announce,
  Create,
  Delete,
  Endpoints,
  Follow,
  isActor,
  Like,
  Mention,
  Note,
  Person,
  PUBLIC_COLLECTION,
  Question,
  Reject,
  Tombstone,
  Undo,
  Update,
} from "@fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import { configure, getLogger, getTextFormatter } from "@logtape/logtape";

// ---------------------------------------------------------------------------
// Command line and logging

const { values: args } = parseArgs({
  options: {
    port: { type: "string" },
    "first-knock": { type: "string", default: "rfc9421" },
    "log-level": { type: "string", default: "warning" },
    "exit-with-parent": { type: "boolean", default: false },
  },
});

const port = Number.parseInt(args.port ?? "", 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write("usage: node peer.mjs --port N [--first-knock rfc9421|cavage] [--log-level debug|info|warning|error]\n");
  process.exit(2);
}

// Fedify names the draft spec "draft-cavage-http-signatures-12"; accept the short name too.
const firstKnock = { rfc9421: "rfc9421", cavage: "draft-cavage-http-signatures-12" }[args["first-knock"]];
if (firstKnock == null) {
  process.stderr.write(`unknown --first-knock ${JSON.stringify(args["first-knock"])}; use rfc9421 or cavage\n`);
  process.exit(2);
}

// stdout stays quiet; the C# harness captures stderr for diagnostics.
const formatter = getTextFormatter();
await configure({
  sinks: { stderr: (record) => process.stderr.write(formatter(record)) },
  loggers: [
    { category: ["logtape", "meta"], sinks: ["stderr"], lowestLevel: "error" },
    { category: "fedify", sinks: ["stderr"], lowestLevel: args["log-level"] },
    { category: "peer", sinks: ["stderr"], lowestLevel: "debug" },
  ],
});
const log = getLogger(["peer"]);

// ---------------------------------------------------------------------------
// State (all in memory: one peer process lives for one test fixture)

const IDENTIFIER = "peer";
const origin = `http://127.0.0.1:${port}`;

/** Inbound inbox requests, in arrival order. */
const received = [];
/** Outbound HTTP requests made by this process (deliveries, key and actor fetches). */
const outbound = [];
/** Remote actors following the peer: actor id -> { id, inbox, sharedInbox }. */
const followers = new Map();
/** Remote actors the peer follows: actor id -> { followId, state }. */
const following = new Map();
/** Notes the peer authored: local id -> note data. */
const notes = new Map();
/** Activities the peer sent, kept so they can be undone: activity id -> { activity, recipients }. */
const sent = new Map();

// Generated at start: the tests need a fresh identity per run, never a committed key.
const keyPairs = [
  await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
  await generateCryptoKeyPair("Ed25519"),
];

// Carries the record of the inbound request into Fedify's inbox listeners.
const currentRequest = new AsyncLocalStorage();

// Record every outbound request, so a test can see which signature format
// Fedify chose and whether it retried with the other one (double-knocking).
const originalFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const request = input instanceof Request && init == null ? input : new Request(input, init);
  const entry = {
    seq: outbound.length + 1,
    at: new Date().toISOString(),
    method: request.method,
    url: request.url,
    signature: signatureFormat(request.headers),
    keyId: signatureKeyId(request.headers),
    status: null,
    error: null,
  };
  outbound.push(entry);
  try {
    const response = await originalFetch(request);
    entry.status = response.status;
    return response;
  } catch (error) {
    entry.error = String(error?.message ?? error);
    throw error;
  }
};

// ---------------------------------------------------------------------------
// Federation

const federation = createFederation({
  kv: new MemoryKvStore(),
  origin,
  // The tests federate on loopback only; Fedify refuses private addresses otherwise.
  allowPrivateAddress: true,
  // Signatures are the point of these tests: never skip verification.
  skipSignatureVerification: false,
  firstKnock,
  // No queue: deliveries happen inside the control call, so a failed delivery
  // is reported to the test instead of being retried in the background.
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== IDENTIFIER) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Fedify interop peer",
      summary: "<p>An independent ActivityPub peer used by Fellows' interoperability tests.</p>",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      followers: ctx.getFollowersUri(identifier),
      following: ctx.getFollowingUri(identifier),
      manuallyApprovesFollowers: false,
      discoverable: true,
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === IDENTIFIER ? keyPairs : []))
  // The one WebFinger username is the identifier; saying so keeps Fedify from logging an error per lookup.
  .mapHandle((_ctx, username) => (username === IDENTIFIER ? IDENTIFIER : null));

federation
  .setFollowersDispatcher("/users/{identifier}/followers", (_ctx, identifier) => {
    if (identifier !== IDENTIFIER) return null;
    return {
      items: [...followers.values()].map((f) => ({
        id: new URL(f.id),
        inboxId: f.inbox == null ? null : new URL(f.inbox),
        endpoints: f.sharedInbox == null ? null : { sharedInbox: new URL(f.sharedInbox) },
      })),
    };
  })
  .setCounter((_ctx, identifier) => (identifier === IDENTIFIER ? followers.size : null));

federation
  .setFollowingDispatcher("/users/{identifier}/following", (_ctx, identifier) => {
    if (identifier !== IDENTIFIER) return null;
    return {
      items: [...following.entries()].filter(([, f]) => f.state === "accepted").map(([id]) => new URL(id)),
    };
  });

// Serves the peer's notes so a receiving server can re-fetch them by id.
federation.setObjectDispatcher(Note, "/users/{identifier}/notes/{id}", (ctx, values) => {
  if (values.identifier !== IDENTIFIER) return null;
  const data = notes.get(values.id);
  return data == null || data.deleted ? null : buildNote(ctx, data);
});

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  // Key fetches made while verifying shared-inbox deliveries are signed too,
  // so servers in authorized-fetch mode still answer them.
  .setSharedKeyDispatcher(() => ({ identifier: IDENTIFIER }))
  .on(Follow, async (ctx, follow) => {
    await recordVerified(ctx, follow);
    const target = follow.objectId == null ? null : ctx.parseUri(follow.objectId);
    if (target?.type !== "actor" || target.identifier !== IDENTIFIER) return;
    const actor = await follow.getActor(ctx);
    if (actor == null || actor.id == null || actor.inboxId == null) return;
    followers.set(actor.id.href, {
      id: actor.id.href,
      inbox: actor.inboxId.href,
      sharedInbox: actor.endpoints?.sharedInbox?.href ?? null,
    });
    // Accept automatically, embedding the Follow as Mastodon does, so members can follow the peer.
    const accept = new Accept({
      id: newActivityId(ctx),
      actor: ctx.getActorUri(IDENTIFIER),
      to: actor.id,
      object: follow,
    });
    // Sent after the Follow is answered, as queue-backed servers do, so a
    // failing Accept shows up as a failed delivery rather than as a 500 on the Follow.
    setImmediate(() => {
      send(controlContext(), actor, accept).catch((error) =>
        log.error("could not deliver Accept to {inbox}: {error}", { inbox: actor.inboxId.href, error }));
    });
  })
  .on(Undo, async (ctx, undo) => {
    await recordVerified(ctx, undo);
    const inner = await getEmbeddedObject(ctx, undo);
    if (inner instanceof Follow && undo.actorId != null) {
      followers.delete(undo.actorId.href);
    }
  })
  .on(Accept, async (ctx, accept) => {
    await recordVerified(ctx, accept);
    settleFollow(accept, "accepted");
  })
  .on(Reject, async (ctx, reject) => {
    await recordVerified(ctx, reject);
    settleFollow(reject, "rejected");
  })
  // Everything else (Create, Update, Delete, Announce, Like, ...) is only recorded.
  .on(Activity, async (ctx, activity) => {
    await recordVerified(ctx, activity);
  })
  .onUnverifiedActivity((_ctx, activity, reason) => {
    const record = currentRequest.getStore();
    if (record != null) {
      record.unverifiedReason = reason.type;
      record.activity ??= { type: typeName(activity), id: activity.id?.href ?? null };
    }
    // Returning nothing keeps Fedify's default 401.
  })
  .onError((_ctx, error) => {
    const record = currentRequest.getStore();
    if (record != null) record.error = String(error?.message ?? error);
    log.error("inbox listener failed: {error}", { error });
  });

// ---------------------------------------------------------------------------
// Recording helpers

function signatureFormat(headers) {
  // RFC 9421 always carries Signature-Input; the cavage draft only has Signature.
  if (headers.has("signature-input")) return "rfc9421";
  if (headers.has("signature")) return "cavage";
  return "none";
}

function signatureKeyId(headers) {
  const input = headers.get("signature-input") ?? headers.get("signature");
  const match = input == null ? null : /keyid="([^"]*)"/i.exec(input);
  return match?.[1] ?? null;
}

function typeName(object) {
  // The class name matches the ActivityStreams type for every vocabulary class.
  return object?.constructor?.name ?? null;
}

function textOf(value) {
  return value == null ? null : String(value);
}

async function recordVerified(ctx, activity) {
  const record = currentRequest.getStore();
  const object = await getEmbeddedObject(ctx, activity);
  const parsed = {
    type: typeName(activity),
    id: activity.id?.href ?? null,
    actor: activity.actorId?.href ?? null,
    objectId: activity.objectId?.href ?? null,
    objectType: object == null ? record?.activity?.objectType ?? null : typeName(object),
    content: object instanceof Note ? textOf(object.content) : null,
    inReplyTo: object instanceof Note ? object.replyTargetId?.href ?? null : null,
  };
  if (record == null) {
    log.warn("activity {id} reached a listener outside a recorded request", { id: parsed.id });
    return;
  }
  record.verified = true;
  record.activity = parsed;
  log.info("received {type} {id} from {actor} ({signature})", { ...parsed, signature: record.signature });
}

// Only look at objects the sender embedded; never fetch a bare URI from a
// listener, so recording has no side effects on the server under test.
async function getEmbeddedObject(ctx, activity) {
  const record = currentRequest.getStore();
  const raw = record?.body?.object;
  const embedded = Array.isArray(raw) ? raw[0] : raw;
  if (embedded == null || typeof embedded !== "object") return null;
  // Fedify re-fetches an embedded object whose id has another origin than the
  // activity (an Accept embedding our own Follow, an Undo of a remote Like...);
  // the raw type recorded before verification is enough there.
  if (typeof embedded.id === "string" && activity.id != null &&
      URL.canParse(embedded.id) && new URL(embedded.id).origin !== activity.id.origin) {
    return null;
  }
  try {
    return await activity.getObject(ctx);
  } catch (error) {
    log.warn("could not read the object of {id}: {error}", { id: activity.id?.href, error });
    return null;
  }
}

function settleFollow(response, state) {
  const record = currentRequest.getStore();
  const raw = record?.body?.object;
  const followId = typeof raw === "string" ? raw : raw?.id ?? null;
  for (const [, f] of following) {
    if (f.followId === followId || (followId == null && response.actorId?.href === f.actorId)) {
      f.state = state;
    }
  }
}

// ---------------------------------------------------------------------------
// Outbound helpers

function newActivityId(ctx) {
  return new URL(`/users/${IDENTIFIER}/activities/${randomUUID()}`, ctx.origin);
}

function buildNote(ctx, data) {
  return new Note({
    id: ctx.getObjectUri(Note, { identifier: IDENTIFIER, id: data.id }),
    attribution: ctx.getActorUri(IDENTIFIER),
    content: data.content,
    mediaType: "text/html",
    published: Temporal.Instant.from(data.published),
    updated: data.updated == null ? null : Temporal.Instant.from(data.updated),
    replyTarget: data.inReplyTo == null ? null : new URL(data.inReplyTo),
    tos: data.to.map((u) => new URL(u)),
    ccs: data.cc.map((u) => new URL(u)),
    tags: data.mentions.map((m) => new Mention({ href: new URL(m.href), name: m.name })),
    url: ctx.getObjectUri(Note, { identifier: IDENTIFIER, id: data.id }),
  });
}

async function deliver(ctx, recipients, activity) {
  await ctx.sendActivity({ identifier: IDENTIFIER }, recipients, activity);
}

function controlContext() {
  return federation.createContext(new URL(origin), undefined);
}

// Resolves an actor id URL or a user@host handle to a Fedify actor object.
async function resolveActor(ctx, target) {
  if (typeof target !== "string" || target === "") throw new ControlError(400, "target is required");
  let id = target;
  if (!/^https?:\/\//.test(target)) {
    id = await webFingerSelf(target.replace(/^@/, ""));
  }
  const actor = await ctx.lookupObject(id, { documentLoader: await authLoader(ctx) });
  if (!isActor(actor)) throw new ControlError(404, `no actor at ${id}`);
  return actor;
}

// Fedify's own WebFinger client always uses https for acct: handles; the
// test servers speak plain http on loopback, so resolve handles here.
async function webFingerSelf(handle) {
  const at = handle.lastIndexOf("@");
  if (at <= 0) throw new ControlError(400, `not a user@host handle: ${handle}`);
  const host = handle.substring(at + 1);
  const url = new URL(`http://${host}/.well-known/webfinger`);
  url.searchParams.set("resource", `acct:${handle}`);
  const response = await fetch(url, { headers: { Accept: "application/jrd+json" } });
  if (!response.ok) throw new ControlError(502, `WebFinger for ${handle} answered ${response.status}`);
  const jrd = await response.json();
  const self = (jrd.links ?? []).find((l) =>
    l.rel === "self" && /^application\/(activity\+json|ld\+json)/.test(l.type ?? ""));
  if (self?.href == null) throw new ControlError(502, `WebFinger for ${handle} has no self link`);
  return self.href;
}

async function authLoader(ctx) {
  // Signed fetches, so servers that require authorized fetch still answer.
  return await ctx.getDocumentLoader({ identifier: IDENTIFIER });
}

async function lookup(ctx, id, what) {
  if (typeof id !== "string" || id === "") throw new ControlError(400, `${what} is required`);
  const object = await ctx.lookupObject(id, { documentLoader: await authLoader(ctx) });
  if (object == null) throw new ControlError(404, `could not fetch ${what} ${id}`);
  return object;
}

async function authorOf(ctx, objectId, to) {
  if (to != null) return await resolveActor(ctx, to);
  const object = await lookup(ctx, objectId, "object");
  if (object.attributionId == null) throw new ControlError(400, `${objectId} has no attributedTo; pass "to"`);
  return await resolveActor(ctx, object.attributionId.href);
}

function handleOf(actor) {
  return `@${actor.preferredUsername ?? "unknown"}@${actor.id.host}`;
}

class ControlError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// ---------------------------------------------------------------------------
// Control API

const controlRoutes = {
  "GET /_control/health": () => ({ status: "ok", actor: `${origin}/users/${IDENTIFIER}`, handle: `${IDENTIFIER}@127.0.0.1:${port}` }),

  "GET /_control/received": () => received,
  "DELETE /_control/received": () => { received.length = 0; return { cleared: true }; },
  "GET /_control/outbound": () => outbound,
  "GET /_control/followers": () => [...followers.keys()],
  "GET /_control/following": () => [...following.entries()].map(([actor, f]) => ({ actor, followId: f.followId, state: f.state })),

  "POST /_control/follow": async (body) => {
    const ctx = controlContext();
    const actor = await resolveActor(ctx, body.target);
    const follow = new Follow({
      id: newActivityId(ctx),
      actor: ctx.getActorUri(IDENTIFIER),
      object: actor.id,
      to: actor.id,
    });
    following.set(actor.id.href, { followId: follow.id.href, actorId: actor.id.href, state: "pending" });
    await send(ctx, actor, follow);
    return { id: follow.id.href, actor: actor.id.href };
  },

  "POST /_control/unfollow": async (body) => {
    const ctx = controlContext();
    const actor = await resolveActor(ctx, body.target);
    const entry = following.get(actor.id.href);
    if (entry == null) throw new ControlError(404, `not following ${actor.id.href}`);
    const undo = await undoSent(ctx, entry.followId);
    following.delete(actor.id.href);
    return { id: undo.id.href };
  },

  "POST /_control/post": async (body) => {
    const ctx = controlContext();
    if (typeof body.content !== "string") throw new ControlError(400, "content is required");
    const mentioned = await Promise.all((body.mention ?? []).map((t) => resolveActor(ctx, t)));
    const data = newNoteData(ctx, body.content, null, mentioned, body.public !== false);
    const create = createFor(ctx, data);
    // Followers plus anyone mentioned, as a Mastodon-style public post.
    await send(ctx, "followers", create);
    if (mentioned.length > 0) await send(ctx, mentioned, create);
    return { id: noteUri(ctx, data).href, activity: create.id.href };
  },

  // Reads a Question (a poll, or a Fellows motion, which is also a Question) as Fedify sees it.
  "POST /_control/lookup-question": async (body) => {
    const ctx = controlContext();
    const object = await lookup(ctx, body.id, "question");
    if (!(object instanceof Question)) return { id: object.id?.href ?? null, type: typeName(object), options: [] };
    const loader = { documentLoader: await authLoader(ctx) };
    const options = [];
    for await (const option of object.getExclusiveOptions(loader)) options.push(textOf(option.name));
    for await (const option of object.getInclusiveOptions(loader)) options.push(textOf(option.name));
    const closed = object.closed;
    return {
      id: object.id?.href ?? null,
      type: typeName(object),
      attributedTo: object.attributionId?.href ?? null,
      options,
      endTime: object.endTime?.toString() ?? null,
      closed: closed == null || closed === false ? null : String(closed),
      votersCount: object.voters,
    };
  },

  // A poll vote as Mastodon sends it (FEP-9967): a Note with the option as its name, in reply to the
  // question, to the question's author only. With "attributedTo" the note claims another author (a forgery
  // the receiving server must refuse: the signature is the peer's).
  "POST /_control/vote": async (body) => {
    const ctx = controlContext();
    if (typeof body.choice !== "string" || body.choice === "") throw new ControlError(400, "choice is required");
    const author = await authorOf(ctx, body.question, body.to);
    const id = new URL(`/users/${IDENTIFIER}/votes/${randomUUID()}`, ctx.origin);
    const vote = new Note({
      id,
      attribution: typeof body.attributedTo === "string" ? new URL(body.attributedTo) : ctx.getActorUri(IDENTIFIER),
      name: body.choice,
      replyTarget: new URL(body.question),
      tos: [author.id],
    });
    const create = new Create({ id: newActivityId(ctx), actor: ctx.getActorUri(IDENTIFIER), object: vote, tos: [author.id] });
    await send(ctx, author, create);
    return { id: id.href, activity: create.id.href };
  },

  "POST /_control/reply": async (body) => {
    const ctx = controlContext();
    const author = await authorOf(ctx, body.inReplyTo, body.to);
    if (typeof body.content !== "string") throw new ControlError(400, "content is required");
    const data = newNoteData(ctx, body.content, body.inReplyTo, [author], body.public !== false);
    const create = createFor(ctx, data);
    await send(ctx, author, create);
    return { id: noteUri(ctx, data).href, activity: create.id.href };
  },

  "POST /_control/update": async (body) => {
    const ctx = controlContext();
    const data = ownNote(body.note);
    if (typeof body.content !== "string") throw new ControlError(400, "content is required");
    data.content = body.content;
    data.updated = new Date().toISOString();
    const update = new Update({
      id: newActivityId(ctx),
      actor: ctx.getActorUri(IDENTIFIER),
      object: buildNote(ctx, data),
      tos: data.to.map((u) => new URL(u)),
      ccs: data.cc.map((u) => new URL(u)),
    });
    await send(ctx, await noteAudience(ctx, data), update);
    return { id: update.id.href };
  },

  "POST /_control/delete": async (body) => {
    const ctx = controlContext();
    const data = ownNote(body.note);
    data.deleted = true;
    const del = new Delete({
      id: newActivityId(ctx),
      actor: ctx.getActorUri(IDENTIFIER),
      object: new Tombstone({ id: noteUri(ctx, data) }),
      tos: data.to.map((u) => new URL(u)),
      ccs: data.cc.map((u) => new URL(u)),
    });
    await send(ctx, await noteAudience(ctx, data), del);
    return { id: del.id.href };
  },

  "POST /_control/like": async (body) => {
    const ctx = controlContext();
    const author = await authorOf(ctx, body.object, body.to);
    const like = new Like({
      id: newActivityId(ctx),
      actor: ctx.getActorUri(IDENTIFIER),
      object: new URL(body.object),
      to: author.id,
    });
    await send(ctx, author, like);
    return { id: like.id.href };
  },

  "POST /_control/announce": async (body) => {
    const ctx = controlContext();
    const author = await authorOf(ctx, body.object, body.to);
    const announce = new Announce({
      id: newActivityId(ctx),
      actor: ctx.getActorUri(IDENTIFIER),
      object: new URL(body.object),
      to: PUBLIC_COLLECTION,
      ccs: [author.id, ctx.getFollowersUri(IDENTIFIER)],
      published: Temporal.Now.instant(),
    });
    await send(ctx, author, announce);
    await send(ctx, "followers", announce);
    return { id: announce.id.href };
  },

  "POST /_control/undo": async (body) => {
    const ctx = controlContext();
    const undo = await undoSent(ctx, body.activity);
    return { id: undo.id.href };
  },
};

function newNoteData(ctx, content, inReplyTo, mentioned, isPublic) {
  const followersUri = ctx.getFollowersUri(IDENTIFIER).href;
  const mentionIds = mentioned.map((a) => a.id.href);
  const data = {
    id: randomUUID(),
    content,
    inReplyTo: inReplyTo ?? null,
    published: new Date().toISOString(),
    updated: null,
    deleted: false,
    // Public: to Public and those mentioned, cc followers. Otherwise: to those mentioned only.
    to: isPublic ? [PUBLIC_COLLECTION.href, ...mentionIds] : mentionIds,
    cc: isPublic ? [followersUri] : [],
    mentions: mentioned.map((a) => ({ href: a.id.href, name: handleOf(a) })),
  };
  notes.set(data.id, data);
  return data;
}

function noteUri(ctx, data) {
  return ctx.getObjectUri(Note, { identifier: IDENTIFIER, id: data.id });
}

function createFor(ctx, data) {
  return new Create({
    id: newActivityId(ctx),
    actor: ctx.getActorUri(IDENTIFIER),
    object: buildNote(ctx, data),
    tos: data.to.map((u) => new URL(u)),
    ccs: data.cc.map((u) => new URL(u)),
    published: Temporal.Instant.from(data.published),
  });
}

function ownNote(id) {
  if (typeof id !== "string") throw new ControlError(400, "note is required");
  const prefix = `${origin}/users/${IDENTIFIER}/notes/`;
  const data = id.startsWith(prefix) ? notes.get(id.substring(prefix.length)) : null;
  if (data == null || data.deleted) throw new ControlError(404, `no note ${id}`);
  return data;
}

async function noteAudience(ctx, data) {
  const actors = await Promise.all(data.mentions.map((m) => resolveActor(ctx, m.href)));
  const inboxes = new Map(actors.map((a) => [a.id.href, a]));
  if (data.cc.length > 0) {
    for (const f of followers.values()) {
      inboxes.set(f.id, {
        id: new URL(f.id),
        inboxId: new URL(f.inbox),
        endpoints: f.sharedInbox == null ? null : { sharedInbox: new URL(f.sharedInbox) },
      });
    }
  }
  return [...inboxes.values()];
}

async function send(ctx, recipients, activity) {
  sent.set(activity.id.href, { activity, recipients });
  await deliver(ctx, recipients, activity);
}

async function undoSent(ctx, activityId) {
  const original = typeof activityId === "string" ? sent.get(activityId) : null;
  if (original == null) throw new ControlError(404, `no sent activity ${activityId}`);
  const undo = new Undo({
    id: newActivityId(ctx),
    actor: ctx.getActorUri(IDENTIFIER),
    object: original.activity,
    tos: original.activity.toIds,
    ccs: original.activity.ccIds,
  });
  await send(ctx, original.recipients, undo);
  return undo;
}

async function handleControl(request) {
  const url = new URL(request.url);
  const route = controlRoutes[`${request.method} ${url.pathname}`];
  if (route == null) return json(404, { error: `no control route ${request.method} ${url.pathname}` });
  try {
    let body = {};
    if (request.method === "POST") {
      const text = await request.text();
      body = text === "" ? {} : JSON.parse(text);
    }
    return json(200, await route(body));
  } catch (error) {
    const status = error instanceof ControlError ? error.status : error instanceof SyntaxError ? 400 : 502;
    log.error("control {method} {path} failed: {error}", { method: request.method, path: url.pathname, error });
    return json(status, { error: String(error?.message ?? error) });
  }
}

function json(status, value) {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8" },
  });
}

// ---------------------------------------------------------------------------
// HTTP server: node:http <-> WHATWG Request/Response, with inbox recording

const INBOX_PATH = /^\/(?:users\/[^/]+\/)?inbox\/?$/;
const ACTIVITIES_PREFIX = `/users/${IDENTIFIER}/activities/`;

// Activities the peer sent stay dereferenceable at their ids, as on most servers.
async function serveActivity(url) {
  const entry = sent.get(`${origin}${url.pathname}`);
  if (entry == null) return new Response("Not Found", { status: 404 });
  const ctx = controlContext();
  const body = await entry.activity.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader });
  return new Response(JSON.stringify(body), {
    headers: { "Content-Type": "application/activity+json", Vary: "Accept" },
  });
}

async function handle(request) {
  const url = new URL(request.url);
  if (url.pathname.startsWith("/_control/")) return await handleControl(request);

  if (request.method === "GET" && url.pathname.startsWith(ACTIVITIES_PREFIX)) {
    return await serveActivity(url);
  }
  if (!INBOX_PATH.test(url.pathname)) {
    return await federation.fetch(request, { contextData: undefined });
  }

  // Recorded before Fedify sees the request, so rejected deliveries show up too.
  const text = request.method === "POST" ? await request.clone().text() : "";
  let body = null;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  const record = {
    seq: received.length + 1,
    at: new Date().toISOString(),
    method: request.method,
    path: url.pathname,
    signature: signatureFormat(request.headers),
    keyId: signatureKeyId(request.headers),
    contentType: request.headers.get("content-type"),
    status: null,
    verified: false,
    unverifiedReason: null,
    error: null,
    activity: body == null ? null : {
      type: body.type ?? null,
      id: body.id ?? null,
      actor: typeof body.actor === "string" ? body.actor : body.actor?.id ?? null,
      objectId: typeof body.object === "string" ? body.object : body.object?.id ?? null,
      // A multi-typed object (["Question", "fellows:Motion"]) is recorded by its first type.
      objectType: typeof body.object === "object"
        ? (Array.isArray(body.object?.type) ? body.object.type[0] ?? null : body.object?.type ?? null)
        : null,
      content: null,
      inReplyTo: null,
    },
    body,
  };
  received.push(record);
  const response = await currentRequest.run(record, () =>
    federation.fetch(request, { contextData: undefined }));
  record.status = response.status;
  return response;
}

async function toRequest(req) {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  // Keep the authority the client used: RFC 9421 signs @authority and @target-uri.
  const url = new URL(req.url, `http://${req.headers.host ?? `127.0.0.1:${port}`}`);
  let body;
  if (req.method !== "GET" && req.method !== "HEAD") {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    body = Buffer.concat(chunks);
  }
  return new Request(url, { method: req.method, headers, body });
}

async function writeResponse(res, response) {
  const headers = {};
  response.headers.forEach((value, name) => {
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  });
  res.writeHead(response.status, headers);
  res.end(Buffer.from(await response.arrayBuffer()));
}

const server = createServer(async (req, res) => {
  try {
    const request = await toRequest(req);
    const response = await handle(request);
    await writeResponse(res, response);
  } catch (error) {
    log.error("request {method} {url} failed: {error}", { method: req.method, url: req.url, error });
    if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ error: String(error?.message ?? error) }));
  }
});

server.listen(port, "127.0.0.1", () => {
  log.info("peer listening on {origin} as {actor} (first knock: {firstKnock})", {
    origin, actor: `${origin}/users/${IDENTIFIER}`, firstKnock,
  });
});

function shutdown(signal) {
  log.info("{signal}: shutting down", { signal });
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
// A test host that crashes cannot kill its peers. It holds the write end of
// our stdin and never writes, so end-of-file means it is gone.
if (args["exit-with-parent"]) {
  process.stdin.on("end", () => shutdown("stdin closed"));
  process.stdin.on("error", () => shutdown("stdin closed"));
  process.stdin.resume();
}
process.on("SIGINT", () => shutdown("SIGINT"));
