using System.Text.Json;
using Dapper;
using Fellows.Server.Common;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Media;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.Accounts;

/// <summary>A change to a member's profile; null members are left as they are.</summary>
public sealed record ProfileUpdate
{
    public string? DisplayName { get; init; }
    public string? Note { get; init; }
    public bool? Locked { get; init; }
    public bool? Bot { get; init; }
    public bool? Discoverable { get; init; }
    public bool? Indexable { get; init; }
    public IReadOnlyList<(string Name, string Value)>? Fields { get; init; }
    public Visibility? DefaultVisibility { get; init; }
    public bool? DefaultSensitive { get; init; }
    public string? DefaultLanguage { get; init; }
    public byte[]? Avatar { get; init; }
    public byte[]? Header { get; init; }
}

/// <summary>A member's posting defaults and the text of their bio as typed (the `source` clients edit).</summary>
public sealed record ProfileSource
{
    public required string NoteSource { get; init; }
    public required short DefaultVisibility { get; init; }
    public required bool DefaultSensitive { get; init; }
    public string? DefaultLanguage { get; init; }
    public required string Fields { get; init; }
    public required int FollowRequestsCount { get; init; }

    /// <summary>The fields as typed: each field's source text, or its value made plain for fields set before sources were kept.</summary>
    public IReadOnlyList<(string Name, string Value)> FieldSources()
    {
        try
        {
            using var doc = JsonDocument.Parse(Fields);
            if (doc.RootElement.ValueKind != JsonValueKind.Array) return [];
            return doc.RootElement.EnumerateArray().Where(f => f.ValueKind == JsonValueKind.Object).Select(f => (
                Text(f, "name"),
                f.TryGetProperty("source", out var src) && src.ValueKind == JsonValueKind.String ? src.GetString()! : Fellows.Federation.Html.RemoteHtml.ToPlainText(Text(f, "value"))))
                .ToList();
        }
        catch (JsonException) { return []; }

        static string Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
    }
}

/// <summary>
/// Members edit their own profile; each change is committed with an Update of their actor to their followers'
/// servers, so the rest of the fediverse sees the new name, bio and fields.
/// </summary>
public sealed class ProfileService(NpgsqlDataSource db, InstanceUrls urls, OutboundPublisher publisher, MediaStore media, Discovery.PublicDocumentCache documents)
{
    public const int MaxDisplayName = 30;
    public const int MaxNote = 500;
    public const int MaxFields = 4;
    public const int MaxFieldLength = 255;
    public const long MaxImageBytes = 8 * 1024 * 1024;
    static readonly (int Width, int Height) AvatarSize = (400, 400), HeaderSize = (1500, 500);

    public async Task<ProfileSource> SourceAsync(long accountId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<ProfileSource>(new CommandDefinition(ProfileQueries.Source, new { accountId }, cancellationToken: ct));
    }

    public async Task<Result<Account>> UpdateAsync(long accountId, ProfileUpdate update, CancellationToken ct)
    {
        if (update.DisplayName is { } name && name.Length > MaxDisplayName)
            return Error.Validation($"Validation failed: Display name is too long (maximum is {MaxDisplayName} characters)");
        if (update.Note is { } note && note.Length > MaxNote)
            return Error.Validation($"Validation failed: Note is too long (maximum is {MaxNote} characters)");
        if (update.Fields is { } fields)
        {
            if (fields.Count > MaxFields) return Error.Validation($"Validation failed: Fields is too long (maximum is {MaxFields} fields)");
            if (fields.Any(f => f.Name.Length > MaxFieldLength || f.Value.Length > MaxFieldLength))
                return Error.Validation($"Validation failed: Fields are too long (maximum is {MaxFieldLength} characters each)");
        }
        if (update.DefaultLanguage is { Length: > 16 }) return Error.Validation("Validation failed: Language is not valid");
        // Images are decoded and re-encoded (dropping their metadata) before anything is stored.
        string? avatarPath = null, headerPath = null;
        try
        {
            if (update.Avatar is { } avatar) avatarPath = await StoreImageAsync(accountId, "avatar", avatar, AvatarSize, ct);
            if (update.Header is { } header) headerPath = await StoreImageAsync(accountId, "header", header, HeaderSize, ct);
        }
        catch (ImageRejectedException e)
        {
            return Error.Validation($"Validation failed: {e.Message}");
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        string? noteHtml = null;
        if (update.Note is { } text) noteHtml = await RenderAsync(conn, tx, text, ct);
        string? fieldsJson = null;
        if (update.Fields is { } given)
        {
            var rendered = new List<object>();
            foreach (var (fieldName, value) in given.Where(f => f.Name.Trim().Length > 0 || f.Value.Trim().Length > 0))
                rendered.Add(new { name = fieldName.Trim(), value = InlineHtml(await RenderAsync(conn, tx, value, ct)), source = value.Trim() });
            fieldsJson = JsonSerializer.Serialize(rendered);
        }
        var changed = await conn.ExecuteAsync(new CommandDefinition(ProfileQueries.Update, new
        {
            accountId,
            displayName = update.DisplayName?.Trim(),
            note = noteHtml,
            noteSource = update.Note?.Trim(),
            update.Locked,
            update.Bot,
            update.Discoverable,
            update.Indexable,
            fields = fieldsJson,
            defaultVisibility = (short?)update.DefaultVisibility,
            update.DefaultSensitive,
            defaultLanguage = update.DefaultLanguage,
            avatarUrl = avatarPath is null ? null : media.Url(avatarPath),
            headerUrl = headerPath is null ? null : media.Url(headerPath),
        }, tx, cancellationToken: ct));
        if (changed == 0) return Error.NotFound();
        var account = await conn.AccountByIdAsync(accountId, tx, ct);
        await publisher.ActorUpdatedAsync(conn, tx, account, ct);
        await tx.CommitAsync(ct);
        documents.Invalidate(account.Username);
        return account;
    }

    async Task<string> StoreImageAsync(long accountId, string kind, byte[] bytes, (int Width, int Height) size, CancellationToken ct)
    {
        var processed = ImageProcessor.Process(bytes, (long)size.Width * size.Height, Math.Max(size.Width, size.Height), size);
        // A new name each time, so caches (ours and other servers') never show the old picture.
        var path = $"accounts/{accountId}/{kind}-{Guid.NewGuid():N}.{processed.Original.Extension}";
        await media.WriteAsync(path, processed.Original.Bytes, ct);
        return path;
    }

    /// <summary>Plain text to the same HTML as posts: paragraphs, links, hashtags and mentions of accounts we know.</summary>
    async Task<string> RenderAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string text, CancellationToken ct)
    {
        var known = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var mention in StatusFormatter.Parse(text).Mentions.DistinctBy(m => m.Acct).Take(20))
        {
            var domain = mention.Domain is { } d && !string.Equals(d, urls.Domain, StringComparison.OrdinalIgnoreCase) ? d : null;
            var found = await conn.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(AccountQueries.ByUsernameAndDomain,
                new { username = mention.Username, domain }, tx, cancellationToken: ct));
            if (found is not null) known[mention.Acct] = found.Url ?? found.Uri;
        }
        return StatusFormatter.ToHtml(text, m => known.GetValueOrDefault(m.Acct), urls.Tag);
    }

    /// <summary>A field value is inline: the paragraph the formatter wraps it in is dropped.</summary>
    static string InlineHtml(string html) =>
        html.StartsWith("<p>", StringComparison.Ordinal) && html.EndsWith("</p>", StringComparison.Ordinal) && html.IndexOf("<p>", 3, StringComparison.Ordinal) < 0
            ? html[3..^4]
            : html;
}

static class ProfileQueries
{
    public const string Source = """
        SELECT u.note_source, u.default_visibility, u.default_sensitive, u.default_language, a.fields::text AS fields,
               (SELECT count(*)::int FROM follow_requests r WHERE r.target_account_id = u.account_id) AS follow_requests_count
        FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.account_id = @accountId
        """;

    // The account and its user row change together; a remote account has no user row and is never updated here.
    public const string Update = """
        WITH u AS (
            UPDATE users SET
                note_source = coalesce(@noteSource, note_source),
                default_visibility = coalesce(@defaultVisibility, default_visibility),
                default_sensitive = coalesce(@defaultSensitive, default_sensitive),
                default_language = CASE WHEN @defaultLanguage::text IS NULL THEN default_language ELSE nullif(@defaultLanguage, '') END
            WHERE account_id = @accountId
            RETURNING account_id)
        UPDATE accounts a SET
            display_name = coalesce(@displayName, a.display_name),
            note = coalesce(@note, a.note),
            locked = coalesce(@locked, a.locked),
            bot = coalesce(@bot, a.bot),
            discoverable = coalesce(@discoverable, a.discoverable),
            indexable = coalesce(@indexable, a.indexable),
            fields = coalesce(@fields::jsonb, a.fields),
            avatar_url = coalesce(@avatarUrl, a.avatar_url),
            header_url = coalesce(@headerUrl, a.header_url),
            updated_at = now()
        FROM u WHERE a.id = u.account_id
        """;
}
