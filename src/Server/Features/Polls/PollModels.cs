using System.Globalization;
using Fellows.Server.Common;
using Fellows.Server.Features.Mastodon;

namespace Fellows.Server.Features.Polls;

/// <summary>The limits advertised in the instance's <c>configuration.polls</c> and enforced on posting.</summary>
public static class PollLimits
{
    public const int MinOptions = 2;
    public const int MaxOptions = 4;
    public const int MaxCharactersPerOption = 50;
    public const int MinExpiration = 300;
    public const int MaxExpiration = 2_629_746;
}

/// <summary>A poll row: ours (counted from poll_votes) or a remote Question's (counts as its server published them).</summary>
public sealed record PollRow
{
    public required long Id { get; init; }
    public required long StatusId { get; init; }
    public required long AccountId { get; init; }
    public required bool Local { get; init; }
    public required string[] Options { get; init; }
    public required bool Multiple { get; init; }
    public required bool HideTotals { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public DateTimeOffset? ClosedAt { get; init; }
    public long[]? RemoteCounts { get; init; }
    public long? RemoteVotersCount { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    public bool IsExpired(DateTimeOffset now) => ClosedAt is not null || (ExpiresAt is { } e && now >= e);
}

/// <summary>A poll as a member asks for it when posting: <c>poll[options][]</c>, <c>poll[expires_in]</c>, <c>poll[multiple]</c>, <c>poll[hide_totals]</c>.</summary>
public sealed record NewPoll(IReadOnlyList<string> Options, int ExpiresIn, bool Multiple, bool HideTotals)
{
    /// <summary>Null (no error) when the request has no poll; a 422 error for one outside the advertised limits.</summary>
    public static Result<NewPoll?> FromParams(ApiParams p)
    {
        var options = p.GetList("poll[options]");
        var expiresText = p.Get("poll[expires_in]");
        if (options.Count == 0 && expiresText is null) return (NewPoll?)null;
        return Validate(options, expiresText, p.GetBool("poll[multiple]") ?? false, p.GetBool("poll[hide_totals]") ?? false);
    }

    public static Result<NewPoll?> Validate(IReadOnlyList<string> rawOptions, string? expiresText, bool multiple, bool hideTotals)
    {
        var options = rawOptions.Select(o => o.Trim()).ToList();
        if (options.Count < PollLimits.MinOptions)
            return Error.Validation($"Validation failed: Poll must have at least {PollLimits.MinOptions} options");
        if (options.Count > PollLimits.MaxOptions)
            return Error.Validation($"Validation failed: Poll can't have more than {PollLimits.MaxOptions} options");
        if (options.Any(o => o.Length == 0))
            return Error.Validation("Validation failed: Poll options can't be blank");
        if (options.Any(o => o.Length > PollLimits.MaxCharactersPerOption))
            return Error.Validation($"Validation failed: Poll options can't be longer than {PollLimits.MaxCharactersPerOption} characters");
        if (options.Distinct(StringComparer.Ordinal).Count() != options.Count)
            return Error.Validation("Validation failed: Poll options must be distinct");
        if (!int.TryParse(expiresText, NumberStyles.None, CultureInfo.InvariantCulture, out var expiresIn))
            return Error.Validation("Validation failed: Poll expires_in must be a whole number of seconds");
        if (expiresIn < PollLimits.MinExpiration)
            return Error.Validation($"Validation failed: Poll duration must be at least {PollLimits.MinExpiration} seconds");
        if (expiresIn > PollLimits.MaxExpiration)
            return Error.Validation($"Validation failed: Poll duration can't be longer than {PollLimits.MaxExpiration} seconds");
        return new NewPoll(options, expiresIn, multiple, hideTotals);
    }
}
