// Checks that entities, as a client library decoded them, have every field Mastodon documents with the right
// type. masto.js turns snake_case keys into camelCase and megalodon keeps them, so each field is looked up under
// both spellings. A failure names the path of the offending field.

const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const ID = /^\d+$/;

export class ShapeError extends Error {}

const camel = (key) => key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

function field(obj, key, path) {
  if (obj === null || typeof obj !== "object") throw new ShapeError(`${path} is not an object`);
  if (key in obj) return obj[key];
  const c = camel(key);
  if (c in obj) return obj[c];
  throw new ShapeError(`${path}.${key} is missing`);
}

const is = {
  string: (v) => typeof v === "string",
  nonEmpty: (v) => typeof v === "string" && v.length > 0,
  id: (v) => typeof v === "string" && ID.test(v),
  bool: (v) => typeof v === "boolean",
  int: (v) => Number.isInteger(v) && v >= 0,
  date: (v) => typeof v === "string" && DATE.test(v),
  day: (v) => typeof v === "string" && DAY.test(v),
  url: (v) => typeof v === "string" && /^https?:\/\/[^\s]+$/.test(v),
  array: (v) => Array.isArray(v),
  object: (v) => v !== null && typeof v === "object" && !Array.isArray(v),
};

function expect(obj, path, spec) {
  for (const [key, rule] of Object.entries(spec)) {
    const value = field(obj, key, path);
    const rules = Array.isArray(rule) ? rule : [rule];
    const ok = rules.some((r) => (r === null ? value === null : typeof r === "function" ? r(value, `${path}.${key}`) !== false : value === r));
    if (!ok) throw new ShapeError(`${path}.${key} has the wrong type or value: ${JSON.stringify(value)}`);
  }
  return obj;
}

const each = (check) => (list, path) => {
  if (!Array.isArray(list)) return false;
  list.forEach((item, i) => check(item, `${path}[${i}]`));
  return true;
};

export function account(a, path = "account") {
  return expect(a, path, {
    id: is.id, username: is.nonEmpty, acct: is.nonEmpty, url: is.url, uri: is.url, display_name: is.string, note: is.string,
    avatar: is.url, avatar_static: is.url, header: is.url, header_static: is.url, locked: is.bool, bot: is.bool, group: is.bool,
    discoverable: [is.bool, null], created_at: is.date, last_status_at: [is.day, null], statuses_count: is.int,
    followers_count: is.int, following_count: is.int,
    emojis: each(emoji),
    fields: each((f, p) => expect(f, p, { name: is.string, value: is.string, verified_at: [is.date, null] })),
  });
}

export function emoji(e, path) {
  return expect(e, path, { shortcode: is.nonEmpty, url: is.url, static_url: is.url, visible_in_picker: is.bool });
}

const VISIBILITIES = ["public", "unlisted", "private", "direct"];

export function status(s, path = "status", { rebuilt = false } = {}) {
  if (!rebuilt) expect(s, path, { filtered: is.array });
  expect(s, path, {
    id: is.id, uri: is.url, url: [is.url, null], created_at: is.date, account: (v, p) => account(v, p), content: is.string,
    visibility: (v) => VISIBILITIES.includes(v), sensitive: is.bool, spoiler_text: is.string,
    media_attachments: is.array, application: [is.object, null],
    mentions: each((m, p) => expect(m, p, { id: is.id, username: is.nonEmpty, url: is.url, acct: is.nonEmpty })),
    tags: each((t, p) => expect(t, p, { name: is.nonEmpty, url: is.url })),
    emojis: each(emoji), reblogs_count: is.int, favourites_count: is.int, replies_count: is.int,
    in_reply_to_id: [is.id, null], in_reply_to_account_id: [is.id, null],
    reblog: [null, (v, p) => status(v, p, { rebuilt })], poll: [is.object, null], card: [is.object, null], language: [is.string, null],
    edited_at: [is.date, null], favourited: is.bool, reblogged: is.bool, muted: is.bool, bookmarked: is.bool, pinned: is.bool,
  });
  return s;
}

export function relationship(r, path = "relationship") {
  return expect(r, path, {
    id: is.id, following: is.bool, showing_reblogs: is.bool, notifying: is.bool, languages: [is.array, null], followed_by: is.bool,
    blocking: is.bool, blocked_by: is.bool, muting: is.bool, muting_notifications: is.bool, requested: is.bool,
    requested_by: is.bool, domain_blocking: is.bool, endorsed: is.bool, note: is.string,
  });
}

const NOTIFICATION_TYPES = ["mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update"];

export function notification(n, path = "notification", options = {}) {
  expect(n, path, { id: is.id, type: (v) => NOTIFICATION_TYPES.includes(v), created_at: is.date, account: (v, p) => account(v, p) });
  const withStatus = ["mention", "status", "reblog", "favourite", "poll", "update"].includes(n.type);
  if (withStatus) status(field(n, "status", path), `${path}.status`, options);
  return n;
}

export function instanceV1(i, path = "instance") {
  return expect(i, path, {
    uri: is.nonEmpty, title: is.nonEmpty, short_description: is.string, description: is.string, email: is.string,
    version: (v) => /^4\.\d+\.\d+ \(compatible; Fellows [^)]+\)$/.test(v),
    urls: (u, p) => expect(u, p, { streaming_api: (v) => /^wss?:\/\//.test(v) }),
    stats: (s, p) => expect(s, p, { user_count: is.int, status_count: is.int, domain_count: is.int }),
    thumbnail: [is.url, null], languages: is.array, registrations: is.bool, approval_required: is.bool, invites_enabled: is.bool,
    configuration: (c, p) => configuration(c, p, false), contact_account: [null, (v, p) => account(v, p)], rules: each(rule),
  });
}

export function instanceV2(i, path = "instance") {
  return expect(i, path, {
    domain: is.nonEmpty, title: is.nonEmpty, version: (v) => /^4\.\d+\.\d+ \(compatible; Fellows [^)]+\)$/.test(v),
    source_url: is.url, description: is.string,
    usage: (u, p) => expect(field(u, "users", p), `${p}.users`, { active_month: is.int }),
    thumbnail: (t, p) => expect(t, p, { url: is.url, blurhash: [is.string, null] }),
    languages: is.array, configuration: (c, p) => configuration(c, p, true),
    registrations: (r, p) => expect(r, p, { enabled: is.bool, approval_required: is.bool, message: [is.string, null] }),
    contact: (c, p) => expect(c, p, { email: is.string, account: [null, (v, q) => account(v, q)] }),
    rules: each(rule),
  });
}

function configuration(c, path, v2) {
  expect(c, path, {
    statuses: (s, p) => expect(s, p, { max_characters: is.int, max_media_attachments: is.int, characters_reserved_per_url: is.int }),
    media_attachments: (m, p) => expect(m, p, { supported_mime_types: is.array, image_size_limit: is.int, image_matrix_limit: is.int,
      video_size_limit: is.int, video_frame_rate_limit: is.int, video_matrix_limit: is.int }),
    polls: (m, p) => expect(m, p, { max_options: is.int, max_characters_per_option: is.int, min_expiration: is.int, max_expiration: is.int }),
  });
  if (v2) {
    expect(c, path, {
      urls: (u, p) => expect(u, p, { streaming: (v) => /^wss?:\/\//.test(v) }),
      accounts: (a, p) => expect(a, p, { max_featured_tags: is.int, max_pinned_statuses: is.int }),
      translation: (t, p) => expect(t, p, { enabled: is.bool }),
    });
  }
  return c;
}

function rule(r, path) {
  return expect(r, path, { id: is.nonEmpty, text: is.string });
}

export const list = (check) => (items, path) => {
  if (!Array.isArray(items)) throw new ShapeError(`${path} is not an array`);
  items.forEach((item, i) => check(item, `${path}[${i}]`));
  return items;
};
