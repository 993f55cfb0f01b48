using System.Globalization;
using System.Threading.Channels;
using Dapper;
using Fellows.Server.Common;
using Fellows.Server.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fellows.Server.Features.Media;

/// <summary>A media attachment row.</summary>
public sealed record MediaRow
{
    public required long Id { get; init; }
    public required long AccountId { get; init; }
    public long? StatusId { get; init; }

    /// <summary>The scheduled post this upload is reserved for, until it is published or cancelled.</summary>
    public long? ScheduledStatusId { get; init; }

    /// <summary>Attached to a motion still in draft: it moves to the motion's post when that is posted.</summary>
    public long? MotionId { get; init; }
    public required string Type { get; init; }
    public required short State { get; init; }
    public string? UploadPath { get; init; }
    public string? FilePath { get; init; }
    public string? PreviewPath { get; init; }
    public string? ContentType { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
    public int? PreviewWidth { get; init; }
    public int? PreviewHeight { get; init; }
    public string? RemoteUrl { get; init; }
    public required string Description { get; init; }
    public required float FocusX { get; init; }
    public required float FocusY { get; init; }
    public string? Blurhash { get; init; }
    public string? Error { get; init; }

    public const short Processing = 0, Ready = 1, Failed = 2;
}

/// <summary>Where media files live: a folder under the data directory, served at <c>/system/media</c>.</summary>
public sealed class MediaStore(IOptions<InstanceOptions> options, InstanceUrls urls)
{
    public const string UrlPath = "/system/media";

    public string Root { get; } = Path.Combine(options.Value.DataDirectoryFullPath, "media");

    public string Url(string relativePath) => $"{urls.Base}{UrlPath}/{relativePath}";

    public string FullPath(string relativePath)
    {
        var full = Path.GetFullPath(Path.Combine(Root, relativePath));
        if (!full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal)) throw new InvalidOperationException("Path outside the media folder");
        return full;
    }

    public async Task WriteAsync(string relativePath, byte[] bytes, CancellationToken ct)
    {
        var full = FullPath(relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp";
        await File.WriteAllBytesAsync(temp, bytes, ct);
        File.Move(temp, full, overwrite: true);
    }

    public void Delete(string? relativePath)
    {
        if (relativePath is null) return;
        try { File.Delete(FullPath(relativePath)); }
        catch (IOException) { /* already gone */ }
    }
}

/// <summary>
/// Members' uploads: stored raw, then processed (decoded, stripped of metadata, scaled, previewed) by the media
/// worker, so the upload request returns at once (<c>202</c>) as Mastodon's v2 endpoint does.
/// </summary>
public sealed class MediaService(NpgsqlDataSource db, MediaStore store, TimeProvider clock, ILogger<MediaService> logger)
{
    public const long MaxImageBytes = 16 * 1024 * 1024;
    public const int MaxDescription = 1500;

    readonly Channel<long> _queue = Channel.CreateUnbounded<long>();

    public ChannelReader<long> Queue => _queue.Reader;

    public static readonly string[] ImageTypes = ["image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif", "image/avif"];

    /// <summary>Stores an upload and queues it; <paramref name="processNow"/> processes it before returning (API v1).</summary>
    public async Task<Result<MediaRow>> UploadAsync(long accountId, byte[] bytes, string? contentType, string? description, string? focus,
        bool processNow, CancellationToken ct)
    {
        if (bytes.Length == 0) return Error.Validation("Validation failed: File can't be blank");
        if (bytes.Length > MaxImageBytes) return Error.Validation($"Validation failed: File is larger than {MaxImageBytes / 1024 / 1024} MB");
        if (contentType is not null && !contentType.StartsWith("image/", StringComparison.OrdinalIgnoreCase) && contentType != "application/octet-stream")
            return Error.Validation($"Validation failed: File content type {contentType} is not supported (images only: JPEG, PNG, GIF, WebP)");
        if (description is { Length: > MaxDescription }) return Error.Validation($"Validation failed: Description is too long (maximum is {MaxDescription} characters)");
        var parsedFocus = ParseFocus(focus);
        if (focus is { Length: > 0 } && parsedFocus is null) return Error.Validation("Validation failed: Focus must be two numbers between -1 and 1, like \"0.5,-0.2\"");

        await using var conn = await db.OpenConnectionAsync(ct);
        var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition("SELECT fellows_id(@now)", new { now = clock.GetUtcNow() }, cancellationToken: ct));
        var uploadPath = $"uploads/{id}";
        await store.WriteAsync(uploadPath, bytes, ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO media_attachments (id, account_id, type, state, upload_path, description, focus_x, focus_y, file_size, created_at)
            VALUES (@id, @accountId, 'image', 0, @uploadPath, @description, @fx, @fy, @size, @now)
            """, new
        {
            id, accountId, uploadPath, description = description?.Trim() ?? "", fx = parsedFocus?.X ?? 0f, fy = parsedFocus?.Y ?? 0f,
            size = bytes.Length, now = clock.GetUtcNow(),
        }, cancellationToken: ct));
        if (processNow) await ProcessAsync(id, ct);
        else await _queue.Writer.WriteAsync(id, ct);
        return (await FindAsync(id, ct))!;
    }

    public async Task<MediaRow?> FindAsync(long id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<MediaRow>(new CommandDefinition(MediaQueries.ById, new { id }, cancellationToken: ct));
    }

    /// <summary>Changes the description or focal point of the member's own attachment (also after posting, as Mastodon allows).</summary>
    public async Task<Result<MediaRow>> UpdateAsync(long accountId, long id, string? description, string? focus, CancellationToken ct)
    {
        if (description is { Length: > MaxDescription }) return Error.Validation($"Validation failed: Description is too long (maximum is {MaxDescription} characters)");
        var parsedFocus = ParseFocus(focus);
        if (focus is { Length: > 0 } && parsedFocus is null) return Error.Validation("Validation failed: Focus must be two numbers between -1 and 1, like \"0.5,-0.2\"");
        await using var conn = await db.OpenConnectionAsync(ct);
        var changed = await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE media_attachments SET description = coalesce(@description, description), focus_x = coalesce(@fx, focus_x), focus_y = coalesce(@fy, focus_y)
            WHERE id = @id AND account_id = @accountId AND remote_url IS NULL
            """, new { id, accountId, description = description?.Trim(), fx = parsedFocus?.X, fy = parsedFocus?.Y }, cancellationToken: ct));
        if (changed == 0) return Error.NotFound();
        return (await FindAsync(id, ct))!;
    }

    /// <summary>Deletes an attachment that was never posted.</summary>
    public async Task<Result<MediaRow>> DeleteAsync(long accountId, long id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<MediaRow>(new CommandDefinition(
            $"DELETE FROM media_attachments m WHERE m.id = @id AND m.account_id = @accountId AND m.status_id IS NULL AND m.scheduled_status_id IS NULL AND m.motion_id IS NULL AND m.remote_url IS NULL RETURNING {MediaQueries.Columns}",
            new { id, accountId }, cancellationToken: ct));
        if (row is null) return Error.NotFound();
        store.Delete(row.UploadPath);
        store.Delete(row.FilePath);
        store.Delete(row.PreviewPath);
        return row;
    }

    /// <summary>Processes one pending upload; failures are recorded on the row, never thrown.</summary>
    public async Task ProcessAsync(long id, CancellationToken ct)
    {
        var row = await FindAsync(id, ct);
        if (row is null || row.State != MediaRow.Processing || row.UploadPath is null) return;
        await using var conn = await db.OpenConnectionAsync(ct);
        try
        {
            var upload = await File.ReadAllBytesAsync(store.FullPath(row.UploadPath), ct);
            var processed = ImageProcessor.Process(upload);
            var filePath = $"{id % 1000:D3}/{id}/original.{processed.Original.Extension}";
            var previewPath = $"{id % 1000:D3}/{id}/small.{processed.Preview.Extension}";
            await store.WriteAsync(filePath, processed.Original.Bytes, ct);
            await store.WriteAsync(previewPath, processed.Preview.Bytes, ct);
            await conn.ExecuteAsync(new CommandDefinition("""
                UPDATE media_attachments SET state = 1, upload_path = NULL, file_path = @filePath, preview_path = @previewPath,
                    content_type = @contentType, file_size = @size, width = @width, height = @height,
                    preview_width = @pw, preview_height = @ph, error = NULL
                WHERE id = @id
                """, new
            {
                id, filePath, previewPath, contentType = processed.Original.ContentType, size = processed.Original.Bytes.Length,
                width = processed.Original.Width, height = processed.Original.Height, pw = processed.Preview.Width, ph = processed.Preview.Height,
            }, cancellationToken: ct));
        }
        catch (Exception e) when (e is ImageRejectedException or IOException or ArgumentException or InvalidOperationException)
        {
            logger.LogInformation("Media {Id} could not be processed: {Message}", id, e.Message);
            await conn.ExecuteAsync(new CommandDefinition("UPDATE media_attachments SET state = 2, upload_path = NULL, error = @error WHERE id = @id",
                new { id, error = e is ImageRejectedException ? e.Message : "The file could not be processed" }, cancellationToken: ct));
        }
        store.Delete(row.UploadPath);
    }

    /// <summary>Uploads left pending by a restart, to be queued again.</summary>
    public async Task<IReadOnlyList<long>> PendingAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<long>(new CommandDefinition("SELECT id FROM media_attachments WHERE state = 0 AND upload_path IS NOT NULL ORDER BY id",
            cancellationToken: ct))).AsList();
    }

    static (float X, float Y)? ParseFocus(string? focus)
    {
        if (focus is not { Length: > 0 }) return null;
        var parts = focus.Split(',');
        if (parts.Length != 2) return null;
        if (!float.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var x)
            || !float.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var y)) return null;
        return x is >= -1 and <= 1 && y is >= -1 and <= 1 ? (x, y) : null;
    }
}

/// <summary>Processes queued uploads one at a time, and on start-up the ones a restart interrupted.</summary>
public sealed class MediaWorker(MediaService media) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var id in await media.PendingAsync(stoppingToken)) await media.ProcessAsync(id, stoppingToken);
        await foreach (var id in media.Queue.ReadAllAsync(stoppingToken))
            await media.ProcessAsync(id, stoppingToken);
    }
}

static class MediaQueries
{
    public const string Columns = """
        m.id, m.account_id, m.status_id, m.type, m.state, m.upload_path, m.file_path, m.preview_path, m.content_type, m.width, m.height,
        m.preview_width, m.preview_height, m.remote_url, m.description, m.focus_x, m.focus_y, m.blurhash, m.error, m.scheduled_status_id,
        m.motion_id
        """;

    public const string ById = $"SELECT {Columns} FROM media_attachments m WHERE m.id = @id";

    public const string ByIds = $"SELECT {Columns} FROM media_attachments m WHERE m.id = ANY(@ids)";

    public const string OfStatuses = $"SELECT {Columns} FROM media_attachments m WHERE m.status_id = ANY(@ids) ORDER BY m.status_id, m.position, m.id";
}

/// <summary>The one check every kind of post makes of the uploads it is asked to attach.</summary>
public static class MediaAttaching
{
    /// <summary>
    /// Locks and checks <paramref name="mediaIds"/>: each the account's own upload (not a remote file), not on a
    /// post, a draft motion or a scheduled post other than <paramref name="heldFor"/> (the scheduled post being
    /// published); with <paramref name="requireReady"/>, finished processing. The rows by id when all may be attached.
    /// </summary>
    public static async Task<Result<Dictionary<long, MediaRow>>> CheckAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long accountId, long[] mediaIds, long? heldFor,
        bool requireReady, CancellationToken ct)
    {
        var attachments = (await conn.QueryAsync<MediaRow>(new CommandDefinition($"{MediaQueries.ByIds} FOR UPDATE", new { ids = mediaIds }, tx, cancellationToken: ct)))
            .ToDictionary(m => m.Id);
        foreach (var mediaId in mediaIds)
        {
            if (!attachments.TryGetValue(mediaId, out var m) || m.AccountId != accountId || m.RemoteUrl is not null || m.StatusId is not null
                || m.MotionId is not null || (m.ScheduledStatusId is { } reserved && reserved != heldFor))
                return Error.Validation($"Validation failed: media {mediaId} is not yours to attach, or is already posted");
            if (requireReady && m.State != MediaRow.Ready)
                return Error.Validation(m.State == MediaRow.Processing
                    ? "Cannot attach files that have not finished processing. Try again in a moment!"
                    : $"Validation failed: media {mediaId} could not be processed");
        }
        return attachments;
    }
}
