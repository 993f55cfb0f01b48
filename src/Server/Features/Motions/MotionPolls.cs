using System.Text.Json;
using Dapper;
using Fellows.Federation.Deliberation;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Motions;

public sealed record ApiPollOption(string Title, long? VotesCount);

/// <summary>Mastodon's Poll entity: how a motion looks to a Mastodon app.</summary>
public sealed record ApiPoll(
    string Id, string? ExpiresAt, bool Expired, bool Multiple, long? VotesCount, long? VotersCount,
    IReadOnlyList<ApiPollOption> Options, IReadOnlyList<object> Emojis, bool? Voted, IReadOnlyList<int>? OwnVotes);

/// <summary>
/// A motion shown as a Mastodon poll on its status: options are the motion's (for consent the four positions),
/// counts only once results are visible (closed, or results before the close), the viewer's own stance as votes.
/// </summary>
public static class MotionPolls
{
    public static async Task<IReadOnlyDictionary<long, ApiPoll>> ForStatusesAsync(NpgsqlConnection conn, long[] statusIds, long? viewer, DateTimeOffset now, CancellationToken ct)
    {
        if (statusIds.Length == 0) return new Dictionary<long, ApiPoll>();
        var motions = (await conn.QueryAsync<MotionRow>(new CommandDefinition(
            $"SELECT {MotionQueries.Columns} FROM motions m WHERE m.status_id = ANY(@statusIds) AND m.state <> 'draft'",
            new { statusIds }, cancellationToken: ct))).ToList();
        var result = new Dictionary<long, ApiPoll>();
        foreach (var m in motions)
        {
            string[]? own = null;
            if (viewer is not null)
                own = await conn.QuerySingleOrDefaultAsync<string[]>(new CommandDefinition(
                    "SELECT choices FROM motion_stances WHERE motion_id = @id AND voter_account_id = @viewer AND current",
                    new { id = m.Id, viewer }, cancellationToken: ct));
            result[m.StatusId!.Value] = Present(m, viewer is null ? null : own ?? [], now);
        }
        return result;
    }

    public static ApiPoll Present(MotionRow m, string[]? own, DateTimeOffset now)
    {
        var options = m.DecisionMethod == DecisionMethod.Consent ? ConsentPositions.All : m.Options;
        Dictionary<string, long>? counts = null;
        long? voters = null;
        if (m.Tally is { } tally)
        {
            using var doc = JsonDocument.Parse(tally);
            counts = doc.RootElement.GetProperty("counts").EnumerateArray()
                .ToDictionary(c => c.GetProperty("option").GetString()!, c => c.GetProperty("count").GetInt64(), StringComparer.Ordinal);
            voters = doc.RootElement.GetProperty("participantCount").GetInt64();
        }
        var expired = m.Phase is MotionPhase.Closed or MotionPhase.Withdrawn || now >= m.VotingEndsAt;
        return new ApiPoll(
            ApiResults.Id(m.Id),
            ApiResults.Date(m.VotingEndsAt),
            expired,
            m.DecisionMethod == DecisionMethod.Approval,
            counts?.Values.Sum(),
            voters,
            options.Select(o => new ApiPollOption(o, counts?.GetValueOrDefault(o))).ToList(),
            [],
            own is null ? null : own.Length > 0,
            own?.Select(c => options.ToList().IndexOf(c)).Where(i => i >= 0).ToList());
    }
}
