namespace Fellows.Server.Features.Notifications;

/// <summary>
/// Notifications of Fellows' own kinds (deliberation), stored under their own names and shown to Mastodon apps as
/// kinds every app already renders, so no client meets a type it does not know:
/// <list type="bullet">
/// <item><c>fellows.motion_reminder</c> (take a position before the deadline), <c>fellows.outcome_review</c> (does the
/// outcome still stand?) and <c>fellows.commitment_due</c> (a commitment is overdue) are shown as <c>status</c>: the
/// motion's post, with its poll, from the co-op's instance actor.</item>
/// <item><c>fellows.motion_amended</c> (the text you took a position on changed) is shown as <c>update</c>, which is
/// what Mastodon sends when a post someone interacted with is edited.</item>
/// </list>
/// The stored kind is given beside it as <c>fellows_type</c>. Filters (<c>types[]</c>, <c>exclude_types[]</c>) take
/// either name: <c>status</c> covers the three shown as status, <c>update</c> the amended one. Each is only made for
/// a motion that has a post, so the entity always carries a status.
/// </summary>
public static class FellowsNotifications
{
    public const string MotionReminder = "fellows.motion_reminder";
    public const string MotionAmended = "fellows.motion_amended";
    public const string OutcomeReview = "fellows.outcome_review";
    public const string CommitmentDue = "fellows.commitment_due";

    static readonly Dictionary<string, string> ShownAs = new(StringComparer.Ordinal)
    {
        [MotionReminder] = NotificationType.Status,
        [OutcomeReview] = NotificationType.Status,
        [CommitmentDue] = NotificationType.Status,
        [MotionAmended] = NotificationType.Update,
    };

    public static bool IsFellows(string type) => ShownAs.ContainsKey(type);

    /// <summary>The kind a Mastodon app is shown.</summary>
    public static string ClientType(string stored) => ShownAs.GetValueOrDefault(stored, stored);

    /// <summary>A client's type filter in stored kinds: a Mastodon kind also names the Fellows kinds shown as it.</summary>
    public static string[]? Expand(string[]? types) =>
        types?.Concat(types.SelectMany(t => ShownAs.Where(kv => kv.Value == t).Select(kv => kv.Key))).Distinct(StringComparer.Ordinal).ToArray();
}
