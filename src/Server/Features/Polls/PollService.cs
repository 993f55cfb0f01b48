using System.Text.Json;
using Dapper;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Common;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Motions;
using Fellows.Server.Features.Notifications;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.Polls;

/// <summary>
/// Polls on ordinary posts, with Mastodon's semantics: one vote per member (one row per chosen option), no voting
/// on one's own poll or after the end, counts hidden until the end when the author asked for that. Our polls go
/// out as a <c>Question</c> and are sent again as an Update when votes arrive; a member's vote on another server's
/// poll goes to its author as a Note named after the option, as Mastodon sends it.
/// </summary>
public sealed class PollService(
    NpgsqlDataSource db, TimeProvider clock, InstanceUrls urls, OutboundPublisher publisher, PollScheduler scheduler, ILogger<PollService> logger)
{
    /// <summary>Stores the poll of a member's new post, in the post's transaction.</summary>
    public static async Task<PollRow> InsertLocalAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long statusId, long accountId, NewPoll poll,
        DateTimeOffset now, CancellationToken ct) =>
        await conn.QuerySingleAsync<PollRow>(new CommandDefinition(PollQueries.Insert, new
        {
            now, statusId, accountId, local = true, options = poll.Options.ToArray(), multiple = poll.Multiple, hideTotals = poll.HideTotals,
            expiresAt = (DateTimeOffset?)now.AddSeconds(poll.ExpiresIn), closedAt = (DateTimeOffset?)null, remoteCounts = (long[]?)null,
            remoteVotersCount = (long?)null,
        }, tx, cancellationToken: ct));

    /// <summary>Stores the poll of a remote Question when its post is first stored.</summary>
    public static Task InsertRemoteAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Status status, PollInfo poll, DateTimeOffset now, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(PollQueries.Insert, new
        {
            now, statusId = status.Id, accountId = status.AccountId, local = false,
            options = RemoteOptions(poll),
            multiple = poll.Multiple, hideTotals = false, expiresAt = RemoteEnd(poll, now),
            // closed_at is this server's record that the end was processed (local voters told), not the remote's close.
            closedAt = (DateTimeOffset?)null,
            remoteCounts = poll.Options.Take(PollLimits.MaxOptions * 4).Select(o => Math.Max(0, o.Votes ?? 0)).ToArray(),
            remoteVotersCount = poll.VotersCount is >= 0 ? poll.VotersCount : null,
        }, tx, cancellationToken: ct));

    /// <summary>
    /// A remote Question's Update: its options, counts, end and close as its server now has them. When the author
    /// edited the options (or switched between one and several choices), our members' votes were for a poll that no
    /// longer exists and are dropped, as Mastodon does; true then, so the caller treats it as an edit.
    /// </summary>
    public static async Task<bool> RefreshRemoteAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long statusId, PollInfo poll, DateTimeOffset now, CancellationToken ct)
    {
        var options = RemoteOptions(poll);
        var changed = await conn.ExecuteScalarAsync<bool?>(new CommandDefinition(PollQueries.RefreshRemote, new
        {
            statusId, now, counts = poll.Options.Take(options.Length).Select(o => Math.Max(0, o.Votes ?? 0)).ToArray(),
            voters = poll.VotersCount is >= 0 ? poll.VotersCount : null, expiresAt = RemoteEnd(poll, now), options, multiple = poll.Multiple,
        }, tx, cancellationToken: ct));
        if (changed != true) return false;
        await conn.ExecuteAsync(new CommandDefinition("DELETE FROM poll_votes v USING polls p WHERE p.status_id = @statusId AND v.poll_id = p.id",
            new { statusId }, tx, cancellationToken: ct));
        return true;
    }

    static string[] RemoteOptions(PollInfo poll) =>
        poll.Options.Take(PollLimits.MaxOptions * 4).Select(o => Clip(Fellows.Federation.Html.RemoteHtml.ToPlainText(o.Name), 200)).ToArray();

    /// <summary>When a remote poll ends: its endTime, or its close when that came first (or is all it says).</summary>
    static DateTimeOffset? RemoteEnd(PollInfo poll, DateTimeOffset now)
    {
        if (!poll.Closed) return poll.EndTime;
        var closed = poll.ClosedAt ?? now;
        return poll.EndTime is { } end && end < closed ? end : closed;
    }

    static string Clip(string text, int max) => text.Length > max ? text[..max] : text;

    sealed record Tallies(ILookup<long, (int Choice, long Votes)> Counts, IReadOnlyDictionary<long, long> Voters);

    static async Task<Tallies> TalliesAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long[] localIds, CancellationToken ct)
    {
        if (localIds.Length == 0) return new Tallies(Array.Empty<(long, int, long)>().ToLookup(x => x.Item1, x => (x.Item2, x.Item3)), new Dictionary<long, long>());
        var counts = (await conn.QueryAsync<(long PollId, int Choice, long Votes)>(new CommandDefinition(PollQueries.Counts, new { ids = localIds }, tx, cancellationToken: ct)))
            .ToLookup(c => c.PollId, c => (c.Choice, c.Votes));
        var voters = (await conn.QueryAsync<(long PollId, long Voters)>(new CommandDefinition(PollQueries.Voters, new { ids = localIds }, tx, cancellationToken: ct)))
            .ToDictionary(v => v.PollId, v => v.Voters);
        return new Tallies(counts, voters);
    }

    static (long[] Counts, long Voters) CountsOf(PollRow poll, Tallies tallies)
    {
        if (!poll.Local)
        {
            var remote = Enumerable.Range(0, poll.Options.Length)
                .Select(i => poll.RemoteCounts is { } rc && i < rc.Length ? rc[i] : 0).ToArray();
            return (remote, poll.RemoteVotersCount ?? (poll.Multiple ? 0 : remote.Sum()));
        }
        var counts = new long[poll.Options.Length];
        foreach (var (choice, votes) in tallies.Counts[poll.Id])
            if (choice >= 0 && choice < counts.Length) counts[choice] = votes;
        return (counts, tallies.Voters.GetValueOrDefault(poll.Id));
    }

    /// <summary>Mastodon's Poll entity for each status that has an ordinary poll, for one viewer.</summary>
    public static async Task<IReadOnlyDictionary<long, ApiPoll>> ForStatusesAsync(NpgsqlConnection conn, long[] statusIds, long? viewer, DateTimeOffset now,
        CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        if (statusIds.Length == 0) return new Dictionary<long, ApiPoll>();
        var polls = (await conn.QueryAsync<PollRow>(new CommandDefinition(PollQueries.ByStatuses, new { ids = statusIds }, tx, cancellationToken: ct))).ToList();
        if (polls.Count == 0) return new Dictionary<long, ApiPoll>();
        var tallies = await TalliesAsync(conn, tx, polls.Where(p => p.Local).Select(p => p.Id).ToArray(), ct);
        var own = viewer is null
            ? Array.Empty<(long, int)>().ToLookup(x => x.Item1, x => x.Item2)
            : (await conn.QueryAsync<(long PollId, int Choice)>(new CommandDefinition(PollQueries.OwnVotes,
                new { viewer, ids = polls.Select(p => p.Id).ToArray() }, tx, cancellationToken: ct))).ToLookup(o => o.PollId, o => o.Choice);
        return polls.ToDictionary(p => p.StatusId, p => Present(p, tallies, viewer, own[p.Id].ToList(), now));
    }

    static ApiPoll Present(PollRow poll, Tallies tallies, long? viewer, IReadOnlyList<int> own, DateTimeOffset now)
    {
        var expired = poll.IsExpired(now);
        var (counts, voters) = CountsOf(poll, tallies);
        // hide_totals: the counts per option stay hidden, even from the author, until the poll ends (as in Mastodon).
        var show = expired || !poll.HideTotals;
        return new ApiPoll(
            ApiResults.Id(poll.Id),
            ApiResults.Date(poll.ExpiresAt),
            expired,
            poll.Multiple,
            counts.Sum(),
            voters,
            poll.Options.Select((o, i) => new ApiPollOption(o, show ? counts[i] : null)).ToList(),
            [],
            // The author counts as having voted, so apps show them the results rather than the ballot.
            viewer is null ? null : viewer == poll.AccountId || own.Count > 0,
            viewer is null ? null : own);
    }

    /// <summary>The ActivityPub form of our own polls, for the Question documents of their posts.</summary>
    public static async Task<IReadOnlyDictionary<long, LocalPoll>> DocumentsAsync(NpgsqlConnection conn, long[] statusIds, NpgsqlTransaction? tx, CancellationToken ct)
    {
        if (statusIds.Length == 0) return new Dictionary<long, LocalPoll>();
        var polls = (await conn.QueryAsync<PollRow>(new CommandDefinition(PollQueries.ByStatuses, new { ids = statusIds }, tx, cancellationToken: ct)))
            .Where(p => p.Local).ToList();
        if (polls.Count == 0) return new Dictionary<long, LocalPoll>();
        var tallies = await TalliesAsync(conn, tx, polls.Select(p => p.Id).ToArray(), ct);
        return polls.ToDictionary(p => p.StatusId, p =>
        {
            var (counts, voters) = CountsOf(p, tallies);
            // Counts hidden until the end are hidden from other servers too.
            var show = p.ClosedAt is not null || !p.HideTotals;
            return new LocalPoll(p.Options.Select((o, i) => new PollOption(o, show ? counts[i] : null)).ToList(), p.Multiple, p.ExpiresAt, p.ClosedAt, voters);
        });
    }

    public async Task<ApiPoll?> GetAsync(long pollId, long? viewer, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var poll = await conn.QuerySingleOrDefaultAsync<PollRow>(new CommandDefinition(PollQueries.ById, new { id = pollId }, cancellationToken: ct));
        if (poll is null) return null;
        // The poll is seen by whoever may see its post.
        var status = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.VisibleById, new { id = poll.StatusId, viewer }, cancellationToken: ct));
        if (status is null) return null;
        return (await ForStatusesAsync(conn, [poll.StatusId], viewer, clock.GetUtcNow(), ct))[poll.StatusId];
    }

    public async Task<bool> ExistsAsync(long pollId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM polls WHERE id = @pollId)", new { pollId }, cancellationToken: ct));
    }

    /// <summary>A member's vote: option indices, once, not on their own poll, not after the end.</summary>
    public async Task<Result<ApiPoll>> VoteAsync(long accountId, long pollId, IReadOnlyList<int> choices, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var poll = await conn.QuerySingleOrDefaultAsync<PollRow>(new CommandDefinition(PollQueries.ById + " FOR UPDATE", new { id = pollId }, tx, cancellationToken: ct));
        if (poll is null) return Error.NotFound();
        var status = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.VisibleById,
            new { id = poll.StatusId, viewer = accountId }, tx, cancellationToken: ct));
        if (status is null) return Error.NotFound();
        var now = clock.GetUtcNow();
        if (poll.AccountId == accountId) return Error.Validation("Validation failed: You cannot vote in your own poll");
        if (poll.IsExpired(now)) return Error.Validation("Validation failed: The poll has already ended");
        var distinct = choices.Distinct().ToList();
        if (distinct.Count == 0) return Error.Validation("Validation failed: choose at least one option");
        if (distinct.Any(c => c < 0 || c >= poll.Options.Length)) return Error.Validation("Validation failed: choices are option indices");
        if (!poll.Multiple && distinct.Count > 1) return Error.Validation("Validation failed: This poll allows only one choice");
        if (await conn.ExecuteScalarAsync<bool>(new CommandDefinition(PollQueries.HasVoted, new { pollId, accountId }, tx, cancellationToken: ct)))
            return Error.Validation("Validation failed: You have already voted on this poll");

        var voter = await conn.AccountByIdAsync(accountId, tx, ct);
        var author = await conn.AccountByIdAsync(poll.AccountId, tx, ct);
        var sent = new List<(string Id, string Name)>();
        foreach (var choice in distinct.Order())
        {
            // A vote on another server's poll keeps the id of the Note that carries it there.
            var uri = poll.Local ? null : urls.NewActivity(voter.Username, "votes");
            await conn.ExecuteAsync(new CommandDefinition(PollQueries.InsertVote, new { now, pollId, accountId, choice, uri }, tx, cancellationToken: ct));
            if (uri is not null) sent.Add((uri, poll.Options[choice]));
        }
        if (poll.Local)
        {
            await publisher.PollUpdatedAsync(conn, tx, author, status, ct);
        }
        else
        {
            await conn.ExecuteAsync(new CommandDefinition(PollQueries.BumpRemoteCounts, new { pollId, choices = distinct.ToArray(), now }, tx, cancellationToken: ct));
            await publisher.PollVotesAsync(conn, tx, voter, status, author, sent, now, ct);
        }
        await tx.CommitAsync(ct);
        // Voters on another server's poll are told here when it ends.
        if (!poll.Local && poll.ExpiresAt is { } ends && poll.ClosedAt is null) await scheduler.ScheduleAsync(poll.Id, ends, ct);
        return (await ForStatusesAsync(conn, [poll.StatusId], accountId, now, ct))[poll.StatusId];
    }

    /// <summary>
    /// A Note in reply to one of our polls whose name is one of its options is a vote (Mastodon's form), counted once
    /// per voter for a single-choice poll. False when <paramref name="note"/> is not such a vote (it is then a reply).
    /// </summary>
    public async Task<bool> TryReceiveVoteAsync(Account actor, JsonElement note, CancellationToken ct)
    {
        if (note.ValueKind != JsonValueKind.Object
            || !note.TryGetProperty("name", out var nameJson) || nameJson.ValueKind != JsonValueKind.String
            || !note.TryGetProperty("inReplyTo", out var replyJson) || replyJson.ValueKind != JsonValueKind.String
            || !note.TryGetProperty("id", out var idJson) || idJson.ValueKind != JsonValueKind.String)
            return false;
        if (note.TryGetProperty("attributedTo", out var by) && by.ValueKind == JsonValueKind.String && by.GetString() != actor.Uri) return false;
        var name = nameJson.GetString()!;
        var voteId = idJson.GetString()!;
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var status = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(
            StatusQueries.ByUri + " AND s.local AND s.deleted_at IS NULL", new { uri = replyJson.GetString() }, tx, cancellationToken: ct));
        if (status is null) return false;
        var poll = await conn.QuerySingleOrDefaultAsync<PollRow>(new CommandDefinition(PollQueries.ByStatus + " FOR UPDATE", new { statusId = status.Id }, tx, cancellationToken: ct));
        if (poll is null || !poll.Local) return false;
        var choice = Array.IndexOf(poll.Options, name);
        if (choice < 0) return false;
        var now = clock.GetUtcNow();
        if (poll.IsExpired(now) || !await CanSeeAsync(conn, tx, actor, status, ct))
        {
            if (logger.IsEnabled(LogLevel.Information)) logger.LogInformation("Ignored a vote from {Actor} on poll {Poll}", actor.Uri, poll.Id);
            return true;
        }
        // Single choice: the first vote counts and later ones are ignored (Mastodon refuses them too).
        if (!poll.Multiple && await conn.ExecuteScalarAsync<bool>(new CommandDefinition(PollQueries.HasVoted, new { pollId = poll.Id, accountId = actor.Id }, tx, cancellationToken: ct)))
            return true;
        var inserted = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(PollQueries.InsertVote,
            new { now, pollId = poll.Id, accountId = actor.Id, choice, uri = voteId }, tx, cancellationToken: ct));
        if (inserted is null) return true;
        var author = await conn.AccountByIdAsync(poll.AccountId, tx, ct);
        await publisher.PollUpdatedAsync(conn, tx, author, status, ct);
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>A remote voter must be able to see the post (public, unlisted, a follower, or addressed).</summary>
    static Task<bool> CanSeeAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account actor, Status status, CancellationToken ct) =>
        conn.ExecuteScalarAsync<bool>(new CommandDefinition(
            $"SELECT EXISTS (SELECT 1 FROM statuses s WHERE s.id = @id AND {StatusQueries.VisibleTo})",
            new { id = status.Id, viewer = actor.Id }, tx, cancellationToken: ct));

    /// <summary>Polls whose end passed without their close being processed.</summary>
    public async Task<IReadOnlyList<long>> DueAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<long>(new CommandDefinition(PollQueries.Due, new { now = clock.GetUtcNow() }, cancellationToken: ct))).ToList();
    }

    /// <summary>
    /// The end of a poll: marked closed once, local voters told with a <c>poll</c> notification and, for our own
    /// polls, the author too and other servers sent the final counts.
    /// </summary>
    public async Task CloseAsync(long pollId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var poll = await conn.QuerySingleOrDefaultAsync<PollRow>(new CommandDefinition(PollQueries.ById + " FOR UPDATE", new { id = pollId }, tx, cancellationToken: ct));
        var now = clock.GetUtcNow();
        if (poll is null || poll.ClosedAt is not null) return;
        // A trigger that fires early (or a remote poll whose end moved) is left to its later firing or the sweep.
        if (poll.ExpiresAt is not { } ends || ends > now) return;
        await conn.ExecuteAsync(new CommandDefinition(PollQueries.Close, new { id = pollId, now }, tx, cancellationToken: ct));
        var status = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ById, new { id = poll.StatusId }, tx, cancellationToken: ct));
        if (status is not null && status.DeletedAt is null)
        {
            var voters = (await conn.QueryAsync<long>(new CommandDefinition(PollQueries.LocalVoters, new { pollId }, tx, cancellationToken: ct))).ToList();
            await conn.NotifyManyAsync(tx, voters, poll.AccountId, NotificationType.Poll, poll.StatusId, now, ct);
            if (poll.Local)
            {
                await conn.ExecuteAsync(new CommandDefinition(PollQueries.NotifyAuthor, new { author = poll.AccountId, statusId = poll.StatusId, now }, tx, cancellationToken: ct));
                await publisher.PollUpdatedAsync(conn, tx, await conn.AccountByIdAsync(poll.AccountId, tx, ct), status, ct);
            }
        }
        await tx.CommitAsync(ct);
    }
}
